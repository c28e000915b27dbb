// avgPool2d: the mean of each window of an [N,C,H,W] (or [C,H,W]) input, PyTorch's avg_pool2d: stride (default:
// the kernel), zero padding counted in the divisor unless countIncludePad is false, ceilMode, divisorOverride.
// The backward spreads each upstream value over its window divided by the same divisor; being linear, that
// backward is an op whose own gradient is avgPool2d again (gradients of gradients work).
import { apply, checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { avgPoolWindow, type AvgPool2dOptions, type Size2 } from './pool2d.js';

/**
 * The mean of each kernelSize window of an [N, C, H, W] (or [C, H, W]) input, PyTorch's avg_pool2d. stride defaults
 * to the kernel size; zero padding counts in the divisor unless countIncludePad is false.
 */
export function avgPool2d(x: Tensor, kernelSize: Size2, options: AvgPool2dOptions = {}): Tensor {
  checkTensor('avgPool2d', 'input', x);
  const { win, countIncludePad, divisor } = avgPoolWindow('avgPool2d', kernelSize, options);
  return pool(x, win, countIncludePad, divisor);
}

function pool(x: Tensor, win: K.Pool2dWindow, countIncludePad: boolean, divisor: number): Tensor {
  return apply({
    op: 'avgPool2d',
    inputs: [x],
    forward: ([t]) => K.avgPool2d(t!, win, countIncludePad, divisor),
    backward: (g, _, [t]) => [poolGrad(g, t!.shape, win, countIncludePad, divisor)],
    attrs: { kernelSize: win.kernel, stride: win.stride, padding: win.padding, ceilMode: win.ceilMode, countIncludePad,
      ...(divisor ? { divisorOverride: divisor } : {}) },
    local: () => ['1/divisor over each window'],
  });
}

/** The gradient of avgPool2d for an input of `inputShape`. */
function poolGrad(g: Tensor, inputShape: readonly number[], win: K.Pool2dWindow, countIncludePad: boolean, divisor: number): Tensor {
  return apply({
    op: 'avgPool2dGrad',
    inputs: [g],
    forward: ([t]) => K.avgPool2dGrad(t!, inputShape, win, countIncludePad, divisor),
    backward: (gg) => [pool(gg, win, countIncludePad, divisor)],
    local: () => ['avgPool2d'],
  });
}
