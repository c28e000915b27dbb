// scaledDotProductAttention against PyTorch (the `sequence` cases of test/fixtures/pytorch-layers.json: output and
// the gradients of sum(out·G) for q, k and v) on the ref backend in float32 and float64 and on every wasm build,
// and gradcheck in float64: causal and not, S ≠ L, masks of both kinds (a float mask's own gradient included),
// rows that attend to nothing, and gradients of gradients (through the op's backward composed from ops).
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { getBackend, grads, gradcheck, refBackend, setBackend, tensor, tidy, type DType, type Tensor } from '../../src/index.js';
import layers from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { expectNoLeaks } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, type Nested } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

interface SdpaCase {
  kind: string; causal: boolean; scale: number;
  inputs: Record<string, Nested>; shapes: Record<string, number[]>;
  out: Nested; upstream: Nested; grads: Record<string, Nested>;
}

const cases = (layers as unknown as { sequence: SdpaCase[] }).sequence.filter((c) => c.kind === 'scaled_dot_product_attention');

const configs = (await loadBackends()).flatMap(({ label, backend }) =>
  (backend.name === 'ref' ? ['float32', 'float64'] as DType[] : ['float32' as DType]).map((dtype) => ({ label: `${label} ${dtype}`, backend, dtype })));

const before = getBackend();
afterAll(() => setBackend(before));

describe.each(configs)('PyTorch scaled_dot_product_attention fixtures on $label', ({ backend, dtype }) => {
  it('has the two cases, one causal', () => {
    expect(cases.map((c) => c.causal)).toEqual([false, true]);
  });

  it.each(cases.map((c, i) => [`${i} ${JSON.stringify(c.shapes.q)}${c.causal ? ' causal' : ''}`, c] as [string, SdpaCase]))(
    '%s: output and the gradients of sum(out·G)', (_label, c) => {
      setBackend(backend);
      const tol: [number, number] = dtype === 'float64' ? [1e-9, 1e-12] : [1e-4, 1e-6];
      expectNoLeaks(() => tidy(() => {
        const [q, k, v] = ['q', 'k', 'v'].map((n) => tensor(c.inputs[n]!, { shape: c.shapes[n], dtype, requiresGrad: true })) as [Tensor, Tensor, Tensor];
        // The default scale is 1/√E, which is each case's scale: check the default and the option both.
        expect(c.scale).toBeCloseTo(1 / Math.sqrt(c.shapes.q![3]!), 12);
        for (const out of [wg.scaledDotProductAttention(q, k, v, { causal: c.causal }),
          wg.scaledDotProductAttention(q, k, v, { causal: c.causal, scale: c.scale })]) {
          expectClose(out.data(), c.out, ...tol, 'output');
          const gs = wg.gradients(out, [q, k, v], tensor(c.upstream, { shape: out.shape, dtype }));
          gs.forEach((g, i) => expectClose(g.data(), c.grads['qkv'[i]!]!, ...tol, `gradient of ${'qkv'[i]}`));
        }
      }));
    });
});

/** Values in [lo, hi), float64 on the ref backend. */
function input(shape: number[], seed: number, lo = -1.5, hi = 1.5): Tensor {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => lo + (hi - lo) * rand()), { shape, dtype: 'float64', backend: refBackend() });
}

const int32 = (values: number[], shape: number[]) => tensor(values, { shape, dtype: 'int32', backend: refBackend() });

interface Row { name: string; shapes: number[][]; f: (...xs: Tensor[]) => Tensor }

const sdpa = wg.scaledDotProductAttention;
/** Key j of row i is masked out for (i + 2j) % 5 == 3, and every key of row 2 (a row that attends to nothing). */
const keep = (L: number, S: number) => int32(Array.from({ length: L * S }, (_, at) => {
  const [i, j] = [Math.floor(at / S), at % S];
  return i === 2 || (i + 2 * j) % 5 === 3 ? 0 : 1;
}), [L, S]);

const rows: Row[] = [
  { name: 'q, k, v [2,3,5,4]', shapes: [[2, 3, 5, 4], [2, 3, 5, 4], [2, 3, 5, 4]], f: (q, k, v) => sdpa(q, k, v) },
  { name: 'S ≠ L, Ev ≠ E, scale 0.7', shapes: [[2, 4, 3], [2, 6, 3], [2, 6, 5]], f: (q, k, v) => sdpa(q, k, v, { scale: 0.7 }) },
  { name: 'causal, L > S (top-left aligned)', shapes: [[3, 6, 4], [3, 4, 4], [3, 4, 2]], f: (q, k, v) => sdpa(q, k, v, { causal: true }) },
  { name: 'causal, L < S', shapes: [[1, 2, 4, 3], [1, 2, 7, 3], [1, 2, 7, 3]], f: (q, k, v) => sdpa(q, k, v, { causal: true }) },
  { name: 'int32 mask [L,S] with a row that attends to nothing', shapes: [[2, 5, 3], [2, 6, 3], [2, 6, 3]],
    f: (q, k, v) => sdpa(q, k, v, { mask: keep(5, 6) }) },
  { name: 'float mask [2,1,4,5] (its gradient too), causal', shapes: [[2, 3, 4, 3], [2, 3, 5, 3], [2, 3, 5, 2], [2, 1, 4, 5]],
    f: (q, k, v, m) => sdpa(q, k, v, { mask: m, causal: true }) },
  { name: 'float mask [5] over the keys', shapes: [[2, 4, 3], [2, 5, 3], [2, 5, 3], [5]], f: (q, k, v, m) => sdpa(q, k, v, { mask: m }) },
];

const inputs = (row: Row) => row.shapes.map((s, i) => input(s, 17 + 31 * i));

describe('scaledDotProductAttention passes gradcheck (float64)', () => {
  it.each(rows.map((r) => [r.name, r] as [string, Row]))('%s', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const result = gradcheck(row.f, inputs(row), { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
      expect(result.checks).toBeGreaterThan(0);
    }));
  });

  // The gradient as a function of the inputs and of the upstream gradient G: its own gradient runs through the
  // backward composed from differentiable ops.
  it.each(rows.map((r) => [r.name, r] as [string, Row]))('%s: its gradient passes too', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const xs = inputs(row);
      const outShape = wg.noGrad(() => row.f(...xs)).shape as number[];
      const G = input(outShape, 5);
      const u = xs.map((x, i) => input(x.shape as number[], 7 + i));
      // ⟨∂(f·G)/∂xs, u⟩ as a function of G and every input
      const secondOrder = (g: Tensor, ...args: Tensor[]) =>
        grads((...ys: Tensor[]) => row.f(...ys))(args, g).map((d, i) => d!.mul(u[i]!).sum()).reduce((a, b) => a.add(b));
      const result = gradcheck(secondOrder, [G, ...xs], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }));
  });

  it('the fused backward and the one composed from ops agree (float64), and a row that attends to nothing gets 0', () => {
    expectNoLeaks(() => tidy(() => {
      const [q, k, v] = [[2, 5, 3], [2, 6, 3], [2, 6, 4]].map((s, i) => input(s, 3 + i).requiresGrad_());
      const G = input([2, 5, 4], 9);
      const out = sdpa(q!, k!, v!, { mask: keep(5, 6), causal: true });
      const fused = wg.gradients(out, [q!, k!, v!], G, { retainGraph: true });
      const composed = wg.gradients(out, [q!, k!, v!], G, { createGraph: true }); // records the backward: ops
      fused.forEach((g, i) => expectClose(g.data(), Array.from(composed[i]!.data()), 1e-12, 1e-14, `gradient ${'qkv'[i]}`));
      const row2 = (t: Tensor, width: number) => Array.from(t.data()).filter((_, at) => Math.floor(at / width) % 5 === 2);
      expect(row2(out, 4)).toEqual(new Array(2 * 4).fill(0));
      expect(row2(fused[0]!, 3)).toEqual(new Array(2 * 3).fill(0));
    }));
  });
});
