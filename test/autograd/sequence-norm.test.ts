// layerNorm, rmsNorm and embedding as differentiable ops: every `layer_norm` and `rms_norm` case of the PyTorch
// layer fixtures' `norm` section and every `embedding` case of `sequence` (the output and the gradient of sum(out·G)
// for every floating-point input) on the ref backend in float32 and float64 and on every wasm build; gradcheck in
// float64, of the ops and of their gradients (what gradients of gradients run through); and PyTorch's semantics
// worked out by hand: a repeated index accumulates, paddingIdx gets no gradient, rmsNorm's default eps is the
// dtype's machine epsilon.
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { getBackend, grads, gradcheck, refBackend, setBackend, tensor, tidy, type DType, type Tensor } from '../../src/index.js';
import layers from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { expectNoLeaks } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, type Nested } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

interface LayerCase {
  kind: string;
  inputs: Record<string, Nested>;
  shapes: Record<string, number[]>;
  out: Nested;
  out_shape: number[];
  upstream: Nested;
  grads: Record<string, Nested>;
  normalized_shape?: number[];
  eps?: number;
}

const fixtures = layers as unknown as { norm: LayerCase[]; sequence: LayerCase[] };
const cases = [
  ...fixtures.norm.filter((c) => c.kind === 'layer_norm' || c.kind === 'rms_norm'),
  ...fixtures.sequence.filter((c) => c.kind === 'embedding'),
];

const configs = (await loadBackends()).flatMap(({ label, backend }) =>
  (backend.name === 'ref' ? ['float32', 'float64'] as DType[] : ['float32' as DType]).map((dtype) => ({ label: `${label} ${dtype}`, backend, dtype })));

const before = getBackend();
afterAll(() => setBackend(before));

function run(c: LayerCase, xs: Record<string, Tensor>): Tensor {
  switch (c.kind) {
    case 'layer_norm': return wg.layerNorm(xs.x!, c.normalized_shape!, xs.weight, xs.bias, { eps: c.eps });
    case 'rms_norm': return wg.rmsNorm(xs.x!, c.normalized_shape!, xs.weight, { eps: c.eps });
    case 'embedding': return wg.embedding(xs.indices!, xs.weight!);
    default: throw new Error(`no op for ${c.kind}`);
  }
}

describe.each(configs)('PyTorch layer-norm, RMS-norm and embedding fixtures on $label', ({ backend, dtype }) => {
  it.each(cases.map((c, i) => [`${i} ${c.kind} ${JSON.stringify(c.shapes)}`, c] as [string, LayerCase]))(
    '%s: output and the gradients of sum(out·G)', (_label, c) => {
      setBackend(backend);
      const tol: [number, number] = dtype === 'float64' ? [1e-9, 1e-12] : [1e-4, 1e-6];
      expectNoLeaks(() => tidy(() => {
        const xs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, k === 'indices'
          ? tensor(v, { shape: c.shapes[k], dtype: 'int32' })
          : tensor(v, { shape: c.shapes[k], dtype, requiresGrad: true })]));
        const out = run(c, xs);
        expect(out.shape).toEqual(c.out_shape);
        expectClose(out.data(), c.out, ...tol, `${c.kind} output`);
        const names = Object.keys(c.grads);
        const gs = wg.gradients(out, names.map((k) => xs[k]!), tensor(c.upstream, { shape: out.shape, dtype }));
        gs.forEach((g, i) => expectClose(g.data(), c.grads[names[i]!]!, ...tol, `${c.kind} gradient of ${names[i]}`));
      }));
    });
});

// ---- gradcheck in float64 ---------------------------------------------------------------------------------------

function input(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => lo + (hi - lo) * rand()), { shape, dtype: 'float64', backend: refBackend() });
}

const indices = (values: number[], shape = [values.length]) => tensor(values, { shape, dtype: 'int32', backend: refBackend() });

interface Row {
  name: string; shapes: number[][]; ranges?: [number, number][]; f: (...xs: Tensor[]) => Tensor;
  /** paddingIdx: the padding row is read, so central differences see it, but by definition it gets no gradient. */
  onlySecondOrder?: boolean;
}

/** x, weight, bias. */
const AFFINE: [number, number][] = [[-2, 2], [0.5, 1.5], [-1, 1]];

const rows: Row[] = [
  { name: 'layerNorm [N,T,D] over D', shapes: [[2, 3, 5], [5], [5]], ranges: AFFINE, f: (x, w, b) => wg.layerNorm(x, 5, w, b) },
  { name: 'layerNorm over two dims, eps 0.1', shapes: [[3, 2, 4], [2, 4], [2, 4]], ranges: AFFINE,
    f: (x, w, b) => wg.layerNorm(x, [2, 4], w, b, { eps: 0.1 }) },
  { name: 'layerNorm without weight and bias', shapes: [[4, 6]], f: (x) => wg.layerNorm(x, [6]) },
  { name: 'layerNorm with weight only, one row (no leading dims)', shapes: [[7], [7]], ranges: AFFINE, f: (x, w) => wg.layerNorm(x, [7], w) },
  { name: 'layerNorm with bias only', shapes: [[3, 4], [4]], ranges: [AFFINE[0]!, AFFINE[2]!], f: (x, b) => wg.layerNorm(x, 4, null, b) },
  { name: 'rmsNorm [N,T,D] over D', shapes: [[2, 3, 5], [5]], ranges: AFFINE, f: (x, w) => wg.rmsNorm(x, [5], w) },
  { name: 'rmsNorm over two dims, eps 0.1, no weight', shapes: [[2, 3, 4]], f: (x) => wg.rmsNorm(x, [3, 4], null, { eps: 0.1 }) },
  { name: 'rmsNorm one row (no leading dims)', shapes: [[9], [9]], ranges: AFFINE, f: (x, w) => wg.rmsNorm(x, 9, w) },
  { name: 'embedding, repeated indices of shape [2,3]', shapes: [[5, 4]], f: (w) => wg.embedding(indices([1, 3, 1, 4, 1, 0], [2, 3]), w) },
  { name: 'embedding with paddingIdx', shapes: [[5, 3]], onlySecondOrder: true,
    f: (w) => wg.embedding(indices([2, 0, 2, 4]), w, { paddingIdx: 2 }) },
  { name: 'embedding with a negative paddingIdx', shapes: [[4, 3]], onlySecondOrder: true,
    f: (w) => wg.embedding(indices([3, 1, 3]), w, { paddingIdx: -1 }) },
];

function inputs(row: Row): Tensor[] {
  return row.shapes.map((s, i) => input(s, 17 + 31 * i, ...(row.ranges?.[i] ?? [-2, 2])));
}

describe('layerNorm, rmsNorm and embedding pass gradcheck (float64)', () => {
  it.each(rows.filter((r) => !r.onlySecondOrder).map((r) => [r.name, r] as [string, Row]))('%s', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const result = gradcheck(row.f, inputs(row), { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
      expect(result.checks).toBeGreaterThan(0);
    }));
  });

  // The gradient as a function of the inputs and of the upstream gradient G: its own gradient runs through the
  // gradient composed from ops (layer and RMS norm) or the scatter-add's gather and the padding mask (embedding).
  it.each(rows.map((r) => [r.name, r] as [string, Row]))('%s: its gradient passes too', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const xs = inputs(row);
      const outShape = wg.noGrad(() => row.f(...xs)).shape as number[];
      const G = input(outShape, 5);
      const u = input(xs[0]!.shape as number[], 7);
      const secondOrder = (g: Tensor, ...args: Tensor[]) => grads((...ys: Tensor[]) => row.f(...ys))(args, g)[0]!.mul(u).sum();
      const result = gradcheck(secondOrder, [G, ...xs], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }));
  });
});

describe('PyTorch semantics, worked out by hand', () => {
  it.each(['ref', 'wasm'] as const)('embedding on %s: a repeated index accumulates, paddingIdx gets none, its row is still read', async (name) => {
    await wg.init(name === 'wasm' ? { build: 'simd' } : { backend: 'ref' });
    expectNoLeaks(() => tidy(() => {
      const weight = tensor([[1, 2], [3, 4], [5, 6]], { requiresGrad: true });
      const idx = tensor([[2, 0], [2, 2]], { dtype: 'int32' });
      const out = wg.embedding(idx, weight, { paddingIdx: 0 });
      expect(out.array()).toEqual([[[5, 6], [1, 2]], [[5, 6], [5, 6]]]);
      out.backward(tensor([[[1, 10], [100, 1000]], [[2, 20], [4, 40]]]));
      expect(weight.grad!.array()).toEqual([[0, 0], [0, 0], [7, 70]]); // row 0 read but not trained; row 2: 1 + 2 + 4
      // the same from the gradient composed of ops, which records its own graph (createGraph), a function of G
      const G = tensor([[[1, 10], [100, 1000]], [[2, 20], [4, 40]]], { requiresGrad: true });
      const [composed] = wg.gradients(wg.embedding(idx, weight, { paddingIdx: 0 }), [weight], G, { createGraph: true });
      expect(composed!.requiresGrad).toBe(true);
      expect(composed!.array()).toEqual([[0, 0], [0, 0], [7, 70]]);
    }));
  });

  it('rmsNorm: eps defaults to the machine epsilon of the dtype (2⁻²³ for float32, 2⁻⁵² for float64)', () => {
    expectNoLeaks(() => tidy(() => {
      // rows of 1e-4: mean(x²) = 1e-8, of the order of float32's epsilon (1.19e-7) and far above float64's
      for (const dtype of ['float32', 'float64'] as const) {
        const x = wg.full([2, 4], 1e-4, { dtype, backend: refBackend() });
        const xv = dtype === 'float32' ? Math.fround(1e-4) : 1e-4;
        const want = xv / Math.sqrt(xv * xv + (dtype === 'float32' ? 2 ** -23 : 2 ** -52));
        expectClose(wg.rmsNorm(x, 4).data(), new Array(8).fill(want), dtype === 'float32' ? 1e-6 : 1e-12, 0, `${dtype} default eps`);
      }
    }));
  });

  it('layerNorm normalises each row over the trailing dims with the biased variance', () => {
    expectNoLeaks(() => tidy(() => {
      const x = tensor([[1, 2, 3, 4], [2, 2, 2, 2]], { dtype: 'float64', backend: refBackend() });
      const eps = 1e-5;
      const sd = Math.sqrt(1.25 + eps); // row [1,2,3,4]: mean 2.5, biased variance 1.25
      const out = wg.layerNorm(x, [4], tensor([1, 2, 1, 1], { dtype: 'float64', backend: refBackend() }),
        tensor([0, 0, 0, 10], { dtype: 'float64', backend: refBackend() }));
      expectClose(out.data(), [-1.5 / sd, -1 / sd, 0.5 / sd, 10 + 1.5 / sd, 0, 0, 0, 10], 1e-12, 1e-12, 'layerNorm by hand');
    }));
  });
});
