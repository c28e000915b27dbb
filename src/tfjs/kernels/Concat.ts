// Concat along one axis, any dtype; empty inputs add nothing.
import { Concat, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { concat } from '../../kernels/index.js';
import { kernel } from './util.js';

export const concatConfig = kernel(Concat, ({ inputs, attrs, backend }) => {
  const xs = inputs as unknown as TensorInfo[];
  const axis = util.parseAxisParam(attrs.axis as number, xs[0]!.shape)[0]!;
  const nonEmpty = xs.filter((x) => util.sizeFromShape(x.shape) > 0);
  return backend.output(concat((nonEmpty.length ? nonEmpty : xs.slice(0, 1)).map((x) => backend.nd(x)), axis), xs[0]!.dtype);
});
