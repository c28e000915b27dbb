// Select (tf.where(condition, t, e)) on float32 values: a condition of t's rank broadcasts as in NumPy, a
// rank-1 condition picks whole rows of t (TensorFlow's rule).
import { Select } from '@tensorflow/tfjs-core';
import { cast, where } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { kernel, view, withScratch } from './util.js';

export const selectConfig = kernel(Select, (args) => {
  const { inputs, backend } = args;
  const { condition, t, e } = inputs as Required<typeof inputs>;
  if (t!.dtype !== 'float32') return runOnCpu(Select, args);
  return backend.output(withScratch((tmp) => {
    let c = tmp(cast(backend.nd(condition!), 'float32'));
    if (condition!.shape.length === 1 && t!.shape.length > 1) c = view(c, [condition!.shape[0]!, ...t!.shape.slice(1).map(() => 1)]);
    return where(c, backend.nd(t!), backend.nd(e!));
  }), 'float32');
});
