// StridedSlice (tf.stridedSlice, x[a:b:s] with masks): tfjs's own sliceInfo resolves begin, end, strides and the
// masks into a start, a step and a length per axis of x, which wasmgrad's stridedSlice copies in one pass (negative
// steps included); the result is then seen with the final shape (new axes added, shrunk axes dropped). Any numeric
// dtype; strings are listed in src/tfjs/fallback.ts.
import { slice_util, StridedSlice } from '@tensorflow/tfjs-core';
import { stridedSlice } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { share } from './Reshape.js';
import { anyString, kernel, view } from './util.js';

export const stridedSliceConfig = kernel(StridedSlice, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (anyString(inputs)) return runOnCpu(StridedSlice, args);
  const info = slice_util.sliceInfo(x.shape, attrs.begin as number[], attrs.end as number[], attrs.strides as number[],
    attrs.beginMask as number, attrs.endMask as number, attrs.ellipsisMask as number, attrs.newAxisMask as number,
    attrs.shrinkAxisMask as number);
  if (info.isIdentity) return share(x, info.finalShape, args);
  // The length along each axis of x (a begin past the end is an empty slice, as on tfjs-backend-cpu).
  const size = slice_util.computeOutShape(info.begin, info.end, info.strides).map((n) => Math.max(n, 0));
  const out = stridedSlice(backend.nd(x), info.begin, size, info.strides);
  return backend.output(view(out, info.finalShape), x.dtype);
});
