// pow: out = a^b (broadcasting). ∂out/∂a = b·a^(b−1); ∂out/∂b = out·ln a, taken as 0 where a = 0 (as PyTorch
// does), so x² at x = 0 gives no NaN in the exponent's gradient.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { equal } from './compare.js';
import { log } from './log.js';
import { mul } from './mul.js';
import { sub } from './sub.js';
import { sumTo } from './sumTo.js';
import { where } from './where.js';

/**
 * Elementwise a raised to the power b, broadcasting. The exponent's gradient is taken as 0 where a = 0 (as PyTorch).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return apply({
    op: 'pow',
    inputs: [a, b],
    forward: ([x, y]) => K.binary('pow', x!, y!),
    save: ([x, y], out) => [x!, y!, out],
    backward: (g, [x, y, out], [a, b], [needA, needB]) => [
      needA ? sumTo(mul(g, mul(y!, pow(x!, sub(y!, 1)))), a!.shape) : null,
      needB ? sumTo(mul(g, mul(out!, where(equal(x!, 0), 0, log(x!)))), b!.shape) : null,
    ],
    local: ([a, b]) => [`${b}·${a}^(${b}−1)`, `${a}^${b}·ln ${a}`],
  });
}
