// Reference reductions over the middle axis of x viewed as [outer, r, inner], accumulated in float64.
import type { ReduceOp, TypedArray } from '../types.js';

/**
 * out[o,i] = sum / mean / max over j of x[o,j,i]. For max, argmax (if given) receives the first j attaining the
 * maximum; a NaN wins over every number (result NaN, argmax the first NaN). r = 0: sum 0, mean NaN (0/0).
 */
export function reduce(op: ReduceOp, x: TypedArray, out: TypedArray, outer: number, r: number, inner: number,
  argmax: Int32Array | null): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      if (op === 'max') {
        let best = x[base];
        let bj = 0;
        for (let j = 1; j < r; j++) {
          const v = x[base + j * inner];
          if (v > best || (v !== v && best === best)) {
            best = v;
            bj = j;
          }
        }
        out[o * inner + i] = best;
        if (argmax) argmax[o * inner + i] = bj;
      } else {
        let s = 0;
        for (let j = 0; j < r; j++) s += x[base + j * inner];
        out[o * inner + i] = op === 'mean' ? s / r : s;
      }
    }
  }
}
