// log: out = ln x. ∂out/∂x = 1/x.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { div } from './div.js';

/** Elementwise natural logarithm. */
export function log(x: Tensor): Tensor {
  return apply({
    op: 'log',
    inputs: [x],
    forward: ([t]) => K.unary('log', t!),
    save: ([t]) => [t!],
    backward: (g, [t]) => [div(g, t!)],
    local: ([x]) => [`1/${x}`],
  });
}
