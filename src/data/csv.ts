// Users' own data: a CSV with a header row, numeric feature columns and one target column. Parsed with
// csv-parse; every problem is reported with its line and column. Features are standardised with the training
// split's mean and standard deviation; the target becomes class indices (classification) or floats (regression).
import { parse } from 'csv-parse/sync';
import { Generator } from '../random.js';

export type Task = 'classification' | 'regression';

export interface Table {
  featureNames: string[];
  /** n × d row-major. */
  features: Float64Array;
  n: number;
  d: number;
  task: Task;
  /** Class names in index order (classification). */
  classes: string[];
  /** Class indices (classification) or values (regression), one per row. */
  targets: Float64Array;
}

/** A classification target needs few distinct values; a numeric column with many is taken as regression. */
const MAX_AUTO_CLASSES = 20;

export function parseCsv(text: string, target: string, task: Task | 'auto' = 'auto'): Table {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (e) {
    throw new Error(`CSV: ${(e as Error).message}`);
  }
  if (records.length < 2) throw new Error('CSV: needs a header row and at least one data row');
  const header = records[0]!;
  const t = header.indexOf(target);
  if (t < 0) throw new Error(`CSV: target column '${target}' not found; the columns are: ${header.join(', ')}`);
  const featureNames = header.filter((_, i) => i !== t);
  if (featureNames.length === 0) throw new Error('CSV: there are no feature columns besides the target');
  const rows = records.slice(1);
  const n = rows.length;
  const d = featureNames.length;
  const features = new Float64Array(n * d);
  rows.forEach((row, r) => {
    let j = 0;
    row.forEach((cell, c) => {
      if (c === t) return;
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new Error(`CSV line ${r + 2}, column '${header[c]}': ${cell === '' ? 'empty value' : `'${cell}' is not a number`}`);
      }
      features[r * d + j++] = v;
    });
  });
  const raw = rows.map((row) => row[t]!);
  raw.forEach((v, r) => {
    if (v === '') throw new Error(`CSV line ${r + 2}, column '${target}': empty target value`);
  });
  const numeric = raw.every((v) => Number.isFinite(Number(v)));
  const distinct = [...new Set(raw)];
  const chosen: Task = task !== 'auto' ? task
    : !numeric || (distinct.length <= MAX_AUTO_CLASSES && raw.every((v) => Number.isInteger(Number(v)))) ? 'classification' : 'regression';
  if (chosen === 'regression' && !numeric) {
    const bad = raw.findIndex((v) => !Number.isFinite(Number(v)));
    throw new Error(`CSV line ${bad + 2}, column '${target}': '${raw[bad]}' is not a number (regression target)`);
  }
  const classes = chosen === 'classification'
    ? distinct.sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0)) : [];
  const index = new Map(classes.map((c, i) => [c, i]));
  const targets = Float64Array.from(raw, (v) => (chosen === 'classification' ? index.get(v)! : Number(v)));
  return { featureNames, features, n, d, task: chosen, classes, targets };
}

export interface Split { train: Int32Array; val: Int32Array }

/** A seeded shuffle into training and validation rows. */
export function splitRows(n: number, valFraction: number, seed: number): Split {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`val split must be in [0, 1), got ${valFraction}`);
  const order = new Generator(seed).permutation(n);
  const nVal = Math.round(n * valFraction);
  return { val: order.slice(0, nVal).sort(), train: order.slice(nVal).sort() };
}

export interface Standardizer { mean: number[]; std: number[] }

/** Mean and standard deviation of each feature over `rows` (a constant column gets std 1). */
export function fitStandardizer(t: Table, rows: Int32Array): Standardizer {
  const mean = new Array<number>(t.d).fill(0);
  const sq = new Array<number>(t.d).fill(0);
  for (const r of rows) for (let j = 0; j < t.d; j++) mean[j]! += t.features[r * t.d + j]!;
  for (let j = 0; j < t.d; j++) mean[j]! /= rows.length;
  for (const r of rows) for (let j = 0; j < t.d; j++) sq[j]! += (t.features[r * t.d + j]! - mean[j]!) ** 2;
  const std = sq.map((s) => Math.sqrt(s / rows.length) || 1);
  return { mean, std };
}

/** The standardised features of `rows`, n × d. */
export function standardize(t: Table, rows: Int32Array, s: Standardizer): Float32Array {
  const out = new Float32Array(rows.length * t.d);
  rows.forEach((r, i) => {
    for (let j = 0; j < t.d; j++) out[i * t.d + j] = (t.features[r * t.d + j]! - s.mean[j]!) / s.std[j]!;
  });
  return out;
}
