// FusedConv2D and FusedDepthwiseConv2D: the convolution of Conv2D.ts with a per-channel bias added inside
// wasmgrad's kernel (as it writes each output), any other bias shape added afterwards, then the activation of
// _FusedMatMul's table (BatchMatMul.ts): one definition of the fused activations for the backend. 'prelu' runs
// the whole kernel on tfjs-backend-cpu, listed in src/tfjs/fallback.ts, as for _FusedMatMul.
// The gradient is tfjs-core's: it runs Conv2DBackpropInput and Conv2DBackpropFilter (or the depthwise ones) and
// Sum for the bias.
import {
  backend_util, FusedConv2D, FusedDepthwiseConv2D, util, type FusedConv2DAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { binary } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { ACTIVATIONS } from './BatchMatMul.js';
import { checkConv, convolve } from './Conv2D.js';
import { kernel, withScratch, type KernelArgs } from './util.js';

type Shape4 = [number, number, number, number];

function fusedConv(name: string, depthwise: boolean, args: KernelArgs): TensorInfo {
  const { inputs, backend: b, attrs } = args;
  const { x, filter, bias } = inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation = 'linear', leakyreluAlpha } =
    attrs as unknown as FusedConv2DAttrs;
  const act = ACTIVATIONS[activation];
  if (act === undefined) return runOnCpu(name, args) as TensorInfo;
  const $dilations = dilations ?? [1, 1];
  if (depthwise) {
    util.assert(backend_util.eitherStridesOrDilationsAreOne(strides, $dilations),
      () => `${name}: either strides or dilations must be 1, got strides ${strides} and dilations ${$dilations}`);
  }
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, strides, $dilations, pad,
    dimRoundingMode, depthwise, depthwise ? 'channelsLast' : backend_util.convertConv2DDataFormat(dataFormat));
  checkConv(name, info, depthwise, dataFormat);
  return b.output(withScratch((tmp) => {
    // One value per output channel is wasmgrad's conv bias (NCHW reads a 1-D bias along the channels too).
    const inside = bias && bias.shape.length === 1 && bias.shape[0] === info.outChannels ? b.nd(bias) : null;
    let y = convolve(b, x, filter, inside, info, depthwise);
    if (bias && !inside) y = binary('add', tmp(y), b.nd(bias));
    return act ? act(tmp(y), b, leakyreluAlpha ?? 0.2) : y;
  }), 'float32');
}

export const fusedConv2DConfig = kernel(FusedConv2D, (args) => fusedConv(FusedConv2D, false, args));
export const fusedDepthwiseConv2DConfig = kernel(FusedDepthwiseConv2D, (args) => fusedConv(FusedDepthwiseConv2D, true, args));
