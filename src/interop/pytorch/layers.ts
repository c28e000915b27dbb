// The PyTorch constructor call of each wasmgrad layer: the same arguments, so the parameters and buffers get the
// same names and shapes, and the layer computes the same function. The module is walked by the table of
// ../common.ts (exact classes; a class without an entry is an error naming the layer). Layers PyTorch lacks (or
// lacks before a version Debian ships: RMSNorm came in 2.4) and the CLI's GPT are classes that model.py defines.
import { GELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh } from '../../nn/activations.js';
import { MultiheadAttention } from '../../nn/attention.js';
import { BatchNorm1d, BatchNorm2d } from '../../nn/batchnorm.js';
import { Conv1d, Conv2d } from '../../nn/conv.js';
import { Dropout } from '../../nn/dropout.js';
import { Embedding } from '../../nn/embedding.js';
import { Flatten } from '../../nn/flatten.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { LayerNorm, RMSNorm } from '../../nn/normalization.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../../nn/pooling.js';
import { Sequential } from '../../nn/sequential.js';
import { TransformerEncoderLayer } from '../../nn/transformer.js';
import { GPT } from '../../train/gpt.js';
import { entry as tableEntry, join, lookup, type LayerClass, type LayerTable } from '../common.js';
import { GPT_PY, RMSNORM_PY, SELF_ATTENTION_PY } from './classesPy.js';
import { py, pyArgs } from './python.js';

/** A constructor call: the class, and its arguments as Python source; a Sequential's one per line, named. */
export interface TorchCall {
  cls: string;
  args: string[];
  /** The children's state-dict paths, one per argument: the call is written one argument a line, each named. */
  names?: string[];
}

/** What a translation may ask of the walk: a child written at the right indentation, a class model.py defines. */
export interface Walk {
  /** The child `key` of the module at `path`, as a Python expression. */
  child(m: Module, key: string): string;
  /** The module's dotted path in the model ('' for the root). */
  path: string;
  /** Python source model.py must define before the model (added once). */
  define(source: string): void;
}

type Translate<M extends Module> = (m: M, walk: Walk) => TorchCall;

const entry = <M extends Module>(cls: abstract new (...args: never[]) => M, t: Translate<M>): [LayerClass, Translate<Module>] =>
  tableEntry(cls, t as Translate<Module>);

/** The call `cls(args…, kwargs…)`, keyword arguments left out where they equal PyTorch's defaults. */
const torch = (cls: string, args: unknown[] = [], kwargs: [string, unknown, unknown][] = []): TorchCall => ({ cls, args: pyArgs(args, kwargs) });

const conv = (cls: string) => (m: Conv1d | Conv2d) => torch(cls, [m.inChannels, m.outChannels, m.kernelSize], [
  ['stride', m.stride, m.kernelSize.map(() => 1)], ['padding', m.padding, m.kernelSize.map(() => 0)],
  ['dilation', m.dilation, m.kernelSize.map(() => 1)], ['groups', m.groups, 1], ['bias', m.bias !== null, true],
]);

const batchNorm = (cls: string) => (m: BatchNorm1d | BatchNorm2d) => torch(cls, [m.numFeatures], [
  ['eps', m.eps, 1e-5], ['momentum', m.momentum, 0.1], ['affine', m.affine, true], ['track_running_stats', m.trackRunningStats, true],
]);

const TABLE: LayerTable<Translate<Module>> = new Map([
  entry(Sequential, (m, walk) => {
    const children = m.namedChildren();
    return { cls: 'nn.Sequential', args: children.map(([key, c]) => walk.child(c, key)), names: children.map(([key]) => join(walk.path, key)) };
  }),
  entry(Linear, (m) => torch('nn.Linear', [m.inFeatures, m.outFeatures], [['bias', m.bias !== null, true]])),
  entry(Conv1d, conv('nn.Conv1d')),
  entry(Conv2d, conv('nn.Conv2d')),
  entry(BatchNorm1d, batchNorm('nn.BatchNorm1d')),
  entry(BatchNorm2d, batchNorm('nn.BatchNorm2d')),
  entry(MaxPool2d, (m) => torch('nn.MaxPool2d', [m.kernelSize], [
    ['stride', m.stride, m.kernelSize], ['padding', m.padding, 0], ['dilation', m.dilation, 1], ['ceil_mode', m.ceilMode, false],
  ])),
  entry(AvgPool2d, (m) => torch('nn.AvgPool2d', [m.kernelSize], [
    ['stride', m.stride, m.kernelSize], ['padding', m.padding, 0], ['ceil_mode', m.ceilMode, false],
    ['count_include_pad', m.countIncludePad, true], ['divisor_override', m.divisorOverride ?? null, null],
  ])),
  entry(AdaptiveAvgPool2d, (m) => torch('nn.AdaptiveAvgPool2d', [m.outputSize])),
  entry(Flatten, (m) => torch('nn.Flatten', [], [['start_dim', m.startDim, 1]])),
  entry(Dropout, (m) => torch('nn.Dropout', [m.p])),
  entry(ReLU, () => torch('nn.ReLU')),
  entry(LeakyReLU, (m) => torch('nn.LeakyReLU', [], [['negative_slope', m.negativeSlope, 0.01]])),
  entry(Sigmoid, () => torch('nn.Sigmoid')),
  entry(Tanh, () => torch('nn.Tanh')),
  entry(GELU, () => torch('nn.GELU')), // wasmgrad's gelu is the exact (erf) form, PyTorch's default
  entry(Softplus, (m) => torch('nn.Softplus', [], [['beta', m.beta, 1]])),
  entry(Embedding, (m) => torch('nn.Embedding', [m.numEmbeddings, m.embeddingDim], [['padding_idx', m.paddingIdx, null]])),
  // bias=False needs PyTorch 2.1 or later; it is written only for a layer made without one.
  entry(LayerNorm, (m) => torch('nn.LayerNorm', [m.normalizedShape], [
    ['eps', m.eps, 1e-5], ['elementwise_affine', m.elementwiseAffine, true], ['bias', m.bias !== null || !m.elementwiseAffine, true],
  ])),
  entry(RMSNorm, (m, walk) => {
    walk.define(RMSNORM_PY);
    return torch('RMSNorm', [m.normalizedShape], [['eps', m.eps, null], ['elementwise_affine', m.elementwiseAffine, true]]);
  }),
  // As self-attention, like toOnnx: model.py's --input and train_ddp.py call the model with one tensor. With kdim or
  // vdim it cannot attend to its own input, so it stays nn.MultiheadAttention, called with query, key and value.
  entry(MultiheadAttention, (m, walk) => {
    const selfAttention = m.in_proj_weight !== null;
    if (selfAttention) walk.define(SELF_ATTENTION_PY);
    return torch(selfAttention ? 'SelfAttention' : 'nn.MultiheadAttention', [m.embedDim, m.numHeads], [
      ['bias', m.in_proj_bias !== null, true], ['kdim', m.kdim, m.embedDim], ['vdim', m.vdim, m.embedDim], ['batch_first', m.batchFirst, false],
    ]);
  }),
  entry(TransformerEncoderLayer, (m) => torch('nn.TransformerEncoderLayer', [m.dModel, m.nhead], [
    ['dim_feedforward', m.linear1.outFeatures, 2048], ['dropout', m.dropout.p, 0.1], ['activation', m.activation, 'relu'],
    ['layer_norm_eps', m.norm1.eps, 1e-5], ['batch_first', m.self_attn.batchFirst, false], ['norm_first', m.normFirst, false],
    ['bias', m.linear1.bias !== null, true],
  ])),
  entry(GPT, (m, walk) => {
    walk.define(GPT_PY);
    const c = m.config;
    return { cls: 'GPT', args: [`vocab_size=${c.vocabSize}`, `context=${c.context}`, `layers=${c.layers}`, `heads=${c.heads}`,
      `width=${c.width}`, `dropout=${py(c.dropout)}`] };
  }),
]);

/** A call as Python source at `indent`: on one line, or (a Sequential's) one argument a line with its name. */
export function render(c: TorchCall, indent: string): string {
  if (!c.names) return `${c.cls}(${c.args.join(', ')})`;
  const names = c.names;
  return `${c.cls}(\n${c.args.map((a, i) => `${indent}    ${a},  # ${names[i]}`).join('\n')}\n${indent})`;
}

/**
 * The root module as a constructor call, with the Python definitions it needs (in the order first needed); `api`
 * names the caller in the error for a layer the table lacks.
 */
export function torchModel(model: Module, api: string): { call: TorchCall; definitions: string[] } {
  const definitions = new Set<string>();
  const translate = (m: Module, path: string, indent: string): TorchCall => lookup(TABLE, m, path, api, 'PyTorch')(m, {
    path,
    child: (c, key) => render(translate(c, join(path, key), `${indent}    `), `${indent}    `),
    define: (source) => definitions.add(source),
  });
  // The root's arguments are written inside `super().__init__(` in model.py, 8 spaces in.
  return { call: translate(model, '', '        '), definitions: [...definitions] };
}
