// SplitV (tf.split): consecutive slices along one axis, sizes as tfjs's own prepareSplitSize resolves them (a count
// of equal parts, or sizes with at most one −1). Any numeric dtype; strings are listed in src/tfjs/fallback.ts.
import { backend_util, SplitV, util, type Tensor } from '@tensorflow/tfjs-core';
import { slice } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { anyString, kernel, withScratch } from './util.js';

export const splitVConfig = kernel(SplitV, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (anyString(inputs)) return runOnCpu(SplitV, args);
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x as Tensor, attrs.numOrSizeSplits as number | number[], axis);
  const begin = x.shape.map(() => 0);
  const parts = withScratch(() => sizes.map((n) => { // all or none: a failure part-way frees the parts made
    const size = x.shape.map((d, i) => (i === axis ? n : d));
    const part = slice(backend.nd(x), begin, size);
    begin[axis] += n;
    return part;
  }));
  return parts.map((part) => backend.output(part, x.dtype));
});
