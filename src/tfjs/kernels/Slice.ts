// Slice (tfjs's size −1 means "to the end", resolved by its own slice_util) as a dense copy, any dtype.
import { Slice, slice_util } from '@tensorflow/tfjs-core';
import { slice } from '../../kernels/index.js';
import { kernel } from './util.js';

export const sliceConfig = kernel(Slice, ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  const [begin, size] = slice_util.parseSliceParams(x, attrs.begin as number[], attrs.size as number[]);
  slice_util.assertParamsValid(x, begin!, size!);
  return backend.output(slice(backend.nd(x), begin!, size!), x.dtype);
});
