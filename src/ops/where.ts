// where: out = cond ? a : b elementwise (cond ≠ 0 is true; all three broadcast). The gradient goes to a where
// cond holds and to b elsewhere; cond gets none.
import { apply, type TensorLike } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { sumTo } from './sumTo.js';

/** Elementwise `cond ? a : b` (cond ≠ 0 is true; all three broadcast), PyTorch's torch.where. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return apply({
    op: 'where',
    inputs: [cond, a, b],
    forward: ([c, x, y]) => K.where(c!, x!, y!),
    save: ([c]) => [c!],
    backward: (g, [c], [, x, y], [, needA, needB]) => [
      null,
      needA ? sumTo(where(c!, g, 0), x!.shape) : null,
      needB ? sumTo(where(c!, 0, g), y!.shape) : null,
    ],
    local: ([c]) => ['—', `[${c}]`, `[not ${c}]`],
  });
}
