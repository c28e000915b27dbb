// MaxPool and MaxPoolGrad: wasmgrad's maxPool2d() between layout changes, with tfjs's window (conv-layout.ts).
// tfjs hands MaxPoolGrad the input and the forward output, not the positions of the maxima: they are found again by
// pooling the input (one pass over it, cheap beside the convolutions around it). Each window's gradient goes to its
// first maximum in row-major order, the position tfjs-backend-cpu's maxPoolPositions picks. NaNs are skipped, as
// on tfjs-backend-cpu (wasmgrad's ignoreNaN): a window of NaNs pools to −∞.
import {
  backend_util, MaxPool, MaxPoolGrad, type MaxPoolAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { maxPool2d, maxPool2dGrad } from '../../kernels/index.js';
import { isEmpty } from './Conv2D.js';
import { checkGradient } from './Conv2DBackpropInput.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW, permuted, permutedOwned, poolWindow } from './conv-layout.js';
import { share } from './Reshape.js';
import { constant, kernel, withScratch, type KernelArgs } from './util.js';

type Info = backend_util.Conv2DInfo;

/** tfjs's pooling geometry of x (NHWC), refusing what tfjs lets through but the backend does not pool. */
export function poolInfo(name: string, x: TensorInfo, attrs: MaxPoolAttrs): Info {
  if (x.shape.length !== 4) throw new Error(`${name}: x must be 4-D [batch, height, width, channels], got [${x.shape}]`);
  if (x.dtype !== 'float32') {
    throw new Error(`${name}: the 'wasmgrad' backend pools float32 tensors, got ${x.dtype} (tf.cast(x, 'float32') converts it)`);
  }
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.outShape.some((d) => d < 0)) {
    throw new Error(`${name}: the window [${info.filterHeight},${info.filterWidth}] does not fit the input ` +
      `[${info.inShape}] with padding ${JSON.stringify(info.padInfo)}`);
  }
  return info;
}

/**
 * x itself when the window is 1×1 and the output has x's shape, whatever the strides and padding: tfjs-backend-cpu
 * (and tfjs's other backends) return the input unchanged there, so e.g. a numeric padding whose output length
 * rounds back down to the input's pools nothing.
 */
export function poolsToItself(info: Info, x: TensorInfo, args: Pick<KernelArgs, 'backend'>): TensorInfo | null {
  const same = info.filterHeight === 1 && info.filterWidth === 1 && info.outShape.every((d, i) => d === info.inShape[i]);
  return same ? share(x, x.shape, args) : null;
}

/** tfjs's max pooling window: tfjs's output size, NaNs skipped. */
const maxWindow = (info: Info) => ({ ...poolWindow(info), ignoreNaN: true });

/** [N, H, W, C] as the NCHW shape wasmgrad's kernels take. */
export const nchw = (s: readonly number[]) => [s[0]!, s[3]!, s[1]!, s[2]!];

export const maxPoolConfig = kernel(MaxPool, ({ inputs, backend: b, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const info = poolInfo(MaxPool, x, attrs as unknown as MaxPoolAttrs);
  if (isEmpty(info.outShape)) return b.output(b.empty(info.outShape, 'float32'), 'float32');
  const itself = poolsToItself(info, x, { backend: b });
  if (itself) return itself;
  return b.output(withScratch((tmp) => {
    const { out, indices } = maxPool2d(permuted(b.nd(x), NHWC_TO_NCHW, tmp), maxWindow(info));
    tmp(indices);
    return permutedOwned(out, NCHW_TO_NHWC, tmp);
  }), 'float32');
});

export const maxPoolGradConfig = kernel(MaxPoolGrad, ({ inputs, backend: b, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(MaxPoolGrad, input, attrs as unknown as MaxPoolAttrs);
  checkGradient(MaxPoolGrad, dy, info, `max pooling an input [${input.shape}]`);
  // No window: no gradient.
  if (isEmpty(info.outShape)) return b.output(constant(b, 0, 'float32', input.shape), 'float32');
  return b.output(withScratch((tmp) => {
    const { out, indices } = maxPool2d(permuted(b.nd(input), NHWC_TO_NCHW, tmp), maxWindow(info));
    tmp(out);
    tmp(indices);
    const dx = maxPool2dGrad(permuted(b.nd(dy), NHWC_TO_NCHW, tmp), indices, nchw(input.shape));
    return permutedOwned(dx, NCHW_TO_NHWC, tmp);
  }), 'float32');
});
