// Preprocessing for tables, as scikit-learn names it: SimpleImputer (median / most frequent), StandardScaler,
// OneHotEncoder, oneHot and trainTestSplit; and TableEncoder, which puts them together for a CsvTable the way
// `wasmgrad train --data` does (numbers imputed and standardised, booleans as 0/1, text one-hot encoded, text
// with too many distinct values left out with a note) and saves what it learnt as JSON, so `predict` and a
// program loading the model transform new rows the same way. Pure TypeScript, usable in browsers.
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { Generator } from '../random.js';
import {
  booleanOf, cellValue, isMissing, numberOf, type BooleanColumn, type CsvTable, type NumberColumn, type StringColumn,
} from './table.js';

/** Rows of a table: `rows[i][j]` is column j of row i. */
export type Rows<T> = readonly (ArrayLike<T>)[];

/** A SimpleImputer as JSON. */
export interface ImputerJSON<T extends number | string> {
  /** 'median' or 'mostFrequent'. */
  strategy: 'median' | 'mostFrequent';
  /** Each column's fill. */
  statistics: T[];
}

/** A StandardScaler as JSON. */
export interface ScalerJSON {
  /** Each column's mean. */
  mean: number[];
  /** Each column's standard deviation (1 for a constant column). */
  scale: number[];
}

/** A OneHotEncoder as JSON. */
export interface OneHotJSON {
  /** Each column's categories, sorted. */
  categories: string[][];
}

/** Rows split in two (indices into the table, each list sorted). */
export interface Split {
  /** The rows to train on. */
  train: Int32Array;
  /** The rows held out. */
  test: Int32Array;
}

/** Whether a value is missing: null, undefined or NaN. */
const absent = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

function columnsOf(api: string, rows: Rows<unknown>): number {
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${api}: expected a non-empty array of rows`);
  const d = rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`${api}: row ${i} has ${r.length} values, row 0 has ${d}`);
  });
  return d;
}

function checkWidth(api: string, rows: Rows<unknown>, d: number): void {
  if (columnsOf(api, rows) !== d) throw new Error(`${api}: rows have ${rows[0]!.length} columns, fitted on ${d}`);
}

function notFitted(api: string): never {
  throw new Error(`${api}: call fit() first`);
}

/** The most frequent value; among equally frequent ones the smallest (so the result does not depend on row order). */
function mostFrequent<T extends number | string>(values: T[]): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | undefined, most = 0;
  for (const [v, c] of counts) if (c > most || (c === most && v < best!)) [best, most] = [v, c];
  return best!;
}

function median(values: number[]): number {
  const s = Float64Array.from(values).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Fills missing values (null, undefined, NaN) column by column with what `fit` learnt: the median (numbers) or the
 * most frequent value (numbers or text; ties go to the smallest), as scikit-learn's SimpleImputer.
 */
export class SimpleImputer<T extends number | string = number> {
  /** The fill of each column, after fit. */
  statistics: T[] | null = null;
  /** How a column's fill is learnt: its median (numbers) or its most frequent value. Default 'median'. */
  readonly strategy: 'median' | 'mostFrequent';

  /** @param options.strategy - 'median' (default) or 'mostFrequent'. */
  constructor(options: { strategy?: 'median' | 'mostFrequent' } = {}) {
    this.strategy = options.strategy ?? 'median';
    if (this.strategy !== 'median' && this.strategy !== 'mostFrequent') {
      throw new Error(`SimpleImputer: strategy must be 'median' or 'mostFrequent', got ${String(this.strategy)}`);
    }
  }

  /** Learns each column's fill from its present values; a column with none is an error. */
  fit(rows: Rows<T | null>): this {
    const d = columnsOf('SimpleImputer', rows);
    this.statistics = Array.from({ length: d }, (_, j) => {
      const present = rows.map((r) => r[j]).filter((v) => !absent(v)) as T[];
      if (!present.length) throw new Error(`SimpleImputer: column ${j} has no values to learn a fill from (all missing)`);
      if (this.strategy === 'mostFrequent') return mostFrequent(present);
      if (present.some((v) => typeof v !== 'number')) throw new Error(`SimpleImputer: strategy 'median' needs numbers; column ${j} has text`);
      return median(present as number[]) as T;
    });
    return this;
  }

  /** The rows with each missing value replaced by its column's fill. */
  transform(rows: Rows<T | null>): T[][] {
    const fill = this.statistics ?? notFitted('SimpleImputer');
    checkWidth('SimpleImputer', rows, fill.length);
    return rows.map((r) => Array.from(r, (v, j) => (absent(v) ? fill[j]! : v!)));
  }

  /** fit, then transform, on the same rows. */
  fitTransform(rows: Rows<T | null>): T[][] {
    return this.fit(rows).transform(rows);
  }

  /** What fit learnt, for JSON.stringify (and fromJSON). */
  toJSON(): ImputerJSON<T> {
    return { strategy: this.strategy, statistics: this.statistics ?? notFitted('SimpleImputer') };
  }

  /** An imputer as toJSON saved it. */
  static fromJSON<T extends number | string>(json: ImputerJSON<T>): SimpleImputer<T> {
    const imputer = new SimpleImputer<T>({ strategy: json.strategy });
    imputer.statistics = [...json.statistics];
    return imputer;
  }
}

/**
 * Standardises each column to mean 0 and standard deviation 1 with the mean and (population) standard deviation
 * that `fit` learnt, as scikit-learn's StandardScaler; a constant column is only centred (its scale is 1).
 */
export class StandardScaler {
  /** The mean of each column, after fit. */
  mean: number[] | null = null;
  /** The standard deviation of each column (1 for a constant one). */
  scale: number[] | null = null;

  /** Learns each column's mean and standard deviation; missing values (NaN) are an error: impute them first. */
  fit(rows: Rows<number>): this {
    const d = columnsOf('StandardScaler', rows);
    const mean = new Array<number>(d).fill(0), sq = new Array<number>(d).fill(0);
    rows.forEach((r, i) => {
      for (let j = 0; j < d; j++) {
        if (!Number.isFinite(r[j])) throw new Error(`StandardScaler: row ${i}, column ${j} is ${r[j]}; impute missing values first`);
        mean[j]! += r[j]!;
      }
    });
    for (let j = 0; j < d; j++) mean[j]! /= rows.length;
    for (const r of rows) for (let j = 0; j < d; j++) sq[j]! += (r[j]! - mean[j]!) ** 2;
    this.mean = mean;
    this.scale = sq.map((s) => Math.sqrt(s / rows.length) || 1);
    return this;
  }

  /** (value − mean) / scale, column by column. */
  transform(rows: Rows<number>): number[][] {
    const [mean, scale] = this.fitted();
    checkWidth('StandardScaler', rows, mean.length);
    return rows.map((r) => Array.from(r, (v, j) => (v - mean[j]!) / scale[j]!));
  }

  /** fit, then transform, on the same rows. */
  fitTransform(rows: Rows<number>): number[][] {
    return this.fit(rows).transform(rows);
  }

  /** Back to the original units. */
  inverseTransform(rows: Rows<number>): number[][] {
    const [mean, scale] = this.fitted();
    checkWidth('StandardScaler', rows, mean.length);
    return rows.map((r) => Array.from(r, (v, j) => v * scale[j]! + mean[j]!));
  }

  private fitted(): [number[], number[]] {
    return this.mean && this.scale ? [this.mean, this.scale] : notFitted('StandardScaler');
  }

  /** What fit learnt, for JSON.stringify (and fromJSON). */
  toJSON(): ScalerJSON {
    const [mean, scale] = this.fitted();
    return { mean, scale };
  }

  /** A scaler as toJSON saved it. */
  static fromJSON(json: ScalerJSON): StandardScaler {
    const scaler = new StandardScaler();
    scaler.mean = [...json.mean];
    scaler.scale = [...json.scale];
    return scaler;
  }
}

/**
 * One 0/1 column per category of each text column, categories sorted, as scikit-learn's OneHotEncoder with
 * `handle_unknown='ignore'`: a value not seen in `fit` (and a missing one) is all zeros.
 */
export class OneHotEncoder {
  /** Each column's categories, sorted, after fit. */
  categories: string[][] | null = null;

  /** Learns each column's categories (its distinct present values). */
  fit(rows: Rows<string | null>): this {
    const d = columnsOf('OneHotEncoder', rows);
    this.categories = Array.from({ length: d }, (_, j) =>
      [...new Set(rows.map((r) => r[j]).filter((v): v is string => typeof v === 'string'))].sort(compareText));
    return this;
  }

  /** Each row as the concatenation of its columns' one-hot vectors. */
  transform(rows: Rows<string | null>): number[][] {
    const categories = this.categories ?? notFitted('OneHotEncoder');
    checkWidth('OneHotEncoder', rows, categories.length);
    const index = categories.map((c) => new Map(c.map((v, k) => [v, k])));
    const offsets = categories.map((_, j) => categories.slice(0, j).reduce((a, c) => a + c.length, 0));
    const width = categories.reduce((a, c) => a + c.length, 0);
    return rows.map((r) => {
      const out = new Array<number>(width).fill(0);
      for (let j = 0; j < categories.length; j++) {
        const k = index[j]!.get(r[j] as string);
        if (k !== undefined) out[offsets[j]! + k] = 1;
      }
      return out;
    });
  }

  /** fit, then transform, on the same rows. */
  fitTransform(rows: Rows<string | null>): number[][] {
    return this.fit(rows).transform(rows);
  }

  /** The output columns' names: `column=category`. */
  featureNames(inputNames: readonly string[]): string[] {
    const categories = this.categories ?? notFitted('OneHotEncoder');
    return categories.flatMap((c, j) => c.map((v) => `${inputNames[j] ?? j}=${v}`));
  }

  /** What fit learnt, for JSON.stringify (and fromJSON). */
  toJSON(): OneHotJSON {
    return { categories: this.categories ?? notFitted('OneHotEncoder') };
  }

  /** An encoder as toJSON saved it. */
  static fromJSON(json: OneHotJSON): OneHotEncoder {
    const encoder = new OneHotEncoder();
    encoder.categories = json.categories.map((c) => [...c]);
    return encoder;
  }
}

/** Text in code-point order (not the locale's): the same order on every machine. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Class indices as one-hot rows: a float32 tensor [n, numClasses] with a 1 at each row's class, as PyTorch's
 * `F.one_hot` and TensorFlow.js's `tf.oneHot` (which give integers; this gives floats, ready for a loss).
 *
 * @param indices - integers in [0, numClasses): an int32 tensor or an array.
 */
export function oneHot(indices: Tensor | ArrayLike<number>, numClasses: number): Tensor {
  const values = isTensor(indices) ? indices.data() : indices;
  if (!Number.isSafeInteger(numClasses) || numClasses < 1) throw new Error(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const out = new Float32Array(values.length * numClasses);
  for (let i = 0; i < values.length; i++) {
    const k = values[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= numClasses) throw new Error(`oneHot: index ${k} at position ${i} is not an integer in [0, ${numClasses})`);
    out[i * numClasses + k] = 1;
  }
  return fromValues(out, [values.length, numClasses]);
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as Tensor).data === 'function' && Array.isArray((x as Tensor).shape);
}

/**
 * A seeded random split of n rows into training and test rows (each list sorted), as scikit-learn's
 * train_test_split does for indices: take the rows of your arrays or tensors with them.
 *
 * @param options.testSize - the share of rows held out, in (0, 1); default 0.25.
 * @param options.seed - the shuffle's seed; default 0.
 */
export function trainTestSplit(n: number, options: { testSize?: number; seed?: number } = {}): Split {
  const { testSize = 0.25, seed = 0 } = options;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`trainTestSplit: n must be a row count (an integer ≥ 0), got ${n}`);
  if (!(testSize > 0 && testSize < 1)) throw new Error(`trainTestSplit: testSize must be in (0, 1), got ${testSize}`);
  const order = new Generator(seed).permutation(n);
  const nTest = Math.round(n * testSize);
  return { test: order.slice(0, nTest).sort(), train: order.slice(nTest).sort() };
}

/** float32's largest finite value: a number beyond it would train as Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A boolean column's name and its words for false and true. */
export interface BooleanFeature {
  /** The column. */
  name: string;
  /** Its words for false and true, as the training file wrote them first. */
  labels: [string, string];
}

/** What TableEncoder learnt, as JSON (saved with a model as `data.features`). */
export interface TableEncoderJSON {
  /** The numeric columns, imputed then standardised. */
  numeric: string[];
  /** The boolean columns, as 0/1, imputed. */
  boolean: BooleanFeature[];
  /** The text columns, imputed then one-hot encoded. */
  categorical: string[];
  /** The fitted transformers' JSON (null where there are no columns of that kind). */
  numericImputer: ImputerJSON<number> | null;
  /** The numeric columns' scaling. */
  scaler: ScalerJSON | null;
  /** The boolean columns' fills (0 or 1). */
  booleanImputer: ImputerJSON<number> | null;
  /** The text columns' fills. */
  categoricalImputer: ImputerJSON<string> | null;
  /** The text columns' categories. */
  encoder: OneHotJSON | null;
}

/** What TableEncoder.fit returns. */
export interface TableEncoderFit {
  /** The fitted encoder. */
  encoder: TableEncoder;
  /** What it did that the user should know: columns left out, values filled in, text one-hot encoded. */
  notes: string[];
}

/** Which columns TableEncoder.fit uses. */
export interface TableEncoderOptions {
  /** The columns to use as features (default: all but the target, the ignored ones and high-cardinality text). */
  features?: string[];
  /** Text columns with more distinct values than this are left out with a note unless `features` names them. Default 50. */
  maxCategories?: number;
}

/**
 * Turns a table's feature columns into model inputs: numbers imputed with the median and standardised, booleans as
 * 0/1 imputed with the most frequent, text imputed with the most frequent and one-hot encoded; all fitted on the
 * training rows. `fit` returns notes on what it did (columns left out, values imputed) for the user.
 */
export class TableEncoder {
  private constructor(
    /** The numeric columns. */
    readonly numeric: string[],
    /** The boolean columns and their words. */
    readonly boolean: BooleanFeature[],
    /** The text columns. */
    readonly categorical: string[],
    private readonly numericImputer: SimpleImputer<number> | null, private readonly scaler: StandardScaler | null,
    private readonly booleanImputer: SimpleImputer<number> | null, private readonly categoricalImputer: SimpleImputer<string> | null,
    private readonly encoder: OneHotEncoder | null,
  ) {}

  /** The columns the encoder reads, in the order `transformRow` takes their cells. */
  get columns(): string[] {
    return [...this.numeric, ...this.boolean.map((b) => b.name), ...this.categorical];
  }

  /** The names of the model's inputs: numeric and boolean columns by name, then `column=category`. */
  get featureNames(): string[] {
    return [...this.numeric, ...this.boolean.map((b) => b.name), ...(this.encoder?.featureNames(this.categorical) ?? [])];
  }

  /**
   * Fits on `rows` of `table`: which columns are features (`options.features`, else every column of `table`
   * but text with more than maxCategories distinct values), and each transformer's statistics.
   */
  static fit(table: CsvTable, rows: Int32Array, options: TableEncoderOptions = {}): TableEncoderFit {
    const { features, maxCategories = 50 } = options;
    const notes: string[] = [];
    const named = features ? features.map((f) => table.columns.find((c) => c.name === f)!) : table.columns;
    const wide = named.filter((c) => c.kind === 'string' && c.distinct > maxCategories);
    const empty = named.filter((c) => c.missing === table.n);
    if (features && empty.length) {
      throw new Error(`CSV: the column${empty.length > 1 ? 's' : ''} ${empty.map((c) => `'${c.name}'`).join(', ')} ` +
        `named in --features ${empty.length > 1 ? 'have' : 'has'} no values (every cell is missing)`);
    }
    if (!features && wide.length) {
      notes.push(`left out ${wide.map((c) => `'${c.name}' (${(c as { distinct: number }).distinct.toLocaleString('en-US')} distinct values)`).join(', ')}: ` +
        `text with more than ${maxCategories} distinct values (names, ids, dates) would be one input per value; ` +
        'keep a column with --features, or raise --max-categories');
    }
    if (!features && empty.length) notes.push(`left out ${empty.map((c) => `'${c.name}'`).join(', ')}: every value is missing`);
    const used = features ? named : named.filter((c) => !wide.includes(c) && !empty.includes(c));
    if (!used.length) throw new Error('CSV: no feature columns are left to learn from; name some with --features');
    const numeric = used.filter((c) => c.kind === 'number'), bools = used.filter((c) => c.kind === 'boolean');
    const texts = used.filter((c) => c.kind === 'string');
    const mixed = texts.find((c) => (c as StringColumn).mixed);
    if (mixed) {
      const { text, number } = (mixed as StringColumn).mixed!;
      throw new Error(`CSV line ${text.line}, column '${mixed.name}': '${text.text}' is not a number, though the column holds numbers ` +
        `(line ${number.line}: ${shorten(number.text)}); correct it, mark it missing (empty, NA or ?), or leave the column out (--ignore)`);
    }
    for (const c of numeric as NumberColumn[]) {
      // Every row, not only the training rows: a held-out row beyond float32 would be evaluated as Infinity.
      const i = c.values.findIndex((v) => Math.abs(v) > FLOAT32_MAX);
      if (i >= 0) {
        throw new Error(`CSV line ${table.lines[i]}, column '${c.name}': ${writtenAs(c, i)} is beyond float32's range (±3.4028235e38) and would ` +
          'become Infinity; rescale the column');
      }
    }
    const unseen = used.find((c) => rows.every((r) => absent(cellValue(c, r))));
    if (unseen) throw new Error(`CSV: the column '${unseen.name}' has no values in the training rows; leave it out (--ignore)`);
    // Fitted column by column on the typed columns, as the transformers would fit rows of them (the same numbers).
    const numStats = (numeric as NumberColumn[]).map((c) => fitNumbers(c.values, rows));
    const numericImputer = numeric.length ? SimpleImputer.fromJSON<number>({ strategy: 'median', statistics: numStats.map((f) => f.median) }) : null;
    const scaler = numeric.length ? StandardScaler.fromJSON({ mean: numStats.map((f) => f.mean), scale: numStats.map((f) => f.scale) }) : null;
    const booleanImputer = bools.length
      ? SimpleImputer.fromJSON<number>({ strategy: 'mostFrequent', statistics: (bools as BooleanColumn[]).map((c) => mostFrequentBit(c.values, rows)) }) : null;
    const textStats = (texts as StringColumn[]).map((c) => fitText(c, rows));
    const textImputer = texts.length ? SimpleImputer.fromJSON<string>({ strategy: 'mostFrequent', statistics: textStats.map((f) => f.fill) }) : null;
    const encoder = texts.length ? OneHotEncoder.fromJSON({ categories: textStats.map((f) => f.categories) }) : null;
    const filled = used.filter((c) => c.missing > 0).map((c) => {
      const fill = c.kind === 'number' ? numericImputer!.statistics![numeric.indexOf(c)]
        : c.kind === 'boolean' ? (c as { labels: string[] }).labels[booleanImputer!.statistics![bools.indexOf(c)]!]
          : `'${textImputer!.statistics![texts.indexOf(c)]}'`;
      return `'${c.name}' ${c.missing.toLocaleString('en-US')} (${c.kind === 'number' ? 'median' : 'most frequent'} ${fill})`;
    });
    if (filled.length) notes.push(`missing values filled in: ${filled.join(', ')}`);
    if (texts.length) {
      notes.push(`one-hot encoded ${texts.map((c, j) => `'${c.name}' (${encoder!.categories![j]!.length})`).join(', ')}`);
    }
    const encoderOut = new TableEncoder(numeric.map((c) => c.name), bools.map((c) => ({ name: c.name, labels: (c as { labels: [string, string] }).labels })),
      texts.map((c) => c.name), numericImputer, scaler, booleanImputer, textImputer, encoder);
    return { encoder: encoderOut, notes };
  }

  /**
   * The model inputs for `rows` of `table` (which must have the encoder's columns, typed as in fit), n × featureNames;
   * column by column, as `encode` would give for the rows' values.
   */
  transform(table: CsvTable, rows: Int32Array): Float32Array {
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    const cols = this.columns.map((name) => byName.get(name) ?? missingColumn(name, table.columns.map((c) => c.name)));
    const d = this.featureNames.length, out = new Float32Array(rows.length * d);
    const nNum = this.numeric.length, nBool = this.boolean.length;
    cols.forEach((c, j) => {
      if (j < nNum + nBool) {
        if (c.kind === 'string') throw new Error(`CSV: the column '${c.name}' is text; the encoder was fitted on ${j < nNum ? 'numbers' : 'booleans'}`);
        const fill = j < nNum ? this.numericImputer!.statistics![j]! : this.booleanImputer!.statistics![j - nNum]!;
        const [mean, scale] = j < nNum ? [this.scaler!.mean![j]!, this.scaler!.scale![j]!] : [0, 1];
        rows.forEach((r, i) => {
          const v = c.values[r]!;
          out[i * d + j] = ((Number.isNaN(v) ? fill : v) - mean) / scale;
        });
        return;
      }
      if (c.kind !== 'string') throw new Error(`CSV: the column '${c.name}' is not text; the encoder was fitted on text`);
      const t = j - nNum - nBool;
      const categories = this.encoder!.categories![t]!;
      const offset = nNum + nBool + this.encoder!.categories!.slice(0, t).reduce((a, k) => a + k.length, 0);
      const index = new Map(categories.map((v, k) => [v, k]));
      const fill = index.get(this.categoricalImputer!.statistics![t]!) ?? -1;
      // Each code's one-hot position (−1: a category not seen in fit, all zeros).
      const at = Int32Array.from(c.categories, (v) => index.get(v) ?? -1);
      rows.forEach((r, i) => {
        const code = c.codes[r]!;
        const k = code < 0 ? fill : at[code]!;
        if (k >= 0) out[i * d + offset + k] = 1;
      });
    });
    return out;
  }

  /**
   * The model input for one record: `cells` are the texts of `columns`, in that order, read as training read them;
   * `where` names the record in messages ('CSV line 7').
   */
  parseRow(cells: readonly string[], where: string): (number | string | null)[] {
    const nNum = this.numeric.length, nBool = this.boolean.length;
    return cells.map((cell, j) => {
      if (isMissing(cell)) return null;
      if (j >= nNum + nBool) return cell;
      const name = this.columns[j]!;
      const v = j < nNum ? numberOf(cell) : booleanOf(cell, this.boolean[j - nNum]!.labels);
      if (Number.isNaN(v)) {
        throw new Error(`${where}, column '${name}': '${cell}' is not ${j < nNum ? 'a number' : `${this.boolean[j - nNum]!.labels.join(' or ')}`}`);
      }
      if (Math.abs(v) > FLOAT32_MAX) throw new Error(`${where}, column '${name}': ${cell} is beyond float32's range (±3.4028235e38)`);
      return v;
    });
  }

  /** Rows of values (numbers, booleans as 0/1, texts; missing as null or NaN) in `columns` order, encoded. */
  encode(rows: (number | string | null)[][]): Float32Array {
    const nNum = this.numeric.length, nBool = this.boolean.length;
    const part = <T>(from: number, to: number) => rows.map((r) => r.slice(from, to)) as T[][];
    const num = this.scaler ? this.scaler.transform(this.numericImputer!.transform(part<number>(0, nNum))) : null;
    const bool = this.booleanImputer ? this.booleanImputer.transform(part<number>(nNum, nNum + nBool)) : null;
    const text = this.encoder ? this.encoder.transform(this.categoricalImputer!.transform(part<string>(nNum + nBool, Infinity))) : null;
    const d = this.featureNames.length;
    const out = new Float32Array(rows.length * d);
    rows.forEach((_, i) => out.set([...(num?.[i] ?? []), ...(bool?.[i] ?? []), ...(text?.[i] ?? [])], i * d));
    return out;
  }

  /** What fit learnt, for JSON.stringify (and fromJSON); `wasmgrad train` saves it with the model as `data.features`. */
  toJSON(): TableEncoderJSON {
    return {
      numeric: this.numeric, boolean: this.boolean, categorical: this.categorical,
      numericImputer: this.numericImputer?.toJSON() ?? null, scaler: this.scaler?.toJSON() ?? null,
      booleanImputer: this.booleanImputer?.toJSON() ?? null, categoricalImputer: this.categoricalImputer?.toJSON() ?? null,
      encoder: this.encoder?.toJSON() ?? null,
    };
  }

  /** An encoder from its JSON (checked: a damaged one is an error naming what is wrong). */
  static fromJSON(json: TableEncoderJSON): TableEncoder {
    const bad = (what: string): never => {
      throw new Error(`TableEncoder: invalid JSON: ${what}`);
    };
    const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
    const numbers = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => Number.isFinite(x));
    const { numeric, boolean, categorical } = json ?? bad('not an object');
    if (!strings(numeric) || !strings(categorical) || !Array.isArray(boolean)) return bad('the column lists');
    if (!boolean.every((b) => typeof b?.name === 'string' && strings(b.labels) && b.labels.length === 2)) bad('the boolean columns');
    const nNum = numeric.length;
    if (nNum && !(numbers(json.numericImputer?.statistics, nNum) && numbers(json.scaler?.mean, nNum) && numbers(json.scaler?.scale, nNum))) {
      bad('the numeric columns\' statistics');
    }
    if (boolean.length && !(numbers(json.booleanImputer?.statistics, boolean.length))) bad('the boolean columns\' fill');
    const cats = json.encoder?.categories;
    if (categorical.length && !(strings(json.categoricalImputer?.statistics) && json.categoricalImputer.statistics.length === categorical.length &&
      Array.isArray(cats) && cats.length === categorical.length && cats.every(strings))) {
      bad('the text columns\' categories');
    }
    return new TableEncoder([...numeric], boolean.map((b) => ({ name: b.name, labels: [b.labels[0]!, b.labels[1]!] })), [...categorical],
      nNum ? SimpleImputer.fromJSON(json.numericImputer!) : null, nNum ? StandardScaler.fromJSON(json.scaler!) : null,
      boolean.length ? SimpleImputer.fromJSON(json.booleanImputer!) : null,
      categorical.length ? SimpleImputer.fromJSON(json.categoricalImputer!) : null, categorical.length ? OneHotEncoder.fromJSON(json.encoder!) : null);
  }
}

/** A numeric column's fill (median), mean and scale on `rows`, as SimpleImputer and StandardScaler fit them. */
function fitNumbers(values: Float64Array, rows: Int32Array): { median: number; mean: number; scale: number } {
  const all = new Float64Array(rows.length);
  let n = 0;
  for (const r of rows) if (!Number.isNaN(values[r]!)) all[n++] = values[r]!;
  const present = all.subarray(0, n).sort();
  const m = present.length >> 1;
  const fill = present.length % 2 ? present[m]! : (present[m - 1]! + present[m]!) / 2;
  let sum = 0, sq = 0;
  for (const r of rows) sum += Number.isNaN(values[r]!) ? fill : values[r]!;
  const mean = sum / rows.length;
  for (const r of rows) sq += ((Number.isNaN(values[r]!) ? fill : values[r]!) - mean) ** 2;
  return { median: fill, mean, scale: Math.sqrt(sq / rows.length) || 1 };
}

/** A boolean column's most frequent value (1 or 0; a tie is 0, the smaller) on `rows`. */
function mostFrequentBit(values: Float64Array, rows: Int32Array): number {
  let ones = 0, zeros = 0;
  for (const r of rows) {
    if (values[r] === 1) ones++;
    else if (values[r] === 0) zeros++;
  }
  return ones > zeros ? 1 : 0;
}

/** A text column's fill (most frequent on `rows`; a tie goes to the smallest) and its categories there, sorted. */
function fitText(c: StringColumn, rows: Int32Array): { fill: string; categories: string[] } {
  const counts = new Int32Array(c.categories.length);
  for (const r of rows) if (c.codes[r]! >= 0) counts[c.codes[r]!]!++;
  let best = -1;
  counts.forEach((n, k) => {
    if (n > 0 && (best < 0 || n > counts[best]! || (n === counts[best]! && c.categories[k]! < c.categories[best]!))) best = k;
  });
  return { fill: c.categories[best]!, categories: c.categories.filter((_, k) => counts[k]! > 0).sort(compareText) };
}

/** A number of a column as the file wrote it ('-4e38', not '-4e+38'), where the column kept its spellings. */
export function writtenAs(c: NumberColumn, i: number): string {
  const v = c.values[i]!;
  return c.spellings?.get(v)?.values().next().value ?? String(v);
}

/** A cell's text for a message: long ones cut to 24 characters. */
const shorten = (text: string) => (text.length > 24 ? `${text.slice(0, 23)}…` : text);

function missingColumn(name: string, columns: string[]): never {
  throw new Error(`CSV: feature column '${name}' (used in training) is missing; the columns are: ${columns.join(', ')}`);
}
