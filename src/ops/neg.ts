// neg: out = −x. ∂out/∂x = −1.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';

/** Elementwise −x. */
export function neg(x: Tensor): Tensor {
  return apply({
    op: 'neg',
    inputs: [x],
    forward: ([t]) => K.unary('neg', t!),
    backward: (g) => [neg(g)],
    local: () => ['−1'],
  });
}
