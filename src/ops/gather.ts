// gather (indexSelect): picks entries of x along an axis by int32 indices — an embedding lookup for axis 0.
// Its gradient scatter-adds the upstream gradient back to the picked positions (repeated indices accumulate);
// that scatter is an op too, whose gradient is gather again.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';

/**
 * The entries of x at int32 `indices` along `axis` (default 0), PyTorch's index_select; axis 0 is an embedding
 * lookup. Alias: indexSelect. Repeated indices accumulate their gradients.
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return apply({
    op: 'gather',
    inputs: [x, indices],
    forward: ([t, i]) => K.gather(t!, i!, axis),
    save: ([, i]) => [i!],
    backward: (g, [i], [t]) => [scatterAdd(g, i!, t!.shape, axis), null],
    attrs: { axis },
    local: () => ['scatter'],
  });
}

/** PyTorch's name: x.index_select(axis, indices). */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  return gather(x, indices, axis);
}

/** A zero tensor of `shape` with the rows of g added at `indices` along `axis`. */
export function scatterAdd(g: Tensor, indices: Tensor, shape: readonly number[], axis = 0): Tensor {
  return apply({
    op: 'scatterAdd',
    inputs: [g, indices],
    forward: ([t, i]) => K.scatterAdd(t!, i!, shape, axis),
    save: ([, i]) => [i!],
    backward: (gg, [i]) => [gather(gg, i!, axis), null],
    attrs: { axis },
  });
}
