// relu: out = max(x, 0). ∂out/∂x = [x > 0] (0 at x = 0, as PyTorch); the fused kernel applies it to the upstream gradient.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { activationGrad } from './activationGrad.js';

/** Elementwise max(x, 0). The gradient at 0 is 0, as in PyTorch. */
export function relu(x: Tensor): Tensor {
  return apply({
    op: 'relu',
    inputs: [x],
    forward: ([t]) => K.unary('relu', t!),
    save: ([t]) => [t!],
    backward: (g, [s]) => [activationGrad('relu', s!, g, 0)],
    local: ([x]) => [`[${x} > 0]`],
  });
}
