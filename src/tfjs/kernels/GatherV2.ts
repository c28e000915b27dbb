// GatherV2 (tf.gather) along one axis with int32 indices of any shape, any dtype; batchDims > 0 is listed in
// src/tfjs/fallback.ts. Indices out of range are an error naming the index (wasmgrad's gather checks them).
import { GatherV2, util } from '@tensorflow/tfjs-core';
import { gather } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { kernel } from './util.js';

export const gatherV2Config = kernel(GatherV2, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (((attrs.batchDims as number | undefined) ?? 0) !== 0) return runOnCpu(GatherV2, args);
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  return backend.output(gather(backend.nd(x), backend.nd(inputs.indices!), axis), x.dtype);
});
