// reduce (sum / mean / max + argmax over the middle axis of [outer, r, inner]) on every backend, table-driven.
// Oracle: the ref backend in float64 on the same float32 inputs, rounded to float32.
// Tolerances: max and argmax exact (first occurrence, NaN wins, the sign of zero of the first maximum kept);
// sum / mean within 2^-17·Σ|x| + 1 ulp: the wasm kernels add in float32 lanes, at most 64 additions per lane before
// a block total is carried on (in f64 for rows, in a second f32 accumulator for columns), so the rounding error is
// bounded by ~70·2^-24·Σ|x| whatever r is; the float64 ref rounds once (exact against the oracle).
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { Backend, DType, ReduceOp, TypedArray } from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';
import { withBufs } from '../helpers/bufs.js';

const backends = await loadBackends();
const oracle = new RefBackend();

function random(n: number, seed: number, gen: (r: () => number) => number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => gen(r));
}

/** Runs reduce on a backend: [out, argmax]. */
function run(b: Backend, dtype: DType, op: ReduceOp, x: Float32Array, outer: number, r: number, inner: number,
  withArgmax: boolean): [TypedArray, TypedArray | null] {
  const specs = [{ dtype, data: x }, { dtype, size: outer * inner }];
  if (withArgmax) specs.push({ dtype: 'int32', size: outer * inner });
  const res = withBufs(b, specs, ([bx, bo, ba]) => b.reduce(op, bx!, bo!, outer, r, inner, ba ?? null));
  return [res[1]!, withArgmax ? res[2]! : null];
}

// [outer, r, inner]: contiguous rows (inner = 1, SIMD over j), columns (inner ≥ 4, SIMD over i: the bias
// gradient), odd inner sizes (scalar columns), long axes past the block sizes.
const SHAPES: [number, number, number][] = [
  ...[1, 3, 5, 17, 64, 127, 300, 100003].map((r): [number, number, number] => [1, r, 1]),
  [7, 17, 1], [300, 5, 1], [64, 127, 1], [3, 5, 17], [2, 300, 64], [1, 127, 3], [4, 64, 5], [1, 1000, 16],
  [1, 3, 100003], [2, 5000, 20], [1, 64, 4], [5, 1, 7],
];

interface Row { op: ReduceOp; argmax: boolean; gen: (r: () => number) => number }
const ROWS: Row[] = [
  { op: 'sum', argmax: false, gen: (r) => 6 * r() - 3 },
  { op: 'mean', argmax: false, gen: (r) => 6 * r() - 3 },
  { op: 'sum', argmax: false, gen: (r) => 1 + r() }, // all positive: no cancellation, tight relative check
  { op: 'max', argmax: true, gen: (r) => Math.floor(7 * r()) - 3 }, // many ties: the first must win
  { op: 'max', argmax: false, gen: (r) => 6 * r() - 3 },
];

describe.each(ROWS.map((row, k) => ({ ...row, k })))('reduce $op (argmax $argmax, row $k)', (row) => {
  const cases = SHAPES.map(([outer, r, inner], s) => {
    const x = random(outer * r * inner, 17 + 31 * s + row.k, row.gen);
    const [want, wantArg] = run(oracle, 'float64', row.op, x, outer, r, inner, row.argmax);
    const [absSum] = run(oracle, 'float64', 'sum', x.map(Math.abs), outer, r, inner, false);
    return { outer, r, inner, x, want: Float32Array.from(want), wantArg, absSum };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { outer, r, inner, x, want, wantArg, absSum } of cases) {
      const [got, arg] = run(backend, 'float32', row.op, x, outer, r, inner, row.argmax);
      const what = `${row.op} [${outer},${r},${inner}]`;
      let bad: string | null = null;
      for (let i = 0; i < want.length && bad === null; i++) {
        const ok = row.op === 'max'
          ? Object.is(got[i], want[i])
          : Math.abs(got[i]! - want[i]!) <= 2 ** -17 * absSum[i]! / (row.op === 'mean' ? r : 1) + 2 ** -23 * Math.abs(want[i]!);
        if (!ok) bad = `out[${i}] = ${got[i]}, expected ${want[i]}`;
      }
      expect(bad, what).toBeNull();
      if (wantArg) expect(Array.from(arg!), `${what} argmax`).toEqual(Array.from(wantArg));
    }
  });
});

describe('reduce special values', () => {
  it.each(backends)('$label', ({ backend }) => {
    const max = (x: number[], inner = 1) => {
      const [out, arg] = run(backend, 'float32', 'max', Float32Array.from(x), 1, x.length / inner, inner, true);
      return [Array.from(out), Array.from(arg!)];
    };
    // NaN wins and argmax is the first NaN, in the SIMD body and in the tail
    const withNaN = Array.from({ length: 23 }, (_, i) => i % 5);
    withNaN[9] = NaN;
    withNaN[17] = NaN;
    const [v, a] = max(withNaN);
    expect(Number.isNaN(v[0]) && a[0] === 9).toBe(true);
    const tailNaN = Array.from({ length: 23 }, (_, i) => i);
    tailNaN[21] = NaN;
    expect(max(tailNaN)[1]).toEqual([21]);
    // the first maximum's bits: max(−0, +0) = −0 at 0, max(+0, −0) = +0 at 0 (also over 12 elements: SIMD lanes)
    for (const [x, z] of [[[-0, 0], -0], [[0, -0], 0], [[-1, -0, -2, 0, -0, -3, 0, -5, -0, 0, -1, -1], -0]] as const) {
      const [vz, az] = max([...x]);
      expect(Object.is(vz[0], z) && az[0] === x.findIndex((e) => e === 0), `max ${x}`).toBe(true);
    }
    expect(max(new Array(9).fill(-Infinity))).toEqual([[-Infinity], [0]]);
    // columns: inner = 4 (SIMD over i) with NaN, ties and ±0
    const cols = [1, -0, 5, NaN, 1, 0, 7, 2, 3, -0, 7, NaN];
    const [cv, ca] = max(cols, 4);
    expect(cv.map((e) => (Number.isNaN(e) ? 'NaN' : Object.is(e, -0) ? '-0' : e))).toEqual([3, '-0', 7, 'NaN']);
    expect(ca).toEqual([2, 0, 1, 0]);
    // r = 0: sum 0, mean NaN (0/0)
    for (const inner of [1, 3, 8]) {
      const [s] = run(backend, 'float32', 'sum', new Float32Array(0), 2, 0, inner, false);
      const [m] = run(backend, 'float32', 'mean', new Float32Array(0), 2, 0, inner, false);
      expect(Array.from(s)).toEqual(new Array(2 * inner).fill(0));
      expect(Array.from(m).every(Number.isNaN)).toBe(true);
    }
    // NaN / Inf in a sum propagate
    const [sn] = run(backend, 'float32', 'sum', Float32Array.from([1, Infinity, 2, 3, 4, 5, 6, 7, 8, 9, 10, -Infinity, 1, 2, 3, 4, 5]), 1, 17, 1, false);
    expect(Number.isNaN(sn[0])).toBe(true);
  });
});
