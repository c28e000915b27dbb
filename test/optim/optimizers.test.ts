// Optimizers against PyTorch's trajectories (fixtures: five steps on a fixed problem), on both backends, plus
// their contract: validation, parameter groups, state dicts, gradient clipping.
import { describe, expect, it } from 'vitest';
import { keep, noGrad, optim, tensor, tidy, type Tensor } from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose, fixtures } from '../helpers/fixtures.js';

const P0 = [1, -2, 0.5, 3, -0.25];
const A = [0.5, 1, 2, 0.1, 4];

/** The fixture problem: loss = Σ A·p² + 0.1·Σ p⁴. */
function lossOf(p: Tensor): Tensor {
  return p.square().mul(tensor(A)).sum().add(p.pow(4).sum().mul(0.1));
}

type Make = (p: Tensor[]) => optim.Optimizer<{ lr: number }>;

const RUNS: Record<string, Make> = {
  sgd: (p) => new optim.SGD(p, { lr: 0.05 }),
  sgd_momentum: (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9 }),
  sgd_nesterov_wd: (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  adam: (p) => new optim.Adam(p, { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8 }),
  adamw: (p) => new optim.AdamW(p, { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }),
  rmsprop: (p) => new optim.RMSprop(p, { lr: 0.01, alpha: 0.99, eps: 1e-8 }),
};

function trajectory(make: Make, steps: number): number[][] {
  return tidy(() => {
    const p = tensor(P0, { requiresGrad: true });
    const opt = make([p]);
    const rows: number[][] = [];
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      tidy(() => lossOf(p).backward());
      opt.step();
      rows.push(Array.from(p.data()));
    }
    opt.disposeState();
    return rows;
  });
}

describe.each(BACKENDS)('optimizers on %s', (name) => {
  it.each(Object.keys(RUNS))('%s follows PyTorch for five steps', async (run) => {
    await useBackend(name);
    const expected = fixtures.optimizers[run]!;
    // Check the hyperparameters in the test match the fixture's.
    expect(expected.lr).toBe((RUNS[run]!([tensor([0], { requiresGrad: true })]).paramGroups[0]!).lr);
    const rows = expectNoLeaks(() => trajectory(RUNS[run]!, 5));
    rows.forEach((r, i) => expectClose(r, expected.steps[i]!, 1e-4, 1e-6, `${run} step ${i + 1}`));
  });

  it('Adagrad follows its formula (float64 reference computation)', async () => {
    await useBackend(name);
    const lr = 0.1, lrDecay = 0.01, wd = 0.05, eps = 1e-10;
    const rows = expectNoLeaks(() => trajectory((p) => new optim.Adagrad(p, { lr, lrDecay, weightDecay: wd, eps }), 4));
    const p = [...P0];
    const sum = P0.map(() => 0);
    for (let t = 1; t <= 4; t++) {
      const clr = lr / (1 + (t - 1) * lrDecay);
      for (let i = 0; i < p.length; i++) {
        const g = 2 * A[i]! * p[i]! + 0.4 * p[i]! ** 3 + wd * p[i]!;
        sum[i]! += g * g;
        p[i] = p[i]! - (clr * g) / (Math.sqrt(sum[i]!) + eps);
      }
      expectClose(rows[t - 1]!, p, 1e-5, 1e-6, `Adagrad step ${t}`);
    }
  });

  it('RMSprop centered with momentum, and SGD with dampening, match their formulas', async () => {
    await useBackend(name);
    const rows = expectNoLeaks(() => trajectory((p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.1 }), 3));
    const p = [...P0];
    const sq = P0.map(() => 0), gavg = P0.map(() => 0), buf = P0.map(() => 0);
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < p.length; i++) {
        const g = 2 * A[i]! * p[i]! + 0.4 * p[i]! ** 3 + 0.1 * p[i]!;
        sq[i] = 0.99 * sq[i]! + 0.01 * g * g;
        gavg[i] = 0.99 * gavg[i]! + 0.01 * g;
        const avg = Math.sqrt(sq[i]! - gavg[i]! ** 2) + 1e-8;
        buf[i] = 0.5 * buf[i]! + g / avg;
        p[i] = p[i]! - 0.01 * buf[i]!;
      }
      expectClose(rows[t]!, p, 1e-4, 1e-6, `RMSprop step ${t + 1}`);
    }
    const sgd = expectNoLeaks(() => trajectory((q) => new optim.SGD(q, { lr: 0.05, momentum: 0.9, dampening: 0.3 }), 2));
    const q = [...P0];
    const m = P0.map(() => 0);
    for (let t = 0; t < 2; t++) {
      for (let i = 0; i < q.length; i++) {
        const g = 2 * A[i]! * q[i]! + 0.4 * q[i]! ** 3;
        m[i] = t === 0 ? g : 0.9 * m[i]! + 0.7 * g;
        q[i] = q[i]! - 0.05 * m[i]!;
      }
      expectClose(sgd[t]!, q, 1e-5, 1e-6, `SGD dampening step ${t + 1}`);
    }
  });

  it('parameter groups keep their own hyperparameters; params without grad are skipped', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const a = tensor([1], { requiresGrad: true });
      const b = tensor([1], { requiresGrad: true });
      const c = tensor([1], { requiresGrad: true });
      const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }, { params: [c] }], { lr: 0.1 });
      a.mul(2).add(b.mul(2)).sum().backward(); // c gets no gradient
      opt.step();
      expect([a.item(), b.item(), c.item()]).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0, 6), 1]);
    }));
  });

  it('rejects invalid hyperparameters at construction with clear messages', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const p = [tensor([1], { requiresGrad: true })];
      expect(() => new optim.SGD(p, { lr: -1 })).toThrow('SGD: lr must be a number ≥ 0, got -1');
      expect(() => new optim.SGD(p, { lr: 0.1, nesterov: true })).toThrow('SGD: Nesterov momentum requires momentum > 0 and dampening = 0');
      expect(() => new optim.Adam(p, { betas: [1, 0.999] })).toThrow('Adam: betas must be a pair [β1, β2] of numbers in [0, 1), got [1, 0.999]');
      expect(() => new optim.AdamW(p, { betas: [0.9, -0.1] })).toThrow('AdamW: betas must be a pair [β1, β2] of numbers in [0, 1), got [0.9, -0.1]');
      expect(() => new optim.Adam(p, { eps: -1 })).toThrow('Adam: eps must be a number ≥ 0, got -1');
      expect(() => new optim.RMSprop(p, { alpha: 1.5 })).toThrow('RMSprop: alpha must be in [0, 1], got 1.5');
      expect(() => new optim.Adagrad(p, { lrDecay: -0.1 })).toThrow('Adagrad: lrDecay must be a number ≥ 0, got -0.1');
      expect(() => new optim.SGD([], { lr: 0.1 })).toThrow('SGD: needs at least one parameter');
      expect(() => new optim.SGD([tensor([1])], { lr: 0.1 })).toThrow('must be a leaf tensor that requires grad');
      expect(() => new optim.SGD([p[0]!, p[0]!], { lr: 0.1 })).toThrow('SGD: parameter [1] is listed twice, as params[0] and as params[1]; list each parameter once');
    }));
  });

  it('stateDict / loadStateDict continue a run exactly, and reject a state that does not fit', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const run = (p: Tensor, opt: optim.Optimizer<{ lr: number }>, n: number) => {
        for (let i = 0; i < n; i++) {
          opt.zeroGrad();
          tidy(() => lossOf(p).backward());
          opt.step();
        }
      };
      const p1 = tensor(P0, { requiresGrad: true });
      const o1 = new optim.Adam([p1], { lr: 0.05 });
      run(p1, o1, 6);
      const p2 = tensor(P0, { requiresGrad: true });
      const o2 = new optim.Adam([p2], { lr: 0.05 });
      run(p2, o2, 3);
      const sd = o2.stateDict();
      const p3 = tensor(Array.from(p2.data()), { requiresGrad: true });
      const o3 = new optim.Adam([p3], { lr: 0.9 });
      o3.loadStateDict(sd);
      expect(o3.paramGroups[0]!.lr).toBe(0.05);
      run(p3, o3, 3);
      expect(Array.from(p3.data())).toEqual(Array.from(p1.data()));
      const other = new optim.Adam([tensor([1, 2], { requiresGrad: true })]);
      expect(() => other.loadStateDict(sd)).toThrow("Adam: loadStateDict: buffer 'expAvg' of parameter 0 has shape [5], the parameter [2]");
      for (const o of [o1, o2, o3, other]) o.disposeState();
    }));
  });

  it('clipGradNorm scales gradients to the norm; clipGradValue clamps them', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const a = tensor([3, 0], { requiresGrad: true });
      const b = tensor([0, 4], { requiresGrad: true });
      a.mul(tensor([3, 0])).sum().add(b.mul(tensor([0, 4])).sum()).backward(); // grads [3,0] and [0,4]: norm 5
      expect(optim.clipGradNorm([a, b], 1)).toBeCloseTo(5, 5);
      expectClose(a.grad!.data(), [0.6, 0], 1e-5, 1e-6, 'a');
      expectClose(b.grad!.data(), [0, 0.8], 1e-5, 1e-6, 'b');
      expect(optim.clipGradNorm([a, b], 10)).toBeCloseTo(1, 5); // under the limit: unchanged
      expectClose(a.grad!.data(), [0.6, 0], 1e-5, 1e-6, 'a unchanged');
      expect(optim.clipGradNorm([a, b], 100, Infinity)).toBeCloseTo(0.8, 5);
      optim.clipGradValue([a, b], 0.7);
      expectClose(b.grad!.data(), [0, 0.7], 1e-6, 1e-7, 'clamped');
    }));
  });
});

describe('learning-rate schedules (PyTorch formulas)', () => {
  const lrs = (make: (o: optim.Optimizer<{ lr: number }>) => { step(m: number): void }, n: number, metrics?: number[]) => {
    const p = keep(tensor([1], { requiresGrad: true }));
    const opt = new optim.SGD([p], { lr: 1 });
    const s = make(opt);
    const out = [opt.paramGroups[0]!.lr];
    for (let i = 0; i < n; i++) {
      s.step(metrics?.[i]!); // only ReduceLROnPlateau reads it
      out.push(opt.paramGroups[0]!.lr);
    }
    p.dispose();
    return out;
  };

  it('StepLR, ExponentialLR, CosineAnnealingLR, LinearLR', () => {
    expectClose(lrs((o) => new optim.StepLR(o, { stepSize: 2, gamma: 0.1 }), 5), [1, 1, 0.1, 0.1, 0.01, 0.01], 1e-12, 1e-12, 'StepLR');
    expectClose(lrs((o) => new optim.ExponentialLR(o, { gamma: 0.5 }), 3), [1, 0.5, 0.25, 0.125], 1e-12, 1e-12, 'ExponentialLR');
    expectClose(lrs((o) => new optim.CosineAnnealingLR(o, { tMax: 4, etaMin: 0.1 }), 4),
      [1, 0.1 + 0.9 * (1 + Math.SQRT1_2) / 2, 0.55, 0.1 + 0.9 * (1 - Math.SQRT1_2) / 2, 0.1], 1e-12, 1e-12, 'Cosine');
    expectClose(lrs((o) => new optim.LinearLR(o, { startFactor: 0.25, endFactor: 1, totalIters: 3 }), 4), [0.25, 0.5, 0.75, 1, 1], 1e-12, 1e-12, 'LinearLR');
  });

  it('OneCycleLR rises to maxLr and anneals to maxLr/(div·finalDiv)', () => {
    const v = lrs((o) => new optim.OneCycleLR(o, { maxLr: 0.1, totalSteps: 10, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 }), 9); // warm-up ends at step 0.3·10 − 1 = 2
    expect(v[0]).toBeCloseTo(0.1 / 25, 12);
    expect(v[2]).toBeCloseTo(0.1, 12);
    expect(v[9]).toBeCloseTo(0.1 / 25 / 1e4, 12);
    const peak = v.indexOf(Math.max(...v));
    expect(v.slice(0, peak + 1)).toEqual([...v.slice(0, peak + 1)].sort((a, b) => a - b));
    expect(v.slice(peak)).toEqual([...v.slice(peak)].sort((a, b) => b - a));
  });

  it('ReduceLROnPlateau cuts lr after `patience` epochs without improvement', () => {
    const v = lrs((o) => new optim.ReduceLROnPlateau(o, { patience: 1, factor: 0.5 }), 6, [5, 4, 4, 4, 4, 3]);
    expect(v).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5]);
  });

  it('rejects bad schedule parameters', () => {
    const p = keep(tensor([1], { requiresGrad: true }));
    const o = new optim.SGD([p], { lr: 1 });
    expect(() => new optim.StepLR(o, { stepSize: 0 })).toThrow('StepLR: stepSize must be a positive integer, got 0');
    expect(() => new optim.OneCycleLR(o, { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 })).toThrow('OneCycleLR: pctStart must be in (0, 1)');
    expect(() => new optim.ReduceLROnPlateau(o, { factor: 2 })).toThrow('ReduceLROnPlateau: factor must be in (0, 1)');
    p.dispose();
  });
});

describe('no allocation per step once the state exists', () => {
  it.each(BACKENDS)('%s: the optimizer step itself allocates nothing', async (name) => {
    await useBackend(name);
    const p = keep(tensor(P0, { requiresGrad: true }));
    const opt = new optim.Adam([p]);
    tidy(() => lossOf(p).backward());
    opt.step();
    const { memory } = await import('../../src/index.js');
    const before = memory();
    noGrad(() => opt.step());
    expect(memory()).toEqual(before);
    opt.disposeState();
    p.dispose();
  });
});
