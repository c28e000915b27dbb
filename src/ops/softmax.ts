// softmax over an axis: yᵢ = e^(xᵢ − max) / Σⱼ e^(xⱼ − max) (subtracting the max keeps it finite).
// ∂: dx = y ⊙ (dy − Σ dy ⊙ y). A fused kernel computes it; while a graph of the backward is being recorded
// (higher-order gradients) the same formula is composed from differentiable ops instead.
import { apply, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { sum } from './sum.js';

/** Softmax along `axis` (default −1): e^(xᵢ − max)/Σⱼ e^(xⱼ − max). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply({
    op: 'softmax',
    inputs: [x],
    forward: ([t]) => K.softmax(t!, axis, false),
    save: (_, out) => [out],
    backward: (g, [y]) => [
      isGradEnabled() ? mul(y!, sub(g, sum(mul(g, y!), axis, true))) : fromKernel(K.softmaxGrad(y!, g, axis, false)),
    ],
    attrs: { axis },
    local: ([x]) => [`diag(s) − s·sᵀ, s = softmax(${x})`],
  });
}
