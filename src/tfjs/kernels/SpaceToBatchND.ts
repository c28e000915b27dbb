// SpaceToBatchND and BatchToSpaceND (tf.spaceToBatchND / tf.batchToSpaceND, and tf.pool's dilation): a padding or
// crop around one permuted copy. The shapes and the permutation are tfjs's own (backend_util.getReshaped,
// getPermuted, getReshapedPermuted, getSliceBeginCoords, getSliceSize), as tfjs-backend-cpu composes them; the
// reshapes are views. Any numeric dtype.
import { backend_util, BatchToSpaceND, SpaceToBatchND, util } from '@tensorflow/tfjs-core';
import { permute, slice } from '../../kernels/index.js';
import { padded } from './PadV2.js';
import { kernel, view, withScratch } from './util.js';

export const spaceToBatchNDConfig = kernel(SpaceToBatchND, ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  const blockShape = attrs.blockShape as number[];
  const paddings = attrs.paddings as [number, number][];
  const prod = util.sizeFromShape(blockShape);
  // the batch and the axes after the spatial ones are not padded
  const all = [[0, 0], ...paddings, ...x.shape.slice(1 + blockShape.length).map(() => [0, 0])];
  return backend.output(withScratch((tmp) => {
    const p = tmp(padded(backend, backend.nd(x), x.dtype, all, 0));
    const reshaped = backend_util.getReshaped([...p.shape], blockShape, prod, false);
    const perm = backend_util.getPermuted(reshaped.length, blockShape.length, false);
    const moved = permute(view(p, reshaped), perm);
    return view(moved, backend_util.getReshapedPermuted([...p.shape], blockShape, prod, false));
  }), x.dtype);
});

export const batchToSpaceNDConfig = kernel(BatchToSpaceND, ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  const blockShape = attrs.blockShape as number[];
  const crops = attrs.crops as number[][];
  const prod = util.sizeFromShape(blockShape);
  const reshaped = backend_util.getReshaped(x.shape, blockShape, prod);
  const perm = backend_util.getPermuted(reshaped.length, blockShape.length);
  const reshapedPermuted = backend_util.getReshapedPermuted(x.shape, blockShape, prod);
  return backend.output(withScratch((tmp) => {
    const moved = view(tmp(permute(view(backend.nd(x), reshaped), perm)), reshapedPermuted);
    // tfjs gives the crop for the batch and spatial axes: the axes after them are kept whole
    const begin = backend_util.getSliceBeginCoords(crops, blockShape.length);
    const size = backend_util.getSliceSize(reshapedPermuted, crops, blockShape.length);
    return slice(moved, reshapedPermuted.map((_, i) => begin[i] ?? 0), reshapedPermuted.map((d, i) => size[i] ?? d));
  }), x.dtype);
});
