// `wasmgrad predict`: loads a model written by `train` (its architecture and everything learnt about the data travel
// in the safetensors metadata) and runs it on the embedded test digits or on a CSV, whose columns it transforms as
// training did (TableEncoder: fills, scaling, one-hot categories), printing predictions by class name or in the
// target's units and, where the truth is known, accuracy (classification) or MSE, RMSE, MAE and R² (regression).
import { Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { noGrad, tidy } from '../autograd/scope.js';
import { fromValues } from '../creation.js';
import { classLabel, eachRecord } from '../data/csv.js';
import { loadDigits, toFloat } from '../data/digits.js';
import { booleanOf, isMissing, numberOf } from '../data/table.js';
import { argMax } from '../ops/max.js';
import { softmax } from '../ops/softmax.js';
import { readModel, tableEncoderOf, type LoadedModel } from '../train/saved-model.js';
import type { DataInfo } from '../train/trainer.js';
import { initBackend, positiveInt } from './common.js';

export interface Prediction { row: number; prediction: string | number; confidence?: number; truth?: string | number }
/** Regression metrics in the target's units, over the rows whose truth is known. */
export interface RegressionMetrics { mse: number; rmse: number; mae: number; r2: number | null }
export interface PredictResult {
  n: number; accuracy: number | null;
  /** The same as regression.mse (kept for scripts that read it). */
  mse: number | null;
  regression: RegressionMetrics | null;
  predictions: Prediction[];
}

/** A run directory stands for the model.safetensors in it. */
export async function modelFile(path: string): Promise<string> {
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  return isDir ? join(path, 'model.safetensors') : path;
}

/**
 * Model inputs, transformed as in training, and, when the CSV has the target column, the truth (null where that
 * cell is missing). The file is streamed and each cell read as training read its column.
 */
async function csvInputs(path: string, info: DataInfo): Promise<{ x: Float32Array; n: number; truth: (string | number | null)[] | null }> {
  const encoder = tableEncoderOf(info);
  const names = encoder.columns;
  let header: string[] | null = null;
  let cols: number[] = [];
  let t = -1;
  const rows: (number | string | null)[][] = [];
  const truth: (string | number | null)[] = [];
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
    rows.push(encoder.parseRow(cols.map((c) => record[c]!), `CSV line ${line}`));
    if (t < 0) return;
    const cell = record[t]!;
    if (isMissing(cell)) truth.push(null);
    else if (info.targetKind === 'boolean') {
      // Any case, as training read the column: the class is the training file's word ('TRUE' is the class 'true').
      const v = booleanOf(cell, info.classes as [string, string]);
      if (Number.isNaN(v)) throw new Error(`CSV line ${line}, column '${info.target}': '${cell}' is not ${info.classes.join(' or ')} (the target)`);
      truth.push(info.classes[v]!);
    } else if (info.task === 'classification') truth.push(classLabel(cell));
    else {
      const v = numberOf(cell);
      if (Number.isNaN(v)) throw new Error(`CSV line ${line}, column '${info.target}': '${cell}' is not a number (regression target)`);
      truth.push(v);
    }
  });
  if (rows.length === 0) throw new Error('CSV: needs a header row and at least one data row');
  return { x: encoder.encode(rows), n: rows.length, truth: t < 0 ? null : truth };
}

/**
 * The model's predictions for n rows of x, a batch of 500 rows at a time (a CNN's activations for all 2,000 test
 * digits at once would take half a gigabyte): class names with their probability, or values in the target's units.
 */
export function predict({ module: model, metadata: { data: info, inputShape } }: LoadedModel, x: Float32Array, n: number, batchSize = 500): Prediction[] {
  const size = x.length / n;
  const { mean = 0, scale = 1 } = info.targetScaler ?? {};
  const predictions: Prediction[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    tidy(() => noGrad(() => {
      const out = model(fromValues(x.subarray(start * size, (start + rows) * size), [rows, ...inputShape]));
      if (info.task === 'regression') {
        out.data().forEach((v, i) => predictions.push({ row: start + i, prediction: v * scale + mean }));
        return;
      }
      const probs = softmax(out, -1).data();
      argMax(out, -1).data().forEach((k, i) => predictions.push({ row: start + i, prediction: info.classes[k]!, confidence: probs[i * info.outputDim + k]! }));
    }));
  }
  return predictions;
}

/** MSE, RMSE, MAE and R² of the predictions whose truth is known. */
function regressionMetrics(predictions: Prediction[]): RegressionMetrics | null {
  const known = predictions.filter((p) => typeof p.truth === 'number') as { prediction: number; truth: number }[];
  if (!known.length) return null;
  const mean = known.reduce((a, p) => a + p.truth, 0) / known.length;
  const sse = known.reduce((a, p) => a + (p.prediction - p.truth) ** 2, 0);
  const sst = known.reduce((a, p) => a + (p.truth - mean) ** 2, 0);
  const mse = sse / known.length;
  return { mse, rmse: Math.sqrt(mse), mae: known.reduce((a, p) => a + Math.abs(p.prediction - p.truth), 0) / known.length, r2: sst > 0 ? 1 - sse / sst : null };
}

/** A value to 4 significant digits, without trailing zeros: 21.4, 0.003142, 1235000. */
export const fourDigits = (v: number): string => String(Number(v.toPrecision(4)));

export async function runPredict(opts: { model: string; data?: string; limit: number; backend: string; json?: boolean }, log = console.log): Promise<PredictResult> {
  await initBackend(opts.backend);
  const loaded = await readModel(await modelFile(opts.model), '--model');
  const { module: model, metadata: { data: info } } = loaded;
  try {
    if (info.kind === 'text') throw new Error(`--model: ${opts.model} is a character-level GPT; it writes text: wasmgrad sample --model ${opts.model}`);
    let x: Float32Array, n: number, truth: (string | number | null)[] | null;
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
    if (truth) predictions.forEach((p, i) => truth![i] !== null && (p.truth = truth![i]!));
    const scored = predictions.filter((p) => p.truth !== undefined);
    const accuracy = scored.length && info.task === 'classification'
      ? scored.filter((p) => p.prediction === String(p.truth)).length / scored.length : null;
    const regression = info.task === 'regression' ? regressionMetrics(predictions) : null;
    const result: PredictResult = { n, accuracy, mse: regression?.mse ?? null, regression, predictions };
    if (opts.json) {
      // float32 outputs carry 7 significant digits; more would be noise.
      const shown = predictions.slice(0, opts.limit).map((p) => (typeof p.prediction === 'number' ? { ...p, prediction: Number(p.prediction.toPrecision(7)) } : p));
      log(JSON.stringify({ ...result, predictions: shown }));
    } else {
      for (const p of predictions.slice(0, opts.limit)) {
        const value = typeof p.prediction === 'number' ? fourDigits(p.prediction) : p.prediction;
        log(`row ${p.row}: ${value}${p.confidence === undefined ? '' : ` (${(100 * p.confidence).toFixed(1)}%)`}` +
          `${p.truth === undefined ? '' : `  truth ${p.truth}`}`);
      }
      if (n > opts.limit) log(`… ${n - opts.limit} more rows (--limit)`);
      if (accuracy !== null) log(`accuracy ${(100 * accuracy).toFixed(2)}% on ${scored.length} rows`);
      if (regression) {
        log(`MSE ${fourDigits(regression.mse)}, RMSE ${fourDigits(regression.rmse)}, MAE ${fourDigits(regression.mae)}` +
          `${regression.r2 === null ? '' : `, R² ${regression.r2.toFixed(3)}`} on ${scored.length} rows`);
      }
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
    .requiredOption('--model <file>', 'model.safetensors written by train, or its run directory')
    .option('--data <file.csv>', 'rows to predict (for a model trained on a CSV)')
    .option('--limit <n>', 'how many predictions to print', positiveInt('--limit'), 10)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'ref']).default('wasm'))
    .option('--json', 'print one JSON object and nothing else')
    .action(async (opts: { model: string; data?: string; limit: number; backend: string; json?: boolean }) => {
      await runPredict(opts);
    });
}
