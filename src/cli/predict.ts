// `wasmgrad predict`: loads a model written by `train` (its architecture and input preparation travel in the
// safetensors metadata) and runs it on the embedded test digits or on a CSV, printing predictions and, where the
// truth is known, accuracy (classification) or mean squared error (regression).
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { noGrad, tidy } from '../autograd/scope.js';
import { fromValues } from '../creation.js';
import { classLabel, eachRecord, featureValue } from '../data/csv.js';
import { loadDigits, toFloat } from '../data/digits.js';
import { fromSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import { argMax } from '../ops/max.js';
import { softmax } from '../ops/softmax.js';
import { Generator } from '../random.js';
import { describe, isPlainObject } from '../options.js';
import type { GptConfig } from '../train/gpt.js';
import { ACTIVATION_NAMES, buildModel, cnnFeatures, inputShapeOf, type ModelDescription } from '../train/model.js';
import type { DataInfo } from '../train/trainer.js';
import { initBackend, positiveInt } from './common.js';

export interface Prediction { row: number; prediction: string | number; confidence?: number; truth?: string | number }
export interface PredictResult { n: number; accuracy: number | null; mse: number | null; predictions: Prediction[] }

export interface LoadedModel {
  model: Module;
  description: ModelDescription;
  info: DataInfo;
  /** One input's shape. */
  inputShape: number[];
}

export async function loadModel(path: string): Promise<LoadedModel> {
  const bytes = new Uint8Array(await readFile(path).catch((e: Error) => {
    throw new Error(`--model: cannot read ${path}: ${e.message}`);
  }));
  const file = fromSafetensors(bytes, { path });
  const meta = file.metadata.wasmgrad_model;
  if (!meta) throw new Error(`--model: ${path} has no wasmgrad model description (was it written by wasmgrad train?)`);
  const { description, data } = readDescription(meta, path);
  const model = buildModel(description, new Generator(0), new Generator(0));
  try {
    model.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model: model.eval(), description, info: data, inputShape: inputShapeOf(description) };
}

/**
 * The model description train saved with the weights, checked: a damaged or hand-made one is a clear error, never
 * an engine's TypeError from building a model out of it.
 */
function readDescription(text: string, path: string): { description: ModelDescription; data: DataInfo } {
  const bad = (what: string): never => {
    throw new Error(`--model: ${path} has an invalid model description: ${what}`);
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
    const s = data.standardizer as { mean?: unknown; std?: unknown } | undefined;
    if (!strings(data.featureNames) || (data.featureNames as string[]).length !== d) bad('feature names');
    if (!isPlainObject(s) || !numbers(s.mean, d) || !numbers(s.std, d)) bad('the standardizer');
    if (data.target !== undefined && typeof data.target !== 'string') bad(`target ${describe(data.target)}`);
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

/**
 * Features (standardised as in training) and, when the CSV has the target column, the truth. The file is streamed
 * and its cells checked as train checks them (decimal numbers within float32's range).
 */
async function csvInputs(path: string, info: DataInfo): Promise<{ x: Float32Array; n: number; truth: (string | number)[] | null }> {
  const names = info.featureNames!;
  const { mean, std } = info.standardizer!;
  let header: string[] | null = null;
  let cols: number[] = [];
  let t = -1;
  const x: number[] = [];
  const truth: (string | number)[] = [];
  await eachRecord(path, (record, line) => {
    if (!header) {
      header = record;
      cols = names.map((f) => {
        const c = record.indexOf(f);
        if (c < 0) throw new Error(`CSV: feature column '${f}' (used in training) is missing; the columns are: ${record.join(', ')}`);
        if (record.lastIndexOf(f) !== c) throw new Error(`CSV: the column name '${f}' appears more than once; give each column its own name`);
        return c;
      });
      t = info.target ? record.indexOf(info.target) : -1;
      return;
    }
    cols.forEach((c, j) => x.push((featureValue(record[c]!, line, names[j]!) - mean[j]!) / std[j]!));
    if (t >= 0) truth.push(info.task === 'regression' ? featureValue(record[t]!, line, info.target!) : classLabel(record[t]!));
  });
  const n = x.length / names.length;
  if (n === 0) throw new Error('CSV: needs a header row and at least one data row');
  return { x: Float32Array.from(x), n, truth: t < 0 ? null : truth };
}

/**
 * The model's predictions for n rows of x, a batch of 500 rows at a time: a CNN's activations for all 2,000 test
 * digits at once would take half a gigabyte.
 */
export function predict({ model, info, inputShape }: LoadedModel, x: Float32Array, n: number, batchSize = 500): Prediction[] {
  const size = x.length / n;
  const predictions: Prediction[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    tidy(() => noGrad(() => {
      const out = model(fromValues(x.subarray(start * size, (start + rows) * size), [rows, ...inputShape]));
      if (info.task === 'regression') {
        out.data().forEach((v, i) => predictions.push({ row: start + i, prediction: v }));
        return;
      }
      const probs = softmax(out, -1).data();
      argMax(out, -1).data().forEach((k, i) => predictions.push({ row: start + i, prediction: info.classes[k]!, confidence: probs[i * info.outputDim + k]! }));
    }));
  }
  return predictions;
}

export async function runPredict(opts: { model: string; data?: string; limit: number; backend: string; json?: boolean }, log = console.log): Promise<PredictResult> {
  await initBackend(opts.backend);
  const loaded = await loadModel(opts.model);
  const { model, info } = loaded;
  try {
    if (info.kind === 'text') throw new Error(`--model: ${opts.model} is a character-level GPT; it writes text: wasmgrad sample --model ${opts.model}`);
    let x: Float32Array, n: number, truth: (string | number)[] | null;
    if (opts.data) {
      if (info.kind !== 'csv') throw new Error('--data: this model was trained on the embedded digits, not on a CSV');
      ({ x, n, truth } = await csvInputs(opts.data, info).catch((e: Error & { syscall?: string }) => {
        throw e.syscall ? new Error(`--data: cannot read ${opts.data}: ${e.message}`) : e;
      }));
    } else {
      if (info.kind !== 'digits') throw new Error('this model was trained on a CSV: pass the rows to predict with --data <file.csv>');
      const { test } = await loadDigits();
      x = toFloat(test.images);
      n = test.n;
      truth = Array.from(test.labels, String);
    }
    const predictions = predict(loaded, x, n);
    if (truth) predictions.forEach((p, i) => (p.truth = truth![i]));
    const accuracy = truth && info.task === 'classification'
      ? predictions.filter((p) => p.prediction === String(p.truth)).length / n : null;
    const mse = truth && info.task === 'regression'
      ? predictions.reduce((a, p) => a + ((p.prediction as number) - (p.truth as number)) ** 2, 0) / n : null;
    const result = { n, accuracy, mse, predictions };
    if (opts.json) log(JSON.stringify({ ...result, predictions: predictions.slice(0, opts.limit) }));
    else {
      for (const p of predictions.slice(0, opts.limit)) {
        log(`row ${p.row}: ${p.prediction}${p.confidence === undefined ? '' : ` (${(100 * p.confidence).toFixed(1)}%)`}` +
          `${p.truth === undefined ? '' : `  truth ${p.truth}`}`);
      }
      if (n > opts.limit) log(`… ${n - opts.limit} more rows (--limit)`);
      if (accuracy !== null) log(`accuracy ${(100 * accuracy).toFixed(2)}% on ${n} rows`);
      if (mse !== null) log(`mean squared error ${mse.toPrecision(4)} on ${n} rows`);
    }
    return result;
  } finally {
    model.dispose();
  }
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('run a model saved by `train` on the embedded test digits or on a CSV')
    .requiredOption('--model <file>', 'model.safetensors written by train')
    .option('--data <file.csv>', 'rows to predict (for a model trained on a CSV)')
    .option('--limit <n>', 'how many predictions to print', positiveInt('--limit'), 10)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'ref']).default('wasm'))
    .option('--json', 'print one JSON object and nothing else')
    .action(async (opts: { model: string; data?: string; limit: number; backend: string; json?: boolean }) => {
      await runPredict(opts);
    });
}
