// Reference kernels for sequence models: dtype conversion, triangular masks of matrices and cumulative sums.
import type { TypedArray } from '../types.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * out[i] = x[i] in out's type. Into an Int32Array: truncation toward zero, saturating at the int32 range, NaN → 0
 * (WebAssembly's i32.trunc_sat; a plain store would wrap modulo 2³²). Into a float array the store rounds to
 * nearest even (float32) or is exact.
 */
export function cast(x: TypedArray, out: TypedArray, n: number): void {
  if (out instanceof Int32Array && !(x instanceof Int32Array)) {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      out[i] = v !== v ? 0 : v <= INT32_MIN ? INT32_MIN : v >= INT32_MAX ? INT32_MAX : Math.trunc(v);
    }
    return;
  }
  for (let i = 0; i < n; i++) out[i] = x[i];
}

/**
 * Each of `batch` [rows, cols] matrices keeps its entries with column − row ≤ diagonal (lower) or ≥ diagonal
 * (upper); the others become 0. out may alias x.
 */
export function triangle(x: TypedArray, out: TypedArray, batch: number, rows: number, cols: number, diagonal: number,
  upper: boolean): void {
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) {
      const row = (b * rows + i) * cols;
      for (let j = 0; j < cols; j++) {
        const keep = upper ? j - i >= diagonal : j - i <= diagonal;
        out[row + j] = keep ? x[row + j] : 0;
      }
    }
  }
}

/** out[o,j,i] = Σ_{j' ≤ j} x[o,j',i] (reverse: Σ_{j' ≥ j}), accumulated in float64. out may alias x. */
export function cumsum(x: TypedArray, out: TypedArray, outer: number, r: number, inner: number, reverse: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      let s = 0;
      for (let t = 0; t < r; t++) {
        const k = base + (reverse ? r - 1 - t : t) * inner;
        s += x[k];
        out[k] = s;
      }
    }
  }
}
