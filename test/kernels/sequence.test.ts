// The kernels for sequence models on every backend, table-driven, on awkward sizes (0, 1, not multiples of 4,
// large): dtype conversion, int32 comparisons and maximum, triangles, cumulative sums, sin / cos against Math.sin /
// Math.cos, and cross-entropy with ignored rows. Oracle: the ref backend (float64 where it computes), rounded once.
//   cast, comparisons, int32 max / argmax, triangles: exact (bit for bit);
//   cumsum: every build accumulates in float64 and rounds once, so it matches the float64 oracle rounded to float32
//           exactly;
//   sin / cos: ≤ 1 ulp from Math.sin / Math.cos of the float32 input rounded to float32 (measured on a million
//           inputs across magnitudes below);
//   cross-entropy with ignored rows: the tolerances of test/kernels/softmax.test.ts, and ignored rows exactly 0.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import * as K from '../../src/kernels/index.js';
import type { Backend, BinaryOp, BroadcastPlan, DType } from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { withBufs } from '../helpers/bufs.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const oracle = new RefBackend();

const SIZES = [0, 1, 3, 5, 17, 64, 127, 300, 100003];

function random(n: number, seed: number, gen: (r: () => number) => number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => gen(r));
}
const uniform = (lo: number, hi: number) => (r: () => number) => lo + (hi - lo) * r();
const ints = (lo: number, hi: number) => (r: () => number) => Math.floor(lo + (hi - lo + 1) * r());

/** The first index where a and b differ bit for bit (NaN matches NaN), or null. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `length ${a.length}, expected ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)))) return `element ${i}: got ${a[i]}, expected ${b[i]}`;
  }
  return null;
}

function ulp32(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

// ---- cast ------------------------------------------------------------------------------------------------------

describe('cast', () => {
  // Fractions of both signs (truncation toward zero), values past the int32 range (saturation), NaN (→ 0), ±Inf,
  // −0, and integers past 2²⁴ (rounding of int32 → float32, ties to even).
  const specials = [NaN, Infinity, -Infinity, -0, 2.5, -2.5, 0.999, -0.999, 3e9, -3e9, 2147483520, -2147483648, 1e-40];
  const floats = (n: number, seed: number) => {
    const x = random(n, seed, uniform(-1e3, 1e3));
    for (let k = 0; k < specials.length && k < n; k++) x[(k * 7) % n] = specials[k]!;
    return Float32Array.from(x);
  };
  const int32s = (n: number, seed: number) => {
    const x = random(n, seed, ints(-(2 ** 31), 2 ** 31 - 1));
    for (const [k, v] of [[0, 16777217], [1, -16777219], [2, 2147483647], [3, -2147483648], [4, 0]] as const) if (k < n) x[k] = v;
    return Int32Array.from(x);
  };
  const run = (b: Backend, x: ArrayLike<number>, from: DType, to: DType) =>
    withBufs(b, [{ dtype: from, data: x }, { dtype: to, size: x.length }], ([bx, bo]) => {
      if (x.length > 0) b.cast(bx!, bo!, x.length);
    })[1]!;

  it('ref: float → int32 truncates toward zero and saturates (NaN → 0); int32 → float32 rounds to nearest even', () => {
    expect(Array.from(run(oracle, [2.5, -2.5, 0.999, -0.999, NaN, Infinity, -Infinity, 3e9, -3e9, -0], 'float64', 'int32')))
      .toEqual([2, -2, 0, 0, 0, 2147483647, -2147483648, 2147483647, -2147483648, 0]);
    expect(Array.from(run(oracle, [16777217, 16777219, -16777219, 2147483647], 'int32', 'float32')))
      .toEqual([16777216, 16777220, -16777220, 2147483648]);
    expect(Array.from(run(oracle, [0.1, 1e300], 'float64', 'float32'))).toEqual([Math.fround(0.1), Infinity]);
  });

  const cases = SIZES.map((n, s) => ({ n, f: floats(n, 10 + s), i: int32s(n, 20 + s) }));
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, f, i } of cases) {
      expect(firstDifference(run(backend, f, 'float32', 'int32'), run(oracle, f, 'float32', 'int32')), `f32→i32 n=${n}`).toBeNull();
      expect(firstDifference(run(backend, i, 'int32', 'float32'), run(oracle, i, 'int32', 'float32')), `i32→f32 n=${n}`).toBeNull();
      expect(firstDifference(run(backend, f, 'float32', 'float32'), f), `f32→f32 n=${n}`).toBeNull();
    }
  });
});

// ---- int32 comparisons and maximum ------------------------------------------------------------------------------

describe('int32 comparisons', () => {
  const ops: BinaryOp[] = ['equal', 'greater', 'greaterEqual', 'less', 'lessEqual'];
  // same shape, a row, a column and a scalar broadcast, and a transposed operand
  const plans: { name: string; plan: BroadcastPlan; sizes: [number, number] }[] = [
    ...SIZES.map((n) => ({ name: `same [${n}]`, plan: { dims: [n], aStrides: [1], bStrides: [1] }, sizes: [n, n] as [number, number] })),
    { name: 'row [17,5]+[5]', plan: { dims: [17, 5], aStrides: [5, 1], bStrides: [0, 1] }, sizes: [85, 5] },
    { name: 'column [5,17]+[5,1]', plan: { dims: [5, 17], aStrides: [17, 1], bStrides: [1, 0] }, sizes: [85, 5] },
    { name: 'scalar [300]+[]', plan: { dims: [300], aStrides: [1], bStrides: [0] }, sizes: [300, 1] },
    { name: 'transposed [3,7]', plan: { dims: [3, 7], aStrides: [1, 3], bStrides: [7, 1] }, sizes: [21, 21] },
    { name: '5-d', plan: { dims: [2, 3, 2, 3, 5], aStrides: [90, 30, 15, 5, 1], bStrides: [0, 0, 15, 5, 1] }, sizes: [180, 30] },
  ];
  const cases = plans.map(({ name, plan, sizes }, k) => {
    // few distinct values (many ties), and the extremes of int32
    const a = random(sizes[0], 100 + k, ints(-3, 3));
    const b = random(sizes[1], 200 + k, ints(-3, 3));
    if (sizes[0] > 2 && sizes[1] > 2) [a[0], b[0], a[1], b[1]] = [2147483647, -2147483648, -2147483648, 2147483647];
    return { name, plan, a, b, n: plan.dims.reduce((x, y) => x * y, 1) };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const op of ops) {
      for (const { name, plan, a, b, n } of cases) {
        const run = (be: Backend) => withBufs(be, [{ dtype: 'int32', data: a }, { dtype: 'int32', data: b }, { dtype: 'int32', size: n }],
          ([ba, bb, bo]) => be.binary(op, ba!, bb!, bo!, plan))[2]!;
        const got = run(backend);
        expect(got).toBeInstanceOf(Int32Array);
        expect(firstDifference(got, run(oracle)), `${op} ${name}`).toBeNull();
      }
    }
  });
  it('ref: the relations themselves, at the ends of the range', () => {
    const a = [2147483647, -2147483648, 5, 5], b = [-2147483648, 2147483647, 5, 6];
    const run = (op: BinaryOp) => Array.from(withBufs(oracle, [{ dtype: 'int32', data: a }, { dtype: 'int32', data: b }, { dtype: 'int32', size: 4 }],
      ([ba, bb, bo]) => oracle.binary(op, ba!, bb!, bo!, { dims: [4], aStrides: [1], bStrides: [1] }))[2]!);
    expect([run('equal'), run('greater'), run('greaterEqual'), run('less'), run('lessEqual')])
      .toEqual([[0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 1, 1, 1]]);
  });
});

describe('int32 max and argmax', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [1, 5, 1], [3, 17, 1], [2, 300, 1], [1, 100003, 1], [4, 3, 5], [2, 64, 17], [5, 1, 7]];
  const cases = shapes.map(([outer, r, inner], k) => ({ outer, r, inner, x: random(outer * r * inner, 300 + k, ints(-4, 4)) }));
  it.each(backends)('$label', ({ backend }) => {
    for (const { outer, r, inner, x } of cases) {
      const run = (be: Backend) => withBufs(be, [{ dtype: 'int32', data: x }, { dtype: 'int32', size: outer * inner }, { dtype: 'int32', size: outer * inner }],
        ([bx, bo, ba]) => be.reduce('max', bx!, bo!, outer, r, inner, ba!));
      const [, out, arg] = run(backend);
      const [, want, wantArg] = run(oracle);
      expect(firstDifference(out!, want!), `max [${outer},${r},${inner}]`).toBeNull();
      expect(firstDifference(arg!, wantArg!), `argmax [${outer},${r},${inner}] (the first maximum)`).toBeNull();
    }
    const [, top, at] = withBufs(backend, [{ dtype: 'int32', data: [-2147483648, 2147483647, 3, 2147483647] }, { dtype: 'int32', size: 1 }, { dtype: 'int32', size: 1 }],
      ([bx, bo, ba]) => backend.reduce('max', bx!, bo!, 1, 4, 1, ba!));
    expect([top![0], at![0]]).toEqual([2147483647, 1]);
  });
});

// ---- triangles and cumulative sums ---------------------------------------------------------------------------------

describe('triangle (tril / triu)', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [1, 3, 5], [2, 5, 3], [3, 17, 17], [1, 64, 127], [2, 300, 7], [1, 0, 4], [0, 3, 3]];
  const diagonals = [0, 1, -1, 2, -3, 200, -200, 2 ** 31 - 1, -(2 ** 31)];
  it('ref keeps column − row ≤ d (lower) or ≥ d (upper)', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const run = (d: number, upper: boolean) => Array.from(withBufs(oracle, [{ dtype: 'float64', data: x }, { dtype: 'float64', size: 9 }],
      ([bx, bo]) => oracle.triangle(bx!, bo!, 1, 3, 3, d, upper))[1]!);
    expect(run(0, false)).toEqual([1, 0, 0, 4, 5, 0, 7, 8, 9]);
    expect(run(-1, false)).toEqual([0, 0, 0, 4, 0, 0, 7, 8, 0]);
    expect(run(1, true)).toEqual([0, 2, 3, 0, 0, 6, 0, 0, 0]);
    expect(run(-1, true)).toEqual([1, 2, 3, 4, 5, 6, 0, 8, 9]);
  });
  const cases = shapes.map(([batch, rows, cols], k) => ({ batch, rows, cols, x: Float32Array.from(random(batch * rows * cols, 400 + k, uniform(-5, 5))) }));
  it.each(backends)('$label', ({ backend }) => {
    for (const upper of [false, true]) {
      for (const d of diagonals) {
        for (const { batch, rows, cols, x } of cases) {
          const what = `${upper ? 'triu' : 'tril'} d=${d} [${batch},${rows},${cols}]`;
          const run = (be: Backend, dtype: DType) => withBufs(be, [{ dtype, data: x }, { dtype, size: x.length }],
            ([bx, bo]) => { if (x.length) be.triangle(bx!, bo!, batch, rows, cols, d, upper); })[1]!;
          const want = run(oracle, 'float32');
          expect(firstDifference(run(backend, 'float32'), want), what).toBeNull();
          // int32 data (the kernel moves 32-bit words) and in place (out aliases x)
          const xi = Int32Array.from(x, (v) => Math.round(v * 1000));
          const [gotInt] = withBufs(backend, [{ dtype: 'int32', data: xi }], ([bx]) => { if (x.length) backend.triangle(bx!, bx!, batch, rows, cols, d, upper); });
          expect(firstDifference(gotInt!, Int32Array.from(want, (v, i) => (v === 0 && x[i] !== 0 ? 0 : xi[i]!))), `${what} int32 in place`).toBeNull();
        }
      }
    }
  });
});

describe('cumsum', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [1, 5, 1], [3, 17, 1], [1, 100003, 1], [4, 3, 5], [2, 64, 17], [5, 1, 7], [2, 0, 3], [1, 127, 300],
  ];
  const cases = shapes.map(([outer, r, inner], k) => ({ outer, r, inner, x: Float32Array.from(random(outer * r * inner, 500 + k, uniform(-3, 3))) }));
  it.each(backends)('$label', ({ backend }) => {
    for (const reverse of [false, true]) {
      for (const { outer, r, inner, x } of cases) {
        const what = `cumsum reverse ${reverse} [${outer},${r},${inner}]`;
        const run = (be: Backend, dtype: DType) => withBufs(be, [{ dtype, data: x }, { dtype, size: x.length }],
          ([bx, bo]) => { if (x.length) be.cumsum(bx!, bo!, outer, r, inner, reverse); })[1]!;
        const want = Float32Array.from(run(oracle, 'float64'));
        expect(firstDifference(run(backend, 'float32'), want), what).toBeNull();
        const [inPlace] = withBufs(backend, [{ dtype: 'float32', data: x }], ([bx]) => { if (x.length) backend.cumsum(bx!, bx!, outer, r, inner, reverse); });
        expect(firstDifference(inPlace!, want), `${what} in place`).toBeNull();
      }
    }
  });
  it('ref: the sums themselves, NaN and Infinity carried on', () => {
    const run = (x: number[], reverse: boolean) => Array.from(withBufs(oracle, [{ dtype: 'float64', data: x }, { dtype: 'float64', size: x.length }],
      ([bx, bo]) => oracle.cumsum(bx!, bo!, 1, x.length, 1, reverse))[1]!);
    expect(run([1, 2, 3, 4], false)).toEqual([1, 3, 6, 10]);
    expect(run([1, 2, 3, 4], true)).toEqual([10, 9, 7, 4]);
    expect(run([1, Infinity, 2, -Infinity], false)).toEqual([1, Infinity, Infinity, NaN]);
  });
});

// ---- sin and cos -------------------------------------------------------------------------------------------------

describe.each(['sin', 'cos'] as const)('%s against Math.%s', (op) => {
  const f = op === 'sin' ? Math.sin : Math.cos;
  // small arguments, a few periods, positional-encoding sized ones, huge ones (argument reduction), specials
  const ranges: [number, number][] = [[-1, 1], [-10, 10], [-1e4, 1e4], [-1e30, 1e30]];
  const inputs = ranges.map(([lo, hi], k) => {
    const x = Float32Array.from(random(250000, 600 + k, uniform(lo, hi)));
    x.set([NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3.4e38, Math.fround(Math.PI), Math.fround(Math.PI / 2), 1e-7], 0);
    return x;
  });
  it.each(backends)('$label: within 1 ulp, NaN for NaN and ±Infinity', ({ backend }) => {
    for (const x of inputs) {
      for (const n of [...SIZES.filter((s) => s < x.length), x.length]) {
        const [, got] = withBufs(backend, [{ dtype: 'float32', data: x.subarray(0, n) }, { dtype: 'float32', size: n }],
          ([bx, bo]) => backend.unary(op, bx!, bo!, n, 0));
        for (let i = 0; i < n; i++) {
          const want = Math.fround(f(x[i]!));
          const g = got![i]!;
          const ok = Number.isNaN(want) ? Number.isNaN(g) : Math.abs(g - want) <= ulp32(want) && (want !== 0 || Object.is(g, want));
          if (!ok) expect.fail(`${op}(${x[i]}) = ${g}, expected ${want} (n=${n})`);
        }
      }
    }
  });
});

// ---- cross-entropy with ignored rows --------------------------------------------------------------------------------

describe('crossEntropy with ignoreIndex', () => {
  const shapes: [number, number][] = [[1, 1], [3, 5], [17, 10], [64, 13], [2, 127], [33, 64]];
  // −100 (PyTorch's default, outside the classes) and 2 (a class itself, as a padding token would be)
  const cases = shapes.flatMap(([n, c], s) => [-100, 2].map((ignoreIndex) => {
    const logits = Float32Array.from(random(n * c, 700 + s, uniform(-8, 8)));
    const labels = Int32Array.from(random(n, 800 + s, ints(0, c - 1)), (v, i) => (i % 3 === 1 ? ignoreIndex : v));
    const dloss = Float32Array.from(random(n, 900 + s, uniform(-2, 2)));
    return { n, c, logits, labels, dloss, ignoreIndex };
  }));
  it.each(backends)('$label', ({ backend }) => {
    for (const smoothing of [0, 0.1]) {
      for (const { n, c, logits, labels, dloss, ignoreIndex } of cases) {
        const what = `[${n},${c}] ignoreIndex ${ignoreIndex} smoothing ${smoothing}`;
        const forward = (be: Backend, dtype: DType) => withBufs(be,
          [{ dtype, data: logits }, { dtype: 'int32', data: labels }, { dtype, size: n }, { dtype, size: n * c }],
          ([bl, by, bloss, bp]) => be.crossEntropy(bl!, by!, bloss!, bp!, n, c, smoothing, ignoreIndex));
        const [, , loss, probs] = forward(backend, 'float32');
        const [, , wantLoss, wantProbs] = forward(oracle, 'float64');
        for (let i = 0; i < n; i++) {
          if (labels[i] === ignoreIndex) expect(loss![i], `${what} row ${i} ignored`).toBe(0);
          else expect(Math.abs(loss![i]! - wantLoss![i]!), `${what} loss ${i}`).toBeLessThanOrEqual(2 ** -19 * (Math.abs(wantLoss![i]!) + 20));
        }
        for (let k = 0; k < n * c; k++) expect(Math.abs(probs![k]! - wantProbs![k]!)).toBeLessThanOrEqual(2 ** -18 * wantProbs![k]! + 1e-37);
        for (const stride of [0, 1]) {
          const p32 = Float32Array.from(wantProbs!);
          const grad = (be: Backend, dtype: DType) => withBufs(be,
            [{ dtype, data: p32 }, { dtype: 'int32', data: labels }, { dtype, data: dloss }, { dtype, size: n * c }],
            ([bp, by, bd, bdx]) => be.crossEntropyGrad(bp!, by!, bd!, stride, 0.5, bdx!, n, c, smoothing, ignoreIndex))[3]!;
          const got = grad(backend, 'float32'), want = grad(oracle, 'float64');
          for (let k = 0; k < n * c; k++) {
            if (labels[Math.floor(k / c)] === ignoreIndex) {
              if (!Object.is(got[k], 0)) expect.fail(`${what} stride ${stride}: dx[${k}] = ${got[k]} in an ignored row`);
            } else if (!(Math.abs(got[k]! - want[k]!) <= 2 ** -22 * Math.abs(want[k]!) + 2 ** -23)) {
              expect.fail(`${what} stride ${stride}: dx[${k}] = ${got[k]}, expected ${want[k]}`);
            }
          }
        }
      }
    }
  });
});

// ---- the kernel layer's checks ------------------------------------------------------------------------------------

describe('kernel layer: bad input to the sequence kernels', () => {
  it.each(backends)('$label', ({ backend }) => {
    const arr = (shape: number[], dtype: DType = 'float32') => {
      const x = K.empty(backend, dtype, shape);
      backend.fill(x.buf, 0, 0, x.buf.size);
      return x;
    };
    const logits = arr([2, 3]), labels = arr([2], 'int32'), ints = arr([4], 'int32'), floats = arr([4]), none = arr([0]);
    const made: K.NDArray[] = [logits, labels, ints, floats, none];
    try {
      expect(() => K.crossEntropy(logits, labels, 0, 2 ** 32 + 1)).toThrow('crossEntropy: ignoreIndex must be an int32, got 4294967297');
      expect(() => K.triangle(ints, 0, false)).toThrow('tril: expected a tensor of rank ≥ 2 (matrices in the last two dims), got [4]');
      expect(() => K.triangle(logits, 1.5, true)).toThrow('triu: diagonal must be an integer, got 1.5');
      expect(() => K.cumsum(ints, 0)).toThrow('cumsum: expects float32 or float64 data, got int32 (x.float() casts it)');
      expect(() => K.cumsum(logits, 2)).toThrow('cumsum: axis 2 is out of range for shape [2,3]');
      expect(() => K.binary('add', ints, ints)).toThrow('add: expects float32 or float64 data, got int32 (x.float() casts it)');
      expect(() => K.binary('equal', ints, floats)).toThrow('equal: expects float32 or float64 data, got int32');
      expect(() => K.reduce('sum', ints)).toThrow('sum: expects float32 or float64 data, got int32');
      // what they do accept: int32 comparisons and max, a triangle far beyond the matrix, a cast of nothing
      const max = K.reduce('max', ints);
      made.push(max.argmax!, K.binary('less', ints, ints), max.out, K.triangle(logits, 2 ** 40, false), K.cast(none, 'int32'));
      expect(made.slice(6).map((x) => [x.buf.dtype, x.shape])).toEqual([['int32', [4]], ['int32', []], ['float32', [2, 3]], ['int32', [0]]]);
    } finally {
      for (const x of made) if (x.buf.live) K.free(x);
    }
  });
});
