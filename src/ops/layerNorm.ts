// layerNorm: PyTorch's layer_norm. x [*, ...normalizedShape] is normalised over its trailing normalizedShape (one
// mean and variance per row of that size, the biased variance), then scaled and shifted elementwise:
//   y = (x − mean) / √(var + eps) · weight + bias   (weight and bias of normalizedShape, optional).
// The statistics are the input's own in training and evaluation alike (no running statistics). See
// normalizeRows.ts for the kernels and the backward.
import { checkTensor } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { checkOptions, checkValue, number, type Check } from '../options.js';
import { normalizeRows, sizesOf } from './normalizeRows.js';

/** Options of layerNorm. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

const TENSOR_OR_NULL: Check = { what: 'a Tensor or null', ok: (v) => v === null || v instanceof Tensor };
/** Made once: number() builds its description, and layerNorm runs in every transformer block. */
const OPTIONS = { eps: number({ gt: 0 }) };

/**
 * Layer normalisation over the trailing `normalizedShape` of x (PyTorch's F.layer_norm): y = (x − mean)/√(var +
 * eps)·weight + bias, one mean and biased variance per row; weight and bias have shape normalizedShape, or are null.
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null = null,
  bias: Tensor | null = null, options: LayerNormOptions = {}): Tensor {
  checkTensor('layerNorm', 'input', x);
  const shape = sizesOf('layerNorm', normalizedShape);
  checkValue('layerNorm', 'weight', weight, TENSOR_OR_NULL);
  checkValue('layerNorm', 'bias', bias, TENSOR_OR_NULL);
  checkOptions('layerNorm', options, OPTIONS);
  return normalizeRows('layerNorm', x, shape, weight, bias, options.eps ?? 1e-5);
}
