// wasmgrad/onnx, an entry of its own so that the main entry imports no protobuf library (it loads unbundled in a
// browser and stays small in bundles). toOnnx: a wasmgrad module as an ONNX model (a serialized ModelProto) that
// ONNX Runtime runs, computing what the module computes in eval mode. Each layer class becomes nodes through a table (mlp.ts, cnn.ts, transformer.ts);
// the batch is a named dim, so the model takes any batch size; parameters and buffers are initializers under
// their PyTorch state-dict names.
import type { Module } from '../../nn/module.js';
import { checkOptions, checkValue, instanceOf } from '../../options.js';
import { Module as ModuleClass } from '../../nn/module.js';
import { batchAxis, firstLayer, inferredShape, SAMPLE_SHAPE, takesTokenIds } from '../common.js';
import { CNN_LAYERS } from './cnn.js';
import { OnnxGraph, type EmitterTable, type Value } from './graph.js';
import { MLP_LAYERS } from './mlp.js';
import { encodeModel, type Dim } from './proto.js';
import { TRANSFORMER_LAYERS } from './transformer.js';

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /**
   * The shape of one sample, without the batch dim: [784] for an MLP on flattened digits, [1, 28, 28] for a CNN,
   * [time] for token ids. Inferred when the model starts with a Linear (its inFeatures) or is a GPT (its context);
   * otherwise required. The batch dim goes first, except for a MultiheadAttention or TransformerEncoderLayer that is
   * not batchFirst, whose inputs are [sequence, batch, features].
   */
  inputShape?: readonly number[];
  /** The ONNX opset the model imports, from 17 (the first with LayerNormalization) to 21; default 17. */
  opset?: number;
}

/** The opsets the exporter writes, and the IR version each needs (ONNX's versioning table). */
const IR_VERSION: Readonly<Record<number, number>> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
const OPSETS = Object.keys(IR_VERSION).map(Number);
const DEFAULT_OPSET = 17;

const TABLE: EmitterTable = new Map([...MLP_LAYERS, ...CNN_LAYERS, ...TRANSFORMER_LAYERS]);

/**
 * Exports `module` as an ONNX model: the bytes of a ModelProto that ONNX Runtime (or any ONNX consumer) loads,
 * computing what the module computes in eval mode (Dropout is the identity, batch norm uses its running
 * statistics). The input is named 'input' (float32, or int64 token ids for a model that starts with an Embedding or
 * is the CLI's GPT) and has a dynamic batch dim named 'batch'; the output is named 'output'. Parameters and buffers
 * are initializers under their state-dict names ('0.weight', 'blocks.0.attn.in_proj_weight').
 *
 * Exports Sequential, Linear, ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softplus, Dropout, Flatten, Conv1d, Conv2d,
 * MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (equal windows), BatchNorm1d / 2d (with running statistics), Embedding,
 * LayerNorm, RMSNorm, MultiheadAttention (self-attention), TransformerEncoderLayer (no masks) and the CLI's GPT.
 * Any other layer is an error that names it; the module itself is not changed.
 *
 * @param module - the model to export.
 * @param options - `inputShape` (the shape of one sample; see {@link ToOnnxOptions}) and `opset`.
 * @returns the serialized ModelProto.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * writeFileSync('model.onnx', toOnnx(model)); // input [batch, 784], output [batch, 10]
 * ```
 */
export function toOnnx(module: Module, options: ToOnnxOptions = {}): Uint8Array {
  checkValue('toOnnx', 'module', module, instanceOf(ModuleClass, 'a wasmgrad Module (a layer or a model)'));
  checkOptions('toOnnx', options, { inputShape: SAMPLE_SHAPE, opset: { what: `one of ${OPSETS.join(', ')}`, ok: (v) => OPSETS.includes(v as number) } }, {
    dynamicAxes: 'the batch dim is always dynamic, the others are fixed by inputShape',
    opsetVersion: 'the option is called opset',
  });
  const opset = options.opset ?? DEFAULT_OPSET;
  const first = firstLayer(module);
  const sample = options.inputShape ?? inferredShape(first);
  if (!sample) {
    throw new Error(`toOnnx: cannot infer the shape of the input of a model that starts with ${first.constructor.name}; ` +
      'give inputShape, the shape of one sample without the batch dim (e.g. { inputShape: [1, 28, 28] })');
  }
  const shape: Dim[] = [...sample];
  shape.splice(Math.min(batchAxis(first), shape.length), 0, 'batch');
  const input: Value = { name: 'input', dtype: takesTokenIds(first) ? 'int64' : 'float32', shape };

  const g = new OnnxGraph(opset, TABLE);
  let out = g.emit(module, input, '');
  if (out.name === input.name) out = OnnxGraph.with(out, g.op('Identity', [input.name])); // e.g. a lone Dropout
  const rename = (name: string) => (name === out.name ? 'output' : name);
  for (const node of g.nodes) {
    node.inputs = node.inputs.map(rename);
    node.outputs = node.outputs.map(rename);
  }
  return encodeModel({
    irVersion: IR_VERSION[opset]!, opset, graphName: module.constructor.name, nodes: g.nodes,
    initializers: [...g.initializers.values()],
    inputs: [input], outputs: [{ name: 'output', dtype: out.dtype, shape: out.shape }],
  });
}
