// gelu: out = x·Φ(x), the exact (erf) form PyTorch uses by default. ∂out/∂x = Φ(x) + x·φ(x).
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { activationGrad } from './activationGrad.js';

/** Elementwise GELU, x·Φ(x) in the exact (erf) form that PyTorch uses by default. */
export function gelu(x: Tensor): Tensor {
  return apply({
    op: 'gelu',
    inputs: [x],
    forward: ([t]) => K.unary('gelu', t!),
    save: ([t]) => [t!],
    backward: (g, [s]) => [activationGrad('gelu', s!, g, 0)],
    local: ([x]) => [`Φ(${x})+${x}φ(${x})`],
  });
}
