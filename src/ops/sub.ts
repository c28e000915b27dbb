// sub: out = a − b (broadcasting). ∂out/∂a = 1, ∂out/∂b = −1.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { neg } from './neg.js';
import { sumTo } from './sumTo.js';

/** Elementwise a − b, broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return apply({
    op: 'sub',
    inputs: [a, b],
    forward: ([x, y]) => K.binary('sub', x!, y!),
    backward: (g, _, [x, y], [needA, needB]) => [needA ? sumTo(g, x!.shape) : null, needB ? neg(sumTo(g, y!.shape)) : null],
    local: () => ['1', '−1'],
  });
}
