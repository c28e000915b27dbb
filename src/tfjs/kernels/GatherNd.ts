// GatherNd (tf.gatherND): each row of the last axis of indices names one slice of params; the slices' flat numbers
// (tfjs's own prepareAndValidate gives the slice size and the strides) are computed here from the indices and
// gathered in one pass along the first axis of params seen as [slices, slice size]. Any numeric dtype. An index
// outside params is an error in tfjs-backend-cpu's words.
import { backend_util, GatherNd, util, type Tensor } from '@tensorflow/tfjs-core';
import { empty, gather } from '../../kernels/index.js';
import { kernel, view, withScratch } from './util.js';

export const gatherNdConfig = kernel(GatherNd, ({ inputs, backend }) => {
  const { params, indices } = inputs as Required<typeof inputs>;
  const [resultShape, numSlices, sliceSize, strides] = backend_util.prepareAndValidate(params as Tensor, indices as Tensor);
  if (numSlices === 0 || sliceSize === 0) return backend.output(backend.empty(resultShape, params!.dtype), params!.dtype);
  const rank = indices!.shape[indices!.shape.length - 1]!;
  const slices = util.sizeFromShape(params!.shape) / sliceSize;
  const values = backend.readSync(indices!.dataId) as Int32Array;
  const flat = Int32Array.from({ length: numSlices }, (_, i) => {
    const index = Array.from(values.subarray(i * rank, (i + 1) * rank));
    const at = index.reduce((acc, d, j) => acc + d * strides[j]!, 0);
    if (at < 0 || at >= slices) throw new Error(`Invalid indices: ${index} does not index into ${params!.shape}`);
    return at;
  });
  return backend.output(withScratch((tmp) => {
    const idx = tmp(empty(backend.wasm, 'int32', [numSlices]));
    backend.wasm.write(idx.buf, flat);
    return view(gather(view(backend.nd(params!), [slices, sliceSize]), idx, 0), resultShape);
  }), params!.dtype);
});
