// Cast between float32, int32 and bool (stored as int32 0/1). To bool is x ≠ 0 (NaN is true, as on tfjs-backend-cpu).
import { Cast, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import { binary, cast as castArray, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { share } from './Reshape.js';
import { constant, kernel, withScratch } from './util.js';

/** x as an array of `dtype` (a new array the caller owns). */
export function castTo(backend: WasmgradBackend, x: NDArray, from: DataType, dtype: DataType): NDArray {
  if (dtype === 'bool') {
    return withScratch((tmp) => {
      const xf = from === 'float32' ? x : tmp(castArray(x, 'float32'));
      const isZero = tmp(binary('equal', xf, tmp(constant(backend, 0))));
      return castArray(tmp(binary('sub', tmp(constant(backend, 1)), isZero)), 'int32');
    });
  }
  return castArray(x, dtype === 'int32' ? 'int32' : 'float32');
}

export function castInfo(backend: WasmgradBackend, x: TensorInfo, dtype: DataType): TensorInfo {
  if (x.dtype === dtype) return share(x, x.shape, { backend });
  // bool → int32 is the same storage, but tfjs keeps one dtype per dataId: it gets a copy of its own.
  return backend.output(castTo(backend, backend.nd(x), x.dtype, dtype), dtype);
}

export const castConfig = kernel(Cast, ({ inputs, attrs, backend }) => castInfo(backend, inputs.x!, attrs.dtype as DataType));
