// Strided plans at the 4-dim boundary: binary (float32 ops and int32 comparisons), where and copy on plans of
// 0 to 6 dims, on every backend, against the ref backend in float32, bit for bit (NaN matches any NaN for the ops
// that compute; copy moves words, so NaN payloads count). The wasm backend calls its kernel straight from a plan
// of up to 4 dims and walks the leading dims of a longer one, so every plan also runs with one and two leading
// size-1 dims put in front (a 4-dim plan then takes the other path) and must give the same result. Each rank gets
// broadcasting along every axis, a size 0 along every axis, transposed (column-major) operands, and for copy
// reversed axes (negative strides), expansion, and a strided output with gaps and an offset.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { BinaryOp, BroadcastPlan, CopyPlan, DType, TypedArray, WherePlan } from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { withBufs } from '../helpers/bufs.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const oracle = new RefBackend();

// Ranks 0 to 6; innermost sizes take the SIMD rows and a scalar tail; the 4-dim shape has more than the 1024
// elements a threads backend may share.
const SHAPES = [[], [9], [3, 17], [2, 1, 9], [2, 3, 5, 37], [2, 1, 3, 2, 9], [1, 2, 2, 3, 1, 5]];

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Row-major strides of dims. */
function dense(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  for (let i = dims.length - 1, acc = 1; i >= 0; i--, acc *= dims[i + 1]!) s[i] = acc;
  return s;
}

/** Column-major strides of dims: the operand is stored transposed. */
function columnMajor(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  for (let i = 0, acc = 1; i < dims.length; acc *= dims[i]!, i++) s[i] = acc;
  return s;
}

/** Strides with a 0 at axis `at` (broadcast along it). */
const zeroAt = (strides: number[], at: number) => strides.map((s, i) => (i === at ? 0 : s));

/** Elements a buffer needs for strides ≥ 0 over dims (at least 1). */
function extent(dims: readonly number[], strides: readonly number[], offset = 0): number {
  return Math.max(1, offset + 1 + dims.reduce((acc, d, i) => acc + Math.max(0, d - 1) * Math.abs(strides[i]!), 0));
}

/** The plan's arrays with `k` leading size-1 dims (stride 0) in front. */
function lead<P extends object>(plan: P, k: number): P {
  return Object.fromEntries(Object.entries(plan).map(([key, v]) =>
    [key, Array.isArray(v) ? [...Array<number>(k).fill(key === 'dims' ? 1 : 0), ...v] : v])) as P;
}

/** Operand layouts over dims, by name: strides for each operand of a call. */
function layouts(dims: number[], operands: number): { name: string; dims: number[]; strides: number[][] }[] {
  const d = dense(dims);
  const list = [{ name: 'dense', dims, strides: Array.from({ length: operands }, () => d) }];
  for (let op = 0; op < operands; op++) {
    for (let i = 0; i < dims.length; i++) {
      if (dims[i]! > 1) {
        list.push({ name: `operand ${op} broadcast along ${i}`, dims,
          strides: Array.from({ length: operands }, (_, o) => (o === op ? zeroAt(dense(dims.map((n, j) => (j === i ? 1 : n))), i) : d)) });
      }
    }
    list.push({ name: `operand ${op} a single element`, dims, strides: Array.from({ length: operands }, (_, o) => (o === op ? d.map(() => 0) : d)) });
    list.push({ name: `operand ${op} transposed`, dims, strides: Array.from({ length: operands }, (_, o) => (o === op ? columnMajor(dims) : d)) });
  }
  for (let i = 0; i < dims.length; i++) {
    const empty = dims.map((n, j) => (j === i ? 0 : n));
    list.push({ name: `size 0 along ${i}`, dims: empty, strides: Array.from({ length: operands }, () => d) });
  }
  return list;
}

/** Seeded values: quarters in [−2, 2] (exact sums and products, ties for the comparisons), some −0 and NaN. */
function values(n: number, seed: number, dtype: DType): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    if (dtype === 'int32') return Math.floor(r() * 7) - 3;
    return i % 11 === 3 ? NaN : i % 7 === 2 ? -0 : Math.round(r() * 16 - 8) / 4;
  });
}

/** First difference between got and want: bit for bit with `anyNaN` false, else NaN matches any NaN. */
function difference(got: TypedArray, want: TypedArray, anyNaN: boolean): string | null {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  const bits = (t: TypedArray) => (t instanceof Float32Array ? new Uint32Array(t.buffer, t.byteOffset, t.length) : t);
  const [g, w] = [bits(got), bits(want)];
  for (let i = 0; i < g.length; i++) {
    if (anyNaN && Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    if (g[i] !== w[i]) return `element ${i}: got ${got[i]}, expected ${want[i]}`;
  }
  return null;
}

describe('binary at the 4-dim boundary', () => {
  const ops: [BinaryOp, DType][] = [['add', 'float32'], ['sub', 'float32'], ['mul', 'float32'], ['div', 'float32'],
    ['maximum', 'float32'], ['minimum', 'float32'], ['lessEqual', 'float32'], ['greater', 'int32'], ['equal', 'int32']];
  const cases = SHAPES.flatMap((shape, s) => layouts(shape, 2).map((l, k) => {
    const plan: BroadcastPlan = { dims: l.dims, aStrides: l.strides[0]!, bStrides: l.strides[1]! };
    return { name: `[${shape}] ${l.name}`, plan, seed: 100 * s + k };
  }));
  it.each(backends)('$label', ({ backend }) => {
    for (const [op, dtype] of ops) {
      for (const { name, plan, seed } of cases) {
        const a = values(extent(plan.dims, plan.aStrides), seed, dtype);
        const b = values(extent(plan.dims, plan.bStrides), seed + 7, dtype);
        const run = (be: typeof backend, p: BroadcastPlan) => withBufs(be,
          [{ dtype, data: a }, { dtype, data: b }, { dtype, size: product(plan.dims) }],
          ([ba, bb, bo]) => be.binary(op, ba!, bb!, bo!, p))[2]!;
        const want = run(oracle, plan);
        for (const k of [0, 1, 2]) {
          expect(difference(run(backend, lead(plan, k)), want, true), `${op} ${dtype} ${name}, ${k} leading dims`).toBeNull();
        }
      }
    }
  });
});

describe('where at the 4-dim boundary', () => {
  const cases = SHAPES.flatMap((shape, s) => layouts(shape, 3).map((l, k) => {
    const plan: WherePlan = { dims: l.dims, condStrides: l.strides[0]!, aStrides: l.strides[1]!, bStrides: l.strides[2]! };
    return { name: `[${shape}] ${l.name}`, plan, seed: 100 * s + k };
  }));
  it.each(backends)('$label', ({ backend }) => {
    for (const { name, plan, seed } of cases) {
      const cond = values(extent(plan.dims, plan.condStrides), seed, 'float32').map((v) => (Number.isNaN(v) || v > 0.5 ? v : 0));
      const a = values(extent(plan.dims, plan.aStrides), seed + 3, 'float32');
      const b = values(extent(plan.dims, plan.bStrides), seed + 5, 'float32');
      const run = (be: typeof backend, p: WherePlan) => withBufs(be,
        [{ dtype: 'float32', data: cond }, { dtype: 'float32', data: a }, { dtype: 'float32', data: b },
          { dtype: 'float32', size: product(plan.dims) }],
        ([bc, ba, bb, bo]) => be.where(bc!, ba!, bb!, bo!, p))[3]!;
      const want = run(oracle, plan);
      for (const k of [0, 1, 2]) expect(difference(run(backend, lead(plan, k)), want, true), `${name}, ${k} leading dims`).toBeNull();
    }
  });
});

describe('copy at the 4-dim boundary', () => {
  const cases: { name: string; plan: CopyPlan; seed: number }[] = [];
  SHAPES.forEach((shape, s) => {
    const d = dense(shape);
    const add = (name: string, plan: CopyPlan) => cases.push({ name: `[${shape}] ${name}`, plan, seed: 100 * s + cases.length });
    // x dense, expanded along each axis, a single element, transposed, or empty, into a dense output (never a
    // broadcast output: its elements would be written more than once, in an order the backends need not share)
    for (const l of layouts(shape, 1)) add(`x ${l.name}`, { dims: l.dims, xStrides: l.strides[0]!, xOffset: 0, outStrides: d, outOffset: 0 });
    add('into a transposed output', { dims: shape, xStrides: d, xOffset: 0, outStrides: columnMajor(shape), outOffset: 0 });
    shape.forEach((n, i) => {
      // axis i reversed: x read from its last element along i backwards
      add(`reversed along ${i}`, { dims: shape, xStrides: d.map((v, j) => (j === i ? -v : v)), xOffset: (n - 1) * d[i]!, outStrides: d, outOffset: 0 });
    });
    // a slice of x written into every other element of a larger output, from an offset
    add('sliced view into a strided output', { dims: shape, xStrides: d.map((v) => 2 * v), xOffset: 1,
      outStrides: columnMajor(shape).map((v) => 3 * v), outOffset: 2 });
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const dtype of ['float32', 'int32'] as const) {
      for (const { name, plan, seed } of cases) {
        const x = values(extent(plan.dims, plan.xStrides, plan.xOffset), seed, dtype);
        const n = extent(plan.dims, plan.outStrides, plan.outOffset);
        // the output starts as a pattern, so elements the plan does not write are checked unchanged
        const start = Array.from({ length: n }, (_, i) => -1 - i);
        const run = (be: typeof backend, p: CopyPlan) => withBufs(be, [{ dtype, data: x }, { dtype, data: start }],
          ([bx, bo]) => be.copy(bx!, bo!, p))[1]!;
        const want = run(oracle, plan);
        for (const k of [0, 1, 2]) {
          expect(difference(run(backend, lead(plan, k)), want, false), `${dtype} ${name}, ${k} leading dims`).toBeNull();
        }
      }
    }
  });
});
