// logSoftmax over an axis: yᵢ = xᵢ − max − ln Σⱼ e^(xⱼ − max), stable for any logits.
// ∂: dx = dy − softmax(x) ⊙ Σ dy = dy − e^y ⊙ Σ dy (fused kernel; composed ops when recording a graph).
import { apply, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { exp } from './exp.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { sum } from './sum.js';

/** log(softmax(x)) along `axis` (default −1), computed stably for any logits. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return apply({
    op: 'logSoftmax',
    inputs: [x],
    forward: ([t]) => K.softmax(t!, axis, true),
    save: (_, out) => [out],
    backward: (g, [y]) => [
      isGradEnabled() ? sub(g, mul(exp(y!), sum(g, axis, true))) : fromKernel(K.softmaxGrad(y!, g, axis, true)),
    ],
    attrs: { axis },
    local: ([x]) => [`I − softmax(${x})·1ᵀ`],
  });
}
