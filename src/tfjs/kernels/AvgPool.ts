// AvgPool and AvgPoolGrad: wasmgrad's avgPool2d() between layout changes, with tfjs's window (conv-layout.ts).
// tfjs's forward divides each window's sum by the number of its positions inside the input (padding is not
// counted: wasmgrad's countIncludePad = false), while tfjs's AvgPoolGrad (tfjs-backend-cpu's, as its other
// backends) gives every position of a window dy / (window height · width), padding or not: wasmgrad's divisor.
import { AvgPool, AvgPoolGrad, type AvgPoolAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { avgPool2d, avgPool2dGrad } from '../../kernels/index.js';
import { isEmpty } from './Conv2D.js';
import { checkGradient } from './Conv2DBackpropInput.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, permuted, permutedOwned, poolWindow } from './conv-layout.js';
import { nchw, poolInfo, poolsToItself } from './MaxPool.js';
import { constant, kernel, withScratch } from './util.js';

export const avgPoolConfig = kernel(AvgPool, ({ inputs, backend: b, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const info = poolInfo(AvgPool, x, attrs as unknown as AvgPoolAttrs);
  if (isEmpty(info.outShape)) return b.output(b.empty(info.outShape, 'float32'), 'float32');
  const itself = poolsToItself(info, x, { backend: b });
  if (itself) return itself;
  return b.output(withScratch((tmp) => {
    const out = avgPool2d(permuted(b.nd(x), NHWC_TO_NCHW, tmp), poolWindow(info), false);
    return permutedOwned(out, NCHW_TO_NHWC, tmp);
  }), 'float32');
});

export const avgPoolGradConfig = kernel(AvgPoolGrad, ({ inputs, backend: b, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(AvgPoolGrad, input, attrs as unknown as AvgPoolAttrs);
  checkGradient(AvgPoolGrad, dy, info, `average pooling an input [${input.shape}]`);
  // No window: no gradient.
  if (isEmpty(info.outShape)) return b.output(constant(b, 0, 'float32', input.shape), 'float32');
  return b.output(withScratch((tmp) => {
    const dx = avgPool2dGrad(permuted(b.nd(dy), NHWC_TO_NCHW, tmp), nchw(input.shape), poolWindow(info), false,
      info.filterHeight * info.filterWidth);
    return permutedOwned(dx, NCHW_TO_NHWC, tmp);
  }), 'float32');
});
