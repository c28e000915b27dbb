// square: out = x². ∂out/∂x = 2x.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';

/** Elementwise x². */
export function square(x: Tensor): Tensor {
  return apply({
    op: 'square',
    inputs: [x],
    forward: ([t]) => K.unary('square', t!),
    save: ([t]) => [t!],
    backward: (g, [t]) => [mul(g, mul(t!, 2))],
    local: ([x]) => [`2${x}`],
  });
}
