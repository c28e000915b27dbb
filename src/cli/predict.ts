// `wasmgrad predict`: loads a model written by `train` (its architecture and input preparation travel in the
// safetensors metadata) and runs it on the embedded test digits or on a CSV, printing predictions and, where the
// truth is known, accuracy (classification) or mean squared error (regression).
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { noGrad, tidy } from '../autograd/scope.js';
import { fromValues } from '../creation.js';
import { classLabel } from '../data/csv.js';
import { loadDigits, toFloat } from '../data/digits.js';
import { fromSafetensors } from '../io/safetensors.js';
import type { Sequential } from '../nn/sequential.js';
import { argMax } from '../ops/max.js';
import { softmax } from '../ops/softmax.js';
import { Generator } from '../random.js';
import { buildMlp, type MlpConfig } from '../train/model.js';
import type { DataInfo } from '../train/trainer.js';
import { initBackend, positiveInt } from './common.js';

export interface Prediction { row: number; prediction: string | number; confidence?: number; truth?: string | number }
export interface PredictResult { n: number; accuracy: number | null; mse: number | null; predictions: Prediction[] }

export async function loadModel(path: string): Promise<{ model: Sequential; info: DataInfo }> {
  const bytes = new Uint8Array(await readFile(path).catch((e: Error) => {
    throw new Error(`--model: cannot read ${path}: ${e.message}`);
  }));
  const file = fromSafetensors(bytes, { path });
  const meta = file.metadata.wasmgrad_model;
  if (!meta) throw new Error(`--model: ${path} has no wasmgrad model description (was it written by wasmgrad train?)`);
  const { mlp, data } = JSON.parse(meta) as { mlp: MlpConfig; data: DataInfo };
  const model = buildMlp(mlp, new Generator(0), new Generator(0));
  try {
    model.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model: model.eval(), info: data };
}

/** Features (standardised as in training) and, when the CSV has the target column, the truth. */
function csvInputs(text: string, info: DataInfo): { x: Float32Array; n: number; truth: (string | number)[] | null } {
  const records = parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  if (records.length < 2) throw new Error('CSV: needs a header row and at least one data row');
  const header = records[0]!;
  const names = info.featureNames ?? [];
  const cols = names.map((f) => {
    const c = header.indexOf(f);
    if (c < 0) throw new Error(`CSV: feature column '${f}' (used in training) is missing; the columns are: ${header.join(', ')}`);
    return c;
  });
  const rows = records.slice(1);
  const d = names.length;
  const x = new Float32Array(rows.length * d);
  const { mean, std } = info.standardizer!;
  rows.forEach((row, r) => cols.forEach((c, j) => {
    const v = row[c] === '' ? NaN : Number(row[c]);
    if (!Number.isFinite(v)) throw new Error(`CSV line ${r + 2}, column '${header[c]}': ${row[c] === '' ? 'empty value' : `'${row[c]}' is not a number`}`);
    x[r * d + j] = (v - mean[j]!) / std[j]!;
  }));
  const t = info.target ? header.indexOf(info.target) : -1;
  const truth = t < 0 ? null : rows.map((row) => (info.task === 'regression' ? Number(row[t]) : classLabel(row[t]!)));
  return { x, n: rows.length, truth };
}

export function predictBatch(model: Sequential, info: DataInfo, x: Float32Array, n: number): Prediction[] {
  return tidy(() => noGrad(() => {
    const out = model(fromValues(x, [n, info.inputDim]));
    if (info.task === 'regression') return Array.from(out.data(), (v, row) => ({ row, prediction: v }));
    const probs = softmax(out, -1).data();
    const idx = argMax(out, -1).data();
    return Array.from(idx, (k, row) => ({ row, prediction: info.classes[k]!, confidence: probs[row * info.outputDim + k]! }));
  }));
}

export async function runPredict(opts: { model: string; data?: string; limit: number; backend: string; json?: boolean }, log = console.log): Promise<PredictResult> {
  await initBackend(opts.backend);
  const { model, info } = await loadModel(opts.model);
  try {
    let x: Float32Array, n: number, truth: (string | number)[] | null;
    if (opts.data) {
      if (info.kind !== 'csv') throw new Error('--data: this model was trained on the embedded digits, not on a CSV');
      const text = await readFile(opts.data, 'utf8').catch((e: Error) => {
        throw new Error(`--data: cannot read ${opts.data}: ${e.message}`);
      });
      ({ x, n, truth } = csvInputs(text, info));
    } else {
      if (info.kind !== 'digits') throw new Error('this model was trained on a CSV: pass the rows to predict with --data <file.csv>');
      const { test } = await loadDigits();
      x = toFloat(test.images);
      n = test.n;
      truth = Array.from(test.labels, String);
    }
    const predictions = predictBatch(model, info, x, n);
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
