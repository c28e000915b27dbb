// cos: out = cos x (float32 within 1 ulp of Math.cos on every build). ∂out/∂x = −sin x, written with ops so that
// gradients of gradients work.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { sin } from './sin.js';

/** Elementwise cosine (radians). */
export function cos(x: Tensor): Tensor {
  return apply({
    op: 'cos',
    inputs: [x],
    forward: ([t]) => K.unary('cos', t!),
    save: ([t]) => [t!],
    backward: (g, [t]) => [mul(g, neg(sin(t!)))],
    local: ([x]) => [`−sin(${x})`],
  });
}
