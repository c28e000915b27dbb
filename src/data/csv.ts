// Users' own data: a CSV with a header row, numeric feature columns and one target column. Parsed with
// csv-parse, record by record: a file is streamed, never held as one string, so its size is not bounded by V8's
// string limit. Every problem is reported with its line and column. Features are standardised with the training
// split's mean and standard deviation; the target becomes class indices (classification) or floats (regression).
import { CsvError, parse as parseStream, type Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
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
  /** What was done to the data that the user should know (numeric labels merged or renamed). */
  notes: string[];
}

/** A classification target needs few distinct values; a numeric column with many is taken as regression. */
const MAX_AUTO_CLASSES = 20;
/** More classes than this is not a classification this tool can train (and keeps the label maps bounded). */
export const MAX_CLASSES = 65_536;

/** Each record comes with its info, whose `lines` is the line the record ends on (empty lines are counted). */
const OPTIONS: Options = { skip_empty_lines: true, trim: true, relax_column_count: false, info: true };
type Parsed = { info: { lines: number }; record: string[] };

/** A CSV in memory. */
export function parseCsv(text: string, target: string, task: Task | 'auto' = 'auto'): Table {
  const table = new TableBuilder(target, task);
  let records: Parsed[];
  try {
    records = parse(text, OPTIONS) as unknown as Parsed[];
  } catch (e) {
    throw csvError(e);
  }
  for (const { info, record } of records) table.add(record.map((cell) => cell.trim()), info.lines);
  return table.finish();
}

/**
 * A CSV file, streamed: records are parsed from chunks of the file as they are read. Errors reading the file
 * are Node's own (with their `syscall`), for the caller to name the file its own way.
 */
export async function readCsv(path: string, target: string, task: Task | 'auto' = 'auto'): Promise<Table> {
  const table = new TableBuilder(target, task);
  await eachRecord(path, (record, line) => table.add(record, line));
  return table.finish();
}

/**
 * Streams a CSV file's records (the header first) to `use`, with the line each ends on; each cell trimmed (csv-parse
 * trims around fields; quoted fields keep their spaces, which would make ' 1' text and ' a' a second column a).
 */
export async function eachRecord(path: string, use: (record: string[], line: number) => void): Promise<void> {
  // pipeline forwards a read error to the parser, whose iteration then throws it; leaving the loop early
  // (an error of ours) destroys both streams.
  const records = pipeline(createReadStream(path), parseStream(OPTIONS), () => {});
  try {
    for await (const { info, record } of records as AsyncIterable<Parsed>) use(record.map((cell) => cell.trim()), info.lines);
  } catch (e) {
    throw csvError(e);
  }
}

function csvError(e: unknown): unknown {
  return e instanceof CsvError ? new Error(`CSV: ${e.message}`) : e;
}

/** Decimal numbers only ('1', '-2.5', '.5', '1e-3'): not '0x10', 'Infinity' or '', which Number() accepts. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function numberOf(cell: string): number {
  return DECIMAL.test(cell) ? Number(cell) : NaN;
}

/** What a number becomes in float32, the type the model trains in: Infinity beyond ±3.4028235e38. */
const fitsFloat32 = (v: number) => Number.isFinite(Math.fround(v));

/** A feature cell as the model takes it: a decimal number within float32's range, else an error naming the cell. */
export function featureValue(cell: string, line: number, column: string): number {
  const v = numberOf(cell);
  if (!Number.isFinite(v)) throw new Error(`CSV line ${line}, column '${column}': ${cell === '' ? 'empty value' : `'${cell}' is not a number`}`);
  if (!fitsFloat32(v)) {
    throw new Error(`CSV line ${line}, column '${column}': ${cell} is beyond float32's range (±3.4028235e38) and would ` +
      'become Infinity; rescale the column');
  }
  return v;
}

/** A class label as training names it: trimmed; a number by its value in shortest form ('1.0', '01' → '1'). */
export function classLabel(cell: string): string {
  const v = numberOf(cell.trim());
  return Number.isFinite(v) ? String(v) : cell.trim();
}

/** A typed array that doubles as rows are added: the row count of a streamed file is known only at the end. */
class Growing<A extends Float64Array | Int32Array> {
  length = 0;
  constructor(private array: A) {}
  push(v: number): void {
    if (this.length === this.array.length) {
      const bigger = new (this.array.constructor as new (n: number) => A)(Math.max(1024, 2 * this.length));
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[this.length++] = v;
  }
  get view(): A {
    return this.array.subarray(0, this.length) as A;
  }
}

interface Cell { line: number; text: string }

/**
 * Builds a Table from records (the header first), checking each as it comes so a streamed file needs no copy of
 * its text. The target keeps each row's number (NaN for text) and a code for text labels; distinct values are
 * tracked only up to MAX_CLASSES, beyond which the column cannot be classes anyway.
 */
class TableBuilder {
  private header: string[] = [];
  private t = -1;
  private n = 0;
  private readonly features = new Growing(new Float64Array(0));
  private readonly values = new Growing(new Float64Array(0));
  private readonly textCodes = new Growing(new Int32Array(0));
  /** Distinct text labels → code. */
  private readonly texts = new Map<string, number>();
  /** Distinct numeric labels → how they were written; null once there are more than MAX_CLASSES. */
  private spellings: Map<number, Set<string>> | null = new Map();
  private firstText: Cell | null = null;
  private firstOutOfRange: Cell | null = null;
  private integers = true;

  constructor(private readonly target: string, private readonly task: Task | 'auto') {}

  /** A record, its cells trimmed. */
  add(cells: string[], line: number): void {
    if (this.t < 0) this.setHeader(cells);
    else this.addRow(cells, line);
  }

  private setHeader(header: string[]): void {
    const positions = new Map<string, number[]>();
    header.forEach((name, i) => positions.set(name, [...(positions.get(name) ?? []), i + 1]));
    const repeated = [...positions].filter(([, at]) => at.length > 1);
    if (repeated.length) {
      const list = repeated.map(([name, at]) => `'${name}' (columns ${at.slice(0, -1).join(', ')} and ${at.at(-1)})`);
      throw new Error(`CSV: duplicate column names: ${list.join(', ')}; give each column its own name`);
    }
    this.t = header.indexOf(this.target);
    if (this.t < 0) throw new Error(`CSV: target column '${this.target}' not found; the columns are: ${header.join(', ')}`);
    if (header.length === 1) throw new Error('CSV: there are no feature columns besides the target');
    this.header = header;
  }

  private addRow(row: string[], line: number): void {
    row.forEach((cell, c) => (c === this.t ? this.addTarget(cell, line) : this.features.push(featureValue(cell, line, this.header[c]!))));
    this.n++;
  }

  private addTarget(cell: string, line: number): void {
    if (cell === '') throw new Error(`CSV line ${line}, column '${this.target}': empty target value`);
    const v = numberOf(cell);
    this.values.push(v);
    if (Number.isNaN(v)) {
      this.firstText ??= { line, text: cell };
      if (!this.texts.has(cell) && this.texts.size <= MAX_CLASSES) this.texts.set(cell, this.texts.size);
      this.textCodes.push(this.texts.get(cell) ?? -1);
      return;
    }
    this.textCodes.push(-1);
    this.integers &&= Number.isInteger(v);
    if (!fitsFloat32(v)) this.firstOutOfRange ??= { line, text: cell };
    if (this.spellings) {
      const seen = this.spellings.get(v) ?? new Set();
      this.spellings.set(v, seen.add(cell));
      if (this.spellings.size > MAX_CLASSES) this.spellings = null;
    }
  }

  finish(): Table {
    if (this.n === 0) throw new Error('CSV: needs a header row and at least one data row');
    const featureNames = this.header.filter((_, i) => i !== this.t);
    const numeric = this.firstText === null;
    const task: Task = this.task !== 'auto' ? this.task
      : !numeric || (this.spellings !== null && this.spellings.size <= MAX_AUTO_CLASSES && this.integers) ? 'classification' : 'regression';
    const table = { featureNames, features: this.features.view, n: this.n, d: featureNames.length, task };
    if (task === 'regression') {
      const bad = this.firstText ?? this.firstOutOfRange;
      if (bad) {
        throw new Error(`CSV line ${bad.line}, column '${this.target}': ${bad === this.firstText ? `'${bad.text}' is not a number`
          : `${bad.text} is beyond float32's range (±3.4028235e38) and would become Infinity`} (regression target)`);
      }
      return { ...table, classes: [], targets: this.values.view, notes: [] };
    }
    return { ...table, ...this.classes() };
  }

  /** Classes: numbers by value (named in shortest form), text as written; sorted by value, or as text when any is text. */
  private classes(): { classes: string[]; targets: Float64Array; notes: string[] } {
    const numbers = [...(this.spellings?.keys() ?? [])].sort((a, b) => a - b);
    if (this.spellings === null || numbers.length + this.texts.size > MAX_CLASSES) {
      throw new Error(`CSV: the target '${this.target}' has more than ${MAX_CLASSES.toLocaleString('en-US')} distinct values, ` +
        `too many classes${this.firstText ? '' : '; for a numeric target, ask for regression'}`);
    }
    const names = [...numbers.map(String), ...this.texts.keys()];
    const classes = this.firstText ? [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : names;
    const index = new Map(classes.map((name, i) => [name, i]));
    const ofValue = new Map(numbers.map((v) => [v, index.get(String(v))!]));
    const ofCode = [...this.texts.keys()].map((text) => index.get(text)!);
    const codes = this.textCodes.view;
    const targets = Float64Array.from(this.values.view, (v, r) => (Number.isNaN(v) ? ofCode[codes[r]!]! : ofValue.get(v)!));
    return { classes, targets, notes: this.spellingNotes(numbers) };
  }

  /** Which numeric labels were written otherwise than their class name (merged or renamed). */
  private spellingNotes(numbers: number[]): string[] {
    const changed = numbers.flatMap((v) => {
      const written = [...this.spellings!.get(v)!].sort();
      return written.length === 1 && written[0] === String(v) ? [] : [`${v} (written ${written.join(', ')})`];
    });
    if (!changed.length) return [];
    const shown = changed.length > 10 ? [...changed.slice(0, 10), `and ${changed.length - 10} more`] : changed;
    return [`the target '${this.target}' has numeric labels: each number is one class, named in its shortest form: ${shown.join(', ')}`];
  }
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
