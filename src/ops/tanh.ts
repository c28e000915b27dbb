// tanh: out = tanh x. ∂out/∂x = 1 − tanh²x, computed from the saved output.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { activationGrad } from './activationGrad.js';

/** Elementwise hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return apply({
    op: 'tanh',
    inputs: [x],
    forward: ([t]) => K.unary('tanh', t!),
    save: (_, out) => [out],
    backward: (g, [s]) => [activationGrad('tanh', s!, g, 0)],
    local: ([x]) => [`1−tanh²(${x})`],
  });
}
