// sign: −1, 0 or 1 (NaN stays NaN). Piecewise constant: its gradient is zero everywhere it exists.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';

/** Elementwise −1, 0 or 1 (NaN stays NaN); its gradient is zero. */
export function sign(x: Tensor): Tensor {
  return apply({
    op: 'sign',
    inputs: [x],
    forward: ([t]) => K.unary('sign', t!),
    backward: (g) => [mul(g, 0)],
    local: () => ['0'],
  });
}
