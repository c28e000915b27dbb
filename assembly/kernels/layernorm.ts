// Layer normalisation over the rows of x viewed as [rows, n] (f32): per row a mean and rstd = 1/√(var + eps), and
// y = (x − mean)·rstd·weight + bias; RMS normalisation is the same with mean 0 (mean = 0 as a pointer), so var is
// mean(x²). src/backend/ref/layernorm.ts is the twin.
//
// Bits are the same on every build (simd, relaxed, scalar): every per-element result is a fixed sequence of f32
// operations, and every row sum runs in the lane order of rowsums.ts (eight f32 lanes over blocks of at most BLOCK
// elements, folded into f64 in a fixed order; two f32x4 vectors in the SIMD build, eight locals in the scalar
// one). Column sums (the weight and bias gradients) run down each column in f32 over blocks of COL_BLOCK rows, each block's sum added to an f32 total, one column per lane.
//
// The row kernels handle the rows [0, rows) from the pointers they are given, so a call can be shared over threads
// by ranges of rows; the column kernel handles the columns [c0, c1). Either way each output is computed by one
// thread exactly as the whole call computes it.

import { BLOCK, rowSquares, rowSum } from './rowsums';

// @ts-ignore: decorator
@inline const COL_BLOCK = 64;

/** rowGradSums' second result. A global is per instance, and so per thread in the threads build. */
let dotTotal: f64 = 0;

/**
 * With g = dy·weight (dy when weight is 0) and x̂ = (x − m)·r over a contiguous row: Σ g returned, Σ g·x̂ left in
 * dotTotal, both in rowsums.ts's lane order.
 */
function rowGradSums(x: usize, dy: usize, weight: usize, n: i32, m: f32, r: f32): f64 {
  let sum: f64 = 0;
  let dot: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    const rv = f32x4.splat(r);
    while (j + 8 <= n) {
      const end = min(n, j + BLOCK);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      let d0 = f32x4.splat(0);
      let d1 = f32x4.splat(0);
      for (; j + 8 <= end; j += 8) {
        const o = <usize>j << 2;
        let g0 = v128.load(dy + o);
        let g1 = v128.load(dy + o, 16);
        if (weight) {
          g0 = f32x4.mul(g0, v128.load(weight + o));
          g1 = f32x4.mul(g1, v128.load(weight + o, 16));
        }
        s0 = f32x4.add(s0, g0);
        s1 = f32x4.add(s1, g1);
        d0 = f32x4.add(d0, f32x4.mul(g0, f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv)));
        d1 = f32x4.add(d1, f32x4.mul(g1, f32x4.mul(f32x4.sub(v128.load(x + o, 16), mv), rv)));
      }
      const s = f32x4.add(s0, s1);
      const d = f32x4.add(d0, d1);
      sum += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
      dot += <f64>(f32x4.extract_lane(d, 0) + f32x4.extract_lane(d, 1))
        + <f64>(f32x4.extract_lane(d, 2) + f32x4.extract_lane(d, 3));
    }
  } else {
    while (j + 8 <= n) {
      const end = min(n, j + BLOCK);
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, s5: f32 = 0, s6: f32 = 0, s7: f32 = 0;
      let d0: f32 = 0, d1: f32 = 0, d2: f32 = 0, d3: f32 = 0, d4: f32 = 0, d5: f32 = 0, d6: f32 = 0, d7: f32 = 0;
      for (; j + 8 <= end; j += 8) {
        const o = <usize>j << 2;
        const g0 = gradAt(dy, weight, o), g1 = gradAt(dy, weight, o + 4), g2 = gradAt(dy, weight, o + 8);
        const g3 = gradAt(dy, weight, o + 12), g4 = gradAt(dy, weight, o + 16), g5 = gradAt(dy, weight, o + 20);
        const g6 = gradAt(dy, weight, o + 24), g7 = gradAt(dy, weight, o + 28);
        s0 += g0; s1 += g1; s2 += g2; s3 += g3; s4 += g4; s5 += g5; s6 += g6; s7 += g7;
        d0 += g0 * ((load<f32>(x + o) - m) * r);
        d1 += g1 * ((load<f32>(x + o, 4) - m) * r);
        d2 += g2 * ((load<f32>(x + o, 8) - m) * r);
        d3 += g3 * ((load<f32>(x + o, 12) - m) * r);
        d4 += g4 * ((load<f32>(x + o, 16) - m) * r);
        d5 += g5 * ((load<f32>(x + o, 20) - m) * r);
        d6 += g6 * ((load<f32>(x + o, 24) - m) * r);
        d7 += g7 * ((load<f32>(x + o, 28) - m) * r);
      }
      sum += <f64>((s0 + s4) + (s1 + s5)) + <f64>((s2 + s6) + (s3 + s7));
      dot += <f64>((d0 + d4) + (d1 + d5)) + <f64>((d2 + d6) + (d3 + d7));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const g = gradAt(dy, weight, o);
    sum += <f64>g;
    dot += <f64>(g * ((load<f32>(x + o) - m) * r));
  }
  dotTotal = dot;
  return sum;
}

/** dy[j]·weight[j] at byte offset o (dy[j] when weight is 0). */
// @ts-ignore: decorator
@inline function gradAt(dy: usize, weight: usize, o: usize): f32 {
  const g = load<f32>(dy + o);
  return weight ? g * load<f32>(weight + o) : g;
}

/**
 * Normalises rows [0, rows) of x [rows, n]: mean[i] (when mean ≠ 0; else the row is not centred: RMS
 * normalisation) and rstd[i] = 1/√(var + eps), var = Σ(x − mean)²/n with the f32 mean, then
 * out = ((x − mean)·rstd)·weight + bias (weight, bias [n], 0 = absent).
 */
export function layer_norm_f32(x: usize, out: usize, mean: usize, rstd: usize, weight: usize, bias: usize, n: i32,
  eps: f64, rows: i32): void {
  const row = <usize>n << 2;
  for (let i = 0; i < rows; i++) {
    const p = x + <usize>i * row;
    const o = out + <usize>i * row;
    let m: f32 = 0;
    if (mean) {
      m = <f32>(rowSum(p, n) / <f64>n);
      store<f32>(mean + (<usize>i << 2), m);
    }
    const r = <f32>(1 / Math.sqrt(rowSquares(p, n, m) / <f64>n + eps));
    store<f32>(rstd + (<usize>i << 2), r);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m);
      const rv = f32x4.splat(r);
      for (; j + 4 <= n; j += 4) {
        const q = <usize>j << 2;
        let y = f32x4.mul(f32x4.sub(v128.load(p + q), mv), rv);
        if (weight) y = f32x4.mul(y, v128.load(weight + q));
        if (bias) y = f32x4.add(y, v128.load(bias + q));
        v128.store(o + q, y);
      }
    }
    for (; j < n; j++) {
      const q = <usize>j << 2;
      let y = (load<f32>(p + q) - m) * r;
      if (weight) y *= load<f32>(weight + q);
      if (bias) y += load<f32>(bias + q);
      store<f32>(o + q, y);
    }
  }
}

/**
 * The input gradient of rows [0, rows), from the saved mean (0: RMS, mean 0) and rstd: with g = dy·weight and
 * x̂ = (x − mean)·rstd, dx = ((g − Σg/n) − x̂·(Σg·x̂/n))·rstd; RMS normalisation drops the Σg/n term.
 */
export function layer_norm_grad_f32(x: usize, dy: usize, mean: usize, rstd: usize, weight: usize, dx: usize, n: i32,
  rows: i32): void {
  const row = <usize>n << 2;
  for (let i = 0; i < rows; i++) {
    const px = x + <usize>i * row;
    const pdy = dy + <usize>i * row;
    const pdx = dx + <usize>i * row;
    const m: f32 = mean ? load<f32>(mean + (<usize>i << 2)) : 0;
    const r = load<f32>(rstd + (<usize>i << 2));
    const sum = rowGradSums(px, pdy, weight, n, m, r);
    const a: f32 = mean ? <f32>(sum / <f64>n) : 0;
    const b = <f32>(dotTotal / <f64>n);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f32x4.splat(m);
      const rv = f32x4.splat(r);
      const av = f32x4.splat(a);
      const bv = f32x4.splat(b);
      for (; j + 4 <= n; j += 4) {
        const q = <usize>j << 2;
        let g = v128.load(pdy + q);
        if (weight) g = f32x4.mul(g, v128.load(weight + q));
        const xhat = f32x4.mul(f32x4.sub(v128.load(px + q), mv), rv);
        v128.store(pdx + q, f32x4.mul(f32x4.sub(f32x4.sub(g, av), f32x4.mul(xhat, bv)), rv));
      }
    }
    for (; j < n; j++) {
      const q = <usize>j << 2;
      const xhat = (load<f32>(px + q) - m) * r;
      store<f32>(pdx + q, ((gradAt(pdy, weight, q) - a) - xhat * b) * r);
    }
  }
}

/**
 * The weight and bias gradients for the columns [c0, c1): dweight[j] = Σ_i dy[i,j]·x̂[i,j], dbias[j] = Σ_i dy[i,j]
 * over all rows (x̂ as in layer_norm_grad_f32), in the column order above; either output may be 0 (not wanted).
 */
export function layer_norm_params_grad_f32(x: usize, dy: usize, mean: usize, rstd: usize, dweight: usize, dbias: usize,
  rows: i32, n: i32, c0: i32, c1: i32): void {
  const row = <usize>n << 2;
  for (let j = c0; j < c1; j++) {
    const q = <usize>j << 2;
    if (dweight) store<f32>(dweight + q, 0);
    if (dbias) store<f32>(dbias + q, 0);
  }
  for (let i0 = 0; i0 < rows; i0 += COL_BLOCK) {
    const i1 = min(rows, i0 + COL_BLOCK);
    let j = c0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= c1; j += 4) {
        const q = <usize>j << 2;
        let sw = f32x4.splat(0);
        let sb = f32x4.splat(0);
        for (let i = i0; i < i1; i++) {
          const at = <usize>i * row + q;
          const m: f32 = mean ? load<f32>(mean + (<usize>i << 2)) : 0;
          const g = v128.load(dy + at);
          const xhat = f32x4.mul(f32x4.sub(v128.load(x + at), f32x4.splat(m)), f32x4.splat(load<f32>(rstd + (<usize>i << 2))));
          sw = f32x4.add(sw, f32x4.mul(g, xhat));
          sb = f32x4.add(sb, g);
        }
        if (dweight) v128.store(dweight + q, f32x4.add(v128.load(dweight + q), sw));
        if (dbias) v128.store(dbias + q, f32x4.add(v128.load(dbias + q), sb));
      }
    }
    for (; j < c1; j++) {
      const q = <usize>j << 2;
      let sw: f32 = 0;
      let sb: f32 = 0;
      for (let i = i0; i < i1; i++) {
        const at = <usize>i * row + q;
        const m: f32 = mean ? load<f32>(mean + (<usize>i << 2)) : 0;
        const g = load<f32>(dy + at);
        sw += g * ((load<f32>(x + at) - m) * load<f32>(rstd + (<usize>i << 2)));
        sb += g;
      }
      if (dweight) store<f32>(dweight + q, load<f32>(dweight + q) + sw);
      if (dbias) store<f32>(dbias + q, load<f32>(dbias + q) + sb);
    }
  }
}
