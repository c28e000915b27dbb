// ONNX nodes of the MLP layers: Sequential, Linear, the activations, Dropout (the identity: the export is of eval
// mode) and Flatten.
import type { Tensor } from '../../autograd/tensor.js';
import { GELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh } from '../../nn/activations.js';
import { Dropout } from '../../nn/dropout.js';
import { Flatten } from '../../nn/flatten.js';
import { Linear } from '../../nn/linear.js';
import { Sequential } from '../../nn/sequential.js';
import { join } from '../common.js';
import { entry, OnnxGraph, type Value } from './graph.js';

/**
 * x·Wᵀ + b with the weight [out, in] and bias named `path`.weight / `path`.bias: Gemm for a matrix, else MatMul by
 * the transposed weight (ONNX Runtime folds the Transpose of an initializer once, when it loads the model).
 */
export function linearNodes(g: OnnxGraph, x: Value, weight: Tensor, bias: Tensor | null, names: { weight: string; bias: string },
  path: string): Value {
  const w = g.param(names.weight, weight);
  const b = bias ? [g.param(names.bias, bias)] : [];
  const shape = [...x.shape.slice(0, -1), weight.shape[0]!];
  if (x.shape.length === 2) return OnnxGraph.with(x, g.op('Gemm', [x.name, w, ...b], { transB: 1 }, path), shape);
  const product = g.op('MatMul', [x.name, g.op('Transpose', [w], { perm: [1, 0] }, path)], {}, path);
  return OnnxGraph.with(x, b.length ? g.op('Add', [product, b[0]!], {}, path) : product, shape);
}

/** A node of one input and the same shape (the activations). */
export function unary(g: OnnxGraph, opType: string, x: Value, path: string, attrs = {}): Value {
  return OnnxGraph.with(x, g.op(opType, [x.name], attrs, path));
}

/** GELU in its exact erf form, as wasmgrad computes it: x · ½ · (1 + erf(x / √2)). */
export function geluNodes(g: OnnxGraph, x: Value, path: string): Value {
  const erf = g.op('Erf', [g.op('Div', [x.name, g.floats([Math.SQRT2], [], path)], {}, path)], {}, path);
  const onePlus = g.op('Add', [erf, g.floats([1], [], path)], {}, path);
  return OnnxGraph.with(x, g.op('Mul', [g.op('Mul', [x.name, onePlus], {}, path), g.floats([0.5], [], path)], {}, path));
}

/** softplus(βx)/β; ONNX's Softplus has no β. */
function softplusNodes(g: OnnxGraph, m: Softplus, x: Value, path: string): Value {
  if (m.beta === 1) return unary(g, 'Softplus', x, path);
  const beta = g.floats([m.beta], [], path);
  const scaled = g.op('Softplus', [g.op('Mul', [x.name, beta], {}, path)], {}, path);
  return OnnxGraph.with(x, g.op('Div', [scaled, beta], {}, path));
}

/** Flatten from startDim on: a Reshape that copies the dims before it (0) and joins the rest (−1). */
function flattenNodes(g: OnnxGraph, m: Flatten, x: Value, path: string): Value {
  const start = m.startDim < 0 ? m.startDim + x.shape.length : m.startDim;
  const rest = x.shape.slice(start);
  const joined = rest.every((d) => typeof d === 'number') ? rest.reduce<number>((a, d) => a * (d as number), 1) : rest.join('*');
  const shape = g.ints([...Array<number>(start).fill(0), -1], undefined, path);
  return OnnxGraph.with(x, g.op('Reshape', [x.name, shape], {}, path), [...x.shape.slice(0, start), joined]);
}

/** The table entries of the MLP layers. */
export const MLP_LAYERS = [
  entry(Sequential, (g, m, x, path) =>
    m.namedChildren().reduce((v, [key, child]) => g.emit(child, v, join(path, key)), x)),
  entry(Linear, (g, m, x, path) => {
    g.probe(m, x, path); // checks the input's features
    return linearNodes(g, x, m.weight, m.bias, { weight: join(path, 'weight'), bias: join(path, 'bias') }, path);
  }),
  entry(ReLU, (g, _m, x, path) => unary(g, 'Relu', x, path)),
  entry(LeakyReLU, (g, m, x, path) => unary(g, 'LeakyRelu', x, path, { alpha: { float: m.negativeSlope } })),
  entry(Sigmoid, (g, _m, x, path) => unary(g, 'Sigmoid', x, path)),
  entry(Tanh, (g, _m, x, path) => unary(g, 'Tanh', x, path)),
  entry(GELU, (g, _m, x, path) => geluNodes(g, x, path)),
  entry(Softplus, softplusNodes),
  entry(Dropout, (_g, _m, x) => x),
  entry(Flatten, flattenNodes),
];
