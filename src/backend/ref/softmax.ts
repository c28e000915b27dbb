// Reference softmax / log-softmax over the middle axis of [outer, r, inner], their backward, and the fused
// softmax cross-entropy. Numerically stable (exponentials of x − max ≤ 1), computed in float64.
import type { TypedArray } from '../types.js';

/** y = softmax (or log-softmax) over j of x[o,j,i]. out may alias x. */
export function softmax(x: TypedArray, out: TypedArray, outer: number, r: number, inner: number, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      let m = -Infinity;
      for (let j = 0; j < r; j++) m = Math.max(m, x[base + j * inner]);
      let s = 0;
      for (let j = 0; j < r; j++) s += Math.exp(x[base + j * inner] - m);
      const lse = Math.log(s);
      for (let j = 0; j < r; j++) {
        const k = base + j * inner;
        out[k] = log ? x[k] - m - lse : Math.exp(x[k] - m) / s;
      }
    }
  }
}

/** Backward from y: softmax dx = y·(dy − Σ_j dy·y); log-softmax dx = dy − exp(y)·Σ_j dy. dx may alias dy. */
export function softmaxGrad(y: TypedArray, dy: TypedArray, dx: TypedArray, outer: number, r: number, inner: number,
  log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      let s = 0;
      for (let j = 0; j < r; j++) {
        const k = base + j * inner;
        s += log ? dy[k] : dy[k] * y[k];
      }
      for (let j = 0; j < r; j++) {
        const k = base + j * inner;
        dx[k] = log ? dy[k] - Math.exp(y[k]) * s : y[k] * (dy[k] - s);
      }
    }
  }
}

/**
 * Softmax cross-entropy of logits [n, c] against labels [n] with target q = (1−s)·onehot + s/c:
 * losses[i] = −Σ_j q_ij·log p_ij with log p = (x − max) − log Σ exp(x − max); probs[i,j] = p_ij. A row whose label
 * is ignoreIndex has loss 0.
 */
export function crossEntropy(logits: TypedArray, labels: Int32Array, losses: TypedArray, probs: TypedArray, n: number,
  c: number, smoothing: number, ignoreIndex: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[row + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(logits[row + j] - m);
    const lse = Math.log(s);
    const ignored = labels[i] === ignoreIndex;
    let loss = 0;
    for (let j = 0; j < c; j++) {
      const logp = logits[row + j] - m - lse;
      probs[row + j] = Math.exp(logits[row + j] - m) / s;
      const q = (j === labels[i] ? 1 - smoothing : 0) + smoothing / c;
      if (q !== 0 && !ignored) loss -= q * logp;
    }
    losses[i] = loss;
  }
}

/**
 * dx[i,j] = (probs[i,j] − q_ij)·dloss[i·dlossStride]·scale (dlossStride 0: one upstream value for all rows); 0 for a
 * row whose label is ignoreIndex.
 */
export function crossEntropyGrad(probs: TypedArray, labels: Int32Array, dloss: TypedArray, dlossStride: number,
  scale: number, dx: TypedArray, n: number, c: number, smoothing: number, ignoreIndex: number): void {
  for (let i = 0; i < n; i++) {
    const ignored = labels[i] === ignoreIndex;
    const g = dloss[i * dlossStride] * scale;
    for (let j = 0; j < c; j++) {
      const q = (j === labels[i] ? 1 - smoothing : 0) + smoothing / c;
      dx[i * c + j] = ignored ? 0 : (probs[i * c + j] - q) * g;
    }
  }
}
