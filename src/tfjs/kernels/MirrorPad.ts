// MirrorPad (tf.mirrorPad): each padded axis in turn is one gather of x's positions mirrored at the borders,
// 'reflect' leaving out the border element, 'symmetric' repeating it (tfjs-backend-cpu's mapping). Any numeric dtype.
import { MirrorPad } from '@tensorflow/tfjs-core';
import { empty, gather, type NDArray } from '../../kernels/index.js';
import { share } from './Reshape.js';
import { kernel, withScratch } from './util.js';

export const mirrorPadConfig = kernel(MirrorPad, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  const paddings = attrs.paddings as [number, number][];
  const offset = attrs.mode === 'reflect' ? 0 : 1;
  const padded = paddings.map((p, axis) => axis).filter((axis) => paddings[axis]![0] > 0 || paddings[axis]![1] > 0);
  if (padded.length === 0) return share(x, x.shape, args);
  return backend.output(withScratch((tmp) => {
    let y: NDArray | null = null; // the array padded so far (ours), x before the first axis
    for (const axis of padded) {
      const [before, after] = paddings[axis]!;
      const n = x.shape[axis]!;
      const positions = Int32Array.from({ length: before + n + after }, (_, o) =>
        (o < before ? 2 * before - o - offset : o >= before + n ? 2 * (before + n - 1) - o + offset : o) - before);
      const idx = tmp(empty(backend.wasm, 'int32', [positions.length]));
      backend.wasm.write(idx.buf, positions);
      y = gather(y ? tmp(y) : backend.nd(x), idx, axis);
    }
    return y!;
  }), x.dtype);
});
