// ONNX nodes of the CNN layers: Conv1d / Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and BatchNorm1d / 2d (in
// eval mode, with the running statistics). Output shapes come from wasmgrad itself (OnnxGraph.probe).
import { BatchNorm1d, BatchNorm2d } from '../../nn/batchnorm.js';
import { Conv1d, Conv2d } from '../../nn/conv.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../../nn/pooling.js';
import { convGeometry } from '../../ops/convolution.js';
import { pair } from '../../ops/pool2d.js';
import { join, layerName, showShape } from '../common.js';
import { entry, OnnxGraph, type Value } from './graph.js';
import type { Dim } from './proto.js';

function convNodes(g: OnnxGraph, m: Conv1d | Conv2d, x: Value, path: string): Value {
  const shape = g.probe(m, x, path);
  const { stride, padding, dilation, groups } = m;
  const geometry = convGeometry(m.constructor.name, m.kernelSize, { stride, padding, dilation, groups });
  const inputs = [x.name, g.param(join(path, 'weight'), m.weight), ...(m.bias ? [g.param(join(path, 'bias'), m.bias)] : [])];
  return OnnxGraph.with(x, g.op('Conv', inputs, {
    kernel_shape: m.kernelSize, strides: geometry.stride, dilations: geometry.dilation, group: geometry.groups,
    // ONNX lists every dim's leading pad, then every dim's trailing pad.
    pads: [...geometry.padding.map(([before]) => before), ...geometry.padding.map(([, after]) => after)],
  }, path), shape);
}

/**
 * The window attributes ONNX's pools share. ceil_mode is set only where rounding up adds a window: where PyTorch's
 * rule drops the window that would start in the right padding, the output is floor mode's, and ONNX's shape
 * inference (which lacks that rule) agrees with it only so.
 */
function poolWindow(m: MaxPool2d | AvgPool2d, x: Value, out: Dim[]) {
  const [kernel, stride, padding] = [pair(m.kernelSize), pair(m.stride), pair(m.padding)];
  const dilation = m instanceof MaxPool2d ? pair(m.dilation) : [1, 1];
  const floorSize = (i: number) => Math.floor(((x.shape[i + 2] as number) + 2 * padding[i]! - dilation[i]! * (kernel[i]! - 1) - 1) / stride[i]!) + 1;
  const roundsUp = m.ceilMode && [0, 1].some((i) => out[i + 2] !== floorSize(i));
  return { kernel_shape: kernel, strides: stride, pads: [...padding, ...padding], ceil_mode: roundsUp ? 1 : 0 };
}

function maxPoolNodes(g: OnnxGraph, m: MaxPool2d, x: Value, path: string): Value {
  const shape = g.probe(m, x, path);
  const attrs = { ...poolWindow(m, x, shape), dilations: pair(m.dilation) };
  return OnnxGraph.with(x, g.op('MaxPool', [x.name], attrs, path), shape);
}

/**
 * AveragePool; a divisorOverride d scales the sum over the padded window (count_include_pad, k_h·k_w values) by
 * k_h·k_w / d, which holds while every window lies inside the padded input, i.e. without ceilMode.
 */
function avgPoolNodes(g: OnnxGraph, m: AvgPool2d, x: Value, path: string): Value {
  const shape = g.probe(m, x, path);
  const window = poolWindow(m, x, shape);
  const divisor = m.divisorOverride;
  if (divisor !== undefined && m.ceilMode) {
    throw new Error(`toOnnx: ${layerName(m, path)} has divisorOverride with ceilMode, which ONNX's AveragePool cannot ` +
      'express (its last windows may hang over the input); use one of the two');
  }
  const countIncludePad = divisor !== undefined || m.countIncludePad ? 1 : 0;
  let y = g.op('AveragePool', [x.name], { ...window, count_include_pad: countIncludePad }, path);
  if (divisor !== undefined) {
    const [kh, kw] = window.kernel_shape;
    y = g.op('Mul', [y, g.floats([(kh * kw) / divisor], [], path)], {}, path);
  }
  return OnnxGraph.with(x, y, shape);
}

/**
 * GlobalAveragePool for an output of 1×1; AveragePool when the output size divides the input's (equal windows);
 * otherwise the windows differ in size, which no ONNX pool expresses.
 */
function adaptiveAvgPoolNodes(g: OnnxGraph, m: AdaptiveAvgPool2d, x: Value, path: string): Value {
  const shape = g.probe(m, x, path);
  const [oh, ow] = shape.slice(-2) as [number, number];
  const [h, w] = x.shape.slice(-2) as [number, number];
  if (oh === 1 && ow === 1) return OnnxGraph.with(x, g.op('GlobalAveragePool', [x.name], {}, path), shape);
  if (h % oh !== 0 || w % ow !== 0) {
    throw new Error(`toOnnx: ${layerName(m, path)} pools an input of ${h}×${w} to ${oh}×${ow}, with windows of ` +
      'unequal size, which ONNX\'s pools cannot express; choose an output size that divides the input\'s ' +
      `(input ${showShape(x.shape)}), or 1 for a global average`);
  }
  const kernel = [h / oh, w / ow];
  return OnnxGraph.with(x, g.op('AveragePool', [x.name], { kernel_shape: kernel, strides: kernel }, path), shape);
}

/** BatchNormalization with the running statistics; a layer without affine parameters scales by 1 and shifts by 0. */
function batchNormNodes(g: OnnxGraph, m: BatchNorm1d | BatchNorm2d, x: Value, path: string): Value {
  if (!m.running_mean || !m.running_var) {
    throw new Error(`toOnnx: ${layerName(m, path)} keeps no running statistics (trackRunningStats: false), so in eval ` +
      'mode it normalises with each batch\'s statistics, which ONNX\'s BatchNormalization does not do at inference; ' +
      'export a layer made with trackRunningStats: true');
  }
  const shape = g.probe(m, x, path); // checks the rank and the channels
  const c = m.numFeatures;
  const scale = m.weight ? g.param(join(path, 'weight'), m.weight) : g.floats(new Float32Array(c).fill(1), [c], path);
  const shift = m.bias ? g.param(join(path, 'bias'), m.bias) : g.floats(new Float32Array(c), [c], path);
  const inputs = [x.name, scale, shift, g.param(join(path, 'running_mean'), m.running_mean),
    g.param(join(path, 'running_var'), m.running_var)];
  return OnnxGraph.with(x, g.op('BatchNormalization', inputs, { epsilon: { float: m.eps } }, path), shape);
}

/** The table entries of the CNN layers. */
export const CNN_LAYERS = [
  entry(Conv1d, convNodes),
  entry(Conv2d, convNodes),
  entry(MaxPool2d, maxPoolNodes),
  entry(AvgPool2d, avgPoolNodes),
  entry(AdaptiveAvgPool2d, adaptiveAvgPoolNodes),
  entry(BatchNorm1d, batchNormNodes),
  entry(BatchNorm2d, batchNormNodes),
];
