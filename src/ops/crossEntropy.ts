// crossEntropy: softmax cross-entropy of logits [n, c] against int32 class labels [n], with optional label
// smoothing s (target (1−s)·onehot + s/c), reduced by 'mean' (over the batch, PyTorch's default), 'sum' or
// 'none' (one loss per row). One fused kernel computes the row losses and keeps the softmax; the backward is
// (softmax − target) · upstream · (1/n for 'mean'), also one kernel, whatever the reduction.
import { apply, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import * as K from '../kernels/index.js';
import { checkOptions, describe, number } from '../options.js';
import { REDUCTION, reduceLoss, type Reduction } from './reduction.js';

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Target (1 − s)·onehot + s/classes, as PyTorch's label_smoothing (default 0). */
  labelSmoothing?: number;
}

/** Labels may be an int32 tensor or plain class indices. */
export function crossEntropy(logits: Tensor, target: Tensor | readonly number[], options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', 'logits', logits);
  if (!(target instanceof Tensor) && !Array.isArray(target)) {
    throw new Error(`crossEntropy: target must be an int32 tensor or an array of class indices, got ${describe(target)}`);
  }
  checkOptions('crossEntropy', options, { reduction: REDUCTION, labelSmoothing: number({ ge: 0, le: 1 }) }, {
    weight: "class weights are not implemented; use reduction: 'none' and weight the losses",
    ignoreIndex: "leave those rows out first, or use reduction: 'none' and weight them 0",
  });
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  const labels = target instanceof Tensor ? target
    : fromValues(target, [target.length], { dtype: 'int32', backend: logits.backend });
  // The softmax the forward kernel keeps for the backward: an array, wrapped in a tensor only when the graph saves
  // it (after the forward succeeded; a failed forward frees the array itself).
  let probsArray: K.NDArray | null = null;
  let probs: Tensor | null = null;
  try {
    return apply({
      op: 'crossEntropy',
      inputs: [logits, labels],
      forward: ([l, y]) => {
        const r = K.crossEntropy(l!, y!, labelSmoothing);
        probsArray = r.probs;
        return reduceLoss(r.losses, reduction, 1);
      },
      save: ([, y]) => [(probs = fromKernel(probsArray!)), y!],
      backward: (g, [p, y]) => {
        if (isGradEnabled()) {
          throw new Error('crossEntropy: gradients of its gradient are not supported (its backward is one fused kernel); ' +
            'for higher order, write the loss with logSoftmax and gather');
        }
        const scale = reduction === 'mean' ? 1 / p!.shape[0]! : 1;
        return [fromKernel(K.crossEntropyGrad(p!, y!, g, scale, labelSmoothing)), null];
      },
      attrs: { reduction, labelSmoothing },
      local: () => ['softmax − onehot', '—'],
    });
  } finally {
    const saved = probs as Tensor | null, array = probsArray as K.NDArray | null;
    if (saved) saved.dispose(); // the graph keeps its own handle
    else if (array?.buf.live) K.free(array); // no graph was recorded
    if (labels !== target) labels.dispose();
  }
}
