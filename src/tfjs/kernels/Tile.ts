// Tile (tf.tile): x [d0, d1, ...] seen as [1, d0, 1, d1, ...] and broadcast to [r0, d0, r1, d1, ...] in one copy,
// which is the tiled array [r0·d0, r1·d1, ...] in memory order. Any numeric dtype; strings are listed in
// src/tfjs/fallback.ts.
import { Tile } from '@tensorflow/tfjs-core';
import { broadcastTo } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { anyString, kernel, view } from './util.js';

export const tileConfig = kernel(Tile, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (anyString(inputs)) return runOnCpu(Tile, args);
  const reps = attrs.reps as number[];
  if (reps.length !== x.shape.length) {
    throw new Error(`Tile: reps [${reps.join(',')}] must have one count per axis of x [${x.shape.join(',')}]`);
  }
  const interleaved = x.shape.flatMap((d, i) => [reps[i]!, d]);
  const tiled = broadcastTo(view(backend.nd(x), x.shape.flatMap((d) => [1, d])), interleaved);
  return backend.output(view(tiled, x.shape.map((d, i) => d * reps[i]!)), x.dtype);
});
