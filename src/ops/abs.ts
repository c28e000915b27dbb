// abs: out = |x|. ∂out/∂x = sign(x) (0 at x = 0, as PyTorch).
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';
import { sign } from './sign.js';

/** Elementwise |x|. The gradient is sign(x) (0 at x = 0, as PyTorch). */
export function abs(x: Tensor): Tensor {
  return apply({
    op: 'abs',
    inputs: [x],
    forward: ([t]) => K.unary('abs', t!),
    save: ([t]) => [t!],
    backward: (g, [t]) => [mul(g, sign(t!))],
    local: ([x]) => [`sign(${x})`],
  });
}
