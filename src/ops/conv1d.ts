// conv1d: 1-D convolution of sequences x [batch, in, length] with a weight [out, in/groups, k] and an optional
// bias [out], giving [batch, out, length'], with the options of conv2d along one dim (a number or [length];
// padding also 'same' or 'valid'). It runs as a conv2d of height 1 on the same kernels, with the same backward.
import type { Tensor } from '../autograd/tensor.js';
import { convolution, type ConvOptions } from './convolution.js';

/**
 * 1-D convolution (cross-correlation) of x [batch, in, length] with weight [out, in/groups, k] and an optional bias
 * [out], giving [batch, out, length'] (PyTorch's F.conv1d).
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvOptions = {}): Tensor {
  return convolution(1, x, weight, bias, options);
}
