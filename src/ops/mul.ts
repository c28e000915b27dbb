// mul: out = a ⊙ b (broadcasting). ∂out/∂a = b, ∂out/∂b = a.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { sumTo } from './sumTo.js';

/** Elementwise a · b (Hadamard product), broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return apply({
    op: 'mul',
    inputs: [a, b],
    forward: ([x, y]) => K.binary('mul', x!, y!),
    save: ([x, y]) => [x!, y!],
    backward: (g, [x, y], _, [needA, needB]) => [
      needA ? sumTo(mul(g, y!), x!.shape) : null,
      needB ? sumTo(mul(g, x!), y!.shape) : null,
    ],
    local: ([a, b]) => [b!, a!],
  });
}
