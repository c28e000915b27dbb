// Reverse (tf.reverse) along any axes: one strided copy that walks each reversed axis backwards (begin n − 1,
// step −1). Any numeric dtype; strings are listed in src/tfjs/fallback.ts.
import { Reverse, util } from '@tensorflow/tfjs-core';
import { stridedSlice } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { anyString, kernel } from './util.js';

export const reverseConfig = kernel(Reverse, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (anyString(inputs)) return runOnCpu(Reverse, args);
  const axes = util.parseAxisParam(attrs.dims as number | number[], x.shape);
  const reversed = (i: number) => axes.includes(i) && x.shape[i]! > 0;
  const begin = x.shape.map((d, i) => (reversed(i) ? d - 1 : 0));
  const step = x.shape.map((_, i) => (reversed(i) ? -1 : 1));
  return backend.output(stridedSlice(backend.nd(x), begin, x.shape, step), x.dtype);
});
