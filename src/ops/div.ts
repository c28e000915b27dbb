// div: out = a / b (broadcasting). ∂out/∂a = 1/b, ∂out/∂b = −a/b² = −out/b.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { sumTo } from './sumTo.js';

/** Elementwise a / b, broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return apply({
    op: 'div',
    inputs: [a, b],
    forward: ([x, y]) => K.binary('div', x!, y!),
    save: ([, y], out) => [y!, out],
    backward: (g, [y, out], [a, b], [, needB]) => {
      const gOverB = div(g, y!);
      return [sumTo(gOverB, a!.shape), needB ? sumTo(neg(mul(gOverB, out!)), b!.shape) : null];
    },
    local: ([a, b]) => [`1/${b}`, `−${a}/${b}²`],
  });
}
