// Transpose: a permuted dense copy (any dtype).
import { Transpose } from '@tensorflow/tfjs-core';
import { permute } from '../../kernels/index.js';
import { kernel } from './util.js';

export const transposeConfig = kernel(Transpose, ({ inputs, attrs, backend }) =>
  backend.output(permute(backend.nd(inputs.x!), attrs.perm as number[]), inputs.x!.dtype));
