// OneHot: out[..., j] = indices[...] == j ? onValue : offValue, by an int32 comparison against 0..depth−1 broadcast
// over the indices (an index outside [0, depth) gives a row of offValue, as in TensorFlow).
import { OneHot, type DataType } from '@tensorflow/tfjs-core';
import { binary, cast, empty, where } from '../../kernels/index.js';
import { storageDtype } from '../backend.js';
import { constant, kernel, view, withScratch } from './util.js';

export const oneHotConfig = kernel(OneHot, ({ inputs, attrs, backend }) => {
  const indices = inputs.indices!;
  const depth = attrs.depth as number;
  const dtype = (attrs.dtype as DataType | undefined) ?? 'int32';
  const on = (attrs.onValue as number | undefined) ?? 1;
  const off = (attrs.offValue as number | undefined) ?? 0;
  return backend.output(withScratch((tmp) => {
    const range = tmp(empty(backend.wasm, 'int32', [depth]));
    backend.wasm.write(range.buf, Int32Array.from({ length: depth }, (_, j) => j));
    const idx = view(backend.nd(indices), [...indices.shape, 1]);
    const hit = binary('equal', idx, range); // int32 1/0
    if (storageDtype(dtype, 'OneHot') === 'int32' && on === 1 && off === 0) return hit;
    const picked = where(tmp(cast(tmp(hit), 'float32')), tmp(constant(backend, on)), tmp(constant(backend, off)));
    return dtype === 'float32' ? picked : cast(tmp(picked), 'int32');
  }), dtype);
});
