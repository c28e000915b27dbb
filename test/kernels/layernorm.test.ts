// Layer- and RMS-normalisation kernels (statistics, normalisation, input and parameter gradients) and the
// embedding lookup and its scatter-add, on every backend, table-driven through the validated entry points.
// Oracle: the ref backend in float64 on the same float32 inputs.
// Tolerances follow the kernels' arithmetic: a row sum runs in float32 lanes over blocks of at most 1024 values
// (≤ 128 additions per lane) with block totals in float64, so it is within E = 2⁻¹⁶ of Σ|terms|; a column sum
// (the weight and bias gradients) runs in float32 over blocks of 64 rows added to a float32 total, so within
// (64 + ⌈rows/64⌉ + 1)·2⁻²⁴ of Σ|terms|. A per-element result is within a few ulp of its terms, plus what the row
// statistics it uses carry (the mean's error, and the relative error of rstd through x̂).
// The wasm builds (simd, relaxed, scalar, debug, threads) give the same bits: the kernels fix the order of every
// float32 operation. Embedding: the lookup copies rows exactly, and the scatter-add is one float32 addition per
// index in the order of the indices, so it equals that sum to the bit.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { Backend, DType, TypedArray } from '../../src/backend/types.js';
import * as K from '../../src/kernels/index.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const oracle = new RefBackend();
const E = 2 ** -16;

function random(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

type Input = { data: ArrayLike<number>; shape: number[]; dtype?: DType } | null;

/** Arrays made from `inputs` on b (null stays null), passed to fn; returns the contents of what fn returns, all freed. */
function withArrays(b: Backend, dtype: DType, inputs: Input[], fn: (xs: (K.NDArray | null)[]) => (K.NDArray | null)[]):
  (TypedArray | null)[] {
  const xs = inputs.map((v) => {
    if (!v) return null;
    const x = K.empty(b, v.dtype ?? dtype, v.shape);
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

/** Bitwise equality of float32 arrays (so −0 ≠ +0; NaN payloads count). */
function sameBits(a: TypedArray | null, e: TypedArray | null): boolean {
  if (a === null || e === null) return a === e;
  const ai = new Int32Array(Float32Array.from(a).buffer), ei = new Int32Array(Float32Array.from(e).buffer);
  return ai.length === ei.length && ai.every((v, i) => v === ei[i]);
}

// [rows, n] with the normalised shape [n] (or two dims): rows of 0, 1, fewer or more than a SIMD vector, not a
// multiple of 4 or 8, past the 1024-value block; row counts past the 64-row column block; an offset mean
// (cancellation in the variance); an empty normalised shape and an empty batch.
const SHAPES: { rows: number[]; norm: number[]; offset: number }[] = [
  { rows: [2], norm: [1], offset: 0 }, { rows: [3], norm: [3], offset: 0 }, { rows: [5], norm: [5], offset: 0 },
  { rows: [2, 3], norm: [7], offset: 0 }, { rows: [4], norm: [8], offset: 0 }, { rows: [3], norm: [9], offset: 0 },
  { rows: [1], norm: [17], offset: 0 }, { rows: [70], norm: [64], offset: 0 }, { rows: [6, 11], norm: [127], offset: 0 },
  { rows: [3], norm: [4, 75], offset: 0 }, { rows: [2], norm: [1100], offset: 0 }, { rows: [3], norm: [2100], offset: 0 },
  { rows: [130], norm: [33], offset: 0 }, { rows: [5], norm: [40], offset: 100 }, { rows: [0], norm: [6], offset: 0 },
  { rows: [3], norm: [0], offset: 0 }, { rows: [], norm: [13], offset: 0 },
];

interface Row { mean: number; variance: number; absSum: number }

/** Exact (float64) statistics of each row of x [rows, n] (the mean 0 for rms), and Σ|x|. */
function rowStats(x: Float32Array, rows: number, n: number, rms: boolean): Row[] {
  return Array.from({ length: rows }, (_, i) => {
    const v = Array.from(x.subarray(i * n, (i + 1) * n));
    const mean = rms ? 0 : v.reduce((a, b) => a + b, 0) / n;
    return { mean, variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / n, absSum: v.reduce((a, b) => a + Math.abs(b), 0) };
  });
}

describe.each([false, true])('layerNorm kernels (rms %s)', (rms) => {
  const eps = 1e-5;
  const cases = SHAPES.map(({ rows: lead, norm, offset }, s) => {
    const rows = lead.reduce((a, b) => a * b, 1), n = norm.reduce((a, b) => a * b, 1);
    const shape = [...lead, ...norm];
    const x = random(rows * n, 10 + s, offset - 2, offset + 2);
    const dy = random(x.length, 20 + s, -1, 1);
    const weight = random(n, 30 + s, 0.5, 1.5), bias = random(n, 40 + s, -1, 1);
    const inputs: Input[] = [{ data: x, shape }, { data: weight, shape: norm }, { data: bias, shape: norm }, { data: dy, shape }];
    const run = (b: Backend, dtype: DType, affine: boolean) => withArrays(b, dtype, inputs, ([a, w, bb, g]) => {
      const settings = { eps, rms };
      const { out, mean, rstd } = K.layerNorm(a!, norm, affine ? w : null, affine && !rms ? bb : null, settings);
      const { dx, dweight, dbias } = K.layerNormGrad(a!, g!, mean, rstd, affine ? w : null, norm, settings,
        { x: true, weight: true, bias: true });
      return [out, mean, rstd, dx, dweight, dbias];
    });
    const want = [true, false].map((affine) => run(oracle, 'float64', affine));
    return { name: `${JSON.stringify(shape)}${offset ? ` offset ${offset}` : ''}`, lead, norm, rows, n, x, dy, weight, bias, run, want };
  });

  it.each(backends)('$label: statistics, output, gradients', ({ backend }) => {
    const dtypes: DType[] = backend.name === 'ref' ? ['float32', 'float64'] : ['float32'];
    for (const dtype of dtypes) {
      for (const { name, rows, n, x, dy, weight, bias, run, want } of cases) {
        for (const affine of [true, false]) {
          const what = `${name} ${dtype} affine ${affine}`;
          const got = run(backend, dtype, affine);
          const [out, mean, rstd, dx, dweight, dbias] = want[affine ? 0 : 1]!;
          const stats = rowStats(x, rows, n, rms);
          const w = (j: number) => (affine ? weight[j]! : 1);
          const b = (j: number) => (affine && !rms ? bias[j]! : 0);
          // the statistics: the mean's error from its sum; the variance's from its sum and from the mean it is
          // centred on; rstd's relative error half the variance's, plus its own rounding
          const meanTol = (i: number) => (rms ? 0 : E * stats[i]!.absSum / n + 2 ** -24 * Math.abs(stats[i]!.mean));
          const varTol = (i: number) => E * stats[i]!.variance + meanTol(i) ** 2;
          const r = (i: number) => 1 / Math.sqrt(stats[i]!.variance + eps);
          const relR = (i: number) => varTol(i) / (2 * (stats[i]!.variance + eps)) + 2 ** -23;
          const xhat = (k: number) => (x[k]! - stats[Math.floor(k / n)]!.mean) * r(Math.floor(k / n));
          const xhatTol = (k: number) => {
            const i = Math.floor(k / n);
            return r(i) * meanTol(i) + Math.abs(xhat(k)) * (relR(i) + 2 ** -23);
          };
          expect(got[1] === null, `${what}: a mean only for layer norm`).toBe(rms);
          if (!rms && n > 0) expect(mismatch(got[1]!, mean!, meanTol), `${what} mean`).toBeNull();
          if (n > 0) expect(mismatch(got[2]!, rstd!, (i) => r(i) * relR(i)), `${what} rstd`).toBeNull();
          expect(mismatch(got[0]!, out!, (k) => Math.abs(w(k % n)) * xhatTol(k) +
            2 ** -22 * (Math.abs(xhat(k) * w(k % n)) + Math.abs(b(k % n)))), `${what} out`).toBeNull();
          // dx = (g − a − x̂·c)·rstd per row, with g = dy·w, a = Σg/n (layer norm only) and c = Σg·x̂/n
          const sums = Array.from({ length: rows }, (_, i) => {
            let absG = 0, absGx = 0, gXhatTol = 0, c = 0;
            for (let k = i * n; k < (i + 1) * n; k++) {
              const g = dy[k]! * w(k % n);
              absG += Math.abs(g);
              absGx += Math.abs(g * xhat(k));
              gXhatTol += Math.abs(g) * xhatTol(k);
              c += g * xhat(k) / n;
            }
            return { a: rms ? 0 : absG / n, c, cTol: E * absGx / n + gXhatTol / n };
          });
          const dxTol = (k: number) => {
            const i = Math.floor(k / n);
            const { a, c, cTol } = sums[i]!;
            const terms = Math.abs(dy[k]! * w(k % n)) + a + Math.abs(xhat(k) * c);
            return r(i) * (2 ** -21 * terms + E * a + Math.abs(c) * xhatTol(k) + Math.abs(xhat(k)) * cTol) +
              Math.abs(dx![k]!) * relR(i);
          };
          expect(mismatch(got[3]!, dx!, dxTol), `${what} dx`).toBeNull();
          // column sums over the rows
          const colE = (64 + Math.ceil(rows / 64) + 1) * 2 ** -24;
          const columns = { dyXhat: new Float64Array(n), dyXhatTol: new Float64Array(n), dy: new Float64Array(n) };
          for (let k = 0; k < rows * n; k++) {
            columns.dyXhat[k % n] += Math.abs(dy[k]! * xhat(k));
            columns.dyXhatTol[k % n] += Math.abs(dy[k]!) * xhatTol(k);
            columns.dy[k % n] += Math.abs(dy[k]!);
          }
          expect(mismatch(got[4]!, dweight!, (j) => colE * columns.dyXhat[j]! + columns.dyXhatTol[j]!), `${what} dweight`).toBeNull();
          expect(mismatch(got[5]!, dbias!, (j) => colE * columns.dy[j]!), `${what} dbias`).toBeNull();
        }
      }
    }
  });

  it('gives the same bits on every wasm build', () => {
    const wasm = backends.filter((b) => b.backend.name === 'wasm');
    for (const { name, run } of cases) {
      for (const affine of [true, false]) {
        const first = run(wasm[0]!.backend, 'float32', affine);
        for (const { label, backend } of wasm.slice(1)) {
          const got = run(backend, 'float32', affine);
          got.forEach((a, t) => expect(sameBits(a, first[t]!), `${name} affine ${affine}: output ${t} on ${label} vs ${wasm[0]!.label}`).toBe(true));
        }
      }
    }
  });
});

describe('layerNorm kernel layer', () => {
  it.each(backends)('$label: only the gradients asked for; bad shapes are refused', ({ backend }) => {
    const before = backend.memory().buffers;
    const settings = { eps: 1e-5, rms: false };
    const [dx, dw, db] = withArrays(backend, 'float32', [{ data: [1, 2, 3, 4, 5, 6], shape: [2, 3] }, { data: [1, 1, 1, 1, 1, 1], shape: [2, 3] }],
      ([x, g]) => {
        const r = K.layerNorm(x!, [3], null, null, settings);
        const grads = K.layerNormGrad(x!, g!, r.mean, r.rstd, null, [3], settings, { x: false, weight: true, bias: true });
        K.free(r.out);
        K.free(r.mean!);
        K.free(r.rstd);
        return [grads.dx, grads.dweight, grads.dbias];
      });
    expect(dx).toBeNull();
    expect(Array.from(db!)).toEqual([2, 2, 2]);
    expect(dw![1]).toBe(0); // the middle column is each row's mean
    const refuse = (inputs: Input[], norm: number[], message: string, eps = 1e-5) =>
      expect(() => withArrays(backend, 'float32', inputs, ([x, w]) => [K.layerNorm(x!, norm, w ?? null, null, { eps, rms: false }).out]))
        .toThrow(message);
    const x23 = { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] };
    refuse([x23], [2], 'layerNorm: input [2,3] does not end in normalizedShape [2] (expected an input [*,2])');
    refuse([x23], [2, 3, 1], 'layerNorm: input [2,3] does not end in normalizedShape [2,3,1] (expected an input [*,2,3,1])');
    refuse([x23], [], 'layerNorm: normalizedShape must be a non-empty list of sizes, got []');
    refuse([x23, { data: [1, 1], shape: [2] }], [3], 'layerNorm: weight must have normalizedShape [3], got [2]');
    refuse([x23], [3], 'layerNorm: eps must be a number > 0, got 0', 0);
    expect(backend.memory().buffers).toBe(before);
  });
});

describe('embedding kernels', () => {
  // [num, dim] tables with indices of several shapes: dims not multiples of 4, one row, no indices, empty rows, a
  // large table
  const TABLES: { num: number; dim: number; indices: number[] }[] = [
    { num: 1, dim: 1, indices: [1] }, { num: 5, dim: 3, indices: [2, 3] }, { num: 11, dim: 6, indices: [2, 4] },
    { num: 7, dim: 17, indices: [3, 2, 5] }, { num: 65, dim: 128, indices: [8, 64] }, { num: 3, dim: 300, indices: [40] },
    { num: 4, dim: 5, indices: [0] }, { num: 2, dim: 0, indices: [3] }, { num: 3000, dim: 257, indices: [4, 700] },
  ];

  it.each(backends)('$label: rows copied exactly; repeated indices add in the order of the indices; paddingIdx left 0', ({ backend }) => {
    const before = backend.memory().buffers;
    for (const [t, { num, dim, indices }] of TABLES.entries()) {
      const count = indices.reduce((a, b) => a * b, 1);
      const weight = random(num * dim, 50 + t, -2, 2), dy = random(count * dim, 60 + t, -1, 1);
      const rand = mulberry32(70 + t);
      const idx = Int32Array.from({ length: count }, () => Math.floor(rand() * num)); // many repeats
      for (const paddingIdx of [null, num - 1]) {
        const [out, dw] = withArrays(backend, 'float32', [{ data: weight, shape: [num, dim] }, { data: idx, shape: indices, dtype: 'int32' },
          { data: dy, shape: [...indices, dim] }], ([w, i, g]) => [K.embedding(w!, i!), K.embeddingGrad(g!, i!, [num, dim], paddingIdx)]);
        const wantOut = Float32Array.from({ length: count * dim }, (_, k) => weight[idx[Math.floor(k / dim)]! * dim + (k % dim)]!);
        const wantDw = new Float32Array(num * dim);
        idx.forEach((row, p) => {
          for (let j = 0; j < dim; j++) wantDw[row * dim + j] = Math.fround(wantDw[row * dim + j]! + dy[p * dim + j]!);
        });
        if (paddingIdx !== null) wantDw.fill(0, paddingIdx * dim, (paddingIdx + 1) * dim);
        const what = `[${num},${dim}] indices ${JSON.stringify(indices)} paddingIdx ${paddingIdx}`;
        expect(sameBits(out!, wantOut), `${what}: lookup`).toBe(true);
        expect(sameBits(dw!, wantDw), `${what}: gradient`).toBe(true);
      }
    }
    expect(backend.memory().buffers).toBe(before);
  });

  it.each(backends)('$label: an index out of range or of the wrong dtype is refused, naming it', ({ backend }) => {
    const before = backend.memory().buffers;
    const lookup = (indices: number[], shape: number[], dtype: DType = 'int32') => () =>
      withArrays(backend, 'float32', [{ data: random(12, 1, -1, 1), shape: [4, 3] }, { data: indices, shape, dtype }],
        ([w, i]) => [K.embedding(w!, i!)]);
    expect(lookup([0, 1, 2, 4], [2, 2])).toThrow('embedding: index 4 at indices[1,1] is out of range for weight [4,3]: indices must be in [0, 4)');
    expect(lookup([0, -1], [2])).toThrow('embedding: index -1 at indices[1] is out of range for weight [4,3]: indices must be in [0, 4)');
    expect(lookup([1, 2], [2], 'float32')).toThrow('embedding: indices must be int32, got float32');
    expect(() => withArrays(backend, 'float32', [{ data: [1, 2], shape: [2] }, { data: [0], shape: [1], dtype: 'int32' }],
      ([w, i]) => [K.embedding(w!, i!)])).toThrow('embedding: weight must be a 2-D [numEmbeddings, embeddingDim] table, got [2]');
    expect(backend.memory().buffers).toBe(before);
  });
});
