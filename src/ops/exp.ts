// exp: out = eˣ. ∂out/∂x = eˣ = out, so the output is saved rather than the input.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';

/** Elementwise eˣ. */
export function exp(x: Tensor): Tensor {
  return apply({
    op: 'exp',
    inputs: [x],
    forward: ([t]) => K.unary('exp', t!),
    save: (_, out) => [out],
    backward: (g, [out]) => [mul(g, out!)],
    local: ([x]) => [`exp(${x})`],
  });
}
