// 2-D pooling kernels (max with indices, its scatter and gather; average; adaptive average; their backwards) on
// every backend, table-driven, through the validated entry points. Oracle: the ref backend in float64 on the
// same float32 inputs. The max and its indices are exact (first maximum on ties, NaN rules); the gather is exact.
// Sums: the wasm kernels add in float32, in the reference order, so a result that sums t terms is within
// (t + 2)·2⁻²⁴·Σ|terms| of the oracle; Σ|terms| is the oracle run on |x| (|dy|), t at most kh·kw.
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { Backend, DType, TypedArray } from '../../src/backend/types.js';
import * as K from '../../src/kernels/index.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const oracle = new RefBackend();

interface Values { data: TypedArray; shape: number[] }

/** Runs fn on arrays made from `inputs` on backend b; returns what fn returns as values, everything freed. */
function withArrays(b: Backend, dtype: DType, inputs: { data: ArrayLike<number>; shape: readonly number[]; int?: boolean }[],
  fn: (xs: K.NDArray[]) => K.NDArray[]): Values[] {
  const xs = inputs.map(({ data, shape, int }) => {
    const x = K.empty(b, int ? 'int32' : dtype, shape);
    b.write(x.buf, data);
    return x;
  });
  try {
    const outs = fn(xs);
    const values = outs.map((o) => ({ data: b.read(o.buf), shape: [...o.shape] }));
    outs.forEach(K.free);
    return values;
  } finally {
    xs.forEach(K.free);
  }
}

function random(n: number, seed: number, gen: (r: () => number) => number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => gen(r));
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** First element where |got − want| > tol(i) (NaN matches NaN), or null. */
function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): string | null {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const ok = Number.isNaN(want[i]!) ? Number.isNaN(got[i]!) : Math.abs(got[i]! - want[i]!) <= tol(i) || got[i] === want[i];
    if (!ok) return `element ${i}: got ${got[i]}, expected ${want[i]} (tolerance ${tol(i)})`;
  }
  return null;
}

interface WindowCase { name: string; shape: number[]; win: K.Pool2dWindow; countIncludePad?: boolean; divisor?: number }

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
function win(kernel: number | [number, number], stride: number | [number, number] = kernel, padding: number | [number, number] = 0,
  dilation: number | [number, number] = 1, ceilMode = false): K.Pool2dWindow {
  return { kernel: pair(kernel), stride: pair(stride), padding: pair(padding), dilation: pair(dilation), ceilMode };
}

// The awkward sizes: kernel = input size, stride > kernel, odd padding, ceilMode (with padding: partial windows
// at the border), 1×1 kernels and planes, batch 1, channel counts that are not multiples of 4, non-square
// windows, 3-D input, an empty batch, a LeNet-sized call.
const WINDOWS: WindowCase[] = [
  { name: '2×2 stride 2', shape: [2, 3, 6, 6], win: win(2) },
  { name: '3×3 stride 2 pad 1, odd sizes', shape: [1, 5, 7, 5], win: win(3, 2, 1) },
  { name: '3×3 stride 1 pad 1 (overlapping)', shape: [2, 1, 5, 5], win: win(3, 1, 1) },
  { name: 'kernel = input size', shape: [1, 2, 4, 4], win: win(4, 1) },
  { name: 'stride > kernel', shape: [1, 3, 7, 7], win: win(2, 3) },
  { name: 'ceilMode', shape: [1, 2, 5, 5], win: win(2, 2, 0, 1, true) },
  { name: 'ceilMode with padding', shape: [2, 3, 6, 7], win: win(3, 2, 1, 1, true) },
  { name: '1×1 planes, 1×1 kernel', shape: [3, 7, 1, 1], win: win(1) },
  { name: '1×1 kernel, stride 2', shape: [1, 6, 9, 9], win: win(1, 2) },
  { name: 'non-square window', shape: [2, 3, 8, 7], win: win([3, 2], [2, 1], [1, 0]) },
  { name: 'non-square, ceilMode', shape: [1, 5, 9, 4], win: win([2, 4], [3, 2], [1, 2], 1, true) },
  { name: '3-D input', shape: [5, 3, 4], win: win(2, 1) },
  { name: 'empty batch', shape: [0, 3, 4, 4], win: win(2) },
  { name: 'LeNet size', shape: [4, 16, 28, 28], win: win(2) },
  // wide rows: four outputs at a time with SIMD in the middle, the scalar loop at the borders and the tail
  { name: 'wide, stride 1, padding', shape: [2, 3, 9, 21], win: win(3, 1, 1) },
  { name: 'wide, stride 3 (lane by lane)', shape: [1, 2, 8, 30], win: win([2, 3], [1, 3]) },
  { name: 'wide, stride 2, ceilMode', shape: [1, 5, 12, 23], win: win(2, 2, 0, 1, true) },
];
const DILATED: WindowCase[] = [
  { name: 'dilation 2', shape: [1, 2, 9, 8], win: win(3, 1, 2, 2) },
  { name: 'dilation [2,3], ceilMode', shape: [2, 3, 11, 10], win: win([2, 3], [2, 3], 1, [2, 3], true) },
  { name: 'dilated windows entirely in the padding', shape: [1, 2, 1, 4], win: win(2, 1, 2, 3) },
  { name: 'wide, dilation 2, stride 2', shape: [1, 2, 10, 40], win: win(3, 2, 1, 2) },
];
const AVERAGE: WindowCase[] = [
  ...WINDOWS,
  ...WINDOWS.filter((c) => c.win.padding.some((p) => p > 0)).map((c) => ({ ...c, name: `${c.name}, without padding in the count`, countIncludePad: false })),
  { name: 'divisor override', shape: [2, 3, 7, 5], win: win(3, 2, 1, 1, true), divisor: 5 },
];

describe('maxPool2d', () => {
  // Every window twice: NaN wins (PyTorch's rule, the default) and NaN skipped (ignoreNaN, TensorFlow's).
  const windows = [...WINDOWS, ...DILATED].flatMap((c) => [c, { ...c, name: `${c.name}, ignoreNaN`, win: { ...c.win, ignoreNaN: true } }]);
  const cases = windows.map((c, k) => {
    // Few distinct values (many ties: the first maximum must win), and NaN and −∞ here and there.
    const x = random(size(c.shape), 100 + k, (r) => {
      const u = r();
      return u < 0.02 ? NaN : u < 0.04 ? -Infinity : Math.floor(7 * r()) - 3;
    });
    const [want, indices] = withArrays(oracle, 'float64', [{ data: x, shape: c.shape }], ([a]) => {
      const { out, indices } = K.maxPool2d(a!, c.win);
      return [out, indices];
    });
    const dy = random(want!.data.length, 200 + k, (r) => 4 * r() - 2);
    const grad = (b: Backend, dtype: DType, values: ArrayLike<number>) => withArrays(b, dtype,
      [{ data: values, shape: want!.shape }, { data: indices!.data, shape: want!.shape, int: true }],
      ([d, i]) => [K.maxPool2dGrad(d!, i!, c.shape)])[0]!.data;
    return {
      c, x, want: want!, indices: indices!.data, dy, grad,
      wantGrad: grad(oracle, 'float64', dy), scale: grad(oracle, 'float64', dy.map(Math.abs)),
    };
  });
  it('the oracle: NaN wins over every number, or with ignoreNaN is skipped (a window of NaNs: −∞ at its first position)', () => {
    // One plane [[NaN, 5, NaN], [3, NaN, NaN]], two 2×2 windows: positions {0, 1, 3, 4} and {1, 2, 4, 5}.
    const x = { data: [NaN, 5, NaN, 3, NaN, NaN], shape: [1, 1, 2, 3] };
    const pool = (ignoreNaN: boolean) => withArrays(oracle, 'float64', [x], ([a]) => {
      const r = K.maxPool2d(a!, { ...win(2, 1), ignoreNaN });
      return [r.out, r.indices];
    }).map((v) => Array.from(v.data));
    expect(pool(false)).toEqual([[NaN, NaN], [4, 5]]); // the last NaN of each window
    expect(pool(true)).toEqual([[5, 5], [1, 1]]);
    const allNaN = withArrays(oracle, 'float64', [{ data: [NaN, NaN], shape: [1, 1, 1, 2] }], ([a]) => {
      const r = K.maxPool2d(a!, { ...win([1, 2], 1), ignoreNaN: true });
      return [r.out, r.indices];
    }).map((v) => Array.from(v.data));
    expect(allNaN).toEqual([[-Infinity], [0]]);
  });
  it.each(backends)('$label: values and indices exact; the scatter within the sum bound, the gather exact', ({ backend }) => {
    const dtypes: DType[] = backend.name === 'ref' ? ['float32', 'float64'] : ['float32'];
    for (const dtype of dtypes) {
      for (const { c, x, want, indices, dy, grad, wantGrad, scale } of cases) {
        const what = `${c.name} ${dtype}`;
        const [out, idx] = withArrays(backend, dtype, [{ data: x, shape: c.shape }], ([a]) => {
          const r = K.maxPool2d(a!, c.win);
          return [r.out, r.indices];
        });
        expect(out!.shape, what).toEqual(want.shape);
        expect(mismatch(out!.data, want.data, () => 0), what).toBeNull();
        expect(Array.from(idx!.data), what).toEqual(Array.from(indices));
        const t = c.win.kernel[0] * c.win.kernel[1] + 2;
        expect(mismatch(grad(backend, dtype, dy), wantGrad, (i) => t * 2 ** -24 * scale[i]!), `${what} grad`).toBeNull();
        const [gathered] = withArrays(backend, dtype, [{ data: x, shape: c.shape }, { data: indices, shape: want.shape, int: true }],
          ([a, i]) => [K.maxPool2dGather(a!, i!)]);
        // x at each index (0 for −1): the maximum, or with ignoreNaN for a window of NaNs its first NaN
        const [oh, ow] = want.shape.slice(-2) as [number, number];
        const [h, w] = c.shape.slice(-2) as [number, number];
        const atIndices = Array.from(indices, (j, i) => (j === -1 ? 0 : x[Math.floor(i / (oh * ow)) * h * w + j]!));
        expect(mismatch(gathered!.data, atIndices, () => 0), `${what} gather`).toBeNull();
      }
    }
  });
});

describe('avgPool2d', () => {
  const cases = AVERAGE.map((c, k) => {
    const x = random(size(c.shape), 300 + k, (r) => 4 * r() - 2);
    const forward = (b: Backend, dtype: DType, values: ArrayLike<number>) => withArrays(b, dtype, [{ data: values, shape: c.shape }],
      ([a]) => [K.avgPool2d(a!, c.win, c.countIncludePad, c.divisor)])[0]!;
    const want = forward(oracle, 'float64', x);
    const dy = random(want.data.length, 400 + k, (r) => 4 * r() - 2);
    const grad = (b: Backend, dtype: DType, values: ArrayLike<number>) => withArrays(b, dtype, [{ data: values, shape: want.shape }],
      ([d]) => [K.avgPool2dGrad(d!, c.shape, c.win, c.countIncludePad, c.divisor)])[0]!.data;
    return {
      c, x, dy, forward, grad, want, scale: forward(oracle, 'float64', x.map(Math.abs)).data,
      wantGrad: grad(oracle, 'float64', dy), gradScale: grad(oracle, 'float64', dy.map(Math.abs)),
    };
  });
  it.each(backends)('$label: forward and backward within the sum bound', ({ backend }) => {
    const dtypes: DType[] = backend.name === 'ref' ? ['float32', 'float64'] : ['float32'];
    for (const dtype of dtypes) {
      for (const { c, x, dy, forward, grad, want, scale, wantGrad, gradScale } of cases) {
        const what = `${c.name} ${dtype}`;
        const t = c.win.kernel[0] * c.win.kernel[1] + 2;
        const out = forward(backend, dtype, x);
        expect(out.shape, what).toEqual(want.shape);
        expect(mismatch(out.data, want.data, (i) => t * 2 ** -24 * scale[i]!), what).toBeNull();
        expect(mismatch(grad(backend, dtype, dy), wantGrad, (i) => t * 2 ** -24 * gradScale[i]!), `${what} grad`).toBeNull();
      }
    }
  });
});

describe('pooling: SIMD and scalar paths', () => {
  it('give the same bits on every wasm build (each lane visits its window in the scalar order)', () => {
    const wasm = backends.filter((b) => b.backend.name === 'wasm');
    for (const [k, c] of AVERAGE.entries()) {
      const x = random(size(c.shape), 700 + k, (r) => 4 * r() - 2);
      const results = wasm.map(({ backend }) => withArrays(backend, 'float32', [{ data: x, shape: c.shape }],
        ([a]) => [K.avgPool2d(a!, c.win, c.countIncludePad, c.divisor)])[0]!.data);
      for (const [i, r] of results.entries()) expect(Array.from(r), `${c.name} on ${wasm[i]!.label}`).toEqual(Array.from(results[0]!));
    }
  });
});

describe('adaptiveAvgPool2d', () => {
  // Sizes that divide the input and sizes that do not (overlapping windows), larger than the input, 1×1.
  const CASES: { shape: number[]; size: [number, number] }[] = [
    { shape: [2, 3, 7, 5], size: [2, 2] }, { shape: [1, 4, 5, 7], size: [3, 3] }, { shape: [1, 2, 10, 10], size: [3, 4] },
    { shape: [1, 1, 3, 3], size: [5, 5] }, { shape: [2, 5, 8, 8], size: [1, 1] }, { shape: [1, 2, 6, 6], size: [3, 3] },
    { shape: [3, 5, 4], size: [2, 3] }, { shape: [0, 2, 4, 4], size: [2, 2] }, { shape: [4, 32, 7, 7], size: [3, 3] },
  ];
  const cases = CASES.map((c, k) => {
    const x = random(size(c.shape), 500 + k, (r) => 4 * r() - 2);
    const forward = (b: Backend, dtype: DType, values: ArrayLike<number>) => withArrays(b, dtype, [{ data: values, shape: c.shape }],
      ([a]) => [K.adaptiveAvgPool2d(a!, c.size)])[0]!;
    const want = forward(oracle, 'float64', x);
    const dy = random(want.data.length, 600 + k, (r) => 4 * r() - 2);
    const grad = (b: Backend, dtype: DType, values: ArrayLike<number>) => withArrays(b, dtype, [{ data: values, shape: want.shape }],
      ([d]) => [K.adaptiveAvgPool2dGrad(d!, c.shape)])[0]!.data;
    // the largest window: ⌈h/oh⌉ + 1 rows by ⌈w/ow⌉ + 1 columns
    const [h, w] = c.shape.slice(-2) as [number, number];
    const t = (Math.ceil(h / c.size[0]) + 1) * (Math.ceil(w / c.size[1]) + 1) + 2;
    return {
      c, x, dy, t, forward, grad, want, scale: forward(oracle, 'float64', x.map(Math.abs)).data,
      wantGrad: grad(oracle, 'float64', dy), gradScale: grad(oracle, 'float64', dy.map(Math.abs)),
    };
  });
  it.each(backends)('$label: forward and backward within the sum bound', ({ backend }) => {
    const dtypes: DType[] = backend.name === 'ref' ? ['float32', 'float64'] : ['float32'];
    for (const dtype of dtypes) {
      for (const { c, x, dy, t, forward, grad, want, scale, wantGrad, gradScale } of cases) {
        const what = `${JSON.stringify(c)} ${dtype}`;
        const out = forward(backend, dtype, x);
        expect(out.shape, what).toEqual(want.shape);
        expect(mismatch(out.data, want.data, (i) => t * 2 ** -24 * scale[i]!), what).toBeNull();
        expect(mismatch(grad(backend, dtype, dy), wantGrad, (i) => t * 2 ** -24 * gradScale[i]!), `${what} grad`).toBeNull();
      }
    }
  });
});

describe('pooling kernels: bad input never reaches memory outside the blocks', () => {
  it.each(backends)('$label', ({ backend }) => {
    const before = backend.memory().buffers;
    const x = { data: [1, 2, 3, 4, 5, 6, 7, 8], shape: [2, 1, 2, 2] };
    const dy = { data: [1, 1], shape: [2, 1, 1, 1] };
    for (const [indices, message] of [
      [[0, 4], 'maxPool2dGrad: index 4 at position 1 is out of range [-1, 4) for its plane'],
      [[-2, 0], 'maxPool2dGrad: index -2 at position 0 is out of range [-1, 4) for its plane'],
    ] as const) {
      const idx = { data: indices, shape: dy.shape, int: true };
      expect(() => withArrays(backend, 'float32', [dy, idx], ([d, i]) => [K.maxPool2dGrad(d!, i!, x.shape)])).toThrow(message);
      expect(() => withArrays(backend, 'float32', [x, idx], ([a, i]) => [K.maxPool2dGather(a!, i!)]))
        .toThrow(message.replace('Grad', 'Gather'));
    }
    expect(() => withArrays(backend, 'float32', [dy, { data: [0, 1, 2], shape: [3], int: true }], ([d, i]) => [K.maxPool2dGrad(d!, i!, x.shape)]))
      .toThrow('maxPool2dGrad: indices [3] and gradient [2,1,1,1] differ');
    // −1 (a window outside the plane) is a valid index: nothing is added, the gather gives 0
    const [dx] = withArrays(backend, 'float32', [dy, { data: [-1, 3], shape: dy.shape, int: true }], ([d, i]) => [K.maxPool2dGrad(d!, i!, x.shape)]);
    expect(Array.from(dx!.data)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(backend.memory().buffers).toBe(before);
  });
});
