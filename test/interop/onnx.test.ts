// toOnnx and `wasmgrad export --onnx`, checked by ONNX Runtime (onnxruntime-node): every exported model loads and
// reproduces wasmgrad's eval-mode outputs at two batch sizes (the batch dim is dynamic), and the model file keeps
// the ONNX checker's rules that matter (opset import and IR version, initializers named by the state dict and all
// used, typed and shaped graph input and output, nodes in topological order with one producer per value).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType, type TypeProto_Tensor, type ValueInfoProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { nn, noGrad, tensor, tidy } from '../../src/index.js';
import { toOnnx, type ToOnnxOptions } from '../../src/interop/onnx/index.js';
import { loadModel } from '../../src/train/saved-model.js';
import type { Module } from '../../src/nn/module.js';
import { Generator } from '../../src/random.js';
import { buildGpt } from '../../src/train/gpt.js';
import { buildCnn, buildMlp } from '../../src/train/model.js';
import { expectNoLeaks, useBackend } from '../helpers/api.js';
import { randomized } from '../helpers/randomized.js';

beforeAll(async () => {
  await useBackend('wasm');
});

interface Case {
  name: string;
  make: () => Module;
  /** One sample's shape (passed as inputShape unless `infer`). */
  sample: number[];
  /** Let toOnnx infer the input shape. */
  infer?: boolean;
  /** Token ids below this bound, instead of float inputs. */
  vocab?: number;
  /** Where the batch dim goes (1 for the sequence-first attention layers). */
  batchAxis?: number;
  /** A MultiheadAttention, called as self-attention: m(x, x, x). */
  selfAttention?: boolean;
  options?: ToOnnxOptions;
}

const g = () => new Generator(7);
const mlp = (act: Module) => new nn.Sequential(new nn.Linear(6, 8, { generator: g() }), act, new nn.Linear(8, 3, { generator: g() }));

const CASES: Case[] = [
  { name: 'MLP with dropout (inferred shape)', sample: [6], infer: true,
    make: () => new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(16, 4)) },
  { name: 'Linear without bias', sample: [5], make: () => new nn.Linear(5, 3, { bias: false }) },
  { name: 'LeakyReLU(0.2)', sample: [6], make: () => mlp(new nn.LeakyReLU(0.2)) },
  { name: 'Sigmoid', sample: [6], make: () => mlp(new nn.Sigmoid()) },
  { name: 'Tanh', sample: [6], make: () => mlp(new nn.Tanh()) },
  { name: 'GELU', sample: [6], make: () => mlp(new nn.GELU()) },
  { name: 'Softplus', sample: [6], make: () => mlp(new nn.Softplus()) },
  { name: 'Softplus(beta 2)', sample: [6], make: () => mlp(new nn.Softplus(2)) },
  { name: 'Flatten', sample: [3, 4], make: () => new nn.Sequential(new nn.Flatten(), new nn.Linear(12, 4)) },
  { name: 'Flatten(2) and a Linear over a 3-D input', sample: [3, 4, 5],
    make: () => new nn.Sequential(new nn.Flatten(2), new nn.Linear(20, 2), new nn.Tanh()) },
  { name: 'Conv1d stride, padding, dilation, groups', sample: [3, 17],
    make: () => new nn.Sequential(new nn.Conv1d(3, 6, 3, { stride: 2, padding: 1, dilation: 2, groups: 3 }), new nn.ReLU()) },
  { name: 'Conv2d [3, 2] kernel, groups, no bias', sample: [4, 9, 7],
    make: () => new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 0], groups: 2, bias: false }) },
  { name: "Conv2d padding 'same' with dilation", sample: [2, 8, 6], make: () => new nn.Conv2d(2, 4, [3, 4], { padding: 'same', dilation: 2 }) },
  { name: 'MaxPool2d padding, ceilMode', sample: [2, 9, 8], make: () => new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }) },
  // ceilMode's window that would start in the right padding is dropped (PyTorch's rule): 5 + 2·1 → 3, not 4.
  { name: 'MaxPool2d ceilMode, last window dropped', sample: [1, 5, 5], make: () => new nn.MaxPool2d(2, { padding: 1, ceilMode: true }) },
  { name: 'AvgPool2d ceilMode, last window dropped', sample: [1, 5, 5], make: () => new nn.AvgPool2d(2, { padding: 1, ceilMode: true }) },
  { name: 'AvgPool2d ceilMode, a last window over the edge', sample: [1, 8, 8], make: () => new nn.AvgPool2d(3, { stride: 2, ceilMode: true }) },
  { name: 'MaxPool2d dilation', sample: [2, 9, 8], make: () => new nn.MaxPool2d([2, 3], { dilation: 2, stride: 1 }) },
  { name: 'AvgPool2d countIncludePad', sample: [2, 7, 8], make: () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }) },
  { name: 'AvgPool2d countIncludePad false, ceilMode', sample: [2, 8, 7],
    make: () => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }) },
  { name: 'AvgPool2d divisorOverride', sample: [2, 6, 6], make: () => new nn.AvgPool2d(2, { padding: 1, divisorOverride: 3 }) },
  { name: 'AdaptiveAvgPool2d(1) (global)', sample: [3, 5, 7], make: () => new nn.AdaptiveAvgPool2d(1) },
  { name: 'AdaptiveAvgPool2d([2, null])', sample: [3, 8, 6], make: () => new nn.AdaptiveAvgPool2d([2, null]) },
  { name: 'BatchNorm1d [N, C]', sample: [5], make: () => new nn.BatchNorm1d(5) },
  { name: 'BatchNorm1d [N, C, L]', sample: [5, 7], make: () => new nn.BatchNorm1d(5, { eps: 1e-3 }) },
  { name: 'BatchNorm2d', sample: [3, 4, 4], make: () => new nn.BatchNorm2d(3) },
  { name: 'BatchNorm2d without affine', sample: [3, 4, 4], make: () => new nn.BatchNorm2d(3, { affine: false }) },
  { name: 'LayerNorm over two dims', sample: [3, 4, 5], make: () => new nn.LayerNorm([4, 5]) },
  { name: 'LayerNorm without bias', sample: [8], make: () => new nn.LayerNorm(8, { bias: false, eps: 1e-3 }) },
  { name: 'LayerNorm without affine', sample: [8], make: () => new nn.LayerNorm(8, { elementwiseAffine: false }) },
  { name: 'RMSNorm (eps: machine epsilon)', sample: [3, 8], make: () => new nn.RMSNorm(8) },
  { name: 'RMSNorm over two dims, eps, no affine', sample: [2, 8], make: () => new nn.RMSNorm([2, 8], { eps: 1e-3, elementwiseAffine: false }) },
  { name: 'Embedding', sample: [5], vocab: 10, make: () => new nn.Embedding(10, 6) },
  { name: 'Embedding → LayerNorm → Linear', sample: [4], vocab: 7,
    make: () => new nn.Sequential(new nn.Embedding(7, 8), new nn.LayerNorm(8), new nn.Linear(8, 3)) },
  { name: 'MultiheadAttention batchFirst', sample: [5, 8], selfAttention: true, make: () => new nn.MultiheadAttention(8, 2, { batchFirst: true }) },
  { name: 'MultiheadAttention sequence-first, no bias', sample: [5, 8], batchAxis: 1, selfAttention: true,
    make: () => new nn.MultiheadAttention(8, 4, { bias: false }) },
  { name: 'TransformerEncoderLayer post-norm relu', sample: [5, 8],
    make: () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true }) },
  { name: 'TransformerEncoderLayer pre-norm gelu, sequence-first', sample: [4, 8], batchAxis: 1,
    make: () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, activation: 'gelu' }) },
  { name: 'CLI MLP', sample: [10], infer: true,
    make: () => buildMlp({ inputDim: 10, hidden: [16, 8], outputDim: 3, activation: 'gelu', dropout: 0.2 }, g(), g()) },
  { name: 'CLI CNN', sample: [1, 12, 12],
    make: () => buildCnn({ inputShape: [1, 12, 12], channels: [4, 6], kernelSize: 3, hidden: [8], outputDim: 3, activation: 'relu', dropout: 0.1 }, g(), g()) },
  { name: 'CLI GPT (inferred context)', sample: [6], infer: true, vocab: 11,
    make: () => buildGpt({ vocabSize: 11, context: 6, layers: 2, heads: 2, width: 8, dropout: 0.1 }, g(), g()) },
  { name: 'CLI GPT, shorter input than the context', sample: [4], vocab: 11,
    make: () => buildGpt({ vocabSize: 11, context: 6, layers: 1, heads: 2, width: 8, dropout: 0 }, g(), g()) },
];

/** The IR version ONNX's versioning table gives each opset the exporter writes. */
const IR_FOR_OPSET: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/**
 * The checker's rules that matter, over the decoded ModelProto: the default-domain opset and its IR version; one
 * input and one output, typed, with a shape whose dims are sizes or the named batch; initializers named (by the
 * state dict, with its shapes), each once, each used; every node input defined before the node (topological
 * order) and every value produced once.
 */
function checkModel(bytes: Uint8Array, model: Module, opset: number, inputType: number): void {
  const m = fromBinary(ModelProtoSchema, bytes);
  expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', opset]]);
  expect(Number(m.irVersion)).toBe(IR_FOR_OPSET[opset]);
  const graph = m.graph!;
  /** The tensor type of a graph input or output (the only kind the exporter writes). */
  const tensorType = (v: ValueInfoProto) => {
    expect(v.type?.value.case).toBe('tensorType');
    return v.type!.value.value as TypeProto_Tensor;
  };
  const dimsOf = (v: ValueInfoProto) =>
    tensorType(v).shape!.dim.map((d) => (d.value.case === 'dimParam' ? d.value.value : Number(d.value.value)));
  expect(graph.input.map((v) => v.name)).toEqual(['input']);
  expect(graph.output.map((v) => v.name)).toEqual(['output']);
  expect(tensorType(graph.input[0]!).elemType).toBe(inputType);
  expect(tensorType(graph.output[0]!).elemType).toBe(TensorProto_DataType.FLOAT);
  for (const v of [graph.input[0]!, graph.output[0]!]) {
    const dims = dimsOf(v);
    expect(dims.filter((d) => d === 'batch')).toHaveLength(1);
    expect(dims.every((d) => d === 'batch' || (Number.isInteger(d) && (d as number) > 0))).toBe(true);
  }
  const state = model.stateDict();
  const initializers = graph.initializer;
  const names = initializers.map((t) => t.name);
  expect(new Set(names).size).toBe(names.length);
  for (const t of initializers) {
    expect(state[t.name], `initializer '${t.name}' is not a state-dict name`).toBeDefined();
    expect(t.dims.map(Number)).toEqual(state[t.name]!.shape);
    expect(t.dataType).toBe(TensorProto_DataType.FLOAT);
    expect(t.rawData.length).toBe(4 * state[t.name]!.size);
  }
  const defined = new Set(['input', ...names]);
  const used = new Set<string>();
  const nodeNames = new Set<string>();
  for (const node of graph.node) {
    expect(node.domain).toBe('');
    for (const input of node.input) {
      expect(defined.has(input), `${node.name} (${node.opType}) reads '${input}' before it is made`).toBe(true);
      used.add(input);
    }
    for (const output of node.output) {
      expect(defined.has(output), `'${output}' is produced twice`).toBe(false);
      defined.add(output);
    }
    expect(nodeNames.has(node.name)).toBe(false);
    nodeNames.add(node.name);
  }
  expect(defined.has('output')).toBe(true);
  expect(names.filter((n) => !used.has(n))).toEqual([]);
}

/** wasmgrad's output for `values` of `shape` in eval mode, and its shape. */
function wasmgradRun(model: Module, values: number[], shape: number[], c: Pick<Case, 'vocab' | 'selfAttention'>):
  { data: Float32Array; shape: number[] } {
  return tidy(() => noGrad(() => {
    const x = tensor(values, { shape, dtype: c.vocab ? 'int32' : 'float32' });
    const y = c.selfAttention ? model(x, x, x) : model(x);
    return { data: Float32Array.from(y.data() as Float32Array), shape: [...y.shape] };
  }));
}

/** Float32 agreement: the two compute the same function in a different order of roundings. */
function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const scale = want.reduce((a, x) => Math.max(a, Math.abs(x)), 1);
  const worst = got.reduce((a, x, i) => Math.max(a, Math.abs(x - want[i]!)), 0);
  expect(worst / scale).toBeLessThan(2e-6);
}

/** Runs `bytes` in ONNX Runtime at two batch sizes and compares with the module. */
async function expectSameOutputs(bytes: Uint8Array, model: Module, c: Pick<Case, 'sample' | 'vocab' | 'batchAxis' | 'selfAttention'>): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  const draws = new Generator(3);
  try {
    for (const batch of [1, 3]) {
      const shape = [...c.sample];
      shape.splice(c.batchAxis ?? 0, 0, batch);
      const n = shape.reduce((a, b) => a * b, 1);
      const values = c.vocab ? Array.from(draws.uniform(n, 0, c.vocab), Math.floor) : Array.from(draws.normal(n));
      const input = c.vocab ? new ort.Tensor('int64', BigInt64Array.from(values, BigInt), shape)
        : new ort.Tensor('float32', Float32Array.from(values), shape);
      const { output } = await session.run({ input });
      const want = wasmgradRun(model, values, shape, c);
      expect(output!.dims).toEqual(want.shape);
      expectClose(output!.data as Float32Array, want.data);
    }
  } finally {
    await session.release();
  }
}

describe('toOnnx: ONNX Runtime reproduces wasmgrad in eval mode, at two batch sizes', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const model = randomized(c.make());
    try {
      const bytes = expectNoLeaks(() => toOnnx(model, { ...(c.infer ? {} : { inputShape: c.sample }), ...c.options }));
      checkModel(bytes, model, 17, c.vocab ? TensorProto_DataType.INT64 : TensorProto_DataType.FLOAT);
      await expectSameOutputs(bytes, model, c);
    } finally {
      model.dispose();
    }
  });

  it('writes every opset from 17 to 21 (ReduceMean takes its axes as an input from 18 on)', async () => {
    const model = randomized(new nn.Sequential(new nn.Embedding(9, 8), new nn.RMSNorm(8),
      new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, activation: 'gelu' }), new nn.Linear(8, 9)));
    try {
      for (const opset of [17, 18, 19, 20, 21]) {
        const bytes = toOnnx(model, { inputShape: [5], opset });
        checkModel(bytes, model, opset, TensorProto_DataType.INT64);
        await expectSameOutputs(bytes, model, { sample: [5], vocab: 9 });
      }
    } finally {
      model.dispose();
    }
  });

  it('leaves the module as it was: its mode and its outputs', () => {
    const model = randomized(new nn.Sequential(new nn.Linear(4, 6), new nn.BatchNorm1d(6), new nn.Dropout(0.5), new nn.Linear(6, 2)));
    try {
      model.train();
      const before = model.stateDict()['1.running_mean']!.data();
      toOnnx(model);
      expect(model.training && model.namedChildren().every(([, m]) => m.training)).toBe(true);
      expect(model.stateDict()['1.running_mean']!.data()).toEqual(before);
    } finally {
      model.dispose();
    }
  });
});

describe('wasmgrad export --onnx', () => {
  const CLI = join(import.meta.dirname, '../../dist/cli.js');
  const cli = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });

  const dir = mkdtempSync(join(tmpdir(), 'wg-onnx-'));
  const words = join(dir, 'words.txt');
  writeFileSync(words, `${Array.from({ length: 20 }, (_, i) => ['ab', 'ba', 'abc', 'cab'][i % 4]).join('\n')}\n`);
  const GPT_FLAGS = ['--data', words, '--model', 'gpt', '--context', '8', '--layers', '1', '--heads', '2', '--width', '8'];

  it.each([
    ['an MLP on the digits', ['--hidden', '8'], '784'],
    ['a character GPT', GPT_FLAGS, '8'],
  ] as const)('writes %s saved by train; ONNX Runtime gives its outputs', async (name, flags, sample) => {
    const run = join(dir, name.replace(/\W+/g, '-'));
    const trained = await cli(['train', '--epochs', '1', ...flags, '--out', run]);
    expect([trained.code, trained.stderr]).toEqual([0, '']);
    const file = join(run, 'model.onnx');
    const exported = await cli(['export', '--model', run, '--onnx', file]);
    expect([exported.code, exported.stderr]).toEqual([0, '']);
    expect(exported.stdout).toBe(`wrote ${file} (ONNX, input [batch, ${sample}], ${statSync(file).size.toLocaleString('en-US')} bytes)\n`);
    const { module: model, metadata: { inputShape, description } } = await loadModel(join(run, 'model.safetensors'));
    try {
      const bytes = new Uint8Array(readFileSync(file));
      const vocab = 'gpt' in description ? description.gpt.vocabSize : undefined;
      checkModel(bytes, model, 17, vocab ? TensorProto_DataType.INT64 : TensorProto_DataType.FLOAT);
      await expectSameOutputs(bytes, model, { sample: inputShape, ...(vocab ? { vocab } : {}) });
    } finally {
      model.dispose();
    }
  }, 180_000);
});
