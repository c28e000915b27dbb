// Softmax / log-softmax over the middle axis of [outer, r, inner], their backward, and the fused softmax
// cross-entropy. Numerically stable: exp(x − max) ≤ 1. Exponentials use the SIMD exp of math.ts (≤ 1 ulp); row
// sums of exponentials accumulate in f32 lanes per block of ≤ 1024 elements and in f64 across blocks.
import { exp_v, exp_s } from './math';

// @ts-ignore: decorator
@inline const BLOCK = 1024;

/**
 * max_j p[j] over a contiguous row (NaN if any element is NaN; −∞ for n = 0). The SIMD loop uses pmax (one
 * instruction; f32x4.max is a long NaN/±0 fix-up sequence in V8) with four independent accumulators, and tracks
 * NaN separately. The sign of a zero maximum may differ from f32.max's; x − max is the same either way.
 */
function rowMax(p: usize, n: i32): f32 {
  let m: f32 = -Infinity;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    if (n >= 16) {
      let m0 = v128.load(p);
      let m1 = v128.load(p, 16);
      let m2 = v128.load(p, 32);
      let m3 = v128.load(p, 48);
      let nan = v128.or(v128.or(f32x4.ne(m0, m0), f32x4.ne(m1, m1)), v128.or(f32x4.ne(m2, m2), f32x4.ne(m3, m3)));
      for (j = 16; j + 16 <= n; j += 16) {
        const q = p + (<usize>j << 2);
        const v0 = v128.load(q);
        const v1 = v128.load(q, 16);
        const v2 = v128.load(q, 32);
        const v3 = v128.load(q, 48);
        m0 = f32x4.pmax(m0, v0);
        m1 = f32x4.pmax(m1, v1);
        m2 = f32x4.pmax(m2, v2);
        m3 = f32x4.pmax(m3, v3);
        nan = v128.or(nan, v128.or(v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)), v128.or(f32x4.ne(v2, v2), f32x4.ne(v3, v3))));
      }
      for (; j + 4 <= n; j += 4) {
        const v = v128.load(p + (<usize>j << 2));
        m0 = f32x4.pmax(m0, v);
        nan = v128.or(nan, f32x4.ne(v, v));
      }
      if (v128.any_true(nan)) return NaN;
      m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
      m = max<f32>(max<f32>(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)),
        max<f32>(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
    }
  }
  for (; j < n; j++) m = max<f32>(m, load<f32>(p + (<usize>j << 2)));
  return m;
}

/** Σ_j e^{p[j] − m}; when store != 0 the exponentials are also written to store[j]. Returned in f64. */
// @ts-ignore: decorator
@inline function rowExpSum(p: usize, n: i32, m: f32, store_: usize): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    while (j + 4 <= n) {
      const end = min(n, j + BLOCK);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      for (; j + 8 <= end; j += 8) { // two independent exponentials per iteration
        const o = <usize>j << 2;
        const e0 = exp_v(f32x4.sub(v128.load(p + o), mv));
        const e1 = exp_v(f32x4.sub(v128.load(p + o, 16), mv));
        if (store_) {
          v128.store(store_ + o, e0);
          v128.store(store_ + o, e1, 16);
        }
        s0 = f32x4.add(s0, e0);
        s1 = f32x4.add(s1, e1);
      }
      for (; j + 4 <= end; j += 4) {
        const o = <usize>j << 2;
        const e = exp_v(f32x4.sub(v128.load(p + o), mv));
        if (store_) v128.store(store_ + o, e);
        s0 = f32x4.add(s0, e);
      }
      const s = f32x4.add(s0, s1);
      total += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const e = exp_s(load<f32>(p + o) - m);
    if (store_) store<f32>(store_ + o, e);
    total += <f64>e;
  }
  return total;
}

/** p[j] *= k over a contiguous row. */
// @ts-ignore: decorator
@inline function rowScale(p: usize, n: i32, k: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const kv = f32x4.splat(k);
    for (; j + 4 <= n; j += 4) {
      const q = p + (<usize>j << 2);
      v128.store(q, f32x4.mul(v128.load(q), kv));
    }
  }
  for (; j < n; j++) {
    const q = p + (<usize>j << 2);
    store<f32>(q, load<f32>(q) * k);
  }
}

/** out[j] = (x[j] − m) − lse over a contiguous row. */
// @ts-ignore: decorator
@inline function rowLogOut(x: usize, out: usize, n: i32, m: f32, lse: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    const lv = f32x4.splat(lse);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.sub(f32x4.sub(v128.load(x + o), mv), lv));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, (load<f32>(x + o) - m) - lse);
  }
}

/** (log-)softmax of each column i of one [r, inner] slab, scalar, for the columns the SIMD path leaves. */
function softmaxColumn(x: usize, out: usize, r: i32, inner: i32, log: bool): void {
  const step = <usize>inner << 2;
  let m: f32 = -Infinity;
  for (let j = 0; j < r; j++) m = max<f32>(m, load<f32>(x + <usize>j * step));
  let s: f64 = 0;
  for (let j = 0; j < r; j++) {
    const e = exp_s(load<f32>(x + <usize>j * step) - m);
    if (!log) store<f32>(out + <usize>j * step, e);
    s += <f64>e;
  }
  if (log) {
    const lse = <f32>Math.log(s);
    for (let j = 0; j < r; j++) store<f32>(out + <usize>j * step, (load<f32>(x + <usize>j * step) - m) - lse);
  } else {
    const k = <f32>(1 / s);
    for (let j = 0; j < r; j++) store<f32>(out + <usize>j * step, load<f32>(out + <usize>j * step) * k);
  }
}

/**
 * y[o,:,i] = softmax over j of x[o,j,i] (log = 1: log-softmax), x and y [outer, r, inner] f32, computed as
 * e^{x − max}/Σ (log: (x − max) − log Σ e^{x − max}). out may alias x. Only the columns i0 ≤ i < i1 are computed
 * (the whole call: 0, inner), a thread's chunk; a column takes the same path whatever the chunk when chunks start
 * at multiples of 4.
 */
export function softmax_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32, log: i32, i0: i32, i1: i32): void {
  const slab = <usize>r * <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    if (inner == 1) {
      const m = rowMax(x, r);
      if (log) {
        const lse = <f32>Math.log(rowExpSum(x, r, m, 0));
        rowLogOut(x, out, r, m, lse);
      } else {
        const s = rowExpSum(x, r, m, out);
        rowScale(out, r, <f32>(1 / s));
      }
    } else {
      let i = i0;
      if (ASC_FEATURE_SIMD) {
        const step = <usize>inner << 2;
        for (; i + 4 <= i1; i += 4) {
          const px = x + (<usize>i << 2);
          const po = out + (<usize>i << 2);
          let m = f32x4.splat(-Infinity);
          let nan = f32x4.splat(0);
          for (let j = 0; j < r; j++) {
            const v = v128.load(px + <usize>j * step);
            m = f32x4.pmax(m, v);
            nan = v128.or(nan, f32x4.ne(v, v));
          }
          m = v128.or(m, nan); // a NaN column gets an all-ones (NaN) maximum
          let s = f32x4.splat(0);
          for (let j = 0; j < r; j++) {
            const e = exp_v(f32x4.sub(v128.load(px + <usize>j * step), m));
            if (!log) v128.store(po + <usize>j * step, e);
            s = f32x4.add(s, e);
          }
          if (log) {
            const lse = f32x4(
              <f32>Math.log(<f64>f32x4.extract_lane(s, 0)), <f32>Math.log(<f64>f32x4.extract_lane(s, 1)),
              <f32>Math.log(<f64>f32x4.extract_lane(s, 2)), <f32>Math.log(<f64>f32x4.extract_lane(s, 3)));
            for (let j = 0; j < r; j++) {
              const q = <usize>j * step;
              v128.store(po + q, f32x4.sub(f32x4.sub(v128.load(px + q), m), lse));
            }
          } else {
            const k = f32x4.div(f32x4.splat(1), s);
            for (let j = 0; j < r; j++) {
              const q = po + <usize>j * step;
              v128.store(q, f32x4.mul(v128.load(q), k));
            }
          }
        }
      }
      for (; i < i1; i++) softmaxColumn(x + (<usize>i << 2), out + (<usize>i << 2), r, inner, log != 0);
    }
    x += slab;
    out += slab;
  }
}

/** Σ_j a[j]·b[j] over a contiguous row, f32 lanes per block, f64 across blocks. */
function rowDot(a: usize, b: usize, n: i32): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    while (j + 4 <= n) {
      const end = min(n, j + BLOCK);
      let s = f32x4.splat(0);
      for (; j + 4 <= end; j += 4) {
        const o = <usize>j << 2;
        s = f32x4.add(s, f32x4.mul(v128.load(a + o), v128.load(b + o)));
      }
      total += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    total += <f64>(load<f32>(a + o) * load<f32>(b + o));
  }
  return total;
}

/** Σ_j (a[j] − m) over a contiguous row (m = 0: the plain sum), f32 lanes per block, f64 across blocks. */
function rowSum(a: usize, n: i32, m: f32): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    while (j + 4 <= n) {
      const end = min(n, j + BLOCK);
      let s = f32x4.splat(0);
      for (; j + 4 <= end; j += 4) s = f32x4.add(s, f32x4.sub(v128.load(a + (<usize>j << 2)), mv));
      total += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
  }
  for (; j < n; j++) total += <f64>(load<f32>(a + (<usize>j << 2)) - m);
  return total;
}

/** dx[j] = y[j]·(dy[j] − s) (softmax) or dy[j] − e^{y[j]}·s (log-softmax) over a contiguous row. */
// @ts-ignore: decorator
@inline function rowSoftmaxGrad(y: usize, dy: usize, dx: usize, n: i32, s: f32, log: bool): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(s);
    for (; j + 4 <= n; j += 4) {
      const q = <usize>j << 2;
      const yv = v128.load(y + q);
      const g = v128.load(dy + q);
      v128.store(dx + q, log ? f32x4.sub(g, f32x4.mul(exp_v(yv), sv)) : f32x4.mul(yv, f32x4.sub(g, sv)));
    }
  }
  for (; j < n; j++) {
    const q = <usize>j << 2;
    const yv = load<f32>(y + q);
    const g = load<f32>(dy + q);
    store<f32>(dx + q, log ? g - exp_s(yv) * s : yv * (g - s));
  }
}

/**
 * Backward of softmax_f32 from its output y [outer, r, inner]: softmax dx = y·(dy − Σ_j dy·y), log-softmax
 * dx = dy − e^y·Σ_j dy (sums over j at fixed o, i). dx may alias dy. Columns i0 ≤ i < i1 only, as softmax_f32.
 */
export function softmax_grad_f32(y: usize, dy: usize, dx: usize, outer: i32, r: i32, inner: i32, log: i32,
  i0: i32, i1: i32): void {
  const slab = <usize>r * <usize>inner << 2;
  const step = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    let i = i0;
    if (inner == 1) {
      if (log) rowSoftmaxGrad(y, dy, dx, r, <f32>rowSum(dy, r, 0), true);
      else rowSoftmaxGrad(y, dy, dx, r, <f32>rowDot(dy, y, r), false);
      i = 1;
    }
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= i1; i += 4) {
        const c = <usize>i << 2;
        let s = f32x4.splat(0);
        for (let j = 0; j < r; j++) {
          const q = c + <usize>j * step;
          const g = v128.load(dy + q);
          s = f32x4.add(s, log ? g : f32x4.mul(g, v128.load(y + q)));
        }
        for (let j = 0; j < r; j++) {
          const q = c + <usize>j * step;
          const yv = v128.load(y + q);
          const g = v128.load(dy + q);
          v128.store(dx + q, log ? f32x4.sub(g, f32x4.mul(exp_v(yv), s)) : f32x4.mul(yv, f32x4.sub(g, s)));
        }
      }
    }
    for (; i < i1; i++) {
      const c = <usize>i << 2;
      let s64: f64 = 0;
      for (let j = 0; j < r; j++) {
        const q = c + <usize>j * step;
        const g = load<f32>(dy + q);
        s64 += <f64>(log ? g : g * load<f32>(y + q));
      }
      const s = <f32>s64;
      for (let j = 0; j < r; j++) {
        const q = c + <usize>j * step;
        const yv = load<f32>(y + q);
        const g = load<f32>(dy + q);
        store<f32>(dx + q, log ? g - exp_s(yv) * s : yv * (g - s));
      }
    }
    y += slab;
    dy += slab;
    dx += slab;
  }
}

/**
 * Softmax cross-entropy of logits [n, c] f32 against labels i32 [n] (0 ≤ label < c, or ignoreIndex) with target
 * q = (1−s)·onehot + s/c: losses[i] = −Σ_j q_ij·log p_ij (log p = (x − max) − log Σ e^{x − max}), probs[i,j] = p_ij.
 * A row labelled ignoreIndex has loss 0 (its probs are still written).
 */
export function cross_entropy_f32(logits: usize, labels: usize, losses: usize, probs: usize, n: i32, c: i32,
  smoothing: f64, ignoreIndex: i32): void {
  const rowBytes = <usize>c << 2;
  for (let i = 0; i < n; i++) {
    const x = logits + <usize>i * rowBytes;
    const p = probs + <usize>i * rowBytes;
    const m = rowMax(x, c);
    // everything read from x comes before probs is written (so probs may alias logits)
    const label = load<i32>(labels + (<usize>i << 2));
    const ignored = label == ignoreIndex;
    const xLabel = ignored ? m : load<f32>(x + (<usize>label << 2));
    const sumShifted = smoothing != 0 ? rowSum(x, c, m) : 0; // Σ_j (x_j − max)
    const s = rowExpSum(x, c, m, p);
    const lse = Math.log(s);
    rowScale(p, c, <f32>(1 / s));
    const logpLabel = <f64>(xLabel - m) - lse;
    let loss = -logpLabel;
    if (smoothing != 0) {
      const sumLogp = sumShifted - <f64>c * lse; // Σ_j log p_j
      loss = -(1 - smoothing) * logpLabel - (smoothing / <f64>c) * sumLogp;
    }
    store<f32>(losses + (<usize>i << 2), ignored ? 0 : <f32>loss);
  }
}

/**
 * dx[i,j] = (probs[i,j] − q_ij)·dloss[i·dlossStride]·scale for probs, dx [n, c] f32, labels i32 [n], target
 * q = (1−s)·onehot + s/c (dlossStride 0: one upstream value for every row); 0 for a row labelled ignoreIndex.
 * dx may alias probs.
 */
export function cross_entropy_grad_f32(probs: usize, labels: usize, dloss: usize, dlossStride: i32, scale: f64,
  dx: usize, n: i32, c: i32, smoothing: f64, ignoreIndex: i32): void {
  const rowBytes = <usize>c << 2;
  const off = <f32>(smoothing / <f64>c);
  const onLabel = <f32>(1 - smoothing + smoothing / <f64>c);
  for (let i = 0; i < n; i++) {
    const p = probs + <usize>i * rowBytes;
    const d = dx + <usize>i * rowBytes;
    const label = load<i32>(labels + (<usize>i << 2));
    if (label == ignoreIndex) {
      memory.fill(d, 0, rowBytes);
      continue;
    }
    const g = <f32>(<f64>load<f32>(dloss + (<usize>(i * dlossStride) << 2)) * scale);
    const pl = load<f32>(p + (<usize>label << 2));
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const gv = f32x4.splat(g);
      const ov = f32x4.splat(off);
      for (; j + 4 <= c; j += 4) {
        const q = <usize>j << 2;
        v128.store(d + q, f32x4.mul(f32x4.sub(v128.load(p + q), ov), gv));
      }
    }
    for (; j < c; j++) {
      const q = <usize>j << 2;
      store<f32>(d + q, (load<f32>(p + q) - off) * g);
    }
    store<f32>(d + (<usize>label << 2), (pl - onLabel) * g);
  }
}
