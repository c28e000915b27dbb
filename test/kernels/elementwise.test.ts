// Elementwise kernels (binary, where, unary, unary backward) on every backend, table-driven: one row per op code,
// each row run on seeded random inputs of awkward sizes and broadcast patterns, with NaN / ±Inf / −0 mixed in.
//
// Oracle: the ref backend in float64 on the same float32-representable inputs, rounded once to float32. Every
// backend (ref in float32, each wasm build) must match it within the row's tolerance:
//   0 ulp, bit for bit (sign of zero included; NaN matches any NaN): neg abs sqrt square relu sign reciprocal,
//     add sub mul div maximum minimum, the comparisons, where, relu backward (IEEE operations on two float32
//     values are correctly rounded in both precisions);
//   1 ulp: pow, sin, cos (evaluated in f64 and rounded once), log (SIMD polynomial, ≤ 0.78 ulp from the exact
//     value), leakyRelu / its backward (slope 0.01 is not a float32);
//   2 ulp: exp (SIMD polynomial, ≤ 1 ulp from the exact value), tanh (≤ 1.5 ulp), gelu and softplus (f64);
//   3 ulp: sigmoid (≤ 2 ulp), and the backward kernels that multiply three rounded factors;
//   plus an absolute term where float32 cancels: tanh′ = 1 − y² (|dy|·2^-22) and gelu′ near its root.
// The ref backend is also checked in float64 against known values (erf, erfc, Φ, gelu to ~1e-15) and identities.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import { erf, erfc, gelu, geluDerivative, normalCdf, sigmoid, softplus } from '../../src/backend/ref/math.js';
import type {
  Backend, BinaryOp, BroadcastPlan, DType, TypedArray, UnaryGradOp, UnaryOp, WherePlan,
} from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';
import { withBufs } from '../helpers/bufs.js';

const backends = await loadBackends();
const oracle = new RefBackend();

const SIZES = [0, 1, 3, 5, 17, 64, 127, 300, 100003];
const SPECIALS = [NaN, Infinity, -Infinity, -0, 0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1];

// ---- helpers ---------------------------------------------------------------------------------------------------

/** Allocates and fills one buffer per spec, runs fn, reads every buffer back, frees them. */
function ulp32(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * First index where actual differs from expected by more than ulps·ulp(expected) + atol[i] (ulps = 0 and no atol:
 * bit-exact incl. the sign of zero), or null. NaN matches NaN; infinities must be equal.
 */
function mismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, ulps: number,
  atol?: (i: number) => number): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    let ok: boolean;
    if (Number.isNaN(e) || Number.isNaN(a)) ok = Number.isNaN(e) && Number.isNaN(a);
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ok = a === e;
    else if (ulps === 0 && !atol) ok = Object.is(a, e);
    else ok = Math.abs(a - e) <= ulps * ulp32(e) + (atol ? atol(i) : 0);
    if (!ok) {
      const err = Math.abs(a - e) / ulp32(e);
      return `element ${i}: got ${a}, expected ${e} (${err.toPrecision(3)} ulp; tolerance ${ulps} ulp)`;
    }
  }
  return null;
}

/** n float32 values from gen, with SPECIALS at the start (SIMD body) and at the end (scalar tail) when n ≥ 17. */
function inputs(n: number, seed: number, gen: (r: () => number) => number, specials = SPECIALS): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gen(rand);
  if (n >= 17 && specials.length > 0) {
    for (let k = 0; k < specials.length && k < n; k++) out[(k * 7) % Math.min(n, 64)] = specials[k]!;
    for (let k = 0; k < 3; k++) out[n - 1 - k] = specials[(k + 3 * seed) % specials.length]!;
  }
  return out;
}

const uniform = (lo: number, hi: number) => (r: () => number) => lo + (hi - lo) * r();
const integers = (lo: number, hi: number) => (r: () => number) => Math.floor(lo + (hi - lo + 1) * r());

/** Runs a kernel on the float64 oracle and rounds the result to float32. */
function expected(fn: (b: Backend, dtype: DType) => TypedArray): Float32Array {
  return Float32Array.from(fn(oracle, 'float64'));
}

// ---- binary ----------------------------------------------------------------------------------------------------

interface Pattern { name: string; plan: BroadcastPlan; aSize: number; bSize: number }

function dense(dims: number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

const SHAPES_2D: [number, number][] = [[1, 1], [3, 5], [17, 3], [5, 17], [64, 127], [300, 33], [3, 33335]];

function patterns(): Pattern[] {
  const list: Pattern[] = [];
  for (const n of SIZES) list.push({ name: `same [${n}]`, plan: { dims: [n], aStrides: [1], bStrides: [1] }, aSize: n, bSize: n });
  for (const [r, c] of SHAPES_2D) {
    const d = [r, c];
    list.push({ name: `row [${r},${c}]+[${c}]`, plan: { dims: d, aStrides: [c, 1], bStrides: [0, 1] }, aSize: r * c, bSize: c });
    list.push({ name: `row-left [${c}]+[${r},${c}]`, plan: { dims: d, aStrides: [0, 1], bStrides: [c, 1] }, aSize: c, bSize: r * c });
    list.push({ name: `column [${r},${c}]+[${r},1]`, plan: { dims: d, aStrides: [c, 1], bStrides: [1, 0] }, aSize: r * c, bSize: r });
    list.push({ name: `scalar [${r},${c}]+[]`, plan: { dims: d, aStrides: [c, 1], bStrides: [0, 0] }, aSize: r * c, bSize: 1 });
    list.push({ name: `transposed [${c},${r}]ᵀ+[${r},${c}]`, plan: { dims: d, aStrides: [1, r], bStrides: [c, 1] }, aSize: r * c, bSize: r * c });
  }
  for (const [a, b, c] of [[2, 3, 5], [4, 17, 9], [3, 64, 33]] as const) {
    list.push({ name: `middle [${a},${b},${c}]+[${a},1,${c}]`, plan: { dims: [a, b, c], aStrides: [b * c, c, 1], bStrides: [c, 0, 1] }, aSize: a * b * c, bSize: a * c });
  }
  const d5 = [2, 3, 2, 3, 5];
  list.push({ name: '5-d [2,3,2,3,5]+[2,1,2,3,5]', plan: { dims: d5, aStrides: dense(d5), bStrides: [30, 0, 15, 5, 1] }, aSize: 180, bSize: 60 });
  list.push({ name: '0-d', plan: { dims: [], aStrides: [], bStrides: [] }, aSize: 1, bSize: 1 });
  return list;
}
const PATTERNS = patterns();

interface BinaryRow { op: BinaryOp; ulps: number; a: (r: () => number) => number; b: (r: () => number) => number }

const BINARY_ROWS: BinaryRow[] = [
  { op: 'add', ulps: 0, a: uniform(-3, 3), b: uniform(-3, 3) },
  { op: 'sub', ulps: 0, a: uniform(-3, 3), b: uniform(-3, 3) },
  { op: 'mul', ulps: 0, a: uniform(-3, 3), b: uniform(-3, 3) },
  { op: 'div', ulps: 0, a: uniform(-3, 3), b: uniform(-3, 3) },
  { op: 'pow', ulps: 1, a: uniform(0, 4), b: uniform(-3, 3) },
  { op: 'maximum', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
  { op: 'minimum', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
  { op: 'equal', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
  { op: 'greater', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
  { op: 'greaterEqual', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
  { op: 'less', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
  { op: 'lessEqual', ulps: 0, a: integers(-3, 3), b: integers(-3, 3) },
];

describe.each(BINARY_ROWS)('binary $op', (row) => {
  const cases = PATTERNS.map((p, k) => {
    const a = inputs(p.aSize, 11 + k, row.a);
    const b = inputs(p.bSize, 911 + k, row.b, [...SPECIALS].reverse());
    const n = p.plan.dims.reduce((x, y) => x * y, 1);
    const want = expected((be, dt) => withBufs(be, [{ dtype: dt, data: a }, { dtype: dt, data: b }, { dtype: dt, size: n }],
      ([ba, bb, bo]) => be.binary(row.op, ba!, bb!, bo!, p.plan))[2]!);
    return { p, a, b, n, want };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { p, a, b, n, want } of cases) {
      const [, , got] = withBufs(backend, [{ dtype: 'float32', data: a }, { dtype: 'float32', data: b }, { dtype: 'float32', size: n }],
        ([ba, bb, bo]) => backend.binary(row.op, ba!, bb!, bo!, p.plan));
      expect(mismatch(got!, want, row.ulps), `${row.op} ${p.name}`).toBeNull();
    }
  });
});

describe('binary special values', () => {
  // a op b for every pair of specials (incl. ±0 pairs for maximum/minimum and pow's JS corner cases).
  const vals = [NaN, Infinity, -Infinity, -0, 0, 1, -1, 2, -2, 0.5, -8, 1 / 3, 3];
  const a = new Float32Array(vals.length ** 2);
  const b = new Float32Array(vals.length ** 2);
  vals.forEach((x, i) => vals.forEach((y, j) => { a[i * vals.length + j] = x; b[i * vals.length + j] = y; }));
  const plan: BroadcastPlan = { dims: [a.length], aStrides: [1], bStrides: [1] };
  it.each(backends)('$label', ({ backend }) => {
    for (const row of BINARY_ROWS) {
      const want = expected((be, dt) => withBufs(be, [{ dtype: dt, data: a }, { dtype: dt, data: b }, { dtype: dt, size: a.length }],
        ([ba, bb, bo]) => be.binary(row.op, ba!, bb!, bo!, plan))[2]!);
      const [, , got] = withBufs(backend, [{ dtype: 'float32', data: a }, { dtype: 'float32', data: b }, { dtype: 'float32', size: a.length }],
        ([ba, bb, bo]) => backend.binary(row.op, ba!, bb!, bo!, plan));
      expect(mismatch(got!, want, row.ulps), row.op).toBeNull();
    }
    // The semantics spelled out: NaN-propagating maximum/minimum, max(−0, +0) = +0, JS Math.pow corner cases.
    const pairs: [BinaryOp, number, number, number][] = [
      ['maximum', NaN, 1, NaN], ['maximum', 1, NaN, NaN], ['maximum', -0, 0, 0], ['minimum', 0, -0, -0],
      ['pow', NaN, 0, 1], ['pow', 1, NaN, NaN], ['pow', 1, Infinity, NaN], ['pow', -8, 1 / 3, NaN],
      ['pow', -2, 3, -8], ['pow', -0, -1, -Infinity], ['equal', NaN, NaN, 0], ['lessEqual', -0, 0, 1],
    ];
    for (const [op, x, y, z] of pairs) {
      const [, , got] = withBufs(backend, [{ dtype: 'float32', data: [x] }, { dtype: 'float32', data: [y] }, { dtype: 'float32', size: 1 }],
        ([ba, bb, bo]) => backend.binary(op, ba!, bb!, bo!, { dims: [1], aStrides: [1], bStrides: [1] }));
      expect(Object.is(got![0], z), `${op}(${x}, ${y}) = ${got![0]}, expected ${z}`).toBe(true);
    }
  });
});

// ---- where -----------------------------------------------------------------------------------------------------

describe('where', () => {
  const condValues = [0, 1, NaN, -0, 2, 0, 0, -1];
  const cases: { name: string; plan: WherePlan; sizes: [number, number, number] }[] = [];
  for (const n of SIZES) cases.push({ name: `same [${n}]`, plan: { dims: [n], condStrides: [1], aStrides: [1], bStrides: [1] }, sizes: [n, n, n] });
  for (const [r, c] of SHAPES_2D) {
    cases.push({ name: `cond row [${r},${c}]`, plan: { dims: [r, c], condStrides: [0, 1], aStrides: [c, 1], bStrides: [c, 1] }, sizes: [c, r * c, r * c] });
    cases.push({ name: `a scalar, b column [${r},${c}]`, plan: { dims: [r, c], condStrides: [c, 1], aStrides: [0, 0], bStrides: [1, 0] }, sizes: [r * c, 1, r] });
    cases.push({ name: `a transposed [${r},${c}]`, plan: { dims: [r, c], condStrides: [c, 1], aStrides: [1, r], bStrides: [0, 1] }, sizes: [r * c, r * c, c] });
  }
  const data = cases.map((cs, k) => {
    const cond = inputs(cs.sizes[0], 5 + k, (r) => condValues[Math.floor(r() * condValues.length)]!, []);
    const a = inputs(cs.sizes[1], 55 + k, uniform(-3, 3));
    const b = inputs(cs.sizes[2], 555 + k, uniform(-3, 3));
    const n = cs.plan.dims.reduce((x, y) => x * y, 1);
    const want = expected((be, dt) => withBufs(be, [{ dtype: dt, data: cond }, { dtype: dt, data: a }, { dtype: dt, data: b }, { dtype: dt, size: n }],
      ([bc, ba, bb, bo]) => be.where(bc!, ba!, bb!, bo!, cs.plan))[3]!);
    return { cs, cond, a, b, n, want };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { cs, cond, a, b, n, want } of data) {
      const got = withBufs(backend, [{ dtype: 'float32', data: cond }, { dtype: 'float32', data: a }, { dtype: 'float32', data: b }, { dtype: 'float32', size: n }],
        ([bc, ba, bb, bo]) => backend.where(bc!, ba!, bb!, bo!, cs.plan))[3]!;
      expect(mismatch(got, want, 0), `where ${cs.name}`).toBeNull();
    }
  });
});

// ---- unary -----------------------------------------------------------------------------------------------------

interface UnaryRow { op: UnaryOp; alpha?: number; ulps: number; gen: (r: () => number) => number }

const UNARY_ROWS: UnaryRow[] = [
  { op: 'neg', ulps: 0, gen: uniform(-5, 5) },
  { op: 'abs', ulps: 0, gen: uniform(-5, 5) },
  { op: 'exp', ulps: 2, gen: uniform(-110, 95) },
  { op: 'exp', ulps: 2, gen: uniform(-2, 2) },
  { op: 'log', ulps: 1, gen: uniform(-0.5, 100) },
  { op: 'sqrt', ulps: 0, gen: uniform(-1, 100) },
  { op: 'square', ulps: 0, gen: uniform(-5, 5) },
  { op: 'relu', ulps: 0, gen: uniform(-5, 5) },
  { op: 'leakyRelu', alpha: 0.01, ulps: 1, gen: uniform(-5, 5) },
  { op: 'leakyRelu', alpha: 0.25, ulps: 0, gen: uniform(-5, 5) },
  { op: 'sigmoid', ulps: 3, gen: uniform(-110, 110) },
  { op: 'sigmoid', ulps: 3, gen: uniform(-6, 6) },
  { op: 'tanh', ulps: 2, gen: uniform(-12, 12) },
  { op: 'tanh', ulps: 2, gen: uniform(-1, 1) },
  { op: 'gelu', ulps: 2, gen: uniform(-16, 16) },
  { op: 'gelu', ulps: 2, gen: uniform(-3, 3) },
  { op: 'softplus', alpha: 1, ulps: 2, gen: uniform(-30, 30) },
  { op: 'softplus', alpha: 2, ulps: 2, gen: uniform(-15, 15) },
  { op: 'sign', ulps: 0, gen: integers(-2, 2) },
  { op: 'reciprocal', ulps: 0, gen: uniform(-5, 5) },
  { op: 'sin', ulps: 1, gen: uniform(-10, 10) },
  { op: 'sin', ulps: 1, gen: uniform(-1e6, 1e6) },
  { op: 'cos', ulps: 1, gen: uniform(-10, 10) },
  { op: 'cos', ulps: 1, gen: uniform(-1e6, 1e6) },
  { op: 'floor', ulps: 0, gen: uniform(-5, 5) },
  { op: 'floor', ulps: 0, gen: uniform(-3e7, 3e7) }, // past 2²³ every float32 is an integer
];

describe.each(UNARY_ROWS.map((r, k) => ({ ...r, k })))('unary $op (alpha $alpha, row $k)', (row) => {
  const cases = SIZES.map((n) => {
    const x = inputs(n, 101 + row.k * 13 + n, row.gen);
    const want = expected((be, dt) => withBufs(be, [{ dtype: dt, data: x }, { dtype: dt, size: n }],
      ([bx, bo]) => be.unary(row.op, bx!, bo!, n, row.alpha ?? 0))[1]!);
    return { n, x, want };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, x, want } of cases) {
      const got = withBufs(backend, [{ dtype: 'float32', data: x }, { dtype: 'float32', size: n }],
        ([bx, bo]) => backend.unary(row.op, bx!, bo!, n, row.alpha ?? 0))[1]!;
      expect(mismatch(got, want, row.ulps), `${row.op} n=${n}`).toBeNull();
      // In place (out aliases x) gives the same numbers.
      const [inPlace] = withBufs(backend, [{ dtype: 'float32', data: x }], ([bx]) => backend.unary(row.op, bx!, bx!, n, row.alpha ?? 0));
      expect(mismatch(inPlace!, got, 0), `${row.op} in place n=${n}`).toBeNull();
    }
  });
});

describe('unary special values (exact semantics)', () => {
  const table: [UnaryOp, number, number, number][] = [ // op, alpha, x, f(x)
    ['relu', 0, NaN, NaN], ['relu', 0, -0, -0], ['relu', 0, -Infinity, 0], ['relu', 0, Infinity, Infinity],
    ['sign', 0, NaN, NaN], ['sign', 0, -0, 0], ['sign', 0, 0, 0], ['sign', 0, -Infinity, -1], ['sign', 0, 1e-40, 1],
    ['exp', 0, -Infinity, 0], ['exp', 0, Infinity, Infinity], ['exp', 0, NaN, NaN], ['exp', 0, 89, Infinity],
    ['exp', 0, -104, 0], ['exp', 0, -103.5, Math.fround(Math.exp(-103.5))], ['exp', 0, 0, 1],
    ['sigmoid', 0, -Infinity, 0], ['sigmoid', 0, Infinity, 1], ['sigmoid', 0, NaN, NaN], ['sigmoid', 0, 0, 0.5],
    ['sigmoid', 0, -100, Math.fround(Math.exp(-100))],
    ['tanh', 0, Infinity, 1], ['tanh', 0, -Infinity, -1], ['tanh', 0, -0, -0], ['tanh', 0, NaN, NaN],
    ['gelu', 0, -Infinity, -0], ['gelu', 0, Infinity, Infinity], ['gelu', 0, 0, 0], ['gelu', 0, NaN, NaN],
    ['softplus', 1, Infinity, Infinity], ['softplus', 1, -Infinity, 0], ['softplus', 1, 30, 30],
    ['log', 0, 0, -Infinity], ['log', 0, -1, NaN], ['sqrt', 0, -0, -0], ['reciprocal', 0, -0, -Infinity],
    ['leakyRelu', 0.5, -0, -0], ['leakyRelu', 0.5, -Infinity, -Infinity], ['abs', 0, -0, 0], ['neg', 0, 0, -0],
    ['sin', 0, -0, -0], ['sin', 0, Infinity, NaN], ['sin', 0, NaN, NaN], ['cos', 0, -0, 1], ['cos', 0, -Infinity, NaN],
    ['floor', 0, -0, -0], ['floor', 0, -0.5, -1], ['floor', 0, 0.99999994, 0], ['floor', 0, -Infinity, -Infinity], ['floor', 0, NaN, NaN],
  ];
  it.each(backends)('$label', ({ backend }) => {
    for (const [op, alpha, x, fx] of table) {
      // 9 copies so that both the SIMD body and the scalar tail see the value
      const [, got] = withBufs(backend, [{ dtype: 'float32', data: new Array(9).fill(x) }, { dtype: 'float32', size: 9 }],
        ([bx, bo]) => backend.unary(op, bx!, bo!, 9, alpha));
      for (const v of got!) expect(Object.is(v, fx) || (Number.isNaN(v) && Number.isNaN(fx)), `${op}(${x}) = ${v}, expected ${fx}`).toBe(true);
    }
  });
});

// ---- unary backward --------------------------------------------------------------------------------------------

interface GradRow {
  op: UnaryGradOp; alpha?: number; ulps: number; saved: (r: () => number) => number; atol?: number;
  /** Saved values mixed in; sigmoid and tanh save y, so only values in their range. */
  specials?: number[];
}
const IN_RANGE = [NaN, 1, -1, 0, -0, 1e-40, 0.5];

const GRAD_ROWS: GradRow[] = [
  { op: 'relu', ulps: 0, saved: uniform(-3, 3) },
  { op: 'leakyRelu', alpha: 0.01, ulps: 1, saved: uniform(-3, 3) },
  { op: 'sigmoid', ulps: 3, saved: uniform(0, 1), specials: IN_RANGE.filter((v) => !(v < 0)) }, // y = σ(x) ∈ (0, 1)
  { op: 'tanh', ulps: 3, saved: uniform(-1, 1), atol: 2 ** -22, specials: IN_RANGE }, // 1 − y² cancels near |y| = 1
  { op: 'gelu', ulps: 2, saved: uniform(-8, 8), atol: 2 ** -40 },
  { op: 'softplus', alpha: 1, ulps: 3, saved: uniform(-30, 30) },
  { op: 'softplus', alpha: 2, ulps: 3, saved: uniform(-15, 15) },
];

describe.each(GRAD_ROWS.map((r, k) => ({ ...r, k })))('unaryGrad $op (alpha $alpha)', (row) => {
  const cases = SIZES.map((n) => {
    const s = inputs(n, 301 + row.k * 17 + n, row.saved, row.specials);
    const dy = inputs(n, 701 + row.k * 17 + n, uniform(-2, 2), [1, -1, 0, -0, 2]);
    const want = expected((be, dt) => withBufs(be, [{ dtype: dt, data: s }, { dtype: dt, data: dy }, { dtype: dt, size: n }],
      ([bs, bdy, bdx]) => be.unaryGrad(row.op, bs!, bdy!, bdx!, n, row.alpha ?? 0))[2]!);
    return { n, s, dy, want };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, s, dy, want } of cases) {
      const got = withBufs(backend, [{ dtype: 'float32', data: s }, { dtype: 'float32', data: dy }, { dtype: 'float32', size: n }],
        ([bs, bdy, bdx]) => backend.unaryGrad(row.op, bs!, bdy!, bdx!, n, row.alpha ?? 0))[2]!;
      const atol = row.atol === undefined ? undefined : (i: number) => row.atol! * Math.abs(dy[i]!);
      expect(mismatch(got, want, row.ulps, atol), `${row.op}Grad n=${n}`).toBeNull();
    }
  });
});

describe('unaryGrad special values', () => {
  const table: [UnaryGradOp, number, number, number, number][] = [ // op, alpha, saved, dy, dx
    ['relu', 0, NaN, 1, 0], ['relu', 0, 0, 1, 0], ['relu', 0, -0, NaN, 0], ['relu', 0, 1e-40, 3, 3],
    ['relu', 0, Infinity, NaN, NaN], ['leakyRelu', 0.5, 0, 2, 1], ['leakyRelu', 0.5, NaN, 2, 1],
    ['gelu', 0, Infinity, 2, 2], ['gelu', 0, -Infinity, 2, 0], ['gelu', 0, 0, 2, 1],
    ['softplus', 1, 21, 3, 3], ['softplus', 1, 0, 3, 1.5], ['softplus', 1, -Infinity, 3, 0],
    ['sigmoid', 0, 0.5, 4, 1], ['tanh', 0, 0, 3, 3], ['tanh', 0, 1, 3, 0],
  ];
  it.each(backends)('$label', ({ backend }) => {
    for (const [op, alpha, s, dy, dx] of table) {
      const [, , got] = withBufs(backend, [{ dtype: 'float32', data: new Array(9).fill(s) }, { dtype: 'float32', data: new Array(9).fill(dy) }, { dtype: 'float32', size: 9 }],
        ([bs, bdy, bdx]) => backend.unaryGrad(op, bs!, bdy!, bdx!, 9, alpha));
      for (const v of got!) expect(Object.is(v, dx) || (Number.isNaN(v) && Number.isNaN(dx)), `${op}Grad(${s}, ${dy}) = ${v}, expected ${dx}`).toBe(true);
    }
  });
});

// ---- the float64 reference against known values -----------------------------------------------------------------

describe('ref float64 special functions', () => {
  const rel = (a: number, e: number) => Math.abs(a - e) / Math.abs(e);
  // 20-digit values from 40-digit arithmetic (mpmath).
  it('erf, erfc and Φ match known values to ~1e-15 relative', () => {
    const erfTable: [number, number][] = [
      [0.0001, 0.00011283791633342486949], [0.25, 0.27632639016823693299], [0.5, 0.52049987781304653768],
      [1, 0.84270079294971486934], [1.5, 0.96610514647531072707], [2, 0.99532226501895273416],
      [3.5, 0.99999925690162765859], [-0.75, -0.7111556336535151316],
    ];
    for (const [x, v] of erfTable) expect(rel(erf(x), v), `erf(${x})`).toBeLessThan(1e-15);
    const erfcTable: [number, number][] = [
      [1, 0.15729920705028513066], [2, 0.0046777349810472658379], [5, 1.5374597944280348502e-12],
      [10, 2.088487583762544757e-45], [20, 5.3958656116079009289e-176], [26, 5.6631924088561428465e-296],
    ];
    for (const [x, v] of erfcTable) expect(rel(erfc(x), v), `erfc(${x})`).toBeLessThan(2e-15);
    const cdfTable: [number, number][] = [
      [-1, 0.15865525393145705141], [-5, 2.8665157187919391167e-7], [-10, 7.619853024160526066e-24],
      [-37, 5.7255712225245768227e-300],
    ];
    for (const [x, v] of cdfTable) expect(rel(normalCdf(x), v), `Φ(${x})`).toBeLessThan(2e-15);
    const geluTable: [number, number][] = [
      [-3, -0.00404969409489028358], [-1, -0.15865525393145705141], [0.5, 0.34573123063700655182],
      [2, 1.9544997361036415856],
    ];
    for (const [x, v] of geluTable) expect(rel(gelu(x), v), `gelu(${x})`).toBeLessThan(2e-15);
    expect([erf(Infinity), erf(-Infinity), erfc(Infinity), erfc(-Infinity), erf(0), Object.is(erf(-0), -0)])
      .toEqual([1, -1, 0, 2, 0, true]);
    expect(Number.isNaN(erf(NaN)) && Number.isNaN(erfc(NaN))).toBe(true);
  });

  it('satisfies identities: erf(x) + erfc(x) = 1, gelu(x) − gelu(−x) = x, softplus(x) − softplus(−x) = x, σ(x) + σ(−x) = 1', () => {
    const rand = mulberry32(42);
    for (let k = 0; k < 2000; k++) {
      const x = (rand() - 0.5) * 12;
      expect(Math.abs(erf(x) + erfc(x) - 1)).toBeLessThan(4e-16);
      expect(Math.abs(gelu(x) - gelu(-x) - x)).toBeLessThan(1e-15 * Math.max(1, Math.abs(x)));
      expect(Math.abs(softplus(x, 1) - softplus(-x, 1) - x)).toBeLessThan(2e-15 * Math.max(1, Math.abs(x)));
      expect(Math.abs(sigmoid(x) + sigmoid(-x) - 1)).toBeLessThan(4e-16);
    }
  });

  it('gelu′ and the backward kernels match central differences of the forward kernels in float64', () => {
    const xs = [-6, -2.5, -0.7, -1e-3, 0.3, 1.7, 4];
    const h = 1e-6;
    for (const x of xs) {
      const numeric = (gelu(x + h) - gelu(x - h)) / (2 * h);
      expect(Math.abs(geluDerivative(x) - numeric), `gelu′(${x})`).toBeLessThan(1e-8);
    }
    const ops: [UnaryGradOp, number][] = [['gelu', 0], ['softplus', 1], ['softplus', 0.5], ['leakyRelu', 0.1],
      ['sigmoid', 0], ['tanh', 0]];
    for (const [op, alpha] of ops) {
      const x = Float64Array.from(xs.filter((v) => Math.abs(v) > 1e-2));
      const f = (v: Float64Array) => withBufs(oracle, [{ dtype: 'float64', data: v }, { dtype: 'float64', size: v.length }],
        ([bx, bo]) => oracle.unary(op, bx!, bo!, v.length, alpha))[1]!;
      const y = f(x);
      const saved = op === 'sigmoid' || op === 'tanh' ? y : x;
      const dy = x.map((_, i) => 1 + 0.25 * i);
      const [, , dx] = withBufs(oracle, [{ dtype: 'float64', data: saved }, { dtype: 'float64', data: dy }, { dtype: 'float64', size: x.length }],
        ([bs, bdy, bdx]) => oracle.unaryGrad(op, bs!, bdy!, bdx!, x.length, alpha));
      const plus = f(x.map((v) => v + h));
      const minus = f(x.map((v) => v - h));
      for (let i = 0; i < x.length; i++) {
        const numeric = dy[i]! * (plus[i]! - minus[i]!) / (2 * h);
        expect(Math.abs(dx![i]! - numeric), `${op}′(${x[i]})`).toBeLessThan(1e-7 * Math.max(1, Math.abs(numeric)));
      }
    }
  });
});
