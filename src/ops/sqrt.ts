// sqrt: out = √x. ∂out/∂x = 1/(2√x) = 1/(2·out).
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { div } from './div.js';
import { mul } from './mul.js';

/** Elementwise √x. */
export function sqrt(x: Tensor): Tensor {
  return apply({
    op: 'sqrt',
    inputs: [x],
    forward: ([t]) => K.unary('sqrt', t!),
    save: (_, out) => [out],
    backward: (g, [out]) => [div(g, mul(out!, 2))],
    local: ([x]) => [`1/(2√${x})`],
  });
}
