// conv2d: 2-D convolution (cross-correlation, as in PyTorch and every deep-learning library) of images x
// [batch, in, height, width] with a weight [out, in/groups, kH, kW] and an optional bias [out], giving
// [batch, out, height', width'] with height' = ⌊(height + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1.
// Options as PyTorch's F.conv2d: stride, padding (a number, [h, w], 'same' or 'valid'), dilation and groups
// (groups = in = out is a depthwise convolution). One kernel call for the forward; the backward is two more
// convolutions (see convolution.ts), so gradients of gradients work to any order.
import type { Tensor } from '../autograd/tensor.js';
import { convolution, type ConvOptions } from './convolution.js';

/**
 * 2-D convolution (cross-correlation, as PyTorch's F.conv2d) of images x [batch, in, height, width] (NCHW) with
 * weight [out, in/groups, kH, kW] and an optional bias [out], giving [batch, out, height', width'] with height' =
 * ⌊(height + 2·padding − dilation·(kH − 1) − 1)/stride⌋ + 1. Throws, naming the shapes, when channels, groups or the
 * window do not fit.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvOptions = {}): Tensor {
  return convolution(2, x, weight, bias, options);
}
