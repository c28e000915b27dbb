// maximum / minimum: elementwise max(a, b) / min(a, b) (broadcasting; NaN propagates). The gradient goes to the
// larger (smaller) input and is split in half on ties, as PyTorch does.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { equal, greater, less } from './compare.js';
import { add } from './add.js';
import { mul } from './mul.js';
import { sumTo } from './sumTo.js';

function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const wins = op === 'maximum' ? greater : less;
  return apply({
    op,
    inputs: [a, b],
    forward: ([x, y]) => K.binary(op, x!, y!),
    save: ([x, y]) => [x!, y!],
    backward: (g, [x, y], [a, b], [needA, needB]) => {
      const half = mul(equal(x!, y!), 0.5);
      return [
        needA ? sumTo(mul(g, add(wins(x!, y!), half)), a!.shape) : null,
        needB ? sumTo(mul(g, add(wins(y!, x!), half)), b!.shape) : null,
      ];
    },
    local: ([a, b]) => [`[${a} wins]`, `[${b} wins]`],
  });
}

/** Elementwise max(a, b), broadcasting (NaN propagates); ties split the gradient in half, as PyTorch. */
export const maximum = (a: TensorLike, b: TensorLike) => extremum('maximum', a, b);
/** Elementwise min(a, b), broadcasting (NaN propagates); ties split the gradient in half, as PyTorch. */
export const minimum = (a: TensorLike, b: TensorLike) => extremum('minimum', a, b);
