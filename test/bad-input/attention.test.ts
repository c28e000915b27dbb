// Bad input to attention (scaledDotProductAttention, nn.MultiheadAttention and the attention kernel entry points):
// each wrong call fails with a message that names the op and the shapes, memory is unchanged, and the same
// tensors, layer, model and optimizer keep working. And running out of memory anywhere in an attention training
// step (outputs, the mask's offsets, the kernels' scratch, a gradient of a gradient) leaks nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Heap, OutOfMemoryError } from '../../src/backend/wasm/heap.js';
import {
  createWasmBackend, grads, init, kernels, keep, memory, nn, optim, randn, refBackend, scaledDotProductAttention,
  setBackend, tensor, tidy, type Tensor,
} from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
/** q [2,3,5,4] named 'q' (requires a gradient), k [2,3,6,4], v [2,3,6,3]: 2 batch items, 3 heads, L 5, S 6. */
let q: Tensor, k: Tensor, v: Tensor;
let layer: nn.MultiheadAttention;
/** A [2,5,8] batch for the layer (batch first, 8 features). */
let x: Tensor;

const fill = (shape: number[]) => Array.from({ length: shape.reduce((a, c) => a * c, 1) }, (_, i) => Math.sin(i));
const t = (shape: number[], options = {}) => tensor(fill(shape), { shape, ...options });
const ints = (shape: number[]) => tensor(fill(shape).map((s) => (s > 0 ? 1 : 0)), { shape, dtype: 'int32' });

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  q = keep(t([2, 3, 5, 4], { requiresGrad: true, name: 'q' }));
  k = keep(t([2, 3, 6, 4]));
  v = keep(t([2, 3, 6, 3]));
  layer = new nn.MultiheadAttention(8, 2, { batchFirst: true });
  x = keep(t([2, 5, 8]));
});

afterAll(() => {
  disposeWorld(world);
  [q, k, v, x].forEach((a) => a.dispose());
  layer.dispose();
});

/** The objects still work: attention with its gradient, the layer, and the world's training step. */
function stillUsable(): void {
  tidy(() => {
    q.grad?.dispose();
    q.grad = null;
    const y = scaledDotProductAttention(q, k, v, { causal: true });
    expect(y.shape).toEqual([2, 3, 5, 3]);
    y.square().sum().backward();
    expect(q.grad!.shape).toEqual([2, 3, 5, 4]);
    expect(layer(x, x, x).shape).toEqual([2, 5, 8]);
  });
  stillUsableWorld(world);
}

const sdpa = scaledDotProductAttention;
const SHAPES = 'q [2,3,5,4], k [2,3,6,4], v [2,3,6,3]';

const CASES: [string, () => unknown, string | RegExp][] = [
  // ranks and shapes
  ['a 1-D query', () => sdpa(t([4]), k, v),
    'scaledDotProductAttention: q, k and v must be [..., L, E], [..., S, E] and [..., S, Ev] (rank ≥ 2), got q [4], k [2,3,6,4], v [2,3,6,3]'],
  ['ranks that differ', () => sdpa(t([3, 5, 4]), k, v),
    'scaledDotProductAttention: q, k and v must have the same leading (batch, head) dims, got q [3,5,4], k [2,3,6,4], v [2,3,6,3]'],
  ['leading dims that differ', () => sdpa(q, t([2, 2, 6, 4]), t([2, 2, 6, 3])),
    'scaledDotProductAttention: q, k and v must have the same leading (batch, head) dims, got q [2,3,5,4], k [2,2,6,4], v [2,2,6,3]'],
  ['E of q and k differ', () => sdpa(q, t([2, 3, 6, 5]), v),
    'scaledDotProductAttention: q and k must have the same last dim E, got q [2,3,5,4], k [2,3,6,5], v [2,3,6,3] (4 ≠ 5)'],
  ['S of k and v differ', () => sdpa(q, k, t([2, 3, 7, 3])),
    'scaledDotProductAttention: k and v must have the same length S (dim −2), got q [2,3,5,4], k [2,3,6,4], v [2,3,7,3] (6 ≠ 7)'],
  // masks
  ['a mask [5,5] for scores [.., 5, 6]', () => sdpa(q, k, v, { mask: t([5, 5]) }),
    `scaledDotProductAttention: mask [5,5] does not broadcast to the scores [2,3,5,6] ([..., L, S] for ${SHAPES})`],
  ['a mask [6,5] (L and S swapped)', () => sdpa(q, k, v, { mask: ints([6, 5]) }),
    `scaledDotProductAttention: mask [6,5] does not broadcast to the scores [2,3,5,6] ([..., L, S] for ${SHAPES})`],
  ['a mask per head of the wrong count', () => sdpa(q, k, v, { mask: t([2, 2, 5, 6]) }),
    `scaledDotProductAttention: mask [2,2,5,6] does not broadcast to the scores [2,3,5,6] ([..., L, S] for ${SHAPES})`],
  ['a mask of higher rank than the scores', () => sdpa(q, k, v, { mask: t([1, 2, 3, 5, 6]) }),
    `scaledDotProductAttention: mask [1,2,3,5,6] does not broadcast to the scores [2,3,5,6] ([..., L, S] for ${SHAPES})`],
  ['a float64 mask for float32 scores', () => sdpa(t([1, 2, 3], { backend: refBackend() }), t([1, 2, 3], { backend: refBackend() }),
    t([1, 2, 3], { backend: refBackend() }), { mask: t([2, 2], { dtype: 'float64', backend: refBackend() }) }),
  'scaledDotProductAttention: mask must be int32 (attend where nonzero) or float32 like q (added to the scores), got float64'],
  ['a mask on another backend', () => sdpa(q, k, v, { mask: t([5, 6], { backend: refBackend() }) }),
    'scaledDotProductAttention: the mask lives on another backend (ref)'],
  ['an array as mask', () => sdpa(q, k, v, { mask: [[1]] as unknown as Tensor }),
    'scaledDotProductAttention: mask must be a Tensor or null, got an array of length 1'],
  ['a disposed mask', () => {
    const m = t([5, 6], { name: 'gone' });
    m.dispose();
    return sdpa(q, k, v, { mask: m });
  }, "scaledDotProductAttention: input tensor 'gone' was used after it was disposed"],
  // options
  ['scale NaN', () => sdpa(q, k, v, { scale: NaN }), 'scaledDotProductAttention: scale must be a finite number, got NaN'],
  ['scale Infinity', () => sdpa(q, k, v, { scale: Infinity }), 'scaledDotProductAttention: scale must be a finite number, got Infinity'],
  ['scale as a string', () => sdpa(q, k, v, { scale: '0.5' as unknown as number }),
    "scaledDotProductAttention: scale must be a finite number, got the string '0.5'"],
  ['causal as a number', () => sdpa(q, k, v, { causal: 1 as unknown as boolean }),
    'scaledDotProductAttention: causal must be true or false, got 1'],
  ["PyTorch's attn_mask", () => sdpa(q, k, v, { attn_mask: t([5, 6]) } as object),
    "scaledDotProductAttention: unknown option 'attn_mask'; did you mean 'mask'? (scaledDotProductAttention's options: mask, causal, scale)"],
  ["PyTorch's is_causal", () => sdpa(q, k, v, { is_causal: true } as object),
    "scaledDotProductAttention: unknown option 'is_causal'; did you mean 'causal'?"],
  ["PyTorch's dropout_p", () => sdpa(q, k, v, { dropout_p: 0.1 } as object),
    "scaledDotProductAttention: option 'dropout_p' is not supported (dropout of the attention weights is not supported: the fused kernel never forms them)"],
  ["PyTorch's enable_gqa", () => sdpa(q, k, v, { enableGqa: true } as object),
    "scaledDotProductAttention: option 'enableGqa' is not supported (grouped-query attention is not supported: give k and v as many heads as q)"],
  // tensors
  ['an array as query', () => sdpa([[1]] as unknown as Tensor, k, v),
    'scaledDotProductAttention: query must be a Tensor, got an array of length 1 (make one with tensor(...))'],
  ['int32 values', () => sdpa(q, k, ints([2, 3, 6, 3])), 'scaledDotProductAttention: expects float32 or float64 data, got int32'],
  ['tensors on two backends', () => sdpa(t([1, 2, 3], { backend: refBackend() }), t([1, 2, 3]), t([1, 2, 3])),
    'scaledDotProductAttention: inputs live on different backends (ref, wasm)'],
  ['mixed float dtypes', () => sdpa(t([1, 2, 3], { backend: refBackend() }), t([1, 2, 3], { dtype: 'float64', backend: refBackend() }),
    t([1, 2, 3], { backend: refBackend() })), 'scaledDotProductAttention: dtypes differ (float32 and float64)'],
  // the layer
  ['numHeads that does not divide embedDim', () => new nn.MultiheadAttention(10, 3),
    'MultiheadAttention: embedDim 10 is not divisible by numHeads 3 (each head gets embedDim / numHeads features); ' +
    'choose a number of heads that divides it'],
  ['numHeads 0', () => new nn.MultiheadAttention(8, 0), 'MultiheadAttention: numHeads must be a positive integer, got 0'],
  ['embedDim 2.5', () => new nn.MultiheadAttention(2.5, 1), 'MultiheadAttention: embedDim must be a positive integer, got 2.5'],
  ['kdim 0', () => new nn.MultiheadAttention(8, 2, { kdim: 0 }), 'MultiheadAttention: kdim must be a positive integer, got 0'],
  ["PyTorch's batch_first", () => new nn.MultiheadAttention(8, 2, { batch_first: true } as object),
    "MultiheadAttention: unknown option 'batch_first'; did you mean 'batchFirst'?"],
  ['attention dropout', () => new nn.MultiheadAttention(8, 2, { dropout: 0.1 } as object),
    "MultiheadAttention: option 'dropout' is not supported (dropout of the attention weights is not supported: the fused kernel never forms them)"],
  ['a query with other features', () => layer(t([2, 5, 6]), x, x),
    'MultiheadAttention: query must have 8 features (its last dim), got query [2,5,6], key [2,5,8], value [2,5,8]'],
  ['a 4-D query', () => layer(t([1, 2, 5, 8]), t([1, 2, 5, 8]), t([1, 2, 5, 8])),
    'MultiheadAttention: query, key and value must all be 3-D ([batch, sequence, features]) or all 2-D (unbatched [sequence, features]), ' +
    'got query [1,2,5,8], key [1,2,5,8], value [1,2,5,8]'],
  ['a batch of keys that differs', () => layer(x, t([3, 5, 8]), t([3, 5, 8])),
    "MultiheadAttention: key and value must have the query's batch and the same length, got query [2,5,8], key [3,5,8], value [3,5,8] " +
    '(batchFirst: [batch, sequence, features])'],
  ['keys and values of different lengths', () => layer(x, t([2, 5, 8]), t([2, 4, 8])),
    "MultiheadAttention: key and value must have the query's batch and the same length, got query [2,5,8], key [2,5,8], value [2,4,8]"],
  ['an attnMask of the wrong shape', () => layer(x, x, x, { attnMask: ints([5, 4]) }),
    'MultiheadAttention: attnMask must be [L, S] = [5,5] or [batch·numHeads, L, S] = [4,5,5], got [5,4]'],
  ['an attnMask per batch item, not per head', () => layer(x, x, x, { attnMask: t([2, 5, 5]) }),
    'MultiheadAttention: attnMask must be [L, S] = [5,5] or [batch·numHeads, L, S] = [4,5,5], got [2,5,5]'],
  ['a keyPaddingMask of the wrong shape', () => layer(x, x, x, { keyPaddingMask: ints([5, 2]) }),
    'MultiheadAttention: keyPaddingMask must be [batch, S] = [2,5], got [5,2]'],
  ['needWeights: true', () => layer(x, x, x, { needWeights: true as false }),
    'MultiheadAttention.forward: needWeights must be false (the attention weights are never formed), got true'],
  ["PyTorch's is_causal", () => layer(x, x, x, { is_causal: true } as object),
    "MultiheadAttention.forward: unknown option 'is_causal'; did you mean 'isCausal'?"],
  // the kernel entry points
  ['kernels.attentionGrad with an lse of the wrong shape', () => {
    const { out, lse } = kernels.attention(q, k, v);
    try {
      return kernels.attentionGrad(q, k, v, out, { buf: lse.buf, shape: [2, 15] }, out, {}, { q: true, k: true, v: true });
    } finally {
      kernels.free(out);
      kernels.free(lse);
    }
  }, `scaledDotProductAttentionGrad: lse [2,15] should be [2,3,5] for ${SHAPES}`],
  ['kernels.attentionGrad with a gradient of the wrong shape', () => {
    const { out, lse } = kernels.attention(q, k, v);
    try {
      return kernels.attentionGrad(q, k, v, out, lse, t([2, 3, 5, 4]), {}, { q: true, k: true, v: true });
    } finally {
      kernels.free(out);
      kernels.free(lse);
    }
  }, `scaledDotProductAttentionGrad: its gradient [2,3,5,4] should be [2,3,5,3] for ${SHAPES}`],
];

describe('bad input to attention', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const refBefore = memory(refBackend());
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(memory(refBackend()).bytes).toBe(refBefore.bytes);
    stillUsable();
  });
});

/** An attention step: multi-head self-attention with a mask, a second-order term, a loss and Adam. */
function attentionStep(m: nn.MultiheadAttention, input: Tensor, mask: Tensor, opt: optim.Optimizer<{ lr: number }>): number {
  return tidy(() => {
    opt.zeroGrad();
    const y = m(input, input, input, { attnMask: mask, isCausal: true });
    const w = m.in_proj_weight!;
    const penalty = grads((a: Tensor) => scaledDotProductAttention(a, a, a, { causal: true }).square().sum())([w.reshape([3, 8, 8])])[0]!
      .square().mean();
    const loss = y.square().mean().add(penalty.mul(1e-3));
    loss.backward();
    opt.step();
    return loss.item();
  });
}

describe('out of memory in an attention training step', () => {
  it('at any allocation: leaks nothing, and the same layer and optimizer train on', async () => {
    let n = 0;
    for (; ; n++) {
      const be = await createWasmBackend({ build: 'simd' });
      setBackend(be);
      const heap = (be as unknown as { heap: Heap }).heap;
      const alloc = heap.alloc.bind(heap);
      let countdown = -1;
      heap.alloc = (bytes) => {
        if (countdown >= 0 && countdown-- === 0) throw new OutOfMemoryError(`allocation ${n} fails`);
        return alloc(bytes);
      };
      const m = new nn.MultiheadAttention(8, 2, { batchFirst: true });
      const input = keep(randn([2, 5, 8], { seed: 1 }));
      const mask = keep(tensor(Array.from({ length: 25 }, (_, i) => (i % 4 === 1 ? 1 : 0)), { shape: [5, 5], dtype: 'int32' }));
      const opt = new optim.Adam(m.parameters(), { lr: 1e-3 });
      const values = m.parameters().map((p) => Array.from(p.data()));
      const before = memory();
      countdown = n;
      let failed = true;
      try {
        attentionStep(m, input, mask, opt);
        failed = false;
      } catch (e) {
        expect((e as Error).message, `allocation ${n}`).toBe(`allocation ${n} fails`);
      }
      countdown = -1;
      if (failed) {
        expect(m.parameters().map((p) => Array.from(p.data())), `allocation ${n}`).toEqual(values);
        opt.zeroGrad();
        expect(memory(), `allocation ${n}`).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
        expect(Number.isFinite(attentionStep(m, input, mask, opt)), `allocation ${n}`).toBe(true);
      }
      opt.disposeState();
      m.dispose();
      input.dispose();
      mask.dispose();
      if (!failed) break; // n is past the step's last allocation
    }
    expect(n).toBeGreaterThan(50);
    await init({ build: 'simd' });
  });
});
