// nn: modules, initialisers, losses, and a small MLP that learns, on both backends, without leaking.
import { describe, expect, it } from 'vitest';
import { Generator, gradcheck, memory, nn, noGrad, optim, refBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

describe.each(BACKENDS)('nn on %s', (name) => {
  it('names parameters like PyTorch and calls modules like functions', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(8, 3, { bias: false }));
      expect(model.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
        ['0.weight', [8, 4]], ['0.bias', [8]], ['3.weight', [3, 8]],
      ]);
      expect(model.length).toBe(4);
      expect(model.at(-1)).toBeInstanceOf(nn.Linear);
      expect(model).toBeInstanceOf(nn.Module);
      expect(String(model)).toContain('(0): Linear(inFeatures=4, outFeatures=8, bias=true)');
      tidy(() => {
        const y = model(tensor([[1, 2, 3, 4], [0, 0, 0, 0]]));
        expect(y.shape).toEqual([2, 3]);
      });
      model.dispose();
    });
  });

  it('Linear uses PyTorch default init bounds, seeded', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const a = new nn.Linear(100, 50, { generator: new Generator(3) });
      const b = new nn.Linear(100, 50, { generator: new Generator(3) });
      const w = Array.from(a.weight.data());
      expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.1);
      expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.099);
      expect(Array.from(b.weight.data())).toEqual(w);
      a.dispose();
      b.dispose();
    });
  });

  it('train / eval switch dropout; dropout is seeded and scales by 1/(1−p)', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const drop = new nn.Dropout(0.25, { generator: new Generator(1) });
      const x = tensor(new Array(1000).fill(1));
      const y = Array.from(drop(x).data());
      expect(new Set(y)).toEqual(new Set([0, Math.fround(1 / 0.75)]));
      expect(y.filter((v) => v === 0).length).toBeGreaterThan(200);
      expect(y.filter((v) => v === 0).length).toBeLessThan(300);
      const again = new nn.Dropout(0.25, { generator: new Generator(1) });
      expect(Array.from(again(x).data())).toEqual(y);
      // Exactly the draws a twin generator gives, kept at or above p·2³²: the stream checkpoints resume.
      expect(y).toEqual(Array.from(new Generator(1).uint32s(1000), (u) => (u >= 0.25 * 2 ** 32 ? Math.fround(1 / 0.75) : 0)));
      const seq = new nn.Sequential(drop);
      seq.eval();
      expect(drop.training).toBe(false);
      expect(seq(x)).toBe(x);
      expect(() => new nn.Dropout(1)).toThrow('Dropout: p must be in [0, 1), got 1');
    }));
  });

  it('Flatten and activation modules', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      expect(new nn.Flatten()(tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])).shape).toEqual([2, 4]);
      const x = tensor([-2, 0.5]);
      expectClose(new nn.LeakyReLU(0.2)(x).data(), [-0.4, 0.5], 1e-6, 1e-7, 'leaky');
      expectClose(new nn.Softplus(2)(x).data(), [Math.log1p(Math.exp(-4)) / 2, Math.log1p(Math.exp(1)) / 2], 1e-6, 1e-7, 'softplus');
      expectClose(new nn.Tanh()(x).data(), [Math.tanh(-2), Math.tanh(0.5)], 1e-6, 1e-7, 'tanh');
      expectClose(new nn.Sigmoid()(x).data(), [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(-0.5))], 1e-6, 1e-7, 'sigmoid');
      expect(new nn.GELU()(x).shape).toEqual([2]);
      expect(Array.from(new nn.ReLU()(x).data())).toEqual([0, 0.5]);
    }));
  });

  it('loadStateDict is strict: missing, unexpected and mis-shaped entries are listed, nothing is loaded', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const model = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
      const before = Array.from(model.parameters()[0]!.data());
      const sd = { '0.weight': { shape: [3, 2], data: [1, 2, 3, 4, 5, 6] }, '0.bias': { shape: [4], data: [0, 0, 0, 0] }, extra: { shape: [1], data: [1] } };
      expect(() => model.loadStateDict(sd)).toThrow(
        'loadStateDict: missing: 1.weight, 1.bias | unexpected: extra | wrong shape: 0.bias: expected [3], got [4] (nothing was loaded)');
      expect(Array.from(model.parameters()[0]!.data())).toEqual(before);
      const { missing, unexpected } = model.loadStateDict({ '0.weight': sd['0.weight'], extra: sd.extra }, { strict: false });
      expect(missing).toEqual(['0.bias', '1.weight', '1.bias']);
      expect(unexpected).toEqual(['extra']);
      expect(Array.from(model.parameters()[0]!.data())).toEqual([1, 2, 3, 4, 5, 6]);
      const copy = new nn.Sequential(new nn.Linear(2, 3), new nn.Linear(3, 1));
      copy.loadStateDict(model.stateDict());
      expect(Array.from(copy.parameters()[3]!.data())).toEqual(Array.from(model.parameters()[3]!.data()));
      model.zeroGrad();
      model.dispose();
      copy.dispose();
    });
  });

  it('initialisers follow PyTorch formulas', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const w = tensor(new Array(200 * 300).fill(0), { shape: [200, 300] });
      const g = new Generator(7);
      const bound = Math.sqrt(6 / 500);
      const xu = Array.from(nn.init.xavierUniform(w, { generator: g }).data());
      expect(Math.max(...xu)).toBeLessThanOrEqual(bound);
      expect(Math.max(...xu)).toBeGreaterThan(bound * 0.99);
      const std = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
      expect(std(Array.from(nn.init.xavierNormal(w, { generator: g }).data()))).toBeCloseTo(Math.sqrt(2 / 500), 3);
      expect(std(Array.from(nn.init.kaimingNormal(w, { generator: g, nonlinearity: 'relu' }).data()))).toBeCloseTo(Math.sqrt(2 / 300), 3);
      const ku = Array.from(nn.init.kaimingUniform(w, { generator: g, nonlinearity: 'relu', mode: 'fanOut' }).data());
      expect(Math.max(...ku)).toBeLessThanOrEqual(Math.sqrt(6 / 200));
      expect(() => nn.init.xavierUniform(tensor([1, 2]))).toThrow('init: fan in/out need a tensor with at least 2 dims, got [2]');
    }));
  });

  it('losses: values by reduction, label smoothing, BCE with logits, Huber', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const logits = tensor([[2, 1, 0], [0, 0, 3]]);
      const lse = (r: number[]) => Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
      const rows = [lse([2, 1, 0]) - 1, lse([0, 0, 3]) - 0];
      expectClose(nn.crossEntropy(logits, [1, 0], { reduction: 'none' }).data(), rows, 1e-6, 1e-7, 'ce none');
      expectClose(nn.crossEntropy(logits, [1, 0]).item(), (rows[0]! + rows[1]!) / 2, 1e-6, 1e-7, 'ce mean');
      expectClose(nn.crossEntropy(logits, [1, 0], { reduction: 'sum' }).item(), rows[0]! + rows[1]!, 1e-6, 1e-7, 'ce sum');
      // label smoothing s: (1 − s)·nll + s·mean over classes of −log p
      const s = 0.2;
      const smooth = [[2, 1, 0, 1], [0, 0, 3, 0]].map(([a, b, c, y]) => {
        const l = lse([a!, b!, c!]);
        const logp = [a! - l, b! - l, c! - l];
        return -(1 - s) * logp[y!]! - (s / 3) * (logp[0]! + logp[1]! + logp[2]!);
      });
      expectClose(nn.crossEntropy(logits, [1, 0], { labelSmoothing: s }).item(), (smooth[0]! + smooth[1]!) / 2, 1e-6, 1e-7, 'ce smoothing');
      expect(() => nn.crossEntropy(logits, [1, 0], { labelSmoothing: 1.5 })).toThrow('crossEntropy: labelSmoothing must be in [0, 1], got 1.5');
      expect(() => nn.crossEntropy(logits, [1, 5])).toThrow('crossEntropy: label 5 at row 1 is out of range [0, 3)');
      const x = tensor([-3, 0.5, 25]);
      const y = tensor([0, 1, 1]);
      const bce = [-3, 0.5, 25].map((v, i) => Math.max(v, 0) - v * [0, 1, 1][i]! + Math.log1p(Math.exp(-Math.abs(v))));
      expectClose(nn.bceWithLogits(x, y, { reduction: 'none' }).data(), bce, 1e-6, 1e-7, 'bce');
      expectClose(nn.bceWithLogits(x, y).item(), bce.reduce((a, b) => a + b) / 3, 1e-6, 1e-7, 'bce mean');
      const hub = [0.5, 3].map((d) => (Math.abs(d) <= 1 ? 0.5 * d * d : Math.abs(d) - 0.5));
      expectClose(nn.huberLoss(tensor([0.5, -3]), tensor([0, 0]), { reduction: 'sum' }).item(), hub[0]! + hub[1]!, 1e-6, 1e-7, 'huber');
      expectClose(nn.mseLoss(tensor([1, 2]), tensor([0, 0]), { reduction: 'none' }).data(), [1, 4], 1e-7, 0, 'mse none');
      expect(() => nn.mseLoss(tensor([1, 2]), tensor([1, 2, 3]))).toThrow('mseLoss: input [2] and target [3] must have the same shape');
      expect(() => nn.mseLoss(tensor([1]), tensor([1]), { reduction: 'avg' as 'mean' })).toThrow("mseLoss: reduction must be 'mean', 'sum' or 'none', got the string 'avg'");
    }));
  });

  it('a small MLP learns a toy problem, and memory stays flat over 1000 steps', async () => {
    await useBackend(name);
    const rand = mulberry32(5);
    // two interleaved rings: not linearly separable
    const n = 128;
    const X: number[][] = [];
    const Y: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      const r = label ? 2 : 1;
      const a = rand() * 2 * Math.PI;
      X.push([r * Math.cos(a) + 0.1 * (rand() - 0.5), r * Math.sin(a) + 0.1 * (rand() - 0.5)]);
      Y.push(label);
    }
    const g = new Generator(11);
    const model = new nn.Sequential(new nn.Linear(2, 16, { generator: g }), new nn.Tanh(), new nn.Linear(16, 2, { generator: g }));
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    const x = tensor(X);
    const y = tensor(Y, { dtype: 'int32' });
    const step = () => tidy(() => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    });
    step(); // first step creates the optimizer state
    const start = memory();
    let loss = Infinity;
    for (let i = 0; i < 1000; i++) {
      loss = step();
      if (i % 250 === 0) expect(memory()).toMatchObject({ tensors: start.tensors, buffers: start.buffers, bytes: start.bytes });
    }
    expect(memory()).toMatchObject({ tensors: start.tensors, buffers: start.buffers, bytes: start.bytes, heapBytes: start.heapBytes });
    expect(loss).toBeLessThan(0.05);
    const acc = tidy(() => noGrad(() => {
      const pred = model(x).argMax(-1).data();
      return Y.filter((v, i) => pred[i] === v).length / n;
    }));
    expect(acc).toBe(1);
    for (const t of [x, y]) t.dispose();
    opt.disposeState();
    model.dispose();
  });
});

describe('new losses pass gradcheck (float64)', () => {
  const f64 = (v: number[], shape: number[]) => tensor(v, { shape, dtype: 'float64', backend: refBackend() });
  it.each([
    ['bceWithLogits', (a: Tensor, b: Tensor) => nn.bceWithLogits(a, b)],
    ['bceWithLogits sum', (a: Tensor, b: Tensor) => nn.bceWithLogits(a, b, { reduction: 'sum' })],
    ['huberLoss', (a: Tensor, b: Tensor) => nn.huberLoss(a, b, { delta: 0.7 })],
    ['mseLoss none', (a: Tensor, b: Tensor) => nn.mseLoss(a, b, { reduction: 'none' })],
  ] as const)('%s', (_n, f) => {
    expectNoLeaks(() => tidy(() => {
      const r = gradcheck(f, [f64([-1.3, 0.2, 2.5, -0.4], [2, 2]), f64([0.1, 0.9, 0.35, 0.2], [2, 2])], { atol: 1e-6, rtol: 1e-5 });
      expect(r.failures).toEqual([]);
    }));
  });
});
