// clone: a copy in fresh storage. The gradient passes through unchanged.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';

/** A copy of x in new storage; the gradient passes through unchanged. */
export function clone(x: Tensor): Tensor {
  return apply({
    op: 'clone',
    inputs: [x],
    forward: ([t]) => {
      const out = K.empty(t!.backend, t!.dtype, t!.shape);
      K.copyInto(out, t!, t!.shape.map(() => 0));
      return out;
    },
    backward: (g) => [g],
    local: () => ['1'],
  });
}
