// leakyRelu: out = x for x > 0, α·x otherwise (α = 0.01 by default, as PyTorch). ∂out/∂x = 1 or α.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkValue, number } from '../options.js';
import { activationGrad } from './activationGrad.js';

/** Elementwise x for x > 0, alpha·x otherwise (alpha default 0.01, as PyTorch). */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  checkValue('leakyRelu', 'alpha', alpha, number());
  return apply({
    op: 'leakyRelu',
    inputs: [x],
    forward: ([t]) => K.unary('leakyRelu', t!, alpha),
    save: ([t]) => [t!],
    backward: (g, [s]) => [activationGrad('leakyRelu', s!, g, alpha)],
    attrs: { alpha },
    local: ([x]) => [`[${x} > 0] + ${alpha}·[${x} ≤ 0]`],
  });
}
