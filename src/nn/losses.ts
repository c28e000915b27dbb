// Loss functions with PyTorch's names and reductions ('mean' | 'sum' | 'none'), and the seed's L2 term.
// Each loss is one op (one "l" node in the graph); see src/ops/ for the forward and backward of each.
export { crossEntropy } from '../ops/crossEntropy.js';
export type { CrossEntropyOptions } from '../ops/crossEntropy.js';
export { mseLoss } from '../ops/mseLoss.js';
export { bceWithLogits } from '../ops/bceWithLogits.js';
export { huberLoss } from '../ops/huberLoss.js';
export { l2Penalty } from '../ops/l2Penalty.js';
export type { Reduction } from '../ops/reduction.js';
