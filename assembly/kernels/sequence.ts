// Kernels for sequence models: dtype conversion, comparisons and the maximum of int32 data, triangular masks of
// matrices, cumulative sums. Small, memory-bound kernels: plain loops (SIMD where a conversion is one instruction).
import { EQUAL, GREATER, GREATER_EQUAL, LESS } from './codes';

// ---- dtype conversion ----------------------------------------------------------------------------------------------

/** f32 → i32 toward zero, saturating at the i32 range, NaN → 0: what i32x4.trunc_sat_f32x4_s does per lane. */
// @ts-ignore: decorator
@inline function truncSat(x: f32): i32 {
  if (x != x) return 0;
  if (x >= 2147483648.0) return i32.MAX_VALUE;
  if (x <= -2147483648.0) return i32.MIN_VALUE;
  return <i32>x;
}

/** out[i] = x[i] truncated toward zero (f32 → i32, saturating; NaN → 0), n elements. */
export function cast_f32_i32(x: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, i32x4.trunc_sat_f32x4_s(v128.load(x + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<i32>(out + o, truncSat(load<f32>(x + o)));
  }
}

/** out[i] = x[i] rounded to the nearest f32 (i32 → f32, ties to even), n elements. */
export function cast_i32_f32(x: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.convert_i32x4_s(v128.load(x + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>load<i32>(x + o));
  }
}

// ---- int32 comparisons and maximum -----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function compareS(op: i32, a: i32, b: i32): i32 {
  switch (op) {
    case EQUAL: return <i32>(a == b);
    case GREATER: return <i32>(a > b);
    case GREATER_EQUAL: return <i32>(a >= b);
    case LESS: return <i32>(a < b);
    default: return <i32>(a <= b); // LESS_EQUAL
  }
}

/**
 * out[i] = a[Σ i_d·a_d] op b[Σ i_d·b_d] ? 1 : 0 for i over dense [n0,n1,n2,n3] (i32 operands and output; strides
 * in elements, 0 broadcasts); op: EQUAL GREATER GREATER_EQUAL LESS LESS_EQUAL (the codes of binary_f32).
 */
export function compare_i32(op: i32, a: usize, b: usize, out: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  a0: i32, a1: i32, a2: i32, a3: i32, b0: i32, b1: i32, b2: i32, b3: i32): void {
  const da = <usize>(<isize>a3 << 2); // negative strides wrap around: usize arithmetic is modular
  const db = <usize>(<isize>b3 << 2);
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        let pa = a + (<usize>(i0 * a0 + i1 * a1 + i2 * a2) << 2);
        let pb = b + (<usize>(i0 * b0 + i1 * b1 + i2 * b2) << 2);
        for (let k = 0; k < n3; k++) {
          store<i32>(out, compareS(op, load<i32>(pa), load<i32>(pb)));
          pa += da;
          pb += db;
          out += 4;
        }
      }
    }
  }
}

/**
 * out[o,i] = max over j of x[o,j,i] for x [outer, r, inner] i32 (r ≥ 1), out [outer, inner] i32; argmax (i32, 0 =
 * not wanted) gets the first j attaining it.
 */
export function reduce_max_i32(x: usize, out: usize, outer: i32, r: i32, inner: i32, argmax: usize): void {
  const step = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let q = x + ((<usize>o * <usize>r * <usize>inner + <usize>i) << 2);
      let best = load<i32>(q);
      let bj = 0;
      for (let j = 1; j < r; j++) {
        q += step;
        const v = load<i32>(q);
        if (v > best) { best = v; bj = j; }
      }
      const at = (<usize>o * <usize>inner + <usize>i) << 2;
      store<i32>(out + at, best);
      if (argmax) store<i32>(argmax + at, bj);
    }
  }
}

// ---- triangles and cumulative sums -----------------------------------------------------------------------------

/**
 * For each of `batch` row-major [rows, cols] matrices of 32-bit words: keeps the entries with column − row ≤
 * diagonal (upper = 0; tril) or ≥ diagonal (upper = 1; triu) and writes 0 elsewhere. Each row keeps one contiguous
 * range of columns, copied whole; out may alias x.
 */
export function triangle_32(x: usize, out: usize, batch: i32, rows: i32, cols: i32, diagonal: i32, upper: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) {
      const at = (<usize>b * <usize>rows + <usize>i) * rowBytes;
      // kept columns [j0, j1), in i64 so that diagonal ± rows never overflows
      const edge = <i64>i + <i64>diagonal;
      const j0 = upper ? <i32>min<i64>(max<i64>(edge, 0), cols) : 0;
      const j1 = upper ? cols : <i32>min<i64>(max<i64>(edge + 1, 0), cols);
      if (x != out) memory.copy(out + at + (<usize>j0 << 2), x + at + (<usize>j0 << 2), <usize>(j1 - j0) << 2);
      memory.fill(out + at, 0, <usize>j0 << 2);
      memory.fill(out + at + (<usize>j1 << 2), 0, <usize>(cols - j1) << 2);
    }
  }
}

/**
 * out[o,j,i] = Σ_{j' ≤ j} x[o,j',i] (reverse = 1: Σ_{j' ≥ j}) for x, out [outer, r, inner] f32, accumulated in f64
 * and rounded once per output (as PyTorch's CPU cumsum accumulates float in double). out may alias x.
 */
export function cumsum_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32, reverse: i32): void {
  const step = <isize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const first = (<usize>o * <usize>r * <usize>inner + <usize>i) << 2;
      const start = reverse ? first + <usize>(r - 1) * <usize>step : first;
      const delta = reverse ? -step : step;
      let s: f64 = 0;
      let q = start;
      for (let t = 0; t < r; t++) {
        s += <f64>load<f32>(x + q);
        store<f32>(out + q, <f32>s);
        q += <usize>delta;
      }
    }
  }
}
