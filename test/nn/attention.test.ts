// nn.MultiheadAttention: the PyTorch fixtures (`multihead_self_attention`: output and the gradients of the input and
// of every parameter by its state-dict name) on the ref backend in float32 and float64 and on every wasm build;
// PyTorch's parameter names, shapes, order and init; batchFirst and sequence-first layouts, unbatched inputs,
// cross-attention with kdim / vdim, masks of both kinds, all against the same attention written with plain ops;
// gradcheck in float64; and a small model that learns, without leaking.
import { afterAll, describe, expect, it } from 'vitest';
import {
  fromSafetensors, Generator, getBackend, gradcheck, gradients, matmul, refBackend, nn, optim, permute, randn, reshape, setBackend, softmax,
  tensor, tidy, toSafetensors, type DType, type Tensor,
} from '../../src/index.js';
import { multiheadAttention } from '../../src/nn/attention.js';
import layers from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, type Nested } from '../helpers/fixtures.js';

interface MhaCase {
  kind: string; num_heads: number; causal: boolean;
  inputs: Record<string, Nested>; shapes: Record<string, number[]>;
  out: Nested; upstream: Nested; grads: Record<string, Nested>;
}

const cases = (layers as unknown as { sequence: MhaCase[] }).sequence.filter((c) => c.kind === 'multihead_self_attention');
const configs = (await loadBackends()).flatMap(({ label, backend }) =>
  (backend.name === 'ref' ? ['float32', 'float64'] as DType[] : ['float32' as DType]).map((dtype) => ({ label: `${label} ${dtype}`, backend, dtype })));

const before = getBackend();
afterAll(() => setBackend(before));

/** PyTorch's state-dict names of the fixture's inputs. */
const STATE_NAMES: Record<string, string> = {
  in_proj_weight: 'in_proj_weight', in_proj_bias: 'in_proj_bias', out_proj_weight: 'out_proj.weight', out_proj_bias: 'out_proj.bias',
};

describe.each(configs)('PyTorch multihead_self_attention fixtures on $label', ({ backend, dtype }) => {
  it('has the two cases, one causal', () => {
    expect(cases.map((c) => c.causal)).toEqual([false, true]);
  });

  it.each(cases.map((c, i) => [`${i} x ${JSON.stringify(c.shapes.x)}, ${c.num_heads} heads${c.causal ? ', causal' : ''}`, c] as [string, MhaCase]))(
    '%s: output and the gradients of the input and every parameter', (_label, c) => {
      setBackend(backend);
      const tol: [number, number] = dtype === 'float64' ? [1e-9, 1e-12] : [1e-4, 1e-6];
      expectNoLeaks(() => tidy(() => {
        const t = (name: string) => tensor(c.inputs[name]!, { shape: c.shapes[name], dtype, requiresGrad: true });
        const x = t('x');
        const E = c.shapes.x![2]!;
        let out: Tensor;
        let params: Record<string, Tensor>;
        let mha: nn.MultiheadAttention | null = null;
        if (dtype === 'float32') {
          // The layer itself, loaded with PyTorch's state dict.
          mha = new nn.MultiheadAttention(E, c.num_heads, { batchFirst: true });
          mha.loadStateDict(Object.fromEntries(Object.entries(STATE_NAMES).map(([k, name]) => [name, t(k)])));
          params = Object.fromEntries(mha.namedParameters().map(([name, p]) => [name, p]));
          out = mha(x, x, x, { isCausal: c.causal });
        } else {
          // float64: the function the layer runs, on float64 tensors (layers hold float32 parameters).
          params = Object.fromEntries(Object.entries(STATE_NAMES).map(([k, name]) => [name, t(k)]));
          out = multiheadAttention(x, x, x, {
            inProjWeight: params.in_proj_weight!, inProjBias: params.in_proj_bias!,
            outProjWeight: params['out_proj.weight']!, outProjBias: params['out_proj.bias']!,
          }, { numHeads: c.num_heads, batchFirst: true }, { isCausal: c.causal });
        }
        expectClose(out.data(), c.out, ...tol, 'output');
        const names = Object.keys(c.grads);
        const wrt = names.map((k) => (k === 'x' ? x : params[STATE_NAMES[k]!]!));
        const gs = gradients(out, wrt, tensor(c.upstream, { shape: out.shape, dtype }));
        gs.forEach((g, i) => expectClose(g.data(), c.grads[names[i]!]!, ...tol, `gradient of ${names[i]}`));
        mha?.dispose();
      }));
    });
});

describe('multi-head attention passes gradcheck (float64)', () => {
  it.each([false, true])('self-attention over 3 heads, sequence first, causal %s: the input and every projection', (isCausal) => {
    expectNoLeaks(() => tidy(() => {
      const f64 = (shape: number[], seed: number) => randn(shape, { seed, dtype: 'float64', backend: refBackend() });
      const f = (x: Tensor, wIn: Tensor, bIn: Tensor, wOut: Tensor, bOut: Tensor) => multiheadAttention(x, x, x,
        { inProjWeight: wIn, inProjBias: bIn, outProjWeight: wOut, outProjBias: bOut }, { numHeads: 3, batchFirst: false }, { isCausal });
      const result = gradcheck(f, [f64([4, 2, 6], 1), f64([18, 6], 2), f64([18], 3), f64([6, 6], 4), f64([6], 5)],
        { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }));
  });
});

/** Attention written with plain ops: per head softmax(q·kᵀ/√d + mask)·v, joined, projected. Batch first [N, L, E]. */
function plainMha(q: Tensor, k: Tensor, v: Tensor, m: nn.MultiheadAttention, mask: Tensor | null): Tensor {
  const E = m.embedDim, H = m.numHeads, d = E / H;
  const [N, L] = q.shape as [number, number];
  const S = k.shape[1]!;
  const W = m.in_proj_weight;
  const proj = (x: Tensor, i: number, w: Tensor | null) => {
    const weight = w ?? W!.slice([i * E, 0], [E, E]);
    const b = m.in_proj_bias ? m.in_proj_bias.slice([i * E], [E]) : null;
    const y = matmul(x, weight, { transB: true });
    return b ? y.add(b) : y;
  };
  const heads = (x: Tensor, len: number) => permute(reshape(x, [N, len, H, d]), [0, 2, 1, 3]);
  const qh = heads(proj(q, 0, m.q_proj_weight), L), kh = heads(proj(k, 1, m.k_proj_weight), S), vh = heads(proj(v, 2, m.v_proj_weight), S);
  let scores = matmul(qh, kh, { transB: true }).mul(1 / Math.sqrt(d));
  if (mask) scores = scores.add(mask);
  const joined = reshape(permute(matmul(softmax(scores, -1), vh), [0, 2, 1, 3]), [N, L, E]);
  const y = matmul(joined, m.out_proj.weight, { transB: true });
  return m.out_proj.bias ? y.add(m.out_proj.bias) : y;
}

const close = (a: Tensor, b: Tensor, what: string) => expectClose(a.data(), Array.from(b.data()), 1e-5, 1e-6, what);

describe.each(BACKENDS)('nn.MultiheadAttention on %s', (name) => {
  it("PyTorch's parameter names, shapes and state-dict order; out_proj is a Linear; a repr", async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const m = new nn.MultiheadAttention(12, 3);
      expect(m.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
        ['in_proj_weight', [36, 12]], ['in_proj_bias', [36]], ['out_proj.weight', [12, 12]], ['out_proj.bias', [12]],
      ]);
      expect(Object.keys(m.stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
      expect(m.out_proj).toBeInstanceOf(nn.Linear);
      expect(m.toString()).toBe('MultiheadAttention(\n  (out_proj): Linear(inFeatures=12, outFeatures=12, bias=true)\n)');
      const cross = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3, bias: false });
      expect(cross.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
        ['q_proj_weight', [8, 8]], ['k_proj_weight', [8, 5]], ['v_proj_weight', [8, 3]], ['out_proj.weight', [8, 8]],
      ]);
      m.dispose();
      cross.dispose();
    });
  });

  it("PyTorch's init: xavier-uniform in_proj_weight, zero biases, out_proj.weight U(±1/√E); seeded", async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const make = () => new nn.MultiheadAttention(16, 4, { generator: new Generator(3) });
      const a = make(), b = make();
      const bound = Math.sqrt(6 / (16 + 48)); // fan_in E, fan_out 3E
      const w = Array.from(a.in_proj_weight!.data()).map(Math.abs);
      expect(Math.max(...w)).toBeLessThanOrEqual(bound);
      expect(Math.max(...w)).toBeGreaterThan(0.99 * bound);
      const ow = Array.from(a.out_proj.weight.data()).map(Math.abs);
      expect(Math.max(...ow)).toBeLessThanOrEqual(1 / 4);
      expect(Math.max(...ow)).toBeGreaterThan(0.95 / 4);
      expect(Array.from(a.in_proj_bias!.data())).toEqual(new Array(48).fill(0));
      expect(Array.from(a.out_proj.bias!.data())).toEqual(new Array(16).fill(0));
      expect(Array.from(b.in_proj_weight!.data())).toEqual(Array.from(a.in_proj_weight!.data()));
      a.dispose();
      b.dispose();
    });
  });

  it('batchFirst and sequence-first layouts, unbatched inputs and cross-attention compute the same as plain ops', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const first = new nn.MultiheadAttention(12, 3, { batchFirst: true, generator: new Generator(1) });
      const seqFirst = new nn.MultiheadAttention(12, 3, { generator: new Generator(1) });
      first.in_proj_bias!.backend.write(first.in_proj_bias!.buf, Array.from({ length: 36 }, (_, i) => 0.01 * i));
      seqFirst.loadStateDict(first.stateDict());
      const x = randn([2, 5, 12]);
      const want = plainMha(x, x, x, first, null);
      close(first(x, x, x), want, 'batchFirst');
      const y = randn([2, 6, 12]); // cross-attention with in_proj_weight: its rows sliced per projection
      close(first(x, y, y), plainMha(x, y, y, first, null), 'cross-attention, one in_proj_weight');
      const xs = permute(x, [1, 0, 2]);
      close(seqFirst(xs, xs, xs), permute(want, [1, 0, 2]), 'sequence first');
      const one = x.slice([1, 0, 0], [1, 5, 12]).reshape([5, 12]);
      close(first(one, one, one), want.slice([1, 0, 0], [1, 5, 12]).reshape([5, 12]), 'unbatched');
      close(seqFirst(one, one, one), want.slice([1, 0, 0], [1, 5, 12]).reshape([5, 12]), 'unbatched, sequence first');
      first.dispose();
      seqFirst.dispose();
    }));
  });

  it('cross-attention with kdim and vdim, and masks: int32 masks out where nonzero (as PyTorch), float is added', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const m = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3, batchFirst: true, generator: new Generator(2) });
      const [q, k, v] = [randn([2, 4, 8]), randn([2, 6, 5]), randn([2, 6, 3])] as [Tensor, Tensor, Tensor];
      close(m(q, k, v), plainMha(q, k, v, m, null), 'no mask');
      // Key j of query i masked out when (i + j) % 3 == 0; key 5 of item 1 is padding.
      const banned = Array.from({ length: 24 }, (_, at) => ((Math.floor(at / 6) + (at % 6)) % 3 === 0 ? 1 : 0));
      const additive = tensor(banned.map((b) => (b ? -Infinity : 0)), { shape: [4, 6] });
      close(m(q, k, v, { attnMask: tensor(banned, { shape: [4, 6], dtype: 'int32' }) }), plainMha(q, k, v, m, additive), 'int32 attnMask');
      close(m(q, k, v, { attnMask: additive }), plainMha(q, k, v, m, additive), 'float attnMask');
      const padding = tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], { shape: [2, 6], dtype: 'int32' });
      const both = additive.reshape([1, 1, 4, 6]).add(tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -Infinity], { shape: [2, 1, 1, 6] }));
      close(m(q, k, v, { attnMask: additive, keyPaddingMask: padding }), plainMha(q, k, v, m, both), 'attnMask and keyPaddingMask');
      // One mask per (batch, head): [N·heads, L, S].
      const perHead = tensor(Array.from({ length: 4 * 24 }, (_, at) => (at % 7 === 0 ? -Infinity : 0.1 * (at % 5))), { shape: [4, 4, 6] });
      close(m(q, k, v, { attnMask: perHead }), plainMha(q, k, v, m, perHead.reshape([2, 2, 4, 6])), '[N·heads, L, S] attnMask');
      m.dispose();
    }));
  });

  it('isCausal attends to the earlier keys only, with or without the causal attnMask', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const m = new nn.MultiheadAttention(8, 4, { batchFirst: true, generator: new Generator(4) });
      const x = randn([3, 7, 8]);
      const causal = tensor(Array.from({ length: 49 }, (_, at) => (at % 7 > Math.floor(at / 7) ? -Infinity : 0)), { shape: [7, 7] });
      const want = plainMha(x, x, x, m, causal);
      close(m(x, x, x, { isCausal: true }), want, 'isCausal');
      close(m(x, x, x, { isCausal: true, attnMask: causal }), want, 'isCausal with its mask');
      m.dispose();
    }));
  });

  it('state dicts round-trip through safetensors; a small attention model learns, without leaking', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const g = new Generator(7);
      const m = new nn.MultiheadAttention(8, 2, { batchFirst: true, generator: g });
      const copy = new nn.MultiheadAttention(8, 2, { batchFirst: true });
      const file = fromSafetensors(toSafetensors(m.stateDict()));
      expect(Object.keys(file.tensors)).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
      copy.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
      tidy(() => {
        const x = randn([2, 3, 8]);
        expect(Array.from(copy(x, x, x).data())).toEqual(Array.from(m(x, x, x).data()));
      });
      // Learn to copy the input: loss falls.
      const opt = new optim.Adam(m.parameters(), { lr: 0.01 });
      const x = randn([4, 5, 8], { generator: g });
      const losses: number[] = [];
      for (let step = 0; step < 60; step++) {
        tidy(() => {
          opt.zeroGrad();
          const loss = m(x, x, x, { isCausal: true }).sub(x).square().mean();
          loss.backward();
          opt.step();
          losses.push(loss.item());
        });
      }
      expect(losses[59]!).toBeLessThan(0.5 * losses[0]!);
      x.dispose();
      opt.disposeState();
      m.dispose();
      copy.dispose();
    });
  });
});

describe('MultiheadAttention int32 masks', () => {
  it('become additive masks with tensor ops, never read on the host', () => {
    expectNoLeaks(() => tidy(() => {
      const m = new nn.MultiheadAttention(4, 2, { generator: new Generator(1) });
      const x = randn([3, 2, 4], { seed: 2 });
      const bool = tensor([[0, 1, 1], [0, 0, 1], [1, 0, 0]], { dtype: 'int32' });
      const additive = tensor([[0, -Infinity, -Infinity], [0, 0, -Infinity], [-Infinity, 0, 0]]);
      bool.data = () => { throw new Error('the mask was read on the host'); };
      expect(Array.from(m(x, x, x, { attnMask: bool }).data())).toEqual(Array.from(m(x, x, x, { attnMask: additive }).data()));
      m.dispose();
    }));
  });
});
