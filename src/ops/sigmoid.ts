// sigmoid: out = σ(x) = 1/(1 + e⁻ˣ). ∂out/∂x = σ(x)(1 − σ(x)), computed from the saved output.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { activationGrad } from './activationGrad.js';

/** Elementwise σ(x) = 1/(1 + e⁻ˣ). */
export function sigmoid(x: Tensor): Tensor {
  return apply({
    op: 'sigmoid',
    inputs: [x],
    forward: ([t]) => K.unary('sigmoid', t!),
    save: (_, out) => [out],
    backward: (g, [s]) => [activationGrad('sigmoid', s!, g, 0)],
    local: ([x]) => [`σ(${x})(1−σ(${x}))`],
  });
}
