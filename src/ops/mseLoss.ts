// mseLoss: the squared error between prediction and target, reduced by 'mean' (PyTorch's default), 'sum' or
// 'none', times `scale` (0.5 gives the seed's L = ½·Σ(o − y)², whose derivative is simply o − y).
// ∂L/∂o = scale · 2(o − y) / N (N = element count for 'mean', 1 otherwise), ∂L/∂y = −∂L/∂o.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { sub } from './sub.js';

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

export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; scale?: number } = {}): Tensor {
  const { reduction = 'mean', scale = 1 } = options;
  checkReduction('mseLoss', reduction);
  if (fmt(input.shape) !== fmt(target.shape)) {
    throw new Error(`mseLoss: input ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  return apply({
    op: 'mseLoss',
    inputs: [input, target],
    forward: ([o, y]) => {
      const diff = K.binary('sub', o!, y!);
      const sq = K.unary('square', diff);
      K.free(diff);
      return reduceLoss(sq, reduction, scale);
    },
    save: ([o, y]) => [o!, y!],
    backward: (g, [o, y], _, [needO, needY]) => {
      const n = reduction === 'mean' ? o!.size : 1;
      const dO = mul(mul(sub(o!, y!), (2 * scale) / n), g);
      return [needO ? dO : null, needY ? neg(dO) : null];
    },
    attrs: { reduction, scale },
    local: ([o, y]) => [`${2 * scale === 1 ? '' : `${2 * scale}·`}(${o} − ${y})${reduction === 'mean' ? '/N' : ''}`, `−(${o} − ${y})`],
  });
}
