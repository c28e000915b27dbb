// sumTo: sums x down to `shape` over the axes broadcasting added or stretched — the reverse of broadcastTo,
// which is how every broadcasting op returns its gradient in its input's shape. Its gradient is broadcastTo.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { sameShape } from '../kernels/shape.js';
import { broadcastTo } from './broadcastTo.js';

/** x summed down to `shape` over the axes broadcasting added or stretched: the reverse of broadcastTo. */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  return apply({
    op: 'sumTo',
    inputs: [x],
    forward: ([t]) => K.sumTo(t!, shape),
    backward: (g, _, [t]) => [broadcastTo(g, t!.shape)],
    attrs: { shape },
  });
}
