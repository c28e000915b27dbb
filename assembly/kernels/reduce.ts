// Reductions over the middle axis of x viewed as [outer, r, inner] (f32 in, f32 out [outer, inner]).
// Sums are two-level: f32 SIMD partial sums over blocks (at most 64 additions per lane per block), block totals
// accumulated in f64 (rows) or in a second f32 accumulator (columns), so the error does not grow linearly with r.
// MAX keeps the first j attaining the maximum (its exact bits, so −0 vs +0 follows the input) and the first NaN.
import { MEAN, MAX } from './codes'; // SUM is the remaining code

// @ts-ignore: decorator
@inline const ROW_BLOCK = 1024; // elements per f32 block in a contiguous row (16 lanes × 64)
// @ts-ignore: decorator
@inline const COL_BLOCK = 64; // rows per f32 block in a column sum

/** Σ_{j<n} p[j] (contiguous f32), returned in f64. */
function sumRow(p: usize, n: i32): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    while (j + 16 <= n) {
      const end = min(n, j + ROW_BLOCK);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      let s2 = f32x4.splat(0);
      let s3 = f32x4.splat(0);
      for (; j + 16 <= end; j += 16) {
        const q = p + (<usize>j << 2);
        s0 = f32x4.add(s0, v128.load(q));
        s1 = f32x4.add(s1, v128.load(q, 16));
        s2 = f32x4.add(s2, v128.load(q, 32));
        s3 = f32x4.add(s3, v128.load(q, 48));
      }
      const s = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
      total += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
  }
  for (; j < n; j++) total += <f64>load<f32>(p + (<usize>j << 2));
  return total;
}

/** out[i] = Σ_j p[j·inner + i] for i < count (divided by r when mean). */
function sumColumns(p: usize, out: usize, r: i32, inner: i32, count: i32, mean: bool): void {
  const rowBytes = <usize>inner << 2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const rv = f32x4.splat(<f32>r);
    for (; i + 16 <= count; i += 16) {
      let t0 = f32x4.splat(0);
      let t1 = f32x4.splat(0);
      let t2 = f32x4.splat(0);
      let t3 = f32x4.splat(0);
      let q = p + (<usize>i << 2);
      let j = 0;
      while (j < r) {
        const end = min(r, j + COL_BLOCK);
        let s0 = f32x4.splat(0);
        let s1 = f32x4.splat(0);
        let s2 = f32x4.splat(0);
        let s3 = f32x4.splat(0);
        for (; j < end; j++) {
          s0 = f32x4.add(s0, v128.load(q));
          s1 = f32x4.add(s1, v128.load(q, 16));
          s2 = f32x4.add(s2, v128.load(q, 32));
          s3 = f32x4.add(s3, v128.load(q, 48));
          q += rowBytes;
        }
        t0 = f32x4.add(t0, s0);
        t1 = f32x4.add(t1, s1);
        t2 = f32x4.add(t2, s2);
        t3 = f32x4.add(t3, s3);
      }
      const o = out + (<usize>i << 2);
      if (mean) {
        t0 = f32x4.div(t0, rv);
        t1 = f32x4.div(t1, rv);
        t2 = f32x4.div(t2, rv);
        t3 = f32x4.div(t3, rv);
      }
      v128.store(o, t0);
      v128.store(o, t1, 16);
      v128.store(o, t2, 32);
      v128.store(o, t3, 48);
    }
    for (; i + 4 <= count; i += 4) {
      let t = f32x4.splat(0);
      let q = p + (<usize>i << 2);
      let j = 0;
      while (j < r) {
        const end = min(r, j + COL_BLOCK);
        let s = f32x4.splat(0);
        for (; j < end; j++) {
          s = f32x4.add(s, v128.load(q));
          q += rowBytes;
        }
        t = f32x4.add(t, s);
      }
      v128.store(out + (<usize>i << 2), mean ? f32x4.div(t, rv) : t);
    }
  }
  for (; i < count; i++) {
    let s: f64 = 0;
    let q = p + (<usize>i << 2);
    for (let j = 0; j < r; j++) {
      s += <f64>load<f32>(q);
      q += rowBytes;
    }
    store<f32>(out + (<usize>i << 2), <f32>(mean ? s / <f64>r : s));
  }
}

/** Whether candidate (v, j) replaces (best, bj) as the first maximum, NaN counting as the largest value. */
// @ts-ignore: decorator
@inline function beats(v: f32, j: i32, best: f32, bj: i32): bool {
  if (v != v) return best == best || j < bj;
  if (best != best) return false;
  return v > best || (v == best && j < bj);
}

/** max over a contiguous row of n ≥ 1 elements; argmax (if non-zero) receives the first j attaining it. */
function maxRow(p: usize, n: i32, out: usize, argmax: usize): void {
  let best = load<f32>(p);
  let bj = 0;
  let j = 1;
  if (ASC_FEATURE_SIMD) {
    if (n >= 8) {
      // Lane l scans j ≡ l (mod 4) in order, keeping its own first maximum; lanes are merged below.
      let bv = v128.load(p);
      let bi = i32x4(0, 1, 2, 3);
      let jv = i32x4(4, 5, 6, 7);
      const four = i32x4.splat(4);
      for (j = 4; j + 4 <= n; j += 4) {
        const v = v128.load(p + (<usize>j << 2));
        const nanOverNumber = v128.andnot(f32x4.ne(v, v), f32x4.ne(bv, bv));
        const mask = v128.or(f32x4.gt(v, bv), nanOverNumber);
        bv = v128.bitselect(v, bv, mask);
        bi = v128.bitselect(jv, bi, mask);
        jv = i32x4.add(jv, four);
      }
      best = f32x4.extract_lane(bv, 0);
      bj = i32x4.extract_lane(bi, 0);
      let v = f32x4.extract_lane(bv, 1);
      let vj = i32x4.extract_lane(bi, 1);
      if (beats(v, vj, best, bj)) { best = v; bj = vj; }
      v = f32x4.extract_lane(bv, 2);
      vj = i32x4.extract_lane(bi, 2);
      if (beats(v, vj, best, bj)) { best = v; bj = vj; }
      v = f32x4.extract_lane(bv, 3);
      vj = i32x4.extract_lane(bi, 3);
      if (beats(v, vj, best, bj)) { best = v; bj = vj; }
    }
  }
  for (; j < n; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    if (v > best || (v != v && best == best)) { best = v; bj = j; }
  }
  store<f32>(out, best);
  if (argmax) store<i32>(argmax, bj);
}

/** out[i] = max_j p[j·inner + i] for i < count, argmax[i] the first such j (if argmax is non-zero). */
function maxColumns(p: usize, out: usize, argmax: usize, r: i32, inner: i32, count: i32): void {
  const rowBytes = <usize>inner << 2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= count; i += 4) {
      let q = p + (<usize>i << 2);
      let bv = v128.load(q);
      let bi = i32x4.splat(0);
      for (let j = 1; j < r; j++) {
        q += rowBytes;
        const v = v128.load(q);
        const nanOverNumber = v128.andnot(f32x4.ne(v, v), f32x4.ne(bv, bv));
        const mask = v128.or(f32x4.gt(v, bv), nanOverNumber);
        bv = v128.bitselect(v, bv, mask);
        bi = v128.bitselect(i32x4.splat(j), bi, mask);
      }
      v128.store(out + (<usize>i << 2), bv);
      if (argmax) v128.store(argmax + (<usize>i << 2), bi);
    }
  }
  for (; i < count; i++) {
    let q = p + (<usize>i << 2);
    let best = load<f32>(q);
    let bj = 0;
    for (let j = 1; j < r; j++) {
      q += rowBytes;
      const v = load<f32>(q);
      if (v > best || (v != v && best == best)) { best = v; bj = j; }
    }
    store<f32>(out + (<usize>i << 2), best);
    if (argmax) store<i32>(argmax + (<usize>i << 2), bj);
  }
}

/**
 * out[o,i] = SUM / MEAN / MAX over j of x[o,j,i] for x [outer, r, inner] f32, out [outer, inner] f32; argmax
 * (i32 [outer, inner], 0 = not wanted) gets the first j attaining MAX (first NaN if any). r = 0: SUM 0, MEAN NaN.
 * Only the columns i0 ≤ i < i1 are computed (the whole call: 0, inner): a thread's chunk of the columns. Columns
 * take the same path whatever the chunk when chunks start at multiples of 4 (the SIMD width).
 */
export function reduce_f32(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32, argmax: usize,
  i0: i32, i1: i32): void {
  const slab = <usize>r * <usize>inner << 2;
  const outRow = <usize>inner << 2;
  const first = <usize>i0 << 2;
  const count = i1 - i0;
  if (op == MAX) {
    if (r <= 0) return; // never called: max over an empty axis is rejected before the kernel
    for (let o = 0; o < outer; o++) {
      const am = argmax ? argmax + <usize>o * outRow : 0;
      if (inner == 1) maxRow(x, r, out, am);
      else maxColumns(x + first, out + first, am ? am + first : 0, r, inner, count);
      x += slab;
      out += outRow;
    }
    return;
  }
  const mean = op == MEAN;
  for (let o = 0; o < outer; o++) {
    if (inner == 1) {
      const s = sumRow(x, r);
      store<f32>(out, <f32>(mean ? s / <f64>r : s));
    } else {
      sumColumns(x + first, out + first, r, inner, count, mean);
    }
    x += slab;
    out += outRow;
  }
}
