// How losses reduce their per-element values: 'mean' (PyTorch's default), 'sum' or 'none'. Shared by the loss ops.
import { checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkOptions, oneOf, type Check } from '../options.js';

/** How a loss reduces its per-element values: 'mean' (PyTorch's default), 'sum', or 'none' (one value per element). */
export type Reduction = 'mean' | 'sum' | 'none';
export const REDUCTION = oneOf('mean', 'sum', 'none');

/** Checks a loss's two tensors and its options (reduction and the loss's own). */
export function checkLoss(op: string, input: unknown, target: unknown, options: unknown,
  spec: Record<string, Check> = {}, unsupported: Record<string, string> = {}): asserts input is Tensor {
  checkTensor(op, 'input', input);
  checkTensor(op, 'target', target);
  checkOptions(op, options, { reduction: REDUCTION, ...spec }, unsupported);
}

/**
 * Reduces per-element losses (a kernel result, consumed) as `reduction` says, times scale (skipped when it is 1,
 * unless `alwaysScale`: a compiled step that patches the scale needs the call).
 */
export function reduceLoss(losses: K.NDArray, reduction: Reduction, scale: number, alwaysScale = false): K.NDArray {
  const reduced = reduction === 'none' ? losses : K.reduce(reduction, losses).out;
  if (reduced !== losses) K.free(losses);
  if (scale === 1 && !alwaysScale) return reduced;
  const scaled = K.scale(reduced, scale);
  K.free(reduced);
  return scaled;
}
