// Reference scaled dot-product attention and its backward: the oracle for the fused wasm kernel. Clarity first:
// one query row at a time, its scores, probabilities and sums in float64, each result rounded once when stored.
import type { AttentionPlan, TypedArray } from '../types.js';

/** The mask of a plan as arrays (the backend passes them in). */
export interface MaskData { values: TypedArray; offsets: Int32Array }

/**
 * Row i of item h's scores into s[0..S): q·kᵀ·scale, masked (−∞ where the row does not attend). Returns the
 * row's maximum.
 */
function scores(q: TypedArray, k: TypedArray, h: number, i: number, plan: AttentionPlan, mask: MaskData | null,
  s: Float64Array): number {
  const { L, S, E, scale, causal } = plan;
  const qi = (h * L + i) * E;
  let m = -Infinity;
  for (let j = 0; j < S; j++) {
    const kj = (h * S + j) * E;
    let dot = 0;
    for (let e = 0; e < E; e++) dot += q[qi + e]! * k[kj + e]!;
    let v = dot * scale;
    if (plan.mask && mask) {
      const at = mask.offsets[h]! + i * plan.mask.rowStride + j * plan.mask.colStride;
      if (plan.mask.kind === 'add') v += mask.values[at]!;
      else if (mask.values[at] === 0) v = -Infinity;
    }
    if (causal && j > i) v = -Infinity;
    s[j] = v;
    m = Math.max(m, v); // NaN wins, so a NaN score makes the row NaN
  }
  return m;
}

/** out = softmax(scores)·v and lse per row; a row whose scores are all −∞ attends to nothing: out 0, lse −∞. */
export function attention(q: TypedArray, k: TypedArray, v: TypedArray, out: TypedArray, lse: TypedArray,
  plan: AttentionPlan, mask: MaskData | null): void {
  const { heads, L, S, Ev } = plan;
  const s = new Float64Array(S);
  const row = new Float64Array(Ev);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < L; i++) {
      const m = scores(q, k, h, i, plan, mask, s);
      row.fill(0);
      let sum = 0;
      if (m !== -Infinity) {
        for (let j = 0; j < S; j++) {
          const p = Math.exp(s[j]! - m);
          sum += p;
          for (let c = 0; c < Ev; c++) row[c] += p * v[(h * S + j) * Ev + c]!;
        }
        for (let c = 0; c < Ev; c++) row[c] /= sum;
      }
      out.set(row, (h * L + i) * Ev);
      lse[h * L + i] = m === -Infinity ? -Infinity : m + Math.log(sum);
    }
  }
}

/**
 * The backward, FlashAttention's way: with P = exp(scores − lse) recomputed row by row and D_i = Σ dout_i·out_i,
 * dv += Pᵀ·dout, dS = P ∘ (dout·vᵀ − D)·scale, dq = dS·k, dk += dSᵀ·q.
 */
export function attentionGrad(q: TypedArray, k: TypedArray, v: TypedArray, out: TypedArray, lse: TypedArray,
  dout: TypedArray, dq: TypedArray | null, dk: TypedArray | null, dv: TypedArray | null, plan: AttentionPlan,
  mask: MaskData | null): void {
  const { heads, L, S, E, Ev, scale } = plan;
  const s = new Float64Array(S);
  const dqRow = new Float64Array(E);
  const dkItem = new Float64Array(S * E);
  const dvItem = new Float64Array(S * Ev);
  for (let h = 0; h < heads; h++) {
    dkItem.fill(0);
    dvItem.fill(0);
    for (let i = 0; i < L; i++) {
      scores(q, k, h, i, plan, mask, s);
      const li = lse[h * L + i]!;
      const oi = (h * L + i) * Ev;
      let D = 0;
      for (let c = 0; c < Ev; c++) D += dout[oi + c]! * out[oi + c]!;
      dqRow.fill(0);
      for (let j = 0; j < S; j++) {
        const p = li === -Infinity ? 0 : Math.exp(s[j]! - li);
        const vj = (h * S + j) * Ev;
        let dp = 0;
        for (let c = 0; c < Ev; c++) {
          dp += dout[oi + c]! * v[vj + c]!;
          dvItem[j * Ev + c] += p * dout[oi + c]!;
        }
        const ds = p * (dp - D) * scale;
        const kj = (h * S + j) * E;
        const qi = (h * L + i) * E;
        for (let e = 0; e < E; e++) {
          dqRow[e] += ds * k[kj + e]!;
          dkItem[j * E + e] += ds * q[qi + e]!;
        }
      }
      dq?.set(dqRow, (h * L + i) * E);
    }
    dk?.set(dkItem, h * S * E);
    dv?.set(dvItem, h * S * Ev);
  }
}
