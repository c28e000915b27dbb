// tril / triu: the lower / upper triangle of the matrices in the last two dims (PyTorch's torch.tril / torch.triu):
// the entries with column − row ≤ diagonal (tril) or ≥ diagonal (triu) are kept, the others become 0. Any dtype
// (a causal mask is tril(ones([T, T]))). The gradient is the same triangle of the upstream gradient.
import { apply, checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';

/** Keeps column − row ≤ diagonal (0: the main diagonal and below; −1: strictly below). */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal, false);
}

/** Keeps column − row ≥ diagonal (0: the main diagonal and above; 1: strictly above). */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal, true);
}

function triangle(x: Tensor, diagonal: number, upper: boolean): Tensor {
  const op = upper ? 'triu' : 'tril';
  checkTensor(op, 'x', x);
  return apply({
    op,
    inputs: [x],
    forward: ([t]) => K.triangle(t!, diagonal, upper),
    backward: (g) => [triangle(g, diagonal, upper)],
    attrs: { diagonal },
    local: () => [upper ? '[col − row ≥ d]' : '[col − row ≤ d]'],
  });
}
