// rmsNorm: PyTorch's rms_norm. x [*, ...normalizedShape] is divided by the root mean square of each row of the
// trailing normalizedShape, then scaled elementwise (no centring, no bias):
//   y = x / √(mean(x²) + eps) · weight   (weight of normalizedShape, optional).
// eps defaults to the machine epsilon of x's dtype (2⁻²³ for float32, 2⁻⁵² for float64), as in PyTorch. See
// normalizeRows.ts for the kernels and the backward.
import { checkTensor } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { checkOptions, checkValue, number, type Check } from '../options.js';
import { normalizeRows, sizesOf } from './normalizeRows.js';

/** Options of rmsNorm. */
export interface RMSNormOptions {
  /** Added to mean(x²) (default: the machine epsilon of x's dtype, as PyTorch's torch.finfo(x.dtype).eps). */
  eps?: number;
}

const TENSOR_OR_NULL: Check = { what: 'a Tensor or null', ok: (v) => v === null || v instanceof Tensor };

/** The machine epsilon of a floating-point dtype: the gap between 1 and the next representable number. */
export function machineEpsilon(dtype: string): number {
  return dtype === 'float64' ? 2 ** -52 : 2 ** -23;
}

/**
 * RMS normalisation over the trailing `normalizedShape` of x (PyTorch's F.rms_norm): y = x/√(mean(x²) + eps)·weight,
 * with weight of shape normalizedShape, or null.
 */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null = null,
  options: RMSNormOptions = {}): Tensor {
  checkTensor('rmsNorm', 'input', x);
  const shape = sizesOf('rmsNorm', normalizedShape);
  checkValue('rmsNorm', 'weight', weight, TENSOR_OR_NULL);
  checkOptions('rmsNorm', options, { eps: number({ gt: 0 }) });
  return normalizeRows('rmsNorm', x, shape, weight, null, options.eps ?? machineEpsilon(x.dtype));
}
