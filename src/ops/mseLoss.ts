// mseLoss: the squared error between prediction and target, reduced by 'mean' (PyTorch's default), 'sum' or
// 'none', times `scale` (0.5 gives the seed's L = ½·Σ(o − y)², whose derivative is simply o − y).
// ∂L/∂o = scale · 2(o − y) / N (N = element count for 'mean', 1 otherwise), ∂L/∂y = −∂L/∂o.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt, sameShape } from '../kernels/shape.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { number } from '../options.js';
import { checkLoss, reduceLoss, type Reduction } from './reduction.js';
import { sub } from './sub.js';

/**
 * Squared error between input and target (same shape), reduced by `reduction` ('mean' by default, as PyTorch; 'sum';
 * 'none'), times `scale` (default 1). `{ reduction: 'sum', scale: 0.5 }` is the seed's L = ½·Σ(o − y)², whose
 * gradient is simply o − y.
 */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; scale?: number } = {}): Tensor {
  checkLoss('mseLoss', input, target, options, { scale: number() });
  const { reduction = 'mean', scale = 1 } = options;
  if (!sameShape(input.shape, target.shape)) {
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
