// exp, log, sigmoid, tanh, gelu and gelu′ of every build against the exact value (the float64 reference functions,
// whose own error is ≈ 1e-15 relative), over a dense sweep of float32 bit patterns — every 1021st of the 2^32, which
// visits every binade from the smallest subnormal to the largest float, both signs — plus the values where the
// kernels switch method: exp's fast-form limit ±86.5, its overflow (88.72) and underflow (−103.97) thresholds, tanh's
// 0.5493 and its clamp at 10, log's √½ and √2 (the mantissa reduction's edges), gelu's √2 and 14.849 (z = 1 and
// 10.5), the subnormals, ±0, ±Infinity and NaN. Each op's maximum error in ulps is printed and checked against its
// bound (float32 ulps of the exact value: exp 1.02, log 0.85, sigmoid 2, tanh 1.5, gelu and gelu′ 0.53 — gelu is
// evaluated in float64 and rounded once).
// Then across builds and positions: the simd and scalar builds give the same bits (the scalar twins perform the
// vector forms' IEEE operations in the same order), the relaxed build (fused multiply-adds) stays within a bound of
// the simd build, and every build gives an element the same bits wherever it sits in the array (tails of 1–7
// elements included), within bound + ½ ulp of the pure-TS reference backend on sizes 0 to 1M.
import { describe, expect, it } from 'vitest';
import { gelu, geluDerivative, sigmoid } from '../../src/backend/ref/math.js';
import type { Backend, UnaryGradOp, UnaryOp } from '../../src/backend/types.js';
import { RefBackend } from '../../src/backend/ref/index.js';
import { loadWasmBackends } from '../helpers/backends.js';
import { withBufs } from '../helpers/bufs.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadWasmBackends();

/** The distance between float32 neighbours at |v| (the subnormal spacing below 2^-126). */
function ulp32(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

const next = (v: number, k: number) => {
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  i[0]! += v < 0 || Object.is(v, -0) ? -k : k;
  return f[0]!;
};
const around = (v: number) => [-2, -1, 0, 1, 2].flatMap((k) => [next(v, k), -next(v, k)]);

function sweep(): Float32Array {
  const xs: number[] = [];
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let b = 0; b < 2 ** 32; b += 1021) {
    bits[0] = b;
    xs.push(f[0]!);
  }
  for (const v of [86.5, 88.72283935546875, 103.97208, 0.5493, 10, Math.SQRT1_2, Math.SQRT2, 14.849242, 2 ** -126, 2 ** -149, 1e-30, 1, 2]) {
    xs.push(...around(Math.fround(v)));
  }
  xs.push(0, -0, Infinity, -Infinity, NaN);
  return Float32Array.from(xs);
}
const X = sweep();

interface Row { op: string; bound: number; relaxedBound: number; exact: (x: number) => number; run: (b: Backend, x: Float32Array) => Float32Array }
const unary = (op: UnaryOp) => (b: Backend, x: Float32Array) =>
  withBufs(b, [{ dtype: 'float32', data: x }, { dtype: 'float32', size: x.length }], ([bx, bo]) => b.unary(op, bx!, bo!, x.length, 0))[1] as Float32Array;
const grad = (op: UnaryGradOp) => (b: Backend, x: Float32Array) =>
  withBufs(b, [{ dtype: 'float32', data: x }, { dtype: 'float32', data: new Float32Array(x.length).fill(1) }, { dtype: 'float32', size: x.length }],
    ([bs, bdy, bdx]) => b.unaryGrad(op, bs!, bdy!, bdx!, x.length, 0))[2] as Float32Array;

const ROWS: Row[] = [
  { op: 'exp', bound: 1.02, relaxedBound: 1, exact: Math.exp, run: unary('exp') },
  { op: 'log', bound: 0.85, relaxedBound: 1, exact: Math.log, run: unary('log') },
  { op: 'sigmoid', bound: 2, relaxedBound: 3, exact: sigmoid, run: unary('sigmoid') },
  { op: 'tanh', bound: 1.5, relaxedBound: 2, exact: Math.tanh, run: unary('tanh') },
  { op: 'gelu', bound: 0.53, relaxedBound: 1, exact: gelu, run: unary('gelu') },
  { op: 'gelu′ (dy = 1)', bound: 0.53, relaxedBound: 1, exact: geluDerivative, run: grad('gelu') },
];

/** The largest error in ulps of the exact value, and where; NaN must match NaN and infinities be equal. */
function maxError(got: Float32Array, exact: Float64Array): { ulps: number; x: number; problem?: string } {
  let worst = { ulps: 0, x: NaN } as { ulps: number; x: number; problem?: string };
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const e = exact[i]!;
    if (Number.isNaN(e) || Number.isNaN(g) || !Number.isFinite(Math.fround(e)) || !Number.isFinite(g)) {
      if (!(Object.is(g, Math.fround(e)) || (Number.isNaN(g) && Number.isNaN(e)))) return { ulps: Infinity, x: X[i]!, problem: `got ${g}, exact ${e}` };
      continue;
    }
    const ulps = Math.abs(g - e) / ulp32(e);
    if (ulps > worst.ulps) worst = { ulps, x: X[i]! };
  }
  return worst;
}

describe.each(ROWS)('$op over a dense sweep of float32', (row) => {
  const exact = Float64Array.from(X, row.exact);
  it.each(backends)('$label', ({ label, backend }) => {
    const worst = maxError(row.run(backend, X), exact);
    console.log(`${row.op} on ${label}: max ${worst.ulps.toFixed(3)} ulp (at x = ${worst.x}) over ${X.length} inputs`);
    expect(worst.problem, `${row.op}(${worst.x})`).toBeUndefined();
    expect(worst.ulps, `${row.op} at x = ${worst.x}`).toBeLessThanOrEqual(row.bound);
  });
});

/** The largest |a − b| in ulps of a (NaN matches NaN, infinities must be equal), and where. */
function maxDiff(a: Float32Array, b: Float32Array, xs: Float32Array): { ulps: number; x: number } {
  let worst = { ulps: 0, x: NaN };
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    if (Object.is(p, q) || (Number.isNaN(p) && Number.isNaN(q))) continue;
    const ulps = Number.isFinite(p) && Number.isFinite(q) ? Math.abs(p - q) / ulp32(p) : Infinity;
    if (ulps > worst.ulps) worst = { ulps, x: xs[i]! };
  }
  return worst;
}

const build = (name: string) => backends.find((b) => b.label === `wasm-${name}`)?.backend;
const simd = build('simd');
const scalar = build('scalar');
const relaxed = build('relaxed');

describe.each(ROWS)('$op across builds', (row) => {
  it.skipIf(!simd || !scalar)('simd and scalar builds give the same bits', () => {
    const d = maxDiff(row.run(simd!, X), row.run(scalar!, X), X);
    expect(d.ulps, `${row.op}(${d.x})`).toBe(0);
  });
  it.skipIf(!simd || !relaxed)('relaxed stays within its bound of simd', () => {
    const d = maxDiff(row.run(simd!, X), row.run(relaxed!, X), X);
    console.log(`${row.op}: max |relaxed − simd| ${d.ulps.toFixed(3)} ulp (at x = ${d.x})`);
    expect(d.ulps, `${row.op}(${d.x})`).toBeLessThanOrEqual(row.relaxedBound);
  });
});

// Inputs for the size and position checks: half in the range where the ops vary, half from the sweep (huge, tiny,
// subnormal, ±Infinity, NaN), so both of exp's forms and log's rare path meet tails.
const M = 1 << 20;
const MIXED = (() => {
  const r = mulberry32(16);
  return Float32Array.from({ length: M }, () => (r() < 0.5 ? 20 * r() - 10 : X[Math.floor(r() * X.length)]!));
})();
const ref = new RefBackend();
const SIZES = [0, 1, 3, 5, 7, 9, 1023, M];

describe.each(ROWS)('$op on sizes 0 to 1M and at every position', (row) => {
  const want = row.run(ref, MIXED);
  it.each(backends)('$label', ({ backend }) => {
    const whole = row.run(backend, MIXED);
    const d = maxDiff(want, whole, MIXED);
    expect(d.ulps, `${row.op}(${d.x}) against the reference backend`).toBeLessThanOrEqual(row.bound + 0.5);
    // Each size, at offsets that put every element in every lane and in the tail: the same bits as in the whole.
    for (const n of SIZES) {
      for (let at = 0; at < (n >= 1023 ? 1 : 64); at++) {
        const part = row.run(backend, MIXED.subarray(at, at + n));
        const d = maxDiff(whole.subarray(at, at + n), part, MIXED.subarray(at, at + n));
        expect(d.ulps, `${row.op}(${d.x}), n = ${n} from ${at}`).toBe(0);
      }
    }
  });
});

// gelu and gelu′ first write the inner form of every lane, then the lanes past √2 in a second pass over 64-element
// blocks, from the input kept in the output: in place (out = x; dx = dy or dx = saved) must give the same bits.
describe('gelu and gelu′ in place', () => {
  const n = 1333;
  const x = MIXED.subarray(5, 5 + n);
  const r = mulberry32(17);
  const dy = Float32Array.from({ length: n }, () => 4 * r() - 2);
  it.each(backends)('$label', ({ backend: b }) => {
    const f32 = (data?: Float32Array) => (data ? { dtype: 'float32' as const, data } : { dtype: 'float32' as const, size: n });
    const [, out] = withBufs(b, [f32(x), f32()], ([bx, bo]) => b.unary('gelu', bx!, bo!, n, 0));
    const [inPlace] = withBufs(b, [f32(x)], ([bx]) => b.unary('gelu', bx!, bx!, n, 0));
    expect(maxDiff(out as Float32Array, inPlace as Float32Array, x).ulps).toBe(0);
    const [, , dx] = withBufs(b, [f32(x), f32(dy), f32()], ([bs, bd, bo]) => b.unaryGrad('gelu', bs!, bd!, bo!, n, 0));
    const [, intoDy] = withBufs(b, [f32(x), f32(dy)], ([bs, bd]) => b.unaryGrad('gelu', bs!, bd!, bd!, n, 0));
    const [intoSaved] = withBufs(b, [f32(x), f32(dy)], ([bs, bd]) => b.unaryGrad('gelu', bs!, bd!, bs!, n, 0));
    expect(maxDiff(dx as Float32Array, intoDy as Float32Array, x).ulps, 'dx = dy').toBe(0);
    expect(maxDiff(dx as Float32Array, intoSaved as Float32Array, x).ulps, 'dx = saved').toBe(0);
  });
});
