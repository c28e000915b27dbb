// The fused backward of the activations: dx = dy · f′(s), one kernel instead of a chain of elementwise ops,
// where s is the activation's input x (relu, leakyRelu, gelu, softplus) or its output y (sigmoid, tanh).
// It is an op itself, with its own derivatives, so gradients of gradients work through activations too.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import type { UnaryGradOp } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { exp } from './exp.js';
import { mul } from './mul.js';
import { sigmoid } from './sigmoid.js';
import { square } from './square.js';
import { sub } from './sub.js';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** f″ expressed through s, the value the fused kernel reads. */
const secondDerivative: Record<UnaryGradOp, (s: Tensor, alpha: number) => Tensor> = {
  relu: (s) => mul(s, 0),
  leakyRelu: (s) => mul(s, 0),
  // y = σ(x): f′ = y(1−y) → d/dy = 1 − 2y
  sigmoid: (y) => sub(1, mul(y, 2)),
  // y = tanh(x): f′ = 1 − y² → d/dy = −2y
  tanh: (y) => mul(y, -2),
  // f′ = Φ(x) + x·φ(x) → f″ = φ(x)·(2 − x²), φ the standard normal density
  gelu: (x) => mul(mul(exp(mul(square(x), -0.5)), INV_SQRT_2PI), sub(2, square(x))),
  // f′ = σ(βx) → f″ = β·σ(βx)·(1 − σ(βx))
  softplus: (x, beta) => {
    const s = sigmoid(mul(x, beta));
    return mul(mul(s, sub(1, s)), beta);
  },
};

export function activationGrad(op: UnaryGradOp, saved: Tensor, dy: Tensor, alpha: number): Tensor {
  return apply({
    op: `${op}Grad`,
    inputs: [saved, dy],
    forward: ([s, g]) => K.unaryGrad(op, s!, g!, alpha),
    save: ([s, g]) => [s!, g!],
    backward: (gg, [s, g], _, [needS, needDy]) => [
      needS ? mul(mul(gg, g!), secondDerivative[op](s!, alpha)) : null,
      needDy ? activationGrad(op, s!, gg, alpha) : null,
    ],
  });
}
