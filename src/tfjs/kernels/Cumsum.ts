// Cumsum (tf.cumsum) along one axis, forwards or reversed, inclusive or exclusive, on float32 (int32 is listed in
// src/tfjs/fallback.ts): wasmgrad's cumsum (accumulated in float64), and for exclusive sums the same shifted by one
// place along the axis into zeros.
import { Cumsum, util } from '@tensorflow/tfjs-core';
import { copyInto, cumsum, slice } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { constant, kernel, withScratch } from './util.js';

export const cumsumConfig = kernel(Cumsum, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.x!;
  if (x.dtype !== 'float32') return runOnCpu(Cumsum, args);
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const reverse = !!attrs.reverse;
  return backend.output(withScratch((tmp) => {
    const sums = cumsum(backend.nd(x), axis, reverse);
    const n = x.shape[axis]!;
    if (!attrs.exclusive || n === 0) return sums;
    tmp(sums);
    // exclusive: place i gets the inclusive sum of place i − 1 (reversed: i + 1), the first place 0
    const out = constant(backend, 0, 'float32', x.shape);
    const at = (k: number) => x.shape.map((_, i) => (i === axis ? k : 0));
    const size = x.shape.map((d, i) => (i === axis ? n - 1 : d));
    copyInto(out, tmp(slice(sums, at(reverse ? 1 : 0), size)), at(reverse ? 0 : 1));
    return out;
  }), 'float32');
});
