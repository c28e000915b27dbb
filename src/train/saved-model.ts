// Models written by `wasmgrad train`: model.safetensors holds the weights and, in its metadata, the architecture
// and everything learnt about the data (classes, a CSV's column encoding and scaling, a text's vocabulary). One
// reader serves `predict`, `sample` and the library's loadModel; a damaged or hand-made description is a clear
// error, never an engine TypeError from building a model out of it.
import { fromSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import { describe, isPlainObject } from '../options.js';
import { nodeFs } from '../platform.js';
import { Generator } from '../random.js';
import { TableEncoder, type TableEncoderJSON } from '../data/preprocess.js';
import type { GptConfig } from './gpt.js';
import { ACTIVATION_NAMES, buildModel, cnnFeatures, inputShapeOf, type ModelDescription } from './model.js';
import type { DataInfo } from './trainer.js';

/** What `wasmgrad train` saved with a model. */
export interface ModelMetadata {
  /** The architecture: `{ mlp }`, `{ cnn }` or `{ gpt }` with its sizes. */
  description: ModelDescription;
  /** The data it was trained on: its kind, task, classes, and for a CSV its columns' encoding (`features`, `targetScaler`). */
  data: DataInfo;
  /** One input's shape: [features], [channels, height, width] or [context]. */
  inputShape: number[];
}

/** A model in eval mode and its metadata. */
export interface LoadedModel {
  /** The model, in eval mode: call it on a batch of inputs of `metadata.inputShape`. */
  module: Module;
  /** What the trainer saved with it. */
  metadata: ModelMetadata;
}

/**
 * Loads a model written by `wasmgrad train` (an MLP on the digits or a CSV, a CNN, a GPT), in eval mode, with what
 * the trainer saved about it. Node only.
 *
 * @param path - a run directory (its model.safetensors is read) or a .safetensors file.
 * @example
 * ```ts
 * const { module, metadata } = await loadModel('runs/digits');
 * const logits = module(x); // x: [n, 784]
 * console.log(metadata.data.classes);
 * ```
 */
export async function loadModel(path: string): Promise<LoadedModel> {
  if (typeof path !== 'string') throw new Error(`loadModel: expected a run directory or a .safetensors file, got ${describe(path)}`);
  const fs = await nodeFs();
  const isDir = await fs.stat(path).then((s) => s.isDirectory(), () => false);
  return readModel(isDir ? `${path.replace(/[\\/]+$/, '')}/model.safetensors` : path, 'loadModel');
}

/** Reads a model file; `api` begins each message ('--model' for the CLI, 'loadModel' for the library). */
export async function readModel(path: string, api: string): Promise<LoadedModel> {
  const fs = await nodeFs();
  const bytes = new Uint8Array(await fs.readFile(path).catch((e: Error) => {
    throw new Error(`${api}: cannot read ${path}: ${e.message}`);
  }));
  const file = fromSafetensors(bytes, { path });
  const meta = file.metadata.wasmgrad_model;
  if (!meta) throw new Error(`${api}: ${path} has no wasmgrad model description (was it written by wasmgrad train?)`);
  const { description, data } = readDescription(meta, path, api);
  const model = buildModel(description, new Generator(0), new Generator(0));
  try {
    model.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { module: model.eval(), metadata: { description, data, inputShape: inputShapeOf(description) } };
}

/** A CSV model's column encoding: saved as `features`, or by models saved before it as plain standardised numbers. */
export function tableEncoderOf(info: DataInfo): TableEncoder {
  if (info.features) return TableEncoder.fromJSON(info.features);
  const { mean, std } = info.standardizer!;
  return TableEncoder.fromJSON({
    numeric: info.featureNames!, boolean: [], categorical: [], numericImputer: { strategy: 'median', statistics: mean },
    scaler: { mean, scale: std }, booleanImputer: null, categoricalImputer: null, encoder: null,
  });
}

/**
 * The model description train saved with the weights, checked: a damaged or hand-made one is a clear error, never
 * an engine's TypeError from building a model out of it.
 */
function readDescription(text: string, path: string, api: string): { description: ModelDescription; data: DataInfo } {
  const bad = (what: string): never => {
    throw new Error(`${api}: ${path} has an invalid model description: ${what}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    bad('it is not JSON');
  }
  const { mlp, cnn, gpt, data } = (isPlainObject(parsed) ? parsed : bad('it is not an object')) as Record<string, unknown>;
  // The architecture: an MLP, a CNN or a GPT, described under its name.
  const nets = [mlp, cnn, gpt].filter((v) => v !== undefined);
  const net = nets[0];
  if (nets.length !== 1 || !isPlainObject(net) || !isPlainObject(data)) {
    return bad('it needs the object data and one of the objects mlp, cnn and gpt');
  }
  const width = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
  if (net === gpt) return { description: { gpt: gptDescription(net, data, bad) }, data: data as unknown as DataInfo };
  const widths = (v: unknown): v is number[] => Array.isArray(v) && v.every(width);
  const numbers = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => Number.isFinite(x));
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  // What the two share: the fully connected layers (the CNN's head).
  if (!width(net.outputDim) || !widths(net.hidden)) bad('layer widths');
  if (!(ACTIVATION_NAMES as readonly unknown[]).includes(net.activation)) bad(`activation ${describe(net.activation)}`);
  if (!(typeof net.dropout === 'number' && net.dropout >= 0 && net.dropout < 1)) bad(`dropout ${describe(net.dropout)}`);
  const { inputShape, channels, kernelSize } = net;
  if (net === cnn) {
    if (!widths(inputShape) || inputShape.length !== 3) return bad(`input shape ${describe(inputShape)} (expected [channels, height, width])`);
    if (!widths(channels) || !width(kernelSize)) return bad('convolution channels or kernel size');
    const f = cnnFeatures({ inputShape, channels });
    if (f.height < 1 || f.width < 1) bad(`${channels.length} poolings leave nothing of a ${inputShape.join('×')} image`);
    if (data.kind !== 'digits') bad('a CNN is trained on the embedded digits');
  } else if (!width(net.inputDim)) bad('layer widths');
  const d = net === cnn ? (inputShape as number[]).reduce((a, b) => a * b, 1) : (net.inputDim as number);
  if (data.inputDim !== d || data.outputDim !== net.outputDim) bad('the data does not match the layer widths');
  if (data.kind !== 'digits' && data.kind !== 'csv') bad(`kind ${describe(data.kind)}`);
  if (data.task !== 'classification' && data.task !== 'regression') bad(`task ${describe(data.task)}`);
  if (!strings(data.classes) || (data.task === 'classification' && (data.classes as string[]).length !== net.outputDim)) bad('class names');
  if (data.kind === 'csv') {
    if (!strings(data.featureNames) || (data.featureNames as string[]).length !== d) bad('feature names');
    if (data.target !== undefined && typeof data.target !== 'string') bad(`target ${describe(data.target)}`);
    const kind = data.targetKind;
    if (kind !== undefined && !(kind === 'number' || kind === 'string' || (kind === 'boolean' && (data.classes as string[]).length === 2))) {
      bad(`target kind ${describe(kind)}`);
    }
    if (data.features !== undefined) {
      let encoder: TableEncoder;
      try {
        encoder = TableEncoder.fromJSON(data.features as TableEncoderJSON);
      } catch (e) {
        return bad(`the column encoding: ${(e as Error).message.replace(/^TableEncoder: invalid JSON: /, '')}`);
      }
      if (encoder.featureNames.length !== d) bad('the column encoding does not match the layer widths');
    } else {
      const s = data.standardizer as { mean?: unknown; std?: unknown } | undefined;
      if (!isPlainObject(s) || !numbers(s.mean, d) || !numbers(s.std, d)) bad('the standardizer');
    }
    const t = data.targetScaler as { mean?: unknown; scale?: unknown } | undefined;
    if (data.task === 'regression' && t !== undefined && !(isPlainObject(t) && Number.isFinite(t.mean) && (t.scale as number) > 0)) {
      bad('the target scaler');
    }
  }
  return { description: (net === mlp ? { mlp } : { cnn }) as ModelDescription, data: data as unknown as DataInfo };
}

/** A GPT's description, checked: its sizes, and a text's vocabulary (distinct characters) as the data's classes. */
function gptDescription(net: Record<string, unknown>, data: Record<string, unknown>, bad: (what: string) => never): GptConfig {
  const { vocabSize, context, layers, heads, width, dropout } = net;
  const size = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
  if (![vocabSize, context, layers, heads, width].every(size)) bad('the sizes of the GPT (vocabSize, context, layers, heads, width)');
  if ((width as number) % (heads as number) !== 0) bad(`${describe(heads)} heads do not divide width ${describe(width)}`);
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) bad(`dropout ${describe(dropout)}`);
  const vocab = data.classes;
  if (data.kind !== 'text') bad('a GPT is trained on text');
  if (!Array.isArray(vocab) || vocab.length !== vocabSize || !vocab.every((c) => typeof c === 'string' && [...c].length === 1) ||
    new Set(vocab).size !== vocab.length) {
    bad('the vocabulary (data.classes) is not vocabSize distinct characters');
  }
  if (data.outputDim !== vocabSize || data.inputDim !== context || data.task !== 'classification') bad('the data does not match the GPT');
  return { vocabSize, context, layers, heads, width, dropout } as GptConfig;
}

