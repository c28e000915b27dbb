// Loss functions with PyTorch's names and reductions ('mean' | 'sum' | 'none'), and the seed's L2 term.
// Each loss is one op (one "l" node in the graph); see src/ops/ for the forward and backward of each.
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { crossEntropyRows } from '../ops/crossEntropy.js';
import { mean } from '../ops/mean.js';
import { checkReduction, type Reduction } from '../ops/mseLoss.js';
import { sum } from '../ops/sum.js';

export { mseLoss } from '../ops/mseLoss.js';
export { bceWithLogits } from '../ops/bceWithLogits.js';
export { huberLoss } from '../ops/huberLoss.js';
export { l2Penalty } from '../ops/l2Penalty.js';
export type { Reduction };

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Target (1 − s)·onehot + s/classes, as PyTorch's label_smoothing (default 0). */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy of logits [batch, classes] against class indices (an int32 tensor or plain numbers),
 * averaged over the batch by default — PyTorch's F.cross_entropy with class-index targets.
 */
export function crossEntropy(logits: Tensor, target: Tensor | readonly number[], options: CrossEntropyOptions = {}): Tensor {
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  checkReduction('crossEntropy', reduction);
  const labels = Array.isArray(target) || !('shape' in target)
    ? fromValues(target as readonly number[], [(target as readonly number[]).length], { dtype: 'int32', backend: logits.backend })
    : (target as Tensor);
  try {
    const rows = crossEntropyRows(logits, labels, labelSmoothing);
    if (reduction === 'none') return rows;
    try {
      return reduction === 'mean' ? mean(rows) : sum(rows);
    } finally {
      rows.dispose();
    }
  } finally {
    if (labels !== target) labels.dispose();
  }
}
