// packedSelfAttention: multi-head self-attention from the packed in-projection, as one op,
//   qkv [N, L, 3E] (q, k and v features side by side, each E = heads·d) → [N, L, E] (the heads' outputs joined)
// with the fused attention kernel in between. As ops (reshape, permute, three slices, scaledDotProductAttention,
// permute) the forward copies qkv twice, and the backward places each of dq, dk, dv in a zero tensor of qkv's shape
// and adds the three up: three fills and two sums of qkv's size, then a permute. Here each of q, k, v is one strided
// copy out of qkv, and the backward writes dq, dk and dv straight into their places in dqkv. The values are the
// same: the same kernels see the same numbers.
//
// While a graph of the backward is being recorded (higher-order gradients) the backward is composed from
// differentiable ops instead (scaledDotProductAttention's gradOps over slices of the saved qkv).
import { apply, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { concat } from './concat.js';
import { permute } from './permute.js';
import { reshape } from './reshape.js';
import { gradOps } from './scaledDotProductAttention.js';
import { slice } from './slice.js';

const API = 'packedSelfAttention';
/** [N, L, 3, H, d] → one part's [N, H, L, 1, d]: the head-major layout the attention kernel reads. */
const HEADS_FIRST = [0, 3, 1, 2, 4];

/**
 * Self-attention over `heads` heads of qkv [N, L, 3E] (q, k, v side by side, as the in-projection of
 * MultiheadAttention makes them), scale 1/√d: softmax(q·kᵀ/√d)·v per head (causal: keys j ≤ i), joined to [N, L, E].
 */
export function packedSelfAttention(qkv: Tensor, heads: number, options: { causal: boolean }): Tensor {
  checkTensor(API, 'qkv', qkv);
  const [N, L, E3] = qkv.shape as [number, number, number];
  if (qkv.rank !== 3 || E3 % (3 * heads) !== 0) {
    throw new Error(`${API}: qkv must be [N, L, 3·heads·d], got ${fmt(qkv.shape)} for ${heads} heads`);
  }
  const E = E3 / 3, d = E / heads;
  const { causal } = options;
  const scale = 1 / Math.sqrt(d);
  const packed = [N, L, 3, heads, d];
  const headsShape = [N, heads, L, d];
  /** q, k, v [N, H, L, d], the kernel's output in that layout and its lse: saved for the backward. */
  let parts: K.NDArray[] = [];
  let saved: Tensor[] = [];
  try {
    return apply({
      op: API,
      inputs: [qkv],
      forward: ([t]) => {
        const x = { buf: t!.buf, shape: packed };
        parts = [0, 1, 2].map((i) => ({
          buf: K.slicePermute(x, [0, 0, i, 0, 0], [N, L, 1, heads, d], HEADS_FIRST).buf, shape: headsShape,
        }));
        const r = K.attention(parts[0]!, parts[1]!, parts[2]!, { mask: null, causal, scale });
        parts.push(r.out, r.lse);
        const joined = K.permute(r.out, [0, 2, 1, 3]);
        return { buf: joined.buf, shape: [N, L, E] };
      },
      save: (xs) => {
        saved = parts.map(fromKernel);
        return [xs[0]!, ...saved];
      },
      backward: (g, saves) => {
        const [x, q, k, v, out, lse] = saves as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
        return [isGradEnabled() ? gradComposed(g, x, lse, heads, causal, scale) : gradKernel(g, q, k, v, out, lse, causal, scale)];
      },
      attrs: { heads, causal, scale },
      local: () => ['dq, dk, dv in place'],
    });
  } finally {
    if (saved.length > 0) saved.forEach((t) => t.dispose()); // the graph keeps its own handles
    else parts.forEach((a) => { if (a.buf.live) K.free(a); }); // no graph was recorded
  }
}

/** The backward by the attention kernel, dq, dk and dv written into their places in dqkv [N, L, 3E]. */
function gradKernel(g: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, causal: boolean,
  scale: number): Tensor {
  const [N, H, L, d] = q.shape as [number, number, number, number];
  const temps: K.NDArray[] = [];
  try {
    const dqkv = K.freeOnError(() => {
      const gh = K.permute({ buf: g.buf, shape: [N, L, H, d] }, [0, 2, 1, 3]);
      temps.push(gh);
      const r = K.attentionGrad(q, k, v, out, lse, gh, { mask: null, causal, scale }, { q: true, k: true, v: true });
      temps.push(r.dq!, r.dk!, r.dv!);
      const into = K.empty(g.backend, g.dtype, [N, L, 3, H, d]);
      [r.dq!, r.dk!, r.dv!].forEach((part, i) =>
        K.copyIntoPermuted(into, { buf: part.buf, shape: [N, H, L, 1, d] }, [0, 0, i, 0, 0], HEADS_FIRST));
      return into;
    });
    return fromKernel({ buf: dqkv.buf, shape: [N, L, 3 * H * d] });
  } finally {
    temps.forEach((a) => { if (a.buf.live) K.free(a); });
  }
}

/** The same gradient from differentiable ops (for gradients of gradients). */
function gradComposed(g: Tensor, qkv: Tensor, lse: Tensor, heads: number, causal: boolean, scale: number): Tensor {
  const [N, L, E3] = qkv.shape as [number, number, number];
  const d = E3 / 3 / heads;
  const all = permute(reshape(qkv, [N, L, 3, heads, d]), [2, 0, 3, 1, 4]); // [3, N, H, L, d]
  const [q, k, v] = [0, 1, 2].map((i) => reshape(slice(all, [i, 0, 0, 0, 0], [1, N, heads, L, d]), [N, heads, L, d]));
  const gh = permute(reshape(g, [N, L, heads, d]), [0, 2, 1, 3]);
  const r = gradOps(gh, q!, k!, v!, null, lse, causal, scale, { q: true, k: true, v: true, mask: false });
  const stacked = concat([r.dq!, r.dk!, r.dv!].map((t) => reshape(t, [1, N, heads, L, d])), 0);
  return reshape(permute(stacked, [1, 3, 0, 2, 4]), [N, L, E3]);
}
