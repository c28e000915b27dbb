// scaledDotProductAttention: PyTorch's scaled_dot_product_attention as one fused op,
//   out = softmax(q·kᵀ·scale + mask)·v      q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev]
// over the leading dims (batch, heads: equal for q, k and v). scale defaults to 1/√E. The mask broadcasts to the
// scores [..., L, S]: a float mask is added to them (−∞ masks out; it may require a gradient, e.g. a learnt
// position bias), an int32 mask attends only where it is nonzero (PyTorch's boolean attn_mask: true attends).
// causal attends only to keys j ≤ i, the top-left-aligned lower triangle (PyTorch's is_causal, also when S ≠ L).
// Given with a mask, both apply. A row that attends to nothing outputs 0 and passes no gradient, as PyTorch's
// safe softmax does.
//
// The forward saves each row's log-sum-exp (lse) instead of the [L, S] probabilities; the backward recomputes them
// one block of rows at a time in the fused kernel (see assembly/kernels/attention.ts):
//   P = exp(scores − lse),  dv = Pᵀ·g,  dS = P ∘ (g·vᵀ − rowsum(g ∘ out)),  dq = dS·k·scale,  dk = dSᵀ·q·scale
// and dmask = dS summed to the mask's shape. While a graph of the backward is being recorded (higher-order
// gradients), and for a mask that needs a gradient, the same formulas are composed from differentiable ops instead
// (they form every [L, S] matrix).
import { apply, checkAlive, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import * as K from '../kernels/index.js';
import { boolean, checkOptions, type Check } from '../options.js';
import { add } from './add.js';
import { greater } from './compare.js';
import { matmul } from './matmul.js';
import { mul } from './mul.js';
import { reshape } from './reshape.js';
import { softmax } from './softmax.js';
import { sub } from './sub.js';
import { sum } from './sum.js';
import { sumTo } from './sumTo.js';
import { where } from './where.js';

/** Options of scaledDotProductAttention (PyTorch's attn_mask, is_causal, scale). */
export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcast to the scores [..., L, S]: a float tensor (q's dtype) is added to them; an int32 tensor attends only
   * where it is nonzero (PyTorch's boolean mask: true attends).
   */
  mask?: Tensor | null;
  /** Attend only to keys j ≤ i (the top-left-aligned lower triangle; default false). */
  causal?: boolean;
  /** Multiplies q·kᵀ (default 1/√E). */
  scale?: number;
}

const API = 'scaledDotProductAttention';
const TENSOR_OR_NULL: Check = { what: 'a Tensor or null', ok: (v) => v === null || v instanceof Tensor };
const FINITE: Check = { what: 'a finite number', ok: (v) => typeof v === 'number' && Number.isFinite(v) };
const UNSUPPORTED = {
  dropoutP: 'dropout of the attention weights is not supported: the fused kernel never forms them',
  enableGqa: 'grouped-query attention is not supported: give k and v as many heads as q',
};

/**
 * softmax(q·kᵀ·scale + mask)·v as one fused op (PyTorch's F.scaled_dot_product_attention): q [..., L, E], k [..., S,
 * E], v [..., S, Ev] give [..., L, Ev]; the leading dims (batch, heads) must be equal. A row that attends to nothing
 * gives 0.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor,
  options: ScaledDotProductAttentionOptions = {}): Tensor {
  checkTensor(API, 'query', q);
  checkTensor(API, 'key', k);
  checkTensor(API, 'value', v);
  checkOptions(API, options, { mask: TENSOR_OR_NULL, causal: boolean, scale: FINITE }, UNSUPPORTED);
  const { mask = null, causal = false } = options;
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[q.rank - 1] ?? 1);
  const inputs = mask ? [q, k, v, mask] : [q, k, v];
  checkAlive(API, inputs);
  // The forward's lse: an array, wrapped in a tensor only when the graph saves it (after the forward succeeded; a
  // failed forward frees it itself).
  let lse: K.NDArray | null = null;
  let saved: Tensor | null = null;
  try {
    return apply({
      op: API,
      inputs,
      forward: ([tq, tk, tv, tm]) => {
        const r = K.attention(tq!, tk!, tv!, { mask: tm ?? null, causal, scale });
        lse = r.lse;
        return r.out;
      },
      save: (xs, out) => {
        saved = fromKernel(lse!);
        return [...xs, out, saved];
      },
      backward: (g, saves, _, needs) => {
        const [tq, tk, tv, tm] = saves.slice(0, inputs.length);
        const [out, l] = saves.slice(inputs.length) as [Tensor, Tensor];
        const need = { q: needs[0]!, k: needs[1]!, v: needs[2]!, mask: needs[3] ?? false };
        const r = isGradEnabled() || need.mask
          ? gradOps(g, tq!, tk!, tv!, tm ?? null, l, causal, scale, need)
          : gradKernel(g, tq!, tk!, tv!, tm ?? null, out, l, causal, scale, need);
        return mask ? [r.dq, r.dk, r.dv, r.dmask] : [r.dq, r.dk, r.dv];
      },
      attrs: { causal, scale, ...(mask ? { mask: mask.dtype === 'int32' ? 'attend where nonzero' : 'added' } : {}) },
      local: () => ['dS·k·scale', 'dSᵀ·q·scale', 'Pᵀ', ...(mask ? ['dS'] : [])],
    });
  } finally {
    const array = lse as K.NDArray | null;
    if (saved) (saved as Tensor).dispose(); // the graph keeps its own handle
    else if (array && array.buf.live) K.free(array); // no graph was recorded
  }
}

export interface Grads { dq: Tensor | null; dk: Tensor | null; dv: Tensor | null; dmask: Tensor | null }
export type Needs = { q: boolean; k: boolean; v: boolean; mask: boolean };

function gradKernel(g: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, out: Tensor, lse: Tensor,
  causal: boolean, scale: number, need: Needs): Grads {
  const r = K.attentionGrad(q, k, v, out, lse, g, { mask, causal, scale }, need);
  const wrap = (a: K.NDArray | null) => (a ? fromKernel(a) : null);
  return { dq: wrap(r.dq), dk: wrap(r.dk), dv: wrap(r.dv), dmask: null };
}

/**
 * The same gradients from differentiable ops, with P = softmax of the masked scores recomputed whole: rows that
 * attend to nothing (lse = −∞) get P = 0 and pass nothing back. An int32 mask and causal become additive masks of
 * 0 and −∞ (constants, made on the host).
 */
export function gradOps(g: Tensor, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, lse: Tensor, causal: boolean,
  scale: number, need: Needs): Grads {
  const [L, S] = [q.shape[q.rank - 2]!, k.shape[k.rank - 2]!];
  const like = { dtype: q.dtype, backend: q.backend };
  let scores = mul(matmul(q, k, { transB: true }), scale);
  if (mask) {
    scores = add(scores, mask.dtype === 'int32'
      ? fromValues(Array.from(mask.data(), (x) => (x === 0 ? -Infinity : 0)), mask.shape, like)
      : mask);
  }
  if (causal) {
    const above = (at: number) => at % S > Math.floor(at / S); // key j > query i
    scores = add(scores, fromValues(Array.from({ length: L * S }, (_, at) => (above(at) ? -Infinity : 0)), [L, S], like));
  }
  const attends = reshape(greater(lse, -Infinity), [...lse.shape, 1]); // 1 for rows that attend to something
  const P = mul(softmax(where(attends, scores, 0), -1), attends);
  const dP = matmul(g, v, { transB: true });
  const dS = mul(P, sub(dP, sum(mul(dP, P), -1, true)));
  return {
    dq: need.q ? mul(matmul(dS, k), scale) : null,
    dk: need.k ? mul(matmul(dS, q, { transA: true }), scale) : null,
    dv: need.v ? matmul(P, g, { transA: true }) : null,
    dmask: need.mask ? sumTo(dS, mask!.shape) : null,
  };
}
