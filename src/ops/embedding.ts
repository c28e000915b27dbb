// embedding: PyTorch's F.embedding. Looks up rows of a weight table [numEmbeddings, embeddingDim] by int32 indices of
// any shape, giving [...indices.shape, embeddingDim]. Every index must be in [0, numEmbeddings): one outside is an
// error naming it and its position, before anything runs. The gradient of the weight scatter-adds the upstream
// rows back to the rows they were read from, in the order of the indices, so a repeated index accumulates the
// same sum on every run; the row paddingIdx (if given) gets no gradient, though it is looked up like any other.
import { apply, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { checkOptions, describe, type Check } from '../options.js';
import { scatterAdd } from './gather.js';
import { mul } from './mul.js';

/** Options of embedding (PyTorch's F.embedding). */
export interface EmbeddingOptions {
  /** A row that gets no gradient (a negative index counts from the end, as in PyTorch); default none. */
  paddingIdx?: number | null;
}

const INDEX_OR_NULL: Check = { what: 'an integer or null', ok: (v) => v === null || Number.isSafeInteger(v) };

/**
 * Rows of `weight` [numEmbeddings, embeddingDim] looked up by int32 `indices` of any shape, giving [...indices.shape,
 * embeddingDim] (PyTorch's F.embedding). An index outside [0, numEmbeddings) is an error naming it and its position.
 * A repeated index accumulates its gradient.
 */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  checkTensor('embedding', 'indices', indices);
  checkTensor('embedding', 'weight', weight);
  checkOptions('embedding', options, { paddingIdx: INDEX_OR_NULL }, {
    maxNorm: 'rows are never renormalised; clip the weight yourself',
    normType: 'rows are never renormalised',
    scaleGradByFreq: 'gradients are not scaled by how often an index occurs',
    sparse: 'the weight gradient is always dense',
  });
  if (indices.dtype !== 'int32') {
    throw new Error(`embedding: indices must be an int32 tensor, got ${indices.dtype} (make them with { dtype: 'int32' })`);
  }
  if (weight.rank !== 2) {
    throw new Error(`embedding: weight must be a 2-D [numEmbeddings, embeddingDim] table, got ${fmt(weight.shape)}`);
  }
  const rows = weight.shape[0]!;
  const given = options.paddingIdx ?? null;
  if (given !== null && (given < -rows || given >= rows)) {
    throw new Error(`embedding: paddingIdx must be in [${-rows}, ${rows}) for weight ${fmt(weight.shape)}, ` +
      `got ${describe(given)}`);
  }
  const paddingIdx = given !== null && given < 0 ? given + rows : given;
  return apply({
    op: 'embedding',
    inputs: [weight, indices],
    forward: ([w, i]) => K.embedding(w!, i!),
    save: ([, i]) => [i!],
    backward: (g, [i], [w]) => [isGradEnabled() ? gradOps(g, i!, w!.shape, paddingIdx)
      : fromKernel(K.embeddingGrad(g, i!, w!.shape, paddingIdx)), null],
    attrs: { paddingIdx },
    local: () => ['scatter'],
  });
}

/**
 * The weight gradient from differentiable ops (for gradients of gradients): the scatter-add, whose own gradient is
 * a gather, with the padding row zeroed by a constant mask.
 */
function gradOps(g: Tensor, indices: Tensor, shape: readonly number[], paddingIdx: number | null): Tensor {
  const dw = scatterAdd(g, indices, shape);
  if (paddingIdx === null) return dw;
  const keep = new Float64Array(shape[0]!).fill(1);
  keep[paddingIdx] = 0;
  return mul(dw, fromValues(keep, [shape[0]!, 1], { dtype: g.dtype, backend: g.backend }));
}
