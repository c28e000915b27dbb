// Reference batch normalisation over x viewed as [n, c, l] (channel c of sample s is the row x[s, c, 0..l)):
// per-channel statistics over its n·l values, the normalisation, and the backward, with PyTorch's CPU formulas.
// Accumulated in float64.
import type { BatchNormPlan, TypedArray } from '../types.js';

/**
 * mean and biased variance per channel (two passes: the variance sums (x − mean)²). With running buffers, also
 * running = (1 − momentum)·running + momentum·batch, with the unbiased variance (·m/(m − 1), m = n·l) as PyTorch.
 */
export function batchNormStats(x: TypedArray, mean: TypedArray, variance: TypedArray, runningMean: TypedArray | null,
  runningVar: TypedArray | null, momentum: number, p: BatchNormPlan): void {
  const m = p.n * p.l;
  for (let ch = 0; ch < p.c; ch++) {
    let s = 0;
    for (let i = 0; i < p.n; i++) for (let j = 0; j < p.l; j++) s += x[(i * p.c + ch) * p.l + j]!;
    const mu = s / m;
    let ss = 0;
    for (let i = 0; i < p.n; i++) {
      for (let j = 0; j < p.l; j++) {
        const d = x[(i * p.c + ch) * p.l + j]! - mu;
        ss += d * d;
      }
    }
    mean[ch] = mu;
    variance[ch] = ss / m;
    if (runningMean && runningVar) {
      runningMean[ch] = momentum * mu + (1 - momentum) * runningMean[ch]!;
      runningVar[ch] = momentum * (ss / (m - 1)) + (1 - momentum) * runningVar[ch]!;
    }
  }
}

/** out = (x − mean)·invstd·weight + bias, invstd = 1/√(var + eps), as x·α + β per channel (weight 1, bias 0 if null). */
export function batchNorm(x: TypedArray, out: TypedArray, mean: TypedArray, variance: TypedArray,
  weight: TypedArray | null, bias: TypedArray | null, p: BatchNormPlan): void {
  for (let ch = 0; ch < p.c; ch++) {
    const invstd = 1 / Math.sqrt(variance[ch]! + p.eps);
    const alpha = invstd * (weight ? weight[ch]! : 1);
    const beta = (bias ? bias[ch]! : 0) - mean[ch]! * alpha;
    for (let i = 0; i < p.n; i++) {
      const at = (i * p.c + ch) * p.l;
      for (let j = 0; j < p.l; j++) out[at + j] = x[at + j]! * alpha + beta;
    }
  }
}

/**
 * The backward, per channel with Σdy and dot = Σ(x − mean)·dy: dbias = Σdy, dweight = dot·invstd, and
 * dx = (dy − Σdy/m − (x − mean)·dot·invstd²/m)·invstd·weight in training (mean and var were the batch's), or
 * dy·invstd·weight in evaluation. Each of dx, dweight, dbias is computed only if given.
 */
export function batchNormGrad(x: TypedArray, dy: TypedArray, mean: TypedArray, variance: TypedArray,
  weight: TypedArray | null, dx: TypedArray | null, dweight: TypedArray | null, dbias: TypedArray | null,
  training: boolean, p: BatchNormPlan): void {
  const m = p.n * p.l;
  for (let ch = 0; ch < p.c; ch++) {
    const mu = mean[ch]!;
    const invstd = 1 / Math.sqrt(variance[ch]! + p.eps);
    let sum = 0, dot = 0;
    for (let i = 0; i < p.n; i++) {
      const at = (i * p.c + ch) * p.l;
      for (let j = 0; j < p.l; j++) {
        sum += dy[at + j]!;
        dot += (x[at + j]! - mu) * dy[at + j]!;
      }
    }
    if (dbias) dbias[ch] = sum;
    if (dweight) dweight[ch] = dot * invstd;
    if (!dx) continue;
    const w = weight ? weight[ch]! : 1;
    const k = (dot * invstd * invstd) / m;
    const gradMean = sum / m;
    for (let i = 0; i < p.n; i++) {
      const at = (i * p.c + ch) * p.l;
      for (let j = 0; j < p.l; j++) {
        dx[at + j] = training
          ? (dy[at + j]! - gradMean - (x[at + j]! - mu) * k) * invstd * w
          : dy[at + j]! * invstd * w;
      }
    }
  }
}
