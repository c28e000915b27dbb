// cumsum: running sums along one dim (PyTorch's torch.cumsum(x, dim)), accumulated in float64 as PyTorch's CPU
// kernel does. The gradient at position j is the sum of the upstream gradient over positions ≥ j: the running sum
// taken from the end, whose own gradient is the forward running sum again.
import { apply, checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkValue, integer } from '../options.js';

/** Running sums along `dim` (PyTorch's torch.cumsum), accumulated in float64. */
export function cumsum(x: Tensor, dim: number): Tensor {
  checkTensor('cumsum', 'x', x);
  checkValue('cumsum', 'dim', dim, integer());
  return runningSum(x, dim, false);
}

/** Σ over positions ≤ j along dim, or (reverse) over positions ≥ j. */
function runningSum(x: Tensor, dim: number, reverse: boolean): Tensor {
  return apply({
    op: 'cumsum',
    inputs: [x],
    forward: ([t]) => K.cumsum(t!, dim, reverse),
    backward: (g) => [runningSum(g, dim, !reverse)],
    attrs: { dim, reverse },
    local: () => [reverse ? '[i ≥ j]' : '[i ≤ j]'],
  });
}
