// Slice (tfjs's size −1 means "to the end", resolved by its own slice_util) as a dense copy, any numeric dtype
// (strings are listed in src/tfjs/fallback.ts).
import { Slice, slice_util } from '@tensorflow/tfjs-core';
import { slice } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { anyString, kernel } from './util.js';

export const sliceConfig = kernel(Slice, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (anyString(inputs)) return runOnCpu(Slice, args);
  const [begin, size] = slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]);
  slice_util.assertParamsValid(x, begin!, size!);
  return backend.output(slice(backend.nd(x), begin!, size!), x.dtype);
});
