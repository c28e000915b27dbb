// broadcastTo (expand): a copy of x stretched to `shape` by NumPy rules. Its gradient sums back: sumTo.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkShape, sameShape } from '../kernels/shape.js';
import { sumTo } from './sumTo.js';

/**
 * x stretched to `shape` by NumPy's broadcasting rules (a copy). Alias: expand. Throws when the shapes do not
 * broadcast.
 */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkShape(shape, 'broadcastTo');
  if (sameShape(x.shape, shape)) return x;
  return apply({
    op: 'broadcastTo',
    inputs: [x],
    forward: ([t]) => K.broadcastTo(t!, shape),
    backward: (g, _, [t]) => [sumTo(g, t!.shape)],
    attrs: { shape },
  });
}

/** PyTorch's name for broadcastTo. */
export const expand = broadcastTo;
