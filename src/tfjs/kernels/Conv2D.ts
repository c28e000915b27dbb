// Conv2D and DepthwiseConv2dNative: one body, wasmgrad's conv() (im2col on the matmul micro-kernels) between
// layout changes. A depthwise filter [kh, kw, in, multiplier] is a grouped convolution with groups = in whose weight
// is the filter read as [kh, kw, 1, in·multiplier]: output channel c·multiplier + m, as in tfjs.
import {
  backend_util, Conv2D, DepthwiseConv2dNative, util, type Conv2DAttrs, type DepthwiseConv2dNativeAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { conv, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { convGeometry, FILTER_TO_WEIGHT, NCHW_TO_NHWC, NHWC_TO_NCHW, permuted, permutedOwned } from './conv-layout.js';
import { kernel, view, withScratch } from './util.js';

type Info = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/** Whether an array has no elements: tfjs gives an empty tensor when the window does not fit (outHeight 0). */
export const isEmpty = (shape: readonly number[]) => shape.some((d) => d === 0);

/** Refuses what tfjs lets through but the wasmgrad backend does not compute, naming the tfjs kernel. */
export function checkConv(name: string, info: Info, depthwise: boolean, dataFormat: string | undefined): void {
  if (depthwise && dataFormat === 'NCHW') {
    throw new Error(`${name}: dataFormat 'NCHW' is not supported by the 'wasmgrad' backend (tfjs-backend-cpu ` +
      `ignores it and reads the input as NHWC): transpose the input to NHWC`);
  }
  if (info.filterShape[2] !== info.inChannels) {
    throw new Error(`${name}: the filter [${info.filterShape}] has ${info.filterShape[2]} input channels, but the ` +
      `input [${info.inShape}] has ${info.inChannels}`);
  }
  if (info.outShape.some((d) => d < 0)) {
    throw new Error(`${name}: the filter [${info.filterHeight},${info.filterWidth}] (dilated to ` +
      `[${info.effectiveFilterHeight},${info.effectiveFilterWidth}]) does not fit the input [${info.inShape}] ` +
      `with padding ${JSON.stringify(info.padInfo)}`);
  }
}

/** A tfjs filter as wasmgrad's weight [out, in/groups, kh, kw] (a depthwise one with groups = in). */
export function wasmgradFilter(b: WasmgradBackend, filter: TensorInfo, depthwise: boolean, tmp: Parameters<typeof permuted>[2]): NDArray {
  const [kh, kw, cin, cout] = filter.shape as Shape4;
  const f = depthwise ? view(b.nd(filter), [kh, kw, 1, cin * cout]) : b.nd(filter);
  return permuted(f, FILTER_TO_WEIGHT, tmp);
}

/**
 * The convolution tfjs describes by `info`, of x and filter in tfjs's layouts, plus `bias` ([out], may be null)
 * added inside wasmgrad's kernel: a new array in tfjs's layout (info.outShape), the caller's.
 */
export function convolve(b: WasmgradBackend, x: TensorInfo, filter: TensorInfo, bias: NDArray | null, info: Info,
  depthwise: boolean): NDArray {
  if (isEmpty(info.outShape)) return b.empty(info.outShape, 'float32');
  const channelsLast = info.dataFormat === 'channelsLast';
  return withScratch((tmp) => {
    const input = channelsLast ? permuted(b.nd(x), NHWC_TO_NCHW, tmp) : b.nd(x);
    const weight = wasmgradFilter(b, filter, depthwise, tmp);
    const y = conv(input, weight, bias, convGeometry(info, depthwise ? info.inChannels : 1));
    return channelsLast ? permutedOwned(y, NCHW_TO_NHWC, tmp) : y;
  });
}

export const conv2DConfig = kernel(Conv2D, ({ inputs, backend: b, attrs }) => {
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, dilations, pad,
    dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  checkConv(Conv2D, info, false, dataFormat);
  return b.output(convolve(b, x, filter, null, info, false), 'float32');
});

export const depthwiseConv2dNativeConfig = kernel(DepthwiseConv2dNative, ({ inputs, backend: b, attrs }) => {
  const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as DepthwiseConv2dNativeAttrs;
  const $dilations = dilations ?? [1, 1];
  util.assert(backend_util.eitherStridesOrDilationsAreOne(strides, $dilations),
    () => `${DepthwiseConv2dNative}: either strides or dilations must be 1, got strides ${strides} and dilations ${$dilations}`);
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, $dilations, pad,
    dimRoundingMode, true);
  checkConv(DepthwiseConv2dNative, info, true, dataFormat);
  return b.output(convolve(b, x, filter, null, info, true), 'float32');
});
