// Reference layer normalisation over the rows of x viewed as [rows, n], and RMS normalisation (plan.rms: the rows
// are not centred, so the variance is mean(x²)): statistics per row, the normalisation, and the backward.
// Accumulated in float64.
import type { LayerNormPlan, TypedArray } from '../types.js';

/**
 * Per row: mean (not for rms) and rstd = 1/√(var + eps) with the biased variance, then
 * out = (x − mean)·rstd·weight + bias (weight 1 and bias 0 where null).
 */
export function layerNorm(x: TypedArray, out: TypedArray, mean: TypedArray | null, rstd: TypedArray,
  weight: TypedArray | null, bias: TypedArray | null, p: LayerNormPlan): void {
  for (let i = 0; i < p.rows; i++) {
    const at = i * p.n;
    let m = 0;
    if (!p.rms) {
      for (let j = 0; j < p.n; j++) m += x[at + j]!;
      m /= p.n;
    }
    let ss = 0;
    for (let j = 0; j < p.n; j++) ss += (x[at + j]! - m) ** 2;
    const r = 1 / Math.sqrt(ss / p.n + p.eps);
    if (mean) mean[i] = m;
    rstd[i] = r;
    for (let j = 0; j < p.n; j++) out[at + j] = (x[at + j]! - m) * r * (weight ? weight[j]! : 1) + (bias ? bias[j]! : 0);
  }
}

/**
 * The backward from the saved mean and rstd, with g = dy·weight and x̂ = (x − mean)·rstd per row:
 * dx = (g − mean(g) − x̂·mean(g·x̂))·rstd (rms: without mean(g)), dweight = Σ_rows dy·x̂, dbias = Σ_rows dy.
 * Each of dx, dweight, dbias is computed only if given.
 */
export function layerNormGrad(x: TypedArray, dy: TypedArray, mean: TypedArray | null, rstd: TypedArray,
  weight: TypedArray | null, dx: TypedArray | null, dweight: TypedArray | null, dbias: TypedArray | null,
  p: LayerNormPlan): void {
  const sumW = dweight ? new Float64Array(p.n) : null;
  const sumB = dbias ? new Float64Array(p.n) : null;
  for (let i = 0; i < p.rows; i++) {
    const at = i * p.n;
    const m = mean ? mean[i]! : 0;
    const r = rstd[i]!;
    let sum = 0, dot = 0;
    for (let j = 0; j < p.n; j++) {
      const xhat = (x[at + j]! - m) * r;
      const g = dy[at + j]! * (weight ? weight[j]! : 1);
      sum += g;
      dot += g * xhat;
      if (sumW) sumW[j] += dy[at + j]! * xhat;
      if (sumB) sumB[j] += dy[at + j]!;
    }
    if (!dx) continue;
    const a = p.rms ? 0 : sum / p.n;
    const b = dot / p.n;
    for (let j = 0; j < p.n; j++) {
      const xhat = (x[at + j]! - m) * r;
      dx[at + j] = (dy[at + j]! * (weight ? weight[j]! : 1) - a - xhat * b) * r;
    }
  }
  if (dweight) dweight.set(sumW!);
  if (dbias) dbias.set(sumB!);
}
