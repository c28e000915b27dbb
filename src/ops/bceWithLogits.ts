// bceWithLogits: binary cross-entropy on logits x against targets y ∈ [0, 1], computed stably as
// softplus(x) − x·y (= max(x, 0) − x·y + ln(1 + e^−|x|)), then reduced. ∂/∂x = σ(x) − y (÷N for 'mean').
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt, sameShape } from '../kernels/shape.js';
import { mul } from './mul.js';
import { checkLoss, reduceLoss, type Reduction } from './reduction.js';
import { sigmoid } from './sigmoid.js';
import { sub } from './sub.js';

/**
 * Binary cross-entropy of `logits` against targets in [0, 1] of the same shape, computed stably from the logits
 * (PyTorch's binary_cross_entropy_with_logits), reduced by `reduction` ('mean' by default, 'sum' or 'none').
 */
export function bceWithLogits(logits: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkLoss('bceWithLogits', logits, target, options, {}, {
    weight: "weights are not implemented; use reduction: 'none' and weight the losses",
    posWeight: "positive-class weights are not implemented; use reduction: 'none' and weight the losses",
  });
  const { reduction = 'mean' } = options;
  if (!sameShape(logits.shape, target.shape)) {
    throw new Error(`bceWithLogits: logits ${fmt(logits.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  return apply({
    op: 'bceWithLogits',
    inputs: [logits, target],
    forward: ([x, y]) => {
      const sp = K.unary('softplus', x!, 1);
      const xy = K.binary('mul', x!, y!);
      const losses = K.binary('sub', sp, xy);
      K.free(sp);
      K.free(xy);
      return reduceLoss(losses, reduction, 1);
    },
    save: ([x, y]) => [x!, y!],
    backward: (g, [x, y], _, [needX, needY]) => {
      const n = reduction === 'mean' ? x!.size : 1;
      return [
        needX ? mul(mul(sub(sigmoid(x!), y!), 1 / n), g) : null,
        // ∂/∂y = −x
        needY ? mul(mul(x!, -1 / n), g) : null,
      ];
    },
    attrs: { reduction },
    local: ([x, y]) => [`σ(${x}) − ${y}`, `−${x}`],
  });
}
