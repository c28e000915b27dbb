// A CSV's records as typed columns, built as the records stream in: each cell is kept as a number (8 bytes) or a
// code into its column's categories (4 bytes), in typed arrays outside the JavaScript heap, never as the text of the
// file or as JavaScript arrays (a 300,000-row, 42-column file is read with a 16 MB heap in the tests). A column is typed
// when the file ends: numbers, booleans (true/false, yes/no) or text; missing cells ('', NA, NaN, null, ?) are
// counted and kept as missing (NaN or null). Pure TypeScript: the file is read by csv.ts (Node), which loads this.
import { isNode } from '../platform.js';

/** The cells read as missing values. `None` is not one: it is a category in real data (no damage, no symptom). */
export const MISSING_CELLS: readonly string[] = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '?'];
const MISSING = new Set(MISSING_CELLS);
/** Whether a (trimmed) cell is a missing value. */
export const isMissing = (cell: string): boolean => MISSING.has(cell);

/** Decimal numbers only ('1', '-2.5', '.5', '1e-3'): not '0x10', 'Infinity' or '', which Number() accepts. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell's number, or NaN when it is not a decimal number. */
export function numberOf(cell: string): number {
  return DECIMAL.test(cell) ? Number(cell) : NaN;
}

/** The pairs of words a boolean column is written with, false first; compared without case. */
const BOOLEAN_WORDS: readonly [string, string][] = [['false', 'true'], ['no', 'yes']];

/** 1 or 0 for a cell of a boolean column written with `labels` (false, true; any case), NaN otherwise. */
export function booleanOf(cell: string, labels: readonly [string, string]): number {
  const word = cell.toLowerCase();
  return word === labels[1].toLowerCase() ? 1 : word === labels[0].toLowerCase() ? 0 : NaN;
}

interface ColumnBase {
  /** The column's name in the header. */
  name: string;
  /** Missing cells ('', NA, N/A, NaN, nan, null, NULL, ?). */
  missing: number;
}
/** Numbers; NaN where a cell is missing. */
export interface NumberColumn extends ColumnBase {
  /** Numbers. */
  kind: 'number';
  /** One per row, NaN where missing. */
  values: Float64Array;
  /**
   * How each distinct number was written ('1', '1.0', '01'), for a column of at most 64 distinct numbers (class
   * labels; a note names the spellings merged into one class); null beyond, where it would hold every number.
   */
  spellings: Map<number, Set<string>> | null;
}
/** true/false or yes/no in any case, as 1 and 0; NaN where a cell is missing. */
export interface BooleanColumn extends ColumnBase {
  /** Booleans. */
  kind: 'boolean';
  /** One per row: 1 (true), 0 (false) or NaN (missing). */
  values: Float64Array;
  /** The words for false and true, as first written in the file. */
  labels: [string, string];
}
/**
 * Text, as a code per row into the column's categories (−1 where a cell is missing; `cellValue` gives a row's
 * text). Numbers among the texts are named by value ('1.0' → '1').
 */
export interface StringColumn extends ColumnBase {
  /** Text. */
  kind: 'string';
  /** One per row: an index into `categories`, or −1 where the cell is missing. */
  codes: Int32Array;
  /** The distinct values, in the order they first appear (texts, then numbers among them by value). */
  categories: string[];
  /** Distinct values (missing cells not counted): categories.length. */
  distinct: number;
  /** Where a column of texts also holds numbers: its first text and its first number, with their lines. */
  mixed: {
    /** The first text. */
    text: CsvCell;
    /** The first number. */
    number: CsvCell;
  } | null;
}
/** A typed column of a CSV: numbers, booleans or text (`kind` says which). */
export type CsvColumn = NumberColumn | BooleanColumn | StringColumn;

/**
 * Row i of a column as a value: a number (a boolean as 1 or 0; NaN where missing) or a text (null where missing).
 *
 * @example
 * ```ts
 * const table = await readCsv('penguins.csv');
 * const species = table.columns.find((c) => c.name === 'species')!;
 * console.log(cellValue(species, 0)); // 'Adelie'
 * ```
 */
export function cellValue(column: CsvColumn, i: number): number | string | null {
  if (column.kind !== 'string') return column.values[i]!;
  const code = column.codes[i]!;
  return code < 0 ? null : column.categories[code]!;
}

/** A CSV read into typed columns (see `readCsv`). */
export interface CsvTable {
  /** Data rows (the header is not one). */
  n: number;
  /** The columns read, in the file's order (or in `columns` order). */
  columns: CsvColumn[];
  /** The line of the file each row ends on (for messages). */
  lines: Int32Array;
}

/** Which columns to read: only `columns` (in that order), or all but `ignore`. */
export interface ReadCsvOptions {
  /** Read only these columns, in this order. */
  columns?: string[];
  /** Read every column but these. */
  ignore?: string[];
}

/**
 * Reads a CSV file (a header row, then records) into typed columns, streaming it record by record: its size is
 * not bounded by V8's string limit, and its text is never held. Each column is numbers, booleans or text, with
 * missing cells (`''`, `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`, `?`) as NaN or null. Node only.
 *
 * @example
 * ```ts
 * const table = await readCsv('penguins.csv', { ignore: ['id'] });
 * for (const c of table.columns) console.log(c.name, c.kind, c.missing);
 * ```
 * @throws `CSV: …` naming the line and column of a problem: a short row, duplicate column names, a column of
 * numbers with a stray text, an unknown name in `columns` or `ignore`.
 */
export async function readCsv(path: string, options: ReadCsvOptions = {}): Promise<CsvTable> {
  if (!isNode()) throw new Error('readCsv: reads files, in Node; in a browser, parse the text and build the columns yourself');
  // Loaded by a computed name so that bundlers building for browsers never see csv-parse or node:fs.
  const specifier = './csv.js';
  const { eachRecord } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as typeof import('./csv.js');
  const table = new TableBuilder(options);
  await eachRecord(path, (record, line) => table.add(record, line));
  return table.finish();
}

/** Entries per chunk of a Column: 64K (512 KB of numbers). */
const CHUNK = 65_536;

/**
 * A typed array that grows as rows are added, in fixed chunks: the row count of a streamed file is known only at
 * the end, and doubling one array would hold the old and the new (3× the data) at each growth, and up to twice
 * the data at the end. `finish` copies the chunks into one array of the exact length.
 */
class Chunked<A extends Float64Array | Int32Array> {
  length = 0;
  private readonly chunks: A[] = [];
  constructor(private readonly make: (n: number) => A) {}
  push(v: number): void {
    const at = this.length++ % CHUNK;
    if (at === 0) this.chunks.push(this.make(CHUNK));
    this.chunks.at(-1)![at] = v;
  }
  finish(): A {
    const out = this.make(this.length);
    this.chunks.forEach((c, k) => out.set(k === this.chunks.length - 1 ? c.subarray(0, this.length - k * CHUNK) : c, k * CHUNK));
    this.chunks.length = 0;
    return out;
  }
}
const numbers = () => new Chunked((n) => new Float64Array(n));
const ints = () => new Chunked((n) => new Int32Array(n));

/** A cell of a file: its text and the line it is on. */
export interface CsvCell {
  /** The line of the file. */
  line: number;
  /** The cell, trimmed. */
  text: string;
}
/** A column keeps its numbers' spellings up to this many distinct numbers (beyond, it is no column of labels). */
export const MAX_SPELLINGS = 64;

/**
 * One column as it streams in: numbers as numbers, texts as codes into a dictionary, missing cells counted. The
 * codes start at the first text (a column of numbers keeps only its numbers).
 */
class ColumnBuilder {
  readonly numbers = numbers();
  codes: Chunked<Int32Array> | null = null;
  readonly texts = new Map<string, number>();
  spellings: Map<number, Set<string>> | null = new Map();
  missing = 0;
  firstNumber: CsvCell | null = null;
  firstText: CsvCell | null = null;

  constructor(readonly name: string) {}

  add(cell: string, line: number): void {
    if (isMissing(cell)) {
      this.missing++;
      this.numbers.push(NaN);
      this.codes?.push(-1);
      return;
    }
    const v = numberOf(cell);
    this.numbers.push(v);
    if (Number.isNaN(v)) {
      if (!this.codes) {
        this.firstText = { line, text: cell };
        this.codes = ints();
        for (let i = 1; i < this.numbers.length; i++) this.codes.push(-1);
      }
      if (!this.texts.has(cell)) this.texts.set(cell, this.texts.size);
      this.codes.push(this.texts.get(cell)!);
      return;
    }
    this.firstNumber ??= { line, text: cell };
    this.codes?.push(-1);
    if (this.spellings) {
      const seen = this.spellings.get(v) ?? new Set();
      this.spellings.set(v, seen.add(cell));
      if (this.spellings.size > MAX_SPELLINGS) this.spellings = null;
    }
  }

  finish(): CsvColumn {
    const { name, missing, firstNumber, firstText } = this;
    const values = this.numbers.finish();
    if (!this.codes || firstText === null) return { name, kind: 'number', values, missing, spellings: this.spellings };
    const words = [...this.texts.keys()];
    this.texts.clear();
    const pair = BOOLEAN_WORDS.find((p) => words.every((w) => p.includes(w.toLowerCase())));
    const codes = this.codes.finish();
    if (pair && firstNumber === null) {
      const spelt = (word: string) => words.find((w) => w.toLowerCase() === word) ?? word;
      const labels: [string, string] = [spelt(pair[0]), spelt(pair[1])];
      const truth = words.map((w) => booleanOf(w, labels));
      for (let i = 0; i < codes.length; i++) values[i] = codes[i]! < 0 ? NaN : truth[codes[i]!]!;
      return { name, kind: 'boolean', values, labels, missing };
    }
    // Numbers among the texts become categories named by value, after the texts: a text is never a number's
    // spelling (it did not read as a number), so the two never coincide.
    const numberCodes = new Map<number, number>();
    for (let i = 0; i < codes.length; i++) {
      const v = values[i]!;
      if (codes[i]! >= 0 || Number.isNaN(v)) continue;
      let code = numberCodes.get(v);
      if (code === undefined) numberCodes.set(v, code = words.length + numberCodes.size);
      codes[i] = code;
    }
    const categories = [...words, ...[...numberCodes.keys()].map(String)];
    return {
      name, kind: 'string', codes, categories, missing, distinct: categories.length,
      mixed: firstNumber && { text: firstText, number: firstNumber },
    };
  }
}

/** Builds a CsvTable from records (the header first), each cell trimmed. */
export class TableBuilder {
  private columns: ColumnBuilder[] | null = null;
  /** For each column read, its position in a record. */
  private positions: number[] = [];
  private readonly lines = ints();

  constructor(private readonly options: ReadCsvOptions = {}) {}

  add(cells: string[], line: number): void {
    if (!this.columns) return this.setHeader(cells);
    this.positions.forEach((p, i) => this.columns![i]!.add(cells[p]!, line));
    this.lines.push(line);
  }

  private setHeader(header: string[]): void {
    const positions = new Map<string, number[]>();
    header.forEach((name, i) => positions.set(name, [...(positions.get(name) ?? []), i + 1]));
    const repeated = [...positions].filter(([, at]) => at.length > 1);
    if (repeated.length) {
      const list = repeated.map(([name, at]) => `'${name}' (columns ${at.slice(0, -1).join(', ')} and ${at.at(-1)})`);
      throw new Error(`CSV: duplicate column names: ${list.join(', ')}; give each column its own name`);
    }
    const { columns, ignore = [] } = this.options;
    const unknown = [...(columns ?? []), ...ignore].filter((name) => !positions.has(name));
    if (unknown.length) {
      throw new Error(`CSV: no column ${unknown.map((n) => `'${n}'`).join(', ')}; the columns are: ${header.join(', ')}`);
    }
    const names = columns ?? header.filter((name) => !ignore.includes(name));
    this.positions = names.map((name) => header.indexOf(name));
    this.columns = names.map((name) => new ColumnBuilder(name));
  }

  finish(): CsvTable {
    if (!this.columns || this.lines.length === 0) throw new Error('CSV: needs a header row and at least one data row');
    return { n: this.lines.length, columns: this.columns.map((c) => c.finish()), lines: this.lines.finish() };
  }
}
