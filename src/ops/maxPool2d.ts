// maxPool2d: the maximum of each window of an [N,C,H,W] (or [C,H,W]) input, PyTorch's max_pool2d: stride
// (default: the kernel), −∞ padding, dilation, ceilMode; ties go to the first maximum in row-major order, NaN wins.
// The forward kernel also gives each maximum's position, which the backward keeps: the gradient is the upstream
// gradient added at those positions (overlapping windows accumulate). That scatter is an op too, whose gradient
// gathers at the same positions, so gradients of gradients work.
import { apply, checkTensor, fromKernel } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { maxPoolWindow, type MaxPool2dOptions, type Size2 } from './pool2d.js';

/**
 * The maximum of each kernelSize window of an [N, C, H, W] (or [C, H, W]) input, PyTorch's max_pool2d (stride
 * defaults to the kernel size; −∞ padding). The gradient goes to each window's first maximum.
 */
export function maxPool2d(x: Tensor, kernelSize: Size2, options: MaxPool2dOptions = {}): Tensor {
  checkTensor('maxPool2d', 'input', x);
  const win = maxPoolWindow('maxPool2d', kernelSize, options);
  // The positions the forward kernel gives: an array, wrapped in a tensor only when the graph saves it (after the
  // forward succeeded; a failed forward frees the array itself).
  let indicesArray: K.NDArray | null = null;
  let indices: Tensor | null = null;
  try {
    return apply({
      op: 'maxPool2d',
      inputs: [x],
      forward: ([t]) => {
        const r = K.maxPool2d(t!, win);
        indicesArray = r.indices;
        return r.out;
      },
      save: () => [(indices = fromKernel(indicesArray!))],
      backward: (g, [i], [t]) => [maxPool2dGrad(g, i!, t!.shape)],
      attrs: { kernelSize: win.kernel, stride: win.stride, padding: win.padding, dilation: win.dilation, ceilMode: win.ceilMode },
      local: () => ['1 at each window\'s maximum'],
    });
  } finally {
    const saved = indices as Tensor | null, array = indicesArray as K.NDArray | null;
    if (saved) saved.dispose(); // the graph keeps its own handle
    else if (array?.buf.live) K.free(array); // no graph was recorded
  }
}

/** The gradient of maxPool2d: g added at the positions of the maxima, in zeros of the input's shape. */
function maxPool2dGrad(g: Tensor, indices: Tensor, inputShape: readonly number[]): Tensor {
  return apply({
    op: 'maxPool2dGrad',
    inputs: [g, indices],
    forward: ([t, i]) => K.maxPool2dGrad(t!, i!, inputShape),
    save: ([, i]) => [i!],
    backward: (gg, [i]) => [maxPool2dGather(gg, i!), null],
    local: () => ['scatter', '—'],
  });
}

/** x at the positions of the maxima: the gradient of maxPool2dGrad (and maxPool2d itself, given its indices). */
function maxPool2dGather(x: Tensor, indices: Tensor): Tensor {
  return apply({
    op: 'maxPool2dGather',
    inputs: [x, indices],
    forward: ([t, i]) => K.maxPool2dGather(t!, i!),
    save: ([, i]) => [i!],
    backward: (g, [i], [t]) => [maxPool2dGrad(g, i!, t!.shape), null],
    local: () => ['gather', '—'],
  });
}
