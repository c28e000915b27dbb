// permute: reorders axes (out.shape[i] = x.shape[perm[i]]) as a dense copy. The gradient is the upstream
// gradient permuted back by the inverse permutation. transpose swaps two axes (default: the last two).
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkInts, normalizeAxis } from '../kernels/shape.js';

/** x with its dims reordered: out.shape[i] = x.shape[perm[i]] (a copy), PyTorch's permute. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkInts('permute', 'perm', perm);
  return apply({
    op: 'permute',
    inputs: [x],
    forward: ([t]) => K.permute(t!, perm),
    backward: (g) => {
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return [permute(g, inverse)];
    },
    attrs: { perm },
    local: () => ['Pᵀ'],
  });
}

/** x with dims dim0 and dim1 swapped (default the last two, so a matrix transpose). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  if (x.rank < 2) return permute(x, x.shape.map((_, i) => i));
  const a = normalizeAxis('transpose', x.shape, dim0);
  const b = normalizeAxis('transpose', x.shape, dim1);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}
