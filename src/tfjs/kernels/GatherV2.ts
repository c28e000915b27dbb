// GatherV2 (tf.gather) along one axis with int32 indices of any shape, any numeric dtype; batchDims > 0 is listed
// in src/tfjs/fallback.ts. An index out of range is an error in tfjs-backend-cpu's words, naming the index.
import { GatherV2, util } from '@tensorflow/tfjs-core';
import { gather } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { kernel } from './util.js';

export const gatherV2Config = kernel(GatherV2, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (((attrs.batchDims as number | undefined) ?? 0) !== 0) return runOnCpu(GatherV2, args);
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const last = x.shape[axis]! - 1;
  const bad = (backend.readSync(inputs.indices!.dataId) as Int32Array).find((i) => i < 0 || i > last);
  if (bad !== undefined) throw new Error(`GatherV2: the index value ${bad} is not in [0, ${last}]`);
  return backend.output(gather(backend.nd(x), backend.nd(inputs.indices!), axis), x.dtype);
});
