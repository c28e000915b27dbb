// UnsortedSegmentSum (tf.unsortedSegmentSum, and the gradient of tf.gather): out[s] = the sum of the rows of x whose
// segment id is s, by wasmgrad's scatterAdd along axis 0 (one pass, repeated ids accumulate). As on tfjs-backend-cpu
// an id outside [0, numSegments) adds nothing: such rows go to one extra row, cut off after. int32 x sums in float32
// (tfjs-backend-cpu's output dtype there too).
import { UnsortedSegmentSum } from '@tensorflow/tfjs-core';
import { cast, empty, scatterAdd, slice } from '../../kernels/index.js';
import { kernel, withScratch } from './util.js';

export const unsortedSegmentSumConfig = kernel(UnsortedSegmentSum, ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as Required<typeof inputs>;
  const n = attrs.numSegments as number;
  const rows = x!.shape.slice(segmentIds!.shape.length);
  return backend.output(withScratch((tmp) => {
    const values = x!.dtype === 'float32' ? backend.nd(x!) : tmp(cast(backend.nd(x!), 'float32'));
    const ids = backend.readSync(segmentIds!.dataId) as Int32Array;
    if (ids.every((s) => s >= 0 && s < n)) return scatterAdd(values, backend.nd(segmentIds!), [n, ...rows]);
    const kept = tmp(empty(backend.wasm, 'int32', segmentIds!.shape));
    backend.wasm.write(kept.buf, ids.map((s) => (s >= 0 && s < n ? s : n)));
    const sums = tmp(scatterAdd(values, kept, [n + 1, ...rows]));
    return slice(sums, sums.shape.map(() => 0), [n, ...rows]);
  }), 'float32');
});
