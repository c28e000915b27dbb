// Batch normalisation of x (f32) viewed as [n, c, l]: channel ch of sample i is the contiguous row
// x[(i·c + ch)·l .. +l). Per-channel statistics, the normalisation and the backward, with PyTorch's CPU formulas
// (src/backend/ref/batchnorm.ts is the twin). Every kernel handles the channels [c0, c1) and touches only their
// rows and their entries of the per-channel arrays, so a call can be split over threads by channel ranges with
// bit-identical results. Row sums are rowsums.ts's (the same bits on every build); the gradient's sums run in f32
// lanes over blocks of at most BLOCK values of a row, block totals in f64.

import { BLOCK, rowSquares, rowSum } from './rowsums';

/** rowGradSums' second result. A global is per instance, and so per thread in the threads build. */
let dotTotal: f64 = 0;

/** Σ_j dy[j] over a contiguous row, returned, and Σ_j (x[j] − m)·dy[j] left in dotTotal (both in f64). */
function rowGradSums(x: usize, dy: usize, n: i32, m: f32): f64 {
  let sum: f64 = 0;
  let dot: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    while (j + 4 <= n) {
      const end = min(n, j + BLOCK);
      let s = f32x4.splat(0);
      let d = f32x4.splat(0);
      for (; j + 4 <= end; j += 4) {
        const o = <usize>j << 2;
        const g = v128.load(dy + o);
        s = f32x4.add(s, g);
        d = f32x4.add(d, f32x4.mul(f32x4.sub(v128.load(x + o), mv), g));
      }
      sum += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
      dot += <f64>(f32x4.extract_lane(d, 0) + f32x4.extract_lane(d, 1))
        + <f64>(f32x4.extract_lane(d, 2) + f32x4.extract_lane(d, 3));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const g = load<f32>(dy + o);
    sum += <f64>g;
    dot += <f64>((load<f32>(x + o) - m) * g);
  }
  dotTotal = dot;
  return sum;
}

/** out[j] = x[j]·a + b over a contiguous row. */
// @ts-ignore: decorator
@inline function rowAffine(x: usize, out: usize, n: i32, a: f32, b: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a);
    const bv = f32x4.splat(b);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(f32x4.mul(v128.load(x + o), av), bv));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, load<f32>(x + o) * a + b);
  }
}

/** dx[j] = (dy[j] − gm − (x[j] − m)·k)·scale over a contiguous row (the training-mode input gradient). */
// @ts-ignore: decorator
@inline function rowTrainGrad(x: usize, dy: usize, dx: usize, n: i32, m: f32, gm: f32, k: f32, scale: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    const gv = f32x4.splat(gm);
    const kv = f32x4.splat(k);
    const sv = f32x4.splat(scale);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      const t = f32x4.mul(f32x4.sub(v128.load(x + o), mv), kv);
      v128.store(dx + o, f32x4.mul(f32x4.sub(f32x4.sub(v128.load(dy + o), gv), t), sv));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(dx + o, (load<f32>(dy + o) - gm - (load<f32>(x + o) - m) * k) * scale);
  }
}

/** The address of channel ch's row of sample i. */
// @ts-ignore: decorator
@inline function row(x: usize, i: i32, ch: i32, c: i32, l: i32): usize {
  return x + (<usize>(i * c + ch) * <usize>l << 2);
}

/**
 * mean[ch] and the biased var[ch] over the n·l values of each channel in [c0, c1) (two passes: the variance sums
 * (x − mean)²). When runMean ≠ 0, also runMean = (1 − momentum)·runMean + momentum·mean and the same for runVar
 * with the unbiased variance (n·l ≥ 2), as PyTorch.
 */
export function batch_norm_stats_f32(x: usize, mean: usize, variance: usize, runMean: usize, runVar: usize,
  momentum: f64, n: i32, c: i32, l: i32, c0: i32, c1: i32): void {
  const m = <f64>n * <f64>l;
  for (let ch = c0; ch < c1; ch++) {
    let s: f64 = 0;
    for (let i = 0; i < n; i++) s += rowSum(row(x, i, ch, c, l), l);
    const mu = s / m;
    let ss: f64 = 0;
    for (let i = 0; i < n; i++) ss += rowSquares(row(x, i, ch, c, l), l, <f32>mu);
    const at = <usize>ch << 2;
    store<f32>(mean + at, <f32>mu);
    store<f32>(variance + at, <f32>(ss / m));
    if (runMean) {
      store<f32>(runMean + at, <f32>(momentum * mu + (1 - momentum) * <f64>load<f32>(runMean + at)));
      store<f32>(runVar + at, <f32>(momentum * (ss / (m - 1)) + (1 - momentum) * <f64>load<f32>(runVar + at)));
    }
  }
}

/** out = x·α + β per channel in [c0, c1), α = weight/√(var + eps), β = bias − mean·α (weight, bias 0 = absent). */
export function batch_norm_f32(x: usize, out: usize, mean: usize, variance: usize, weight: usize, bias: usize,
  eps: f64, n: i32, c: i32, l: i32, c0: i32, c1: i32): void {
  for (let ch = c0; ch < c1; ch++) {
    const at = <usize>ch << 2;
    const invstd = 1 / Math.sqrt(<f64>load<f32>(variance + at) + eps);
    const alpha = invstd * (weight ? <f64>load<f32>(weight + at) : 1);
    const beta = (bias ? <f64>load<f32>(bias + at) : 0) - <f64>load<f32>(mean + at) * alpha;
    for (let i = 0; i < n; i++) rowAffine(row(x, i, ch, c, l), row(out, i, ch, c, l), l, <f32>alpha, <f32>beta);
  }
}

/**
 * The backward for the channels [c0, c1), with Σdy and dot = Σ(x − mean)·dy: dbias = Σdy, dweight = dot·invstd,
 * dx = (dy − Σdy/m − (x − mean)·dot·invstd²/m)·invstd·weight when training, dy·invstd·weight otherwise.
 * Outputs that are 0 are not computed.
 */
export function batch_norm_grad_f32(x: usize, dy: usize, mean: usize, variance: usize, weight: usize, dx: usize,
  dweight: usize, dbias: usize, training: i32, eps: f64, n: i32, c: i32, l: i32, c0: i32, c1: i32): void {
  const m = <f64>n * <f64>l;
  for (let ch = c0; ch < c1; ch++) {
    const at = <usize>ch << 2;
    const mu = load<f32>(mean + at);
    const invstd = 1 / Math.sqrt(<f64>load<f32>(variance + at) + eps);
    let sum: f64 = 0;
    let dot: f64 = 0;
    if (training || dweight || dbias) {
      for (let i = 0; i < n; i++) {
        sum += rowGradSums(row(x, i, ch, c, l), row(dy, i, ch, c, l), l, mu);
        dot += dotTotal;
      }
    }
    if (dbias) store<f32>(dbias + at, <f32>sum);
    if (dweight) store<f32>(dweight + at, <f32>(dot * invstd));
    if (!dx) continue;
    const scale = <f32>(invstd * (weight ? <f64>load<f32>(weight + at) : 1));
    if (!training) {
      for (let i = 0; i < n; i++) rowAffine(row(dy, i, ch, c, l), row(dx, i, ch, c, l), l, scale, 0);
      continue;
    }
    const gm = <f32>(sum / m);
    const k = <f32>(dot * invstd * invstd / m);
    for (let i = 0; i < n; i++) {
      rowTrainGrad(row(x, i, ch, c, l), row(dy, i, ch, c, l), row(dx, i, ch, c, l), l, mu, gm, k, scale);
    }
  }
}
