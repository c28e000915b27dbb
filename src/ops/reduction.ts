// How losses reduce their per-element values: 'mean' (PyTorch's default), 'sum' or 'none'. Shared by the loss ops.
import * as K from '../kernels/index.js';

export type Reduction = 'mean' | 'sum' | 'none';

export function checkReduction(op: string, reduction: string): void {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  }
}

/** Reduces per-element losses (a kernel result, consumed) as `reduction` says, times scale. */
export function reduceLoss(losses: K.NDArray, reduction: Reduction, scale: number): K.NDArray {
  const reduced = reduction === 'none' ? losses : K.reduce(reduction, losses).out;
  if (reduced !== losses) K.free(losses);
  if (scale === 1) return reduced;
  const scaled = K.scale(reduced, scale);
  K.free(reduced);
  return scaled;
}
