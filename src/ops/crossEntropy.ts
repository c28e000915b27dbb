// crossEntropyRows: per-row softmax cross-entropy of logits [n, c] against int32 class labels [n], with optional
// label smoothing s (target (1−s)·onehot + s/c). One fused kernel computes the losses and keeps the softmax;
// the backward is (softmax − target) · upstream, also one kernel. nn's crossEntropy reduces the rows.
import { apply, fromKernel } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';

export function crossEntropyRows(logits: Tensor, labels: Tensor, labelSmoothing = 0): Tensor {
  let probs: Tensor | null = null;
  try {
    return apply({
      op: 'crossEntropy',
      inputs: [logits, labels],
      forward: ([l, y]) => {
        const r = K.crossEntropy(l!, y!, labelSmoothing);
        probs = new Tensor(r.probs.buf, r.probs.shape);
        return r.losses;
      },
      save: ([, y]) => [probs!, y!],
      backward: (g, [p, y]) => [fromKernel(K.crossEntropyGrad(p!, y!, g, 1, labelSmoothing)), null],
      attrs: { labelSmoothing },
      local: () => ['softmax − onehot', '—'],
    });
  } finally {
    (probs as Tensor | null)?.dispose();
  }
}
