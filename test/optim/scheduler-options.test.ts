// Schedulers take one options object with PyTorch's argument names in camelCase (issue 17), as the optimizers do:
// the defaults are PyTorch's, `undefined` means the default, the settings can be read back, and state dicts —
// those written before the options form and by wasmgrad 0.1.0 (untagged) included — load into schedulers made
// this way. The bad cases are in test/bad-input/schedulers.test.ts.
import { describe, expect, it } from 'vitest';
import { keep, optim, tensor } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/api.js';

type Scheduler = { step(): void };

/** An SGD over one parameter with lr `lr`, the scheduler `make` builds on it, and the lrs of `n` steps (first: before any). */
function lrs(make: (o: optim.SGD) => Scheduler, n: number, lr = 1): number[] {
  return expectNoLeaks(() => {
    const p = keep(tensor([1], { requiresGrad: true }));
    const opt = new optim.SGD([p], { lr });
    const s = make(opt);
    const out = [opt.paramGroups[0]!.lr];
    for (let i = 0; i < n; i++) {
      s.step();
      out.push(opt.paramGroups[0]!.lr);
    }
    p.dispose();
    return out;
  });
}

const close = (got: number[], want: number[]) => got.forEach((v, i) => expect(v, `step ${i}`).toBeCloseTo(want[i]!, 12));

describe('scheduler options', () => {
  it("defaults are PyTorch's", () => {
    close(lrs((o) => new optim.StepLR(o, { stepSize: 2 }), 4), [1, 1, 0.1, 0.1, 0.01]); // gamma 0.1
    close(lrs((o) => new optim.CosineAnnealingLR(o, { tMax: 2 }), 2), [1, 0.5, 0]); // etaMin 0
    close(lrs((o) => new optim.LinearLR(o), 6), [1 / 3, 1 / 3 + 2 / 15, 1 / 3 + 4 / 15, 1 / 3 + 6 / 15, 1 / 3 + 8 / 15, 1, 1]); // 1/3 → 1 over 5
    close(lrs((o) => new optim.LinearLR(o, {}), 1), [1 / 3, 1 / 3 + 2 / 15]);
    // OneCycleLR: pctStart 0.3, divFactor 25, finalDivFactor 1e4 — starts at maxLr/25, peaks at step 0.3·10 − 1, ends at maxLr/25/1e4
    const v = lrs((o) => new optim.OneCycleLR(o, { maxLr: 0.5, totalSteps: 10 }), 9);
    expect(v[0]).toBeCloseTo(0.5 / 25, 12);
    expect(v[2]).toBeCloseTo(0.5, 12);
    expect(v[9]).toBeCloseTo(0.5 / 25 / 1e4, 12);
  });

  it('every option is read, and undefined means the default', () => {
    close(lrs((o) => new optim.StepLR(o, { stepSize: 1, gamma: 0.5 }), 2), [1, 0.5, 0.25]);
    close(lrs((o) => new optim.StepLR(o, { stepSize: 1, gamma: undefined }), 1), [1, 0.1]);
    close(lrs((o) => new optim.ExponentialLR(o, { gamma: 0.5 }), 2), [1, 0.5, 0.25]);
    close(lrs((o) => new optim.CosineAnnealingLR(o, { tMax: 2, etaMin: 0.2 }), 2), [1, 0.6, 0.2]);
    close(lrs((o) => new optim.LinearLR(o, { startFactor: 0.5, endFactor: 0.25, totalIters: 1 }), 2), [0.5, 0.25, 0.25]);
    const v = lrs((o) => new optim.OneCycleLR(o, { maxLr: 1, totalSteps: 4, pctStart: 0.5, divFactor: 10, finalDivFactor: 100 }), 3);
    close(v, [0.1, 1, (1 + 0.001) / 2, 0.001]); // up over steps 0..1, down over 1..3 (cosine), to 1/10/100
  });

  it('the settings can be read back under their option names', () => {
    expectNoLeaks(() => {
      const p = keep(tensor([1], { requiresGrad: true }));
      const opt = new optim.SGD([p], { lr: 0.1 });
      expect(new optim.StepLR(opt, { stepSize: 3 })).toMatchObject({ stepSize: 3, gamma: 0.1 });
      expect(new optim.ExponentialLR(opt, { gamma: 0.9 })).toMatchObject({ gamma: 0.9 });
      expect(new optim.CosineAnnealingLR(opt, { tMax: 7 })).toMatchObject({ tMax: 7, etaMin: 0 });
      expect(new optim.LinearLR(opt, { totalIters: 2 })).toMatchObject({ startFactor: 1 / 3, endFactor: 1, totalIters: 2 });
      expect(new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 9 }))
        .toMatchObject({ maxLr: 1, totalSteps: 9, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 });
      p.dispose();
    });
  });

  it('state dicts load into schedulers made with options: tagged ones and those of wasmgrad 0.1.0', () => {
    expectNoLeaks(() => {
      const p = keep(tensor([1], { requiresGrad: true }));
      const opt = new optim.SGD([p], { lr: 0.8 });
      const saved = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
      for (let i = 0; i < 3; i++) saved.step();
      expect(saved.stateDict()).toEqual({ scheduler: 'StepLR', lastEpoch: 3, baseLrs: [0.8] });

      const other = new optim.SGD([p], { lr: 0.8 });
      const resumed = new optim.StepLR(other, { stepSize: 2, gamma: 0.5 });
      resumed.loadStateDict(JSON.parse(JSON.stringify(saved.stateDict())));
      expect(resumed.getLastLr()).toEqual(saved.getLastLr());
      saved.step();
      resumed.step();
      expect(resumed.getLastLr()).toEqual([0.2]);
      expect(saved.getLastLr()).toEqual([0.2]);

      // wasmgrad 0.1.0 wrote { lastEpoch, baseLrs } with no tag
      const old = new optim.CosineAnnealingLR(new optim.SGD([p], { lr: 1 }), { tMax: 4 });
      old.loadStateDict({ lastEpoch: 2, baseLrs: [1] });
      expect(old.getLastLr()[0]).toBeCloseTo(0.5, 12);
      p.dispose();
    });
  });

  it('the positional form does not compile', () => {
    expectNoLeaks(() => {
      const p = keep(tensor([1], { requiresGrad: true }));
      const opt = new optim.SGD([p], { lr: 1 });
      // @ts-expect-error: the options object replaced StepLR(opt, stepSize, gamma)
      expect(() => new optim.StepLR(opt, 2, 0.1)).toThrow('StepLR: the second argument must be an options object');
      // @ts-expect-error: the options object replaced CosineAnnealingLR(opt, tMax)
      expect(() => new optim.CosineAnnealingLR(opt, 10)).toThrow('CosineAnnealingLR: the second argument must be an options object');
      // @ts-expect-error: a required option is required by the type too
      expect(() => new optim.OneCycleLR(opt, { maxLr: 0.1 })).toThrow('OneCycleLR: totalSteps is required');
      p.dispose();
    });
  });
});
