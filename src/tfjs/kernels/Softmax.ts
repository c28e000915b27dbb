// Softmax along one axis (tfjs passes the last).
import { Softmax } from '@tensorflow/tfjs-core';
import { softmax } from '../../kernels/index.js';
import { kernel } from './util.js';

export const softmaxConfig = kernel(Softmax, ({ inputs, attrs, backend }) =>
  backend.output(softmax(backend.nd(inputs.logits!), (attrs.dim as number | undefined) ?? -1), 'float32'));
