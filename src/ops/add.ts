// add: out = a + b (broadcasting). ∂out/∂a = ∂out/∂b = 1: each input gets the upstream gradient, summed back
// over the axes it was broadcast along — the seed's "+" node hands one copy to each input.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { sumTo } from './sumTo.js';

/** Elementwise a + b, broadcasting as NumPy and PyTorch do; a number is a scalar. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return apply({
    op: 'add',
    inputs: [a, b],
    forward: ([x, y]) => K.binary('add', x!, y!),
    backward: (g, _, [x, y], [needA, needB]) => [needA ? sumTo(g, x!.shape) : null, needB ? sumTo(g, y!.shape) : null],
    local: () => ['1', '1'],
  });
}
