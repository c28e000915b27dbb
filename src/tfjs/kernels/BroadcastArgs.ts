// BroadcastArgs (tf.broadcastArgs): the broadcast shape of two int32 shape vectors, by tfjs's own rule and error.
import { backend_util, BroadcastArgs } from '@tensorflow/tfjs-core';
import { empty } from '../../kernels/index.js';
import { kernel } from './util.js';

export const broadcastArgsConfig = kernel(BroadcastArgs, ({ inputs, backend }) => {
  const [s0, s1] = [inputs.s0!, inputs.s1!].map((s) => Array.from(backend.readSync(s.dataId) as Int32Array));
  const shape = backend_util.assertAndGetBroadcastShape(s0!, s1!);
  const out = empty(backend.wasm, 'int32', [shape.length]);
  if (shape.length > 0) backend.wasm.write(out.buf, Int32Array.from(shape));
  return backend.output(out, 'int32');
});
