// Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter (the filter gradients, which tfjs-backend-wasm
// lacks): wasmgrad's convWeightGrad() between layout changes.
import {
  backend_util, Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, type Conv2DBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropFilterAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convWeightGrad, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { checkConv, isEmpty } from './Conv2D.js';
import { checkGradient } from './Conv2DBackpropInput.js';
import { convGeometry, NHWC_TO_NCHW, permuted, permutedOwned, WEIGHT_TO_FILTER } from './conv-layout.js';
import { constant, kernel, view, withScratch } from './util.js';

type Info = backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

/** The gradient with respect to the filter of the convolution `info` describes: a new array of info.filterShape. */
function filterGradient(b: WasmgradBackend, x: TensorInfo, dy: TensorInfo, info: Info, depthwise: boolean): NDArray {
  const [kh, kw, cin, cout] = info.filterShape;
  // No window: the filter touches nothing.
  if (isEmpty(info.outShape)) return constant(b, 0, 'float32', info.filterShape);
  const channelsLast = info.dataFormat === 'channelsLast';
  return withScratch((tmp) => {
    const input = channelsLast ? permuted(b.nd(x), NHWC_TO_NCHW, tmp) : b.nd(x);
    const g = channelsLast ? permuted(b.nd(dy), NHWC_TO_NCHW, tmp) : b.nd(dy);
    // wasmgrad's weight [out, in/groups, kh, kw]; a depthwise filter's out is in·multiplier, in/groups 1
    const weightShape = depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
    const dw = convWeightGrad(input, g, weightShape, convGeometry(info, depthwise ? info.inChannels : 1));
    return view(permutedOwned(dw, WEIGHT_TO_FILTER, tmp), info.filterShape);
  });
}

export const conv2DBackpropFilterConfig = kernel(Conv2DBackpropFilter, ({ inputs, backend: b, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  checkConv(Conv2DBackpropFilter, info, false, dataFormat);
  checkGradient(Conv2DBackpropFilter, dy, info, `x [${x.shape}] convolved by a filter [${filterShape}]`);
  return b.output(filterGradient(b, x, dy, info, false), 'float32');
});

export const depthwiseConv2dNativeBackpropFilterConfig = kernel(DepthwiseConv2dNativeBackpropFilter, ({ inputs, backend: b, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, dilations, pad, dimRoundingMode, true);
  checkConv(DepthwiseConv2dNativeBackpropFilter, info, true, undefined);
  checkGradient(DepthwiseConv2dNativeBackpropFilter, dy, info, `x [${x.shape}] convolved depthwise by a filter [${filterShape}]`);
  return b.output(filterGradient(b, x, dy, info, true), 'float32');
});
