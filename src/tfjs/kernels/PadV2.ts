// PadV2 (tf.pad): an array of the padded shape filled with constantValue, x copied into it at the leading padding.
// Any numeric dtype.
import { PadV2 } from '@tensorflow/tfjs-core';
import { copyInto } from '../../kernels/index.js';
import { storageDtype } from '../backend.js';
import { constant, kernel, withScratch } from './util.js';

export const padV2Config = kernel(PadV2, ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  const paddings = attrs.paddings as [number, number][];
  const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  return backend.output(withScratch(() => {
    const out = constant(backend, attrs.constantValue as number, storageDtype(x.dtype, PadV2), outShape);
    copyInto(out, backend.nd(x), paddings.map(([before]) => before));
    return out;
  }), x.dtype);
});
