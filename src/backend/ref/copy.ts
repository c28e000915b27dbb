// Reference data movement: strided copy, fill, scale, axpy, gather, scatter-add (plain loops over typed arrays).
import type { CopyPlan, TypedArray } from '../types.js';

/**
 * Walks the rows of a strided index space: for each index of dims[0..nd−1) (odometer order, innermost last) calls
 * row(k, starts), where k is the dense position of the row's first element and starts[s] = Σ_d i_d·strideSets[s][d]
 * (the innermost dimension excluded: the caller loops over it). dims = [] is one element.
 */
export function forEachRow(dims: readonly number[], strideSets: readonly (readonly number[])[],
  row: (k: number, starts: readonly number[]) => void): void {
  const nd = dims.length;
  const starts = strideSets.map(() => 0);
  if (nd === 0) {
    row(0, starts);
    return;
  }
  if (dims.some((d) => d === 0)) return;
  const inner = dims[nd - 1];
  const idx = new Array<number>(nd - 1).fill(0);
  for (let k = 0; ; k += inner) {
    row(k, starts);
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      for (let s = 0; s < strideSets.length; s++) starts[s] += strideSets[s][d];
      if (idx[d] < dims[d]) break;
      for (let s = 0; s < strideSets.length; s++) starts[s] -= strideSets[s][d] * dims[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** out[outOffset + Σ i·outStrides] = x[xOffset + Σ i·xStrides] for every index i of dims. */
export function copy(x: TypedArray, out: TypedArray, plan: CopyPlan): void {
  const { dims, xStrides, outStrides } = plan;
  const n = dims.length === 0 ? 1 : dims[dims.length - 1];
  const sx = dims.length === 0 ? 0 : xStrides[dims.length - 1];
  const so = dims.length === 0 ? 0 : outStrides[dims.length - 1];
  forEachRow(dims, [xStrides, outStrides], (_k, [bx, bo]) => {
    for (let i = 0; i < n; i++) out[plan.outOffset + bo + i * so] = x[plan.xOffset + bx + i * sx];
  });
}

/** out[offset .. offset+n) = value. */
export function fill(out: TypedArray, value: number, offset: number, n: number): void {
  for (let i = 0; i < n; i++) out[offset + i] = value;
}

/** out[i] = alpha·x[i] for i < n. */
export function scale(x: TypedArray, out: TypedArray, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) out[i] = alpha * x[i];
}

/** y[i] += alpha·x[i] for i < n. */
export function axpy(alpha: number, x: TypedArray, y: TypedArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] = y[i] + alpha * x[i];
}

/** out[o,j,i] = x[o, idx[j], i] for x [outer, r, inner], idx [nIdx], out [outer, nIdx, inner]. */
export function gather(x: TypedArray, idx: Int32Array, out: TypedArray, outer: number, r: number, inner: number,
  nIdx: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const src = (o * r + idx[j]) * inner;
      const dst = (o * nIdx + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = x[src + i];
    }
  }
}

/** dx[o, idx[j], i] += dy[o,j,i] (repeated indices accumulate in order of j). */
export function scatterAdd(dy: TypedArray, idx: Int32Array, dx: TypedArray, outer: number, r: number, inner: number,
  nIdx: number): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const src = (o * nIdx + j) * inner;
      const dst = (o * r + idx[j]) * inner;
      for (let i = 0; i < inner; i++) dx[dst + i] = dx[dst + i] + dy[src + i];
    }
  }
}
