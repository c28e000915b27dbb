// Concat along one axis, any numeric dtype (strings are listed in src/tfjs/fallback.ts), as tfjs-backend-cpu does
// it: every input's shape is checked (empty ones too), an empty result is just its shape, and empty inputs add
// nothing.
import { backend_util, Concat, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { concat } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { anyString, kernel } from './util.js';

export const concatConfig = kernel(Concat, (args) => {
  const { attrs, backend } = args;
  const xs = args.inputs as unknown as TensorInfo[];
  if (anyString(xs)) return runOnCpu(Concat, args);
  const axis = util.parseAxisParam(attrs.axis as number, xs[0]!.shape)[0]!;
  const shapes = xs.map((x) => x.shape);
  backend_util.assertParamsConsistent(shapes, axis);
  const outShape = backend_util.computeOutShape(shapes, axis);
  if (util.sizeFromShape(outShape) === 0) return backend.output(backend.empty(outShape, xs[0]!.dtype), xs[0]!.dtype);
  const nonEmpty = xs.filter((x) => util.sizeFromShape(x.shape) > 0);
  return backend.output(concat(nonEmpty.map((x) => backend.nd(x)), axis), xs[0]!.dtype);
});
