// softplus: out = ln(1 + e^(βx))/β, and x where βx > 20 (PyTorch's threshold, where the two agree in float32).
// ∂out/∂x = σ(βx).
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkValue, number } from '../options.js';
import { activationGrad } from './activationGrad.js';

/** Elementwise ln(1 + e^(βx))/β (β default 1), and x where βx > 20, as PyTorch. */
export function softplus(x: Tensor, beta = 1): Tensor {
  checkValue('softplus', 'beta', beta, number({ gt: 0 }));
  return apply({
    op: 'softplus',
    inputs: [x],
    forward: ([t]) => K.unary('softplus', t!, beta),
    save: ([t]) => [t!],
    backward: (g, [s]) => [activationGrad('softplus', s!, g, beta)],
    attrs: { beta },
    local: ([x]) => [`σ(${beta === 1 ? '' : `${beta}·`}${x})`],
  });
}
