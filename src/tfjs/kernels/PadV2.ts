// PadV2 (tf.pad): an array of the padded shape filled with constantValue, x copied into it at the leading padding.
// Any numeric dtype.
import { PadV2, type DataType } from '@tensorflow/tfjs-core';
import { copyInto, freeOnError, type NDArray } from '../../kernels/index.js';
import { storageDtype, type WasmgradBackend } from '../backend.js';
import { constant, kernel } from './util.js';

/** x (of tfjs dtype `dtype`) with [before, after] elements of `value` around each axis, as a new array. */
export function padded(backend: WasmgradBackend, x: NDArray, dtype: DataType, paddings: readonly (readonly number[])[],
  value: number): NDArray {
  const outShape = x.shape.map((d, i) => paddings[i]![0]! + d + paddings[i]![1]!);
  return freeOnError(() => {
    const out = constant(backend, value, storageDtype(dtype, PadV2), outShape);
    copyInto(out, x, paddings.map(([before]) => before!));
    return out;
  });
}

export const padV2Config = kernel(PadV2, ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  return backend.output(padded(backend, backend.nd(x), x.dtype, attrs.paddings as [number, number][],
    attrs.constantValue as number), x.dtype);
});
