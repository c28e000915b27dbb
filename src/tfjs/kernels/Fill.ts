// Fill, ZerosLike and OnesLike: new arrays filled with one value (numeric dtypes; string fills are JS values).
import { Fill, OnesLike, ZerosLike, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmgradBackend } from '../backend.js';
import { storageDtype } from '../backend.js';
import { constant, kernel } from './util.js';

function filled(backend: WasmgradBackend, shape: number[], dtype: DataType, value: number | string): TensorInfo {
  if (dtype === 'string') {
    const encoded = new TextEncoder().encode(String(value));
    const n = shape.reduce((p, d) => p * d, 1);
    return { dataId: backend.write(Array.from({ length: n }, () => encoded), shape, 'string'), shape, dtype };
  }
  return backend.output(constant(backend, Number(value), storageDtype(dtype, 'Fill'), shape), dtype);
}

export const fillConfig = kernel(Fill, ({ attrs, backend }) =>
  filled(backend, attrs.shape as number[], (attrs.dtype as DataType | undefined) ?? 'float32', attrs.value as number | string));
export const zerosLikeConfig = kernel(ZerosLike, ({ inputs, backend }) => filled(backend, inputs.x!.shape, inputs.x!.dtype, 0));
export const onesLikeConfig = kernel(OnesLike, ({ inputs, backend }) => filled(backend, inputs.x!.shape, inputs.x!.dtype, 1));
