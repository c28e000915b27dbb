// sin: out = sin x (float32 within 1 ulp of Math.sin on every build). ∂out/∂x = cos x, written with ops so that
// gradients of gradients work.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { cos } from './cos.js';
import { mul } from './mul.js';

/** Elementwise sine (radians). */
export function sin(x: Tensor): Tensor {
  return apply({
    op: 'sin',
    inputs: [x],
    forward: ([t]) => K.unary('sin', t!),
    save: ([t]) => [t!],
    backward: (g, [t]) => [mul(g, cos(t!))],
    local: ([x]) => [`cos(${x})`],
  });
}
