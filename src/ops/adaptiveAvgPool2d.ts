// adaptiveAvgPool2d: averages an [N,C,H,W] (or [C,H,W]) input down (or up) to a given [oh, ow], PyTorch's
// adaptive_avg_pool2d: output i of n along an axis of size s averages [⌊i·s/n⌋, ⌈(i+1)·s/n⌉), so windows may
// differ in size and overlap when n does not divide s. outputSize is an integer, or a pair whose null entries keep
// the input's size. The backward spreads each value over its window; its own gradient is the pooling again.
import { apply, checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkValue, integer, type Check } from '../options.js';

/**
 * The output size of adaptiveAvgPool2d: one integer for both dims, or [height, width] where null keeps the input's
 * size.
 */
export type AdaptiveSize = number | readonly [number | null, number | null];

const POSITIVE = integer({ ge: 1 });
const ADAPTIVE_SIZE: Check = {
  what: 'a positive integer or a pair [height, width] of them (null keeps the input\'s size)',
  ok: (v) => POSITIVE.ok(v) || (Array.isArray(v) && v.length === 2 && v.every((d) => d === null || POSITIVE.ok(d))),
};

/** Throws `api: outputSize must be …` unless outputSize is one. */
export function checkAdaptiveSize(api: string, outputSize: unknown): void {
  checkValue(api, 'outputSize', outputSize, ADAPTIVE_SIZE);
}

/**
 * Averages an [N, C, H, W] (or [C, H, W]) input to the output size [oh, ow], PyTorch's adaptive_avg_pool2d: output i
 * of n along an axis of size s averages the inputs ⌊i·s/n⌋ to ⌈(i+1)·s/n⌉ − 1.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  checkTensor('adaptiveAvgPool2d', 'input', x);
  checkAdaptiveSize('adaptiveAvgPool2d', outputSize);
  const [h, w] = x.shape.slice(-2);
  const [oh, ow] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  return pool(x, [oh ?? h ?? 0, ow ?? w ?? 0]);
}

function pool(x: Tensor, size: [number, number]): Tensor {
  return apply({
    op: 'adaptiveAvgPool2d',
    inputs: [x],
    forward: ([t]) => K.adaptiveAvgPool2d(t!, size),
    backward: (g, _, [t]) => [poolGrad(g, t!.shape)],
    attrs: { outputSize: size },
    local: () => ['1/window size'],
  });
}

function poolGrad(g: Tensor, inputShape: readonly number[]): Tensor {
  return apply({
    op: 'adaptiveAvgPool2dGrad',
    inputs: [g],
    forward: ([t]) => K.adaptiveAvgPool2dGrad(t!, inputShape),
    backward: (gg, _, [t]) => [pool(gg, t!.shape.slice(-2) as [number, number])],
    local: () => ['adaptiveAvgPool2d'],
  });
}
