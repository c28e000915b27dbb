// crossEntropy: softmax cross-entropy of logits against int32 class labels. Layouts: PyTorch's, logits [N, C] with
// labels [N], [C] with a scalar label, or [N, C, d1, …] with labels [N, d1, …] (the classes on dim 1); and classes
// last, logits [d0, …, dk, C] with labels [d0, …, dk], as a language model's [B, T, V] logits with [B, T] labels.
// Both are read from the labels' shape; when it fits both (logits [N, C, d1, …] with every dim after the first equal,
// such as [B, T, V] with T = V), PyTorch's reading (classes on dim 1) wins. Optional label smoothing s (target
// (1−s)·onehot + s/C); labels equal to ignoreIndex (default −100) contribute nothing. Reduced by 'mean' (over the
// labels that count, PyTorch's default), 'sum' or 'none' (one loss per label, in the labels' shape). One fused
// kernel computes the row losses and keeps the softmax; the backward is (softmax − target) · upstream · (1/count
// for 'mean'), 0 in ignored rows, also one kernel, whatever the reduction.
import { apply, checkAlive, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled, tidy } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import type { Buf } from '../backend/types.js';
import { replayed, tracing, type RecordedCall } from '../compile/trace.js';
import { tensor } from '../creation.js';
import * as K from '../kernels/index.js';
import { fmt, sizeOf } from '../kernels/shape.js';
import { checkOptions, describe, integer, number } from '../options.js';
import { permute } from './permute.js';
import { REDUCTION, reduceLoss, type Reduction } from './reduction.js';
import { reshape } from './reshape.js';

/** Options of crossEntropy (PyTorch's F.cross_entropy). */
export interface CrossEntropyOptions {
  /** 'mean' (default, over the labels not ignored), 'sum' or 'none' (one loss per label). */
  reduction?: Reduction;
  /** Target (1 − s)·onehot + s/classes, as PyTorch's label_smoothing (default 0). */
  labelSmoothing?: number;
  /** Labels equal to it contribute nothing, and 'mean' averages over the others (default −100, as PyTorch). */
  ignoreIndex?: number;
}

/** Made once (number() and integer() build their descriptions): the loss runs on every step. */
const OPTIONS = {
  reduction: REDUCTION, labelSmoothing: number({ ge: 0, le: 1 }), ignoreIndex: integer({ ge: -2147483648, le: 2147483647 }),
};
const UNSUPPORTED = { weight: "class weights are not implemented; use reduction: 'none' and weight the losses" };

/** Labels may be an int32 tensor or (nested) arrays of class indices. */
export function crossEntropy(logits: Tensor, target: Tensor | readonly unknown[],
  options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', 'logits', logits);
  if (!(target instanceof Tensor) && !Array.isArray(target)) {
    throw new Error(`crossEntropy: target must be an int32 tensor or an array of class indices, got ${describe(target)}`);
  }
  checkOptions('crossEntropy', options, OPTIONS, UNSUPPORTED);
  checkAlive('crossEntropy', [logits, ...(target instanceof Tensor ? [target] : [])]);
  const labels = target instanceof Tensor ? target
    : tensor(target as number[], { dtype: 'int32', backend: logits.backend });
  try {
    if (logits.rank === 2) return crossEntropyRows(logits, labels, options);
    const { labelShape, classDim } = layoutOf(logits, labels);
    // Classes last, then one row per label; the per-label losses go back to the labels' shape.
    return tidy(() => {
      const classesLast = classDim === logits.rank - 1 ? logits
        : permute(logits, [0, ...logits.shape.slice(2).map((_, i) => i + 2), 1]);
      const rows = sizeOf(labelShape);
      const loss = crossEntropyRows(reshape(classesLast, [rows, logits.shape[classDim]!]), reshape(labels, [rows]), options);
      return options.reduction === 'none' ? reshape(loss, labelShape) : loss;
    });
  } finally {
    if (labels !== target) labels.dispose();
  }
}

/**
 * Where the classes are for logits of rank 1 or ≥ 3, read from the labels' shape: on dim 1 (PyTorch's layout,
 * preferred when both fit) or last; checked.
 */
function layoutOf(logits: Tensor, labels: Tensor): { labelShape: number[]; classDim: number } {
  if (logits.rank === 0) throw new Error('crossEntropy: logits must have a class dimension, got a scalar (shape [])');
  const dim1 = logits.rank === 1 ? [] : [logits.shape[0]!, ...logits.shape.slice(2)];
  const last = logits.shape.slice(0, -1);
  if (fmt(labels.shape) === fmt(dim1)) return { labelShape: dim1, classDim: logits.rank === 1 ? 0 : 1 };
  if (fmt(labels.shape) === fmt(last)) return { labelShape: last, classDim: logits.rank - 1 };
  const expected = logits.rank === 1 ? `${fmt(dim1)}`
    : `${fmt(dim1)} (classes on dim 1, as in PyTorch: logits [N, C, d…], labels [N, d…]) or ${fmt(last)} ` +
      '(classes last: logits [d…, C], labels [d…])';
  throw new Error(`crossEntropy: labels must have shape ${expected} for logits ${fmt(logits.shape)}, ` +
    `got ${fmt(labels.shape)}`);
}

/** How many labels count (are not ignoreIndex). */
function countLabels(labels: ArrayLike<number>, ignoreIndex: number): number {
  let counted = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreIndex) counted++;
  return counted;
}

/** crossEntropy of logits [n, c] against labels [n]: the fused op. */
function crossEntropyRows(logits: Tensor, labels: Tensor, options: CrossEntropyOptions): Tensor {
  const { reduction = 'mean', labelSmoothing = 0, ignoreIndex = -100 } = options;
  // The softmax the forward kernel keeps for the backward: an array, wrapped in a tensor only when the graph saves
  // it (after the forward succeeded; a failed forward frees the array itself).
  let probsArray: K.NDArray | null = null;
  let probs: Tensor | null = null;
  let counted = 0;
  const forwardScale = (rows: number) => (reduction === 'mean' ? rows / counted : 1);
  try {
    return apply({
      op: 'crossEntropy',
      inputs: [logits, labels],
      // 'mean' is over the rows that count: the mean of all rows, times rows / counted (1 when none is ignored).
      // A compiled step counts them again each call and patches both scales (so it keeps the forward's scaling
      // call even when it multiplies by 1, which changes no bit).
      forward: ([l, y]) => replayed(() => {
        const r = K.crossEntropy(l!, y!, labelSmoothing, ignoreIndex);
        probsArray = r.probs;
        counted = r.counted;
        return reduceLoss(r.losses, reduction, forwardScale(l!.shape[0]!), tracing.active !== null);
      }, (calls) => {
        const [kernel] = calls as [RecordedCall];
        const labels = kernel.args[1] as Buf;
        counted = countLabels(labels.backend.read(labels), ignoreIndex);
        const scaling = calls.find((c) => c.method === 'scale');
        if (scaling) scaling.args[3] = forwardScale(l.shape[0]!);
      }),
      save: ([, y]) => [(probs = fromKernel(probsArray!)), y!],
      backward: (g, [p, y]) => {
        if (isGradEnabled()) {
          throw new Error('crossEntropy: gradients of its gradient are not supported (its backward is one fused kernel); ' +
            'for higher order, write the loss with logSoftmax and gather');
        }
        const scale = () => (reduction === 'mean' ? 1 / counted : 1);
        const dx = replayed(() => K.crossEntropyGrad(p!, y!, g, scale(), labelSmoothing, ignoreIndex),
          ([kernel]) => { kernel!.args[4] = scale(); });
        return [fromKernel(dx), null];
      },
      attrs: { reduction, labelSmoothing, ignoreIndex },
      local: () => ['softmax − onehot', '—'],
    });
  } finally {
    const saved = probs as Tensor | null, array = probsArray as K.NDArray | null;
    if (saved) saved.dispose(); // the graph keeps its own handle
    else if (array?.buf.live) K.free(array); // no graph was recorded
  }
}
