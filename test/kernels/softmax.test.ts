// softmax / log-softmax (+ backward) over the middle axis of [outer, r, inner], and the fused softmax
// cross-entropy (+ backward), on every backend, table-driven. Oracle: the ref backend in float64 on the same
// float32 inputs. Tolerances (float32 kernels): |got − want| ≤ rtol·|want| + atol with
//   softmax:      rtol 2^-24·(|x − max| + 8): x − max is rounded to float32 before the exponential, whose relative
//                 error is then up to |x − max|·2^-24, plus ≤ 1 ulp for exp, the float32 sum and the scaling;
//                 atol 1e-37 for results that underflow (the float64 oracle keeps subnormals);
//   log-softmax:  atol 2^-22·(|x − max| + |log Σ| + 1) (a difference of rounded terms), rtol 0;
//   backward:     atol 2^-21·(scale of the terms: |y|·(|dy| + |Σ|), or |dy| + e^y·|Σ|), rtol 2^-22;
//   cross-entropy loss: atol 2^-21·(log Σ + |x_label − max| + 1); probs as softmax; its backward rtol 2^-22 plus
//                 atol 2^-23·|g|.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';
import { withBufs } from '../helpers/bufs.js';

const backends = await loadBackends();
const oracle = new RefBackend();

function random(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** First i with |a − e| > tol(i) (NaN matches NaN, infinities must be equal), or null. */
function mismatch(a: ArrayLike<number>, e: ArrayLike<number>, tol: (i: number) => number): string | null {
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    const ok = Number.isNaN(y) || Number.isNaN(x) ? Number.isNaN(x) && Number.isNaN(y)
      : !Number.isFinite(y) || !Number.isFinite(x) ? x === y : Math.abs(x - y) <= tol(i);
    if (!ok) return `element ${i}: got ${x}, expected ${y} (tolerance ${tol(i)})`;
  }
  return null;
}

/** max over j and log Σ exp(x − max) per (o, i), for the tolerances. */
function rowStats(x: Float32Array, outer: number, r: number, inner: number): { m: Float64Array; lse: Float64Array } {
  const m = new Float64Array(outer * inner).fill(-Infinity);
  const lse = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      for (let j = 0; j < r; j++) m[o * inner + i] = Math.max(m[o * inner + i]!, x[(o * r + j) * inner + i]!);
      let s = 0;
      for (let j = 0; j < r; j++) s += Math.exp(x[(o * r + j) * inner + i]! - m[o * inner + i]!);
      lse[o * inner + i] = Math.log(s);
    }
  }
  return { m, lse };
}

const E24 = 2 ** -24;
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 5, 1], [17, 64, 1], [2, 127, 1], [1, 300, 1], [1, 100003, 1], [64, 10, 1], [5, 17, 1],
  [4, 10, 3], [2, 17, 8], [3, 5, 64], [1, 3, 17], [2, 64, 5], [1, 1, 9],
];
const RANGES: [number, number][] = [[-3, 3], [-60, 40]];

describe.each([false, true])('softmax (log %s)', (log) => {
  const cases = SHAPES.flatMap(([outer, r, inner], s) => RANGES.map(([lo, hi], k) => {
    const x = random(outer * r * inner, 1000 + 7 * s + k, lo, hi);
    const want = withBufs(oracle, [{ dtype: 'float64', data: x }, { dtype: 'float64', size: x.length }],
      ([bx, bo]) => oracle.softmax(bx!, bo!, outer, r, inner, log))[1]!;
    const { m, lse } = rowStats(x, outer, r, inner);
    const at = (idx: number) => Math.floor(idx / (r * inner)) * inner + (idx % inner);
    const tol = log
      ? (idx: number) => 2 ** -22 * (Math.abs(x[idx]! - m[at(idx)]!) + Math.abs(lse[at(idx)]!) + 1)
      : (idx: number) => E24 * (Math.abs(x[idx]! - m[at(idx)]!) + 8) * Math.abs(want[idx]!) + 1e-37;
    return { outer, r, inner, x, want, tol };
  }));
  it.each(backends)('$label', ({ backend }) => {
    for (const { outer, r, inner, x, want, tol } of cases) {
      const [, got] = withBufs(backend, [{ dtype: 'float32', data: x }, { dtype: 'float32', size: x.length }],
        ([bx, bo]) => backend.softmax(bx!, bo!, outer, r, inner, log));
      expect(mismatch(got!, want, tol), `[${outer},${r},${inner}]`).toBeNull();
      const [inPlace] = withBufs(backend, [{ dtype: 'float32', data: x }], ([bx]) => backend.softmax(bx!, bx!, outer, r, inner, log));
      expect(mismatch(inPlace!, got!, () => 0), `in place [${outer},${r},${inner}]`).toBeNull();
    }
  });
});

describe.each([false, true])('softmaxGrad (log %s)', (log) => {
  const cases = SHAPES.map(([outer, r, inner], s) => {
    const x = random(outer * r * inner, 2000 + s, -3, 3);
    const dy = random(outer * r * inner, 3000 + s, -2, 2);
    // y from the float64 oracle, rounded to float32: the same saved output for every backend
    const y = Float32Array.from(withBufs(oracle, [{ dtype: 'float64', data: x }, { dtype: 'float64', size: x.length }],
      ([bx, bo]) => oracle.softmax(bx!, bo!, outer, r, inner, log))[1]!);
    const want = withBufs(oracle, [{ dtype: 'float64', data: y }, { dtype: 'float64', data: dy }, { dtype: 'float64', size: x.length }],
      ([by, bdy, bdx]) => oracle.softmaxGrad(by!, bdy!, bdx!, outer, r, inner, log))[2]!;
    // Σ_j (dy·y or dy), for the scale of the terms
    const sums = new Float64Array(outer * inner);
    for (let k = 0; k < x.length; k++) {
      const at = Math.floor(k / (r * inner)) * inner + (k % inner);
      sums[at] += log ? Math.abs(dy[k]!) : Math.abs(dy[k]! * y[k]!);
    }
    const tol = (k: number) => {
      const s = sums[Math.floor(k / (r * inner)) * inner + (k % inner)]!;
      const scale = log ? Math.abs(dy[k]!) + Math.exp(y[k]!) * s : Math.abs(y[k]!) * (Math.abs(dy[k]!) + s);
      return 2 ** -21 * scale + 2 ** -22 * Math.abs(want[k]!);
    };
    return { outer, r, inner, y, dy, want, tol };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { outer, r, inner, y, dy, want, tol } of cases) {
      const [, , got] = withBufs(backend, [{ dtype: 'float32', data: y }, { dtype: 'float32', data: dy }, { dtype: 'float32', size: y.length }],
        ([by, bdy, bdx]) => backend.softmaxGrad(by!, bdy!, bdx!, outer, r, inner, log));
      expect(mismatch(got!, want, tol), `[${outer},${r},${inner}]`).toBeNull();
    }
  });
});

describe('softmax special values', () => {
  it.each(backends)('$label', ({ backend }) => {
    for (const log of [false, true]) {
      for (const [r, inner] of [[9, 1], [20, 1], [5, 4]]) {
        const n = r * inner;
        const rows: number[][] = [
          Array.from({ length: n }, (_, k) => (k === 3 ? NaN : k)), // a NaN anywhere: all NaN
          new Array(n).fill(-Infinity), // all −∞: NaN (−∞ − (−∞))
          Array.from({ length: n }, (_, k) => (k === 1 ? Infinity : 0)), // +∞: NaN
          Array.from({ length: n }, (_, k) => (k === 2 ? 0 : -Infinity)), // one finite: 1 there, 0 elsewhere
          Array.from({ length: n }, () => 1e30), // huge equal logits: uniform
        ];
        for (const x of rows) {
          const want = withBufs(oracle, [{ dtype: 'float64', data: x }, { dtype: 'float64', size: n }],
            ([bx, bo]) => oracle.softmax(bx!, bo!, 1, r, inner, log))[1]!;
          const [, got] = withBufs(backend, [{ dtype: 'float32', data: x }, { dtype: 'float32', size: n }],
            ([bx, bo]) => backend.softmax(bx!, bo!, 1, r, inner, log));
          expect(mismatch(got!, Float32Array.from(want), (i) => 1e-6 * (Math.abs(want[i]!) + (log ? 1 : 0))), `log ${log} [${r},${inner}] ${x.slice(0, 4)}`).toBeNull();
        }
      }
    }
  });
});

// ---- cross-entropy ---------------------------------------------------------------------------------------------

const CE_SHAPES: [number, number][] = [[1, 1], [1, 3], [3, 5], [17, 10], [64, 10], [5, 17], [2, 127], [4, 300], [2, 1000], [1, 100003], [33, 64]];

describe.each([0, 0.1])('crossEntropy (smoothing %s)', (smoothing) => {
  const cases = CE_SHAPES.map(([n, c], s) => {
    const logits = random(n * c, 4000 + s, -8, 8);
    const rand = mulberry32(5000 + s);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * c));
    const [, , wantLoss, wantProbs] = withBufs(oracle,
      [{ dtype: 'float64', data: logits }, { dtype: 'int32', data: labels }, { dtype: 'float64', size: n }, { dtype: 'float64', size: n * c }],
      ([bl, by, bloss, bp]) => oracle.crossEntropy(bl!, by!, bloss!, bp!, n, c, smoothing, -100));
    const { m, lse } = rowStats(logits, n, c, 1);
    const lossTol = (i: number) => 2 ** -21 * (Math.abs(lse[i]!) + Math.abs(logits[i * c + labels[i]!]! - m[i]!) + 1) *
      (smoothing ? 4 : 1);
    const probTol = (k: number) => E24 * (Math.abs(logits[k]! - m[Math.floor(k / c)]!) + 8) * Math.abs(wantProbs![k]!) + 1e-37;
    return { n, c, logits, labels, wantLoss: wantLoss!, wantProbs: wantProbs!, lossTol, probTol };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, c, logits, labels, wantLoss, wantProbs, lossTol, probTol } of cases) {
      const [, , loss, probs] = withBufs(backend,
        [{ dtype: 'float32', data: logits }, { dtype: 'int32', data: labels }, { dtype: 'float32', size: n }, { dtype: 'float32', size: n * c }],
        ([bl, by, bloss, bp]) => backend.crossEntropy(bl!, by!, bloss!, bp!, n, c, smoothing, -100));
      expect(mismatch(loss!, wantLoss, lossTol), `loss [${n},${c}]`).toBeNull();
      expect(mismatch(probs!, wantProbs, probTol), `probs [${n},${c}]`).toBeNull();
    }
  });
});

describe.each([0, 0.2])('crossEntropyGrad (smoothing %s)', (smoothing) => {
  const cases = CE_SHAPES.flatMap(([n, c], s) => [0, 1].map((dlossStride) => {
    const logits = random(n * c, 6000 + s, -8, 8);
    const rand = mulberry32(7000 + s);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * c));
    const probs = Float32Array.from(withBufs(oracle,
      [{ dtype: 'float64', data: logits }, { dtype: 'int32', data: labels }, { dtype: 'float64', size: n }, { dtype: 'float64', size: n * c }],
      ([bl, by, bloss, bp]) => oracle.crossEntropy(bl!, by!, bloss!, bp!, n, c, smoothing, -100))[3]!);
    const dloss = dlossStride ? random(n, 8000 + s, -2, 2) : Float32Array.of(0.75);
    const scale = 1 / n;
    const want = withBufs(oracle,
      [{ dtype: 'float64', data: probs }, { dtype: 'int32', data: labels }, { dtype: 'float64', data: dloss }, { dtype: 'float64', size: n * c }],
      ([bp, by, bd, bdx]) => oracle.crossEntropyGrad(bp!, by!, bd!, dlossStride, scale, bdx!, n, c, smoothing, -100))[3]!;
    const tol = (k: number) => 2 ** -22 * Math.abs(want[k]!) + 2 ** -23 * Math.abs(dloss[Math.floor(k / c) * dlossStride]! * scale);
    return { n, c, probs, labels, dloss, dlossStride, scale, want, tol };
  }));
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, c, probs, labels, dloss, dlossStride, scale, want, tol } of cases) {
      const [, , , got] = withBufs(backend,
        [{ dtype: 'float32', data: probs }, { dtype: 'int32', data: labels }, { dtype: 'float32', data: dloss }, { dtype: 'float32', size: n * c }],
        ([bp, by, bd, bdx]) => backend.crossEntropyGrad(bp!, by!, bd!, dlossStride, scale, bdx!, n, c, smoothing, -100));
      expect(mismatch(got!, want, tol), `[${n},${c}] stride ${dlossStride}`).toBeNull();
    }
  });
});

describe('cross-entropy known values', () => {
  it.each(backends)('$label', ({ backend }) => {
    // logits [0, 0, 0, 0]: loss log 4 whatever the label or smoothing; logits [2, 1, 0.1] label 0: 0.4170300162778375
    const run = (x: number[], label: number, s: number) => withBufs(backend,
      [{ dtype: 'float32', data: x }, { dtype: 'int32', data: [label] }, { dtype: 'float32', size: 1 }, { dtype: 'float32', size: x.length }],
      ([bl, by, bloss, bp]) => backend.crossEntropy(bl!, by!, bloss!, bp!, 1, x.length, s, -100));
    expect(run([0, 0, 0, 0], 2, 0)[2]![0]).toBeCloseTo(Math.log(4), 6);
    expect(run([0, 0, 0, 0], 1, 0.3)[2]![0]).toBeCloseTo(Math.log(4), 6);
    expect(run([2, 1, 0.1], 0, 0)[2]![0]).toBeCloseTo(0.4170300162778375, 6);
    // huge logits stay finite (stable log-sum-exp)
    const big = run([1000, -1000, 0], 1, 0);
    expect(big[2]![0]).toBeCloseTo(2000, 3);
    expect(Array.from(big[3]!)).toEqual([1, 0, 0]);
  });
});
