// slice: the block of x starting at `begin` with `size` (−1 = to the end), as a dense copy. Its gradient is the
// upstream gradient placed in a zero tensor of x's shape (sliceGrad, whose own gradient is slice again).
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkInts } from '../kernels/shape.js';

/**
 * The block of x starting at `begin` with `size` per dim (−1: to the end; default: everything from begin), as a copy.
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  checkInts('slice', 'begin', begin);
  if (size !== undefined) checkInts('slice', 'size', size);
  const full = x.shape.map((d, i) => {
    const s = size?.[i] ?? -1;
    return s === -1 ? d - (begin[i] ?? 0) : s;
  });
  const start = x.shape.map((_, i) => begin[i] ?? 0);
  return apply({
    op: 'slice',
    inputs: [x],
    forward: ([t]) => K.slice(t!, start, full),
    backward: (g, _, [t]) => [sliceGrad(g, t!.shape, start)],
    attrs: { begin: start, size: full },
    local: () => ['[in slice]'],
  });
}

/** A zero tensor of `shape` with g copied in at `begin`. */
export function sliceGrad(g: Tensor, shape: readonly number[], begin: readonly number[]): Tensor {
  return apply({
    op: 'sliceGrad',
    inputs: [g],
    forward: ([t]) => {
      const out = K.empty(t!.backend, t!.dtype, shape);
      K.fill(out, 0);
      K.copyInto(out, t!, begin);
      return out;
    },
    backward: (gg, _, [t]) => [slice(gg, begin, t!.shape)],
  });
}
