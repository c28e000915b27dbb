// A module with every parameter and buffer drawn at random (variances positive) and switched to eval mode, for the
// export tests (ONNX, PyTorch): a misplaced or misnamed tensor then changes the outputs.
import type { Module } from '../../src/nn/module.js';
import { Generator } from '../../src/random.js';

export function randomized<M extends Module>(model: M, seed = 1): M {
  const g = new Generator(seed);
  const values = Object.fromEntries(Object.entries(model.stateDict()).filter(([, t]) => t.dtype !== 'int32').map(([k, t]) => {
    const v = Float32Array.from(g.normal(t.size, 0, 0.5));
    if (k.endsWith('running_var')) v.forEach((x, i) => { v[i] = Math.abs(x) + 0.5; });
    return [k, { shape: t.shape, data: v }];
  }));
  model.loadStateDict(values, { strict: false });
  return model.eval();
}
