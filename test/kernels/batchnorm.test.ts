// Batch-normalisation kernels (statistics with the running update, normalisation, backward) on every backend,
// table-driven, through the validated entry points. Oracle: the ref backend in float64 on the same float32 inputs.
// Tolerances follow the kernels' arithmetic: sums run in float32 lanes over blocks of at most 1024 values of a row
// (≤ 128 additions per lane) with block totals in float64, so a sum is within 2⁻¹⁶·Σ|terms| (≈ 256 ulp of the
// terms' scale); a per-element result (x·α + β, the input gradient) within a few ulp of the scale of its terms
// plus what the per-channel sums it uses carry.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { Backend, DType, TypedArray } from '../../src/backend/types.js';
import * as K from '../../src/kernels/index.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const oracle = new RefBackend();

function random(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** Arrays made from `inputs` on b (null stays null), passed to fn; returns the contents of what fn returns, all freed. */
function withArrays(b: Backend, dtype: DType, inputs: ({ data: ArrayLike<number>; shape: number[] } | null)[],
  fn: (xs: (K.NDArray | null)[]) => (K.NDArray | null)[]): (TypedArray | null)[] {
  const xs = inputs.map((v) => {
    if (!v) return null;
    const x = K.empty(b, dtype, v.shape);
    b.write(x.buf, v.data);
    return x;
  });
  try {
    const outs = fn(xs);
    const values = outs.map((o) => (o ? b.read(o.buf) : null));
    for (const o of outs) if (o) K.free(o);
    return values;
  } finally {
    for (const x of xs) if (x) K.free(x);
  }
}

function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): string | null {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol(i))) return `element ${i}: got ${got[i]}, expected ${want[i]} (tolerance ${tol(i)})`;
  }
  return null;
}

// [N, C, L…]: [N, C] (rows of one value), odd channel counts, batch 1, rows past the 1024-value block, an offset
// mean (cancellation in the variance), a LeNet-sized call.
const SHAPES: { shape: number[]; offset: number }[] = [
  { shape: [2, 3], offset: 0 }, { shape: [8, 6], offset: 0 }, { shape: [64, 17], offset: 0 }, { shape: [4, 3, 5, 5], offset: 0 },
  { shape: [1, 5, 17], offset: 0 }, { shape: [3, 7, 5], offset: 0 }, { shape: [2, 4, 8, 8], offset: 0 }, { shape: [2, 3, 300], offset: 0 },
  { shape: [1, 2, 1100], offset: 0 }, { shape: [3, 3, 33, 35], offset: 0 }, { shape: [5, 3, 4], offset: 100 },
  { shape: [16, 16, 14, 14], offset: 0 },
];

interface Channel { mean: number; variance: number; absSum: number; count: number }

/** Exact (float64) per-channel statistics of x [n, c, l], and Σ|x| for the tolerances. */
function channels(x: Float32Array, shape: number[]): Channel[] {
  const [n, c] = shape as [number, number];
  const l = shape.slice(2).reduce((a, b) => a * b, 1);
  return Array.from({ length: c }, (_, ch) => {
    const vals: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) vals.push(x[(i * c + ch) * l + j]!);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
    return { mean, variance, absSum: vals.reduce((a, b) => a + Math.abs(b), 0), count: vals.length };
  });
}

const channelOf = (shape: number[], k: number) => Math.floor(k / shape.slice(2).reduce((a, b) => a * b, 1)) % shape[1]!;

describe.each([true, false])('batchNorm (training %s)', (training) => {
  const eps = 1e-5, momentum = 0.1;
  const cases = SHAPES.map(({ shape, offset }, s) => {
    const c = shape[1]!;
    const x = random(shape.reduce((a, b) => a * b, 1), 10 + s, offset - 2, offset + 2);
    const dy = random(x.length, 20 + s, -1, 1);
    const weight = random(c, 30 + s, 0.5, 1.5), bias = random(c, 40 + s, -1, 1);
    const runningMean = random(c, 50 + s, -1, 1), runningVar = random(c, 60 + s, 0.5, 2);
    const inputs = [{ data: x, shape }, { data: weight, shape: [c] }, { data: bias, shape: [c] },
      { data: runningMean, shape: [c] }, { data: runningVar, shape: [c] }];
    const run = (b: Backend, dtype: DType, affine: boolean) => withArrays(b, dtype, [...inputs, { data: dy, shape }], ([a, w, bb, rm, rv, g]) => {
      const { out, mean, variance } = K.batchNorm(a!, { weight: affine ? w : null, bias: affine ? bb : null, runningMean: rm, runningVar: rv },
        { training, momentum, eps });
      const { dx, dweight, dbias } = K.batchNormGrad(a!, g!, mean, variance, affine ? w! : null, { training, eps },
        { x: true, weight: true, bias: true });
      // the running buffers are inputs, updated in place: copy them out
      return [out, mean, variance, dx, dweight, dbias, K.scale(rm!, 1), K.scale(rv!, 1)];
    });
    const stats = channels(x, shape);
    return { shape, x, dy, weight, bias, runningMean, runningVar, stats, run, want: [true, false].map((affine) => run(oracle, 'float64', affine)) };
  });

  it.each(backends)('$label: statistics, running update, output, gradients', ({ backend }) => {
    const dtypes: DType[] = backend.name === 'ref' ? ['float32', 'float64'] : ['float32'];
    for (const dtype of dtypes) {
      for (const { shape, x, dy, weight, bias, runningMean, runningVar, stats, run, want } of cases) {
        for (const affine of [true, false]) {
          const what = `${JSON.stringify(shape)} ${dtype} affine ${affine}`;
          const got = run(backend, dtype, affine);
          const [out, mean, variance, dx, dweight, dbias, rm, rv] = want[affine ? 0 : 1]!;
          const E = 2 ** -16;
          // the statistics used: the batch's (training) or copies of the running ones
          const m = stats[0]!.count;
          const meanTol = (ch: number) => (training ? E * stats[ch]!.absSum / m : 0);
          const varTol = (ch: number) => (training ? E * (stats[ch]!.variance + (2 ** -20 * stats[ch]!.mean) ** 2) : 0);
          expect(mismatch(got[1]!, mean!, meanTol), `${what} mean`).toBeNull();
          expect(mismatch(got[2]!, variance!, varTol), `${what} var`).toBeNull();
          if (training) {
            expect(mismatch(got[6]!, rm!, (ch) => momentum * meanTol(ch) + 2 ** -22 * (Math.abs(runningMean[ch]!) + Math.abs(rm![ch]!))),
              `${what} runningMean`).toBeNull();
            expect(mismatch(got[7]!, rv!, (ch) => momentum * varTol(ch) * m / (m - 1) + 2 ** -22 * (runningVar[ch]! + rv![ch]!)),
              `${what} runningVar`).toBeNull();
          } else {
            expect(Array.from(got[6]!), `${what} runningMean untouched`).toEqual(Array.from(Float32Array.from(runningMean)));
          }
          // x·α + β: the scale of its terms, and what the statistics carry through α and β
          const mu = (ch: number) => (training ? stats[ch]!.mean : runningMean[ch]!);
          const invstd = (ch: number) => 1 / Math.sqrt((training ? stats[ch]!.variance : runningVar[ch]!) + eps);
          const w = (ch: number) => (affine ? weight[ch]! : 1);
          const b = (ch: number) => (affine ? bias[ch]! : 0);
          const outTol = (k: number) => {
            const ch = channelOf(shape, k);
            const alpha = Math.abs(w(ch)) * invstd(ch);
            const terms = Math.abs(x[k]!) * alpha + Math.abs(b(ch)) + Math.abs(mu(ch)) * alpha;
            const fromStats = alpha * (meanTol(ch) + Math.abs(x[k]! - mu(ch)) * invstd(ch) ** 2 * varTol(ch));
            return 2 ** -21 * terms + fromStats;
          };
          expect(mismatch(got[0]!, out!, outTol), `${what} out`).toBeNull();
          // gradients: per channel Σdy and Σ(x − mean)·dy, then dx per element
          const sums = Array.from({ length: shape[1]! }, () => ({ dy: 0, xdy: 0 }));
          for (let k = 0; k < x.length; k++) {
            const ch = channelOf(shape, k);
            sums[ch]!.dy += Math.abs(dy[k]!);
            sums[ch]!.xdy += Math.abs((x[k]! - mu(ch)) * dy[k]!) + Math.abs(mu(ch) * dy[k]!);
          }
          expect(mismatch(got[5]!, dbias!, (ch) => E * sums[ch]!.dy), `${what} dbias`).toBeNull();
          expect(mismatch(got[4]!, dweight!, (ch) => E * sums[ch]!.xdy * invstd(ch) * 2 + Math.abs(dweight![ch]!) * varTol(ch) * invstd(ch) ** 2),
            `${what} dweight`).toBeNull();
          const dxTol = (k: number) => {
            const ch = channelOf(shape, k);
            const scale = Math.abs(w(ch)) * invstd(ch);
            if (!training) return 2 ** -21 * scale * Math.abs(dy[k]!);
            const d = Math.abs(x[k]! - mu(ch));
            return E * scale * (Math.abs(dy[k]!) + sums[ch]!.dy / m + d * invstd(ch) ** 2 * sums[ch]!.xdy / m) +
              Math.abs(dx![k]!) * varTol(ch) * invstd(ch) ** 2;
          };
          expect(mismatch(got[3]!, dx!, dxTol), `${what} dx`).toBeNull();
        }
      }
    }
  });
});

describe('batchNorm kernel layer', () => {
  it.each(backends)('$label: an empty batch updates nothing and has zero parameter gradients; bad shapes are refused', ({ backend }) => {
    const before = backend.memory().buffers;
    const [out, rm, dw, db] = withArrays(backend, 'float32', [
      { data: [], shape: [0, 2, 3] }, { data: [1, 2], shape: [2] }, { data: [3, 4], shape: [2] },
      { data: [0.5, 0.5], shape: [2] }, { data: [], shape: [0, 2, 3] },
    ], ([x, rmean, rvar, w, g]) => {
      const r = K.batchNorm(x!, { runningMean: rmean, runningVar: rvar, weight: w }, { training: true, momentum: 0.1, eps: 1e-5 });
      const grads = K.batchNormGrad(x!, g!, r.mean, r.variance, w!, { training: true, eps: 1e-5 }, { x: true, weight: true, bias: true });
      K.free(r.mean);
      K.free(r.variance);
      K.free(grads.dx!);
      return [r.out, K.scale(rmean!, 1), grads.dweight, grads.dbias];
    });
    expect([out!.length, Array.from(rm!), Array.from(dw!), Array.from(db!)]).toEqual([0, [1, 2], [0, 0], [0, 0]]);
    const settings = { training: true, momentum: 0.1, eps: 1e-5 };
    expect(() => withArrays(backend, 'float32', [{ data: [1, 2, 3], shape: [1, 3] }], ([x]) => [K.batchNorm(x!, {}, settings).out]))
      .toThrow('batchNorm: expected more than 1 value per channel when training, got input [1,3]');
    expect(() => withArrays(backend, 'float32', [{ data: [1, 2], shape: [2] }], ([x]) => [K.batchNorm(x!, {}, settings).out]))
      .toThrow('batchNorm: expected an input [N,C] or [N,C,…] of rank ≥ 2, got [2]');
    expect(() => withArrays(backend, 'float32', [{ data: [1, 2, 3, 4], shape: [2, 2] }, { data: [0, 0, 0], shape: [3] }, { data: [1, 1], shape: [2] }],
      ([x, rmean, rvar]) => [K.batchNorm(x!, { runningMean: rmean, runningVar: rvar }, settings).out]))
      .toThrow('batchNorm: runningMean must have shape [2] for input [2,2] (its 2 channels), got [3]');
    expect(() => withArrays(backend, 'float32', [{ data: [1, 2, 3, 4], shape: [2, 2] }], ([x]) => [K.batchNorm(x!, {}, { ...settings, training: false }).out]))
      .toThrow('batchNorm: evaluation (training: false) normalises with runningMean and runningVar, which are missing');
    expect(backend.memory().buffers).toBe(before);
  });
});
