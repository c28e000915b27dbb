// packedSelfAttention (the op MultiheadAttention's unmasked self-attention runs) against the same attention written
// with ops (reshape, permute, slices, scaledDotProductAttention, permute): equal outputs and gradients on every
// backend; its fused backward against the one composed from ops (gradients of gradients), and gradcheck of the
// first and second order, in float64.
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { getBackend, grads, gradcheck, permute, refBackend, reshape, setBackend, slice, tensor, tidy, type Tensor } from '../../src/index.js';
import { packedSelfAttention } from '../../src/ops/packedSelfAttention.js';
import { expectNoLeaks } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const before = getBackend();
afterAll(() => setBackend(before));

/** The same attention from ops: qkv [N, L, 3E] → [N, L, E]. */
function composed(qkv: Tensor, heads: number, causal: boolean): Tensor {
  const [N, L, E3] = qkv.shape as [number, number, number];
  const d = E3 / 3 / heads;
  const all = permute(reshape(qkv, [N, L, 3, heads, d]), [2, 0, 3, 1, 4]);
  const [q, k, v] = [0, 1, 2].map((i) => reshape(slice(all, [i, 0, 0, 0, 0], [1, N, heads, L, d]), [N, heads, L, d]));
  return reshape(permute(wg.scaledDotProductAttention(q!, k!, v!, { causal }), [0, 2, 1, 3]), [N, L, E3 / 3]);
}

function values(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => 3 * rand() - 1.5);
}

// N, L, heads, d: odd sizes, one head, a length of 1, and the GPT's T = 16, d = 16 shape at a smaller batch.
const SHAPES: [number, number, number, number][] = [[2, 5, 3, 2], [1, 7, 1, 5], [3, 1, 2, 3], [2, 16, 4, 16]];

describe.each(backends)('packedSelfAttention on $label', ({ backend }) => {
  it.each(SHAPES.flatMap((s) => [false, true].map((c) => [JSON.stringify(s), c, s] as const)))(
    'N, L, heads, d %s, causal %s: the output and the gradient of qkv equal those of the ops', (_name, causal, [N, L, H, d]) => {
      setBackend(backend);
      expectNoLeaks(() => tidy(() => {
        const E3 = 3 * H * d;
        const qkv = tensor(values(N * L * E3, 1), { shape: [N, L, E3], requiresGrad: true });
        const G = tensor(values(N * L * H * d, 2), { shape: [N, L, H * d] });
        const [out, want] = [packedSelfAttention(qkv, H, { causal }), composed(qkv, H, causal)];
        const [got, expected] = [out, want].map((o) => wg.gradients(o, [qkv], G)[0]!);
        const same = (a: Tensor, b: Tensor) => Array.from(a.data()).every((x, i) => x === b.data()[i]);
        expect(out.shape).toEqual(want.shape);
        expect(same(out, want), 'output').toBe(true);
        expect(same(got!, expected!), 'gradient').toBe(true);
      }));
    });
});

describe('packedSelfAttention in float64', () => {
  const input = (shape: number[], seed: number) =>
    tensor(values(shape.reduce((a, b) => a * b, 1), seed), { shape, dtype: 'float64', backend: refBackend() });

  it.each([false, true])('causal %s: the fused backward equals the one composed from ops', (causal) => {
    expectNoLeaks(() => tidy(() => {
      const qkv = input([2, 5, 18], 3).requiresGrad_();
      const G = input([2, 5, 6], 4);
      const out = packedSelfAttention(qkv, 3, { causal });
      const [fused] = wg.gradients(out, [qkv], G, { retainGraph: true });
      const [recorded] = wg.gradients(out, [qkv], G, { createGraph: true }); // the backward as ops
      expectClose(fused!.data(), Array.from(recorded!.data()), 1e-12, 1e-14, 'gradient of qkv');
    }));
  });

  it.each([false, true])('causal %s: passes gradcheck (the fused backward)', (causal) => {
    expectNoLeaks(() => tidy(() => {
      const qkv = input([2, 5, 18], 8);
      const result = gradcheck((x: Tensor) => packedSelfAttention(x, 3, { causal }), [qkv], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
      expect(result.checks).toBeGreaterThan(0);
    }));
  });

  it.each([false, true])('causal %s: passes gradcheck of the second order', (causal) => {
    expectNoLeaks(() => tidy(() => {
      const qkv = input([1, 4, 12], 5);
      const G = input([1, 4, 4], 6);
      const u = input([1, 4, 12], 7);
      // ⟨∂(f·G)/∂qkv, u⟩ as a function of G and qkv
      const secondOrder = (g: Tensor, x: Tensor) => grads((y: Tensor) => packedSelfAttention(y, 2, { causal }))([x], g)[0]!.mul(u).sum();
      const result = gradcheck(secondOrder, [G, qkv], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }));
  });
});
