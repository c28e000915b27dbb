// Conv2DBackpropInput and DepthwiseConv2dNativeBackpropInput (the input gradients, and tf.conv2dTranspose):
// wasmgrad's convInputGrad() between layout changes, with the geometry tfjs computes for the forward convolution.
import {
  backend_util, Conv2DBackpropInput, DepthwiseConv2dNativeBackpropInput, type Conv2DBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convInputGrad, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { checkConv, isEmpty, wasmgradFilter } from './Conv2D.js';
import { convGeometry, NCHW_TO_NHWC, NHWC_TO_NCHW, permuted, permutedOwned } from './conv-layout.js';
import { constant, kernel, withScratch } from './util.js';

type Info = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/**
 * dy must have the forward output's shape. tfjs's ops check only its channels, and tfjs's gradients leave out
 * dimRoundingMode: where 'ceil' or 'round' changed the output size, the gradient's geometry no longer fits dy.
 */
export function checkGradient(name: string, dy: TensorInfo, info: Info, what: string): void {
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== info.outShape[i])) {
    throw new Error(`${name}: dy [${dy.shape}] should be [${info.outShape}], the output of ${what} with these ` +
      'strides, padding and dilations (tfjs computes gradients without dimRoundingMode: where it changed the ' +
      'output size, pad explicitly instead)');
  }
}

/** The gradient with respect to the input of the convolution `info` describes: a new array of info.inShape. */
function inputGradient(b: WasmgradBackend, dy: TensorInfo, filter: TensorInfo, info: Info, depthwise: boolean): NDArray {
  // No window reaches the input: the gradient is zero.
  if (isEmpty(info.inShape) || isEmpty(info.outShape)) return constant(b, 0, 'float32', info.inShape);
  const channelsLast = info.dataFormat === 'channelsLast';
  return withScratch((tmp) => {
    const g = channelsLast ? permuted(b.nd(dy), NHWC_TO_NCHW, tmp) : b.nd(dy);
    const weight = wasmgradFilter(b, filter, depthwise, tmp);
    const [n, h, w, c] = channelsLast ? info.inShape : [info.inShape[0], info.inShape[2], info.inShape[3], info.inShape[1]];
    const dx = convInputGrad(g, weight, [n, c, h, w], convGeometry(info, depthwise ? info.inChannels : 1));
    return channelsLast ? permutedOwned(dx, NCHW_TO_NHWC, tmp) : dx;
  });
}

export const conv2DBackpropInputConfig = kernel(Conv2DBackpropInput, ({ inputs, backend: b, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode,
    false, backend_util.convertConv2DDataFormat(dataFormat));
  checkConv(Conv2DBackpropInput, info, false, dataFormat);
  checkGradient(Conv2DBackpropInput, dy, info, `an input [${inputShape}] convolved by the filter [${filter.shape}]`);
  return b.output(inputGradient(b, dy, filter, info, false), 'float32');
});

export const depthwiseConv2dNativeBackpropInputConfig = kernel(DepthwiseConv2dNativeBackpropInput, ({ inputs, backend: b, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape, strides, dilations, pad, dimRoundingMode } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, strides, dilations, pad,
    dimRoundingMode, true);
  checkConv(DepthwiseConv2dNativeBackpropInput, info, true, undefined);
  checkGradient(DepthwiseConv2dNativeBackpropInput, dy, info,
    `an input [${inputShape}] convolved depthwise by the filter [${filter.shape}]`);
  return b.output(inputGradient(b, dy, filter, info, true), 'float32');
});
