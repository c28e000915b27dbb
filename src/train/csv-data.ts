// A user's CSV as training and validation datasets on the current backend: the columns typed (table.ts), the
// target read as classes by name or as numbers (standardised for regression), the features encoded by
// TableEncoder (preprocess.ts) fitted on the training rows. Everything learnt travels in DataInfo, which is saved
// with the model. Kept apart from the digits because reading files needs Node.
import { fromValues } from '../creation.js';
import { TensorDataset } from '../data/dataset.js';
import { StandardScaler, TableEncoder, compareText, trainTestSplit, writtenAs } from '../data/preprocess.js';
import { cellValue, readCsv, type CsvColumn, type CsvTable } from '../data/table.js';
import type { DataInfo, TrainData } from './trainer.js';

export type Task = 'classification' | 'regression';

export interface CsvOptions {
  target: string; task?: Task | 'auto'; valSplit?: number; seed?: number;
  /** Use only these columns as features. */
  features?: string[];
  /** Use every column but these (and the target) as features. */
  ignore?: string[];
  /** Text columns with more distinct values are left out unless named in `features` (default 50). */
  maxCategories?: number;
  /**
   * What an earlier run of this file learnt (its DataInfo, as a checkpoint saves it): the columns are encoded and
   * the target scaled with it, never fitted again, so a resumed run trains on exactly the inputs it started on.
   */
  learnt?: DataInfo;
}

/** The share of rows held out for validation unless told. */
export const CSV_VAL_SPLIT = 0.2;
/** A classification target needs few distinct values; a numeric column with many is taken as regression. */
const MAX_AUTO_CLASSES = 20;
/** More classes than this is not a classification this tool can train. */
export const MAX_CLASSES = 65_536;
/** float32's largest finite value. */
const FLOAT32_MAX = 3.4028234663852886e38;

interface Target { task: Task; classes: string[]; values: Float64Array; notes: string[] }

/**
 * A CSV file as training and validation datasets, and notes on what was done to the data (columns left out,
 * values filled in, rows without a target, numeric labels merged).
 */
export async function csvData(path: string, o: CsvOptions): Promise<TrainData & { notes: string[] }> {
  const { target: name, features, ignore = [], valSplit = CSV_VAL_SPLIT, seed = 0 } = o;
  if (features && o.ignore) throw new Error('CSV: give --features (the columns to use) or --ignore (the columns to leave out), not both');
  if (features?.includes(name) || ignore.includes(name)) {
    throw new Error(`CSV: '${name}' is the target; it cannot also be ${features ? 'in --features' : 'in --ignore'}`);
  }
  const table = await readCsv(path, { columns: features && [...features, name], ignore });
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw new Error(`CSV: target column '${name}' not found; the columns are: ${table.columns.map((c) => c.name).join(', ')}`);
  const target = readTarget(table, column, o.task ?? 'auto');
  const labelled = Int32Array.from({ length: table.n }, (_, i) => i).filter((i) => !Number.isNaN(target.values[i]));
  const dropped = table.n - labelled.length;
  if (labelled.length === 0) throw new Error(`CSV: the target '${name}' has no values (every cell is missing)`);
  if (dropped) {
    const lines = Array.from(table.lines.filter((_, i) => Number.isNaN(target.values[i])).slice(0, 3)).join(', ');
    target.notes.push(`left out ${dropped.toLocaleString('en-US')} row${dropped > 1 ? 's' : ''} without a value in the target '${name}' ` +
      `(line${dropped > 1 ? 's' : ''} ${lines}${dropped > 3 ? ', …' : ''})`);
  }
  const split = trainTestSplit(labelled.length, { testSize: valSplit, seed });
  const train = split.train.map((i) => labelled[i]!), val = split.test.map((i) => labelled[i]!);
  const tooFew = () => new Error(`CSV: ${labelled.length} rows are too few for a training and a validation split (val split ${valSplit})`);
  if (train.length === 0) throw tooFew();
  // The columns first (a stray text, a number beyond float32), then what the split and the target allow.
  const inputs: CsvTable = { ...table, columns: table.columns.filter((c) => c !== column) };
  const { learnt } = o;
  if (learnt && JSON.stringify([learnt.task, learnt.classes]) !== JSON.stringify([target.task, target.classes])) {
    throw new Error(`CSV: the target '${name}' reads otherwise than in the checkpoint's run (${learnt.task}, ${learnt.classes.length} classes); ` +
      'resume with that run\'s file and columns');
  }
  const { encoder, notes } = learnt ? { encoder: TableEncoder.fromJSON(learnt.features!), notes: [] }
    : TableEncoder.fit(inputs, train, { features, maxCategories: o.maxCategories });
  if (val.length === 0) throw tooFew();
  const classify = target.task === 'classification';
  const outputDim = classify ? target.classes.length : 1;
  if (classify && outputDim < 2) throw new Error(`CSV: the target '${name}' has a single class; nothing to learn`);
  const scaler = classify ? null : learnt?.targetScaler ? StandardScaler.fromJSON({ mean: [learnt.targetScaler.mean], scale: [learnt.targetScaler.scale] })
    : new StandardScaler().fit(Array.from(train, (r) => [target.values[r]!]));
  const make = (rows: Int32Array) => {
    const x = fromValues(encoder.transform(inputs, rows), [rows.length, encoder.featureNames.length]);
    try {
      return new TensorDataset(x, classify
        ? fromValues(Int32Array.from(rows, (r) => target.values[r]!), [rows.length], { dtype: 'int32' })
        : fromValues(Float32Array.from(rows, (r) => (target.values[r]! - scaler!.mean![0]!) / scaler!.scale![0]!), [rows.length, 1]));
    } catch (e) {
      x.dispose();
      throw e;
    }
  };
  const trainSet = make(train);
  let valSet: TensorDataset;
  try {
    valSet = make(val);
  } catch (e) {
    trainSet.dispose();
    throw e;
  }
  return {
    info: {
      kind: 'csv', task: target.task, inputDim: encoder.featureNames.length, outputDim, classes: target.classes,
      featureNames: encoder.featureNames, target: name, targetKind: column.kind, features: encoder.toJSON(),
      ...(scaler && { targetScaler: { mean: scaler.mean![0]!, scale: scaler.scale![0]! } }),
    },
    train: trainSet,
    test: valSet,
    notes: [...target.notes, ...notes],
  };
}

/** The first row of a column whose value is present, as 'CSV line n'. */
function firstPresent(table: CsvTable, c: CsvColumn, test: (v: number | string | null) => boolean): number | null {
  for (let i = 0; i < table.n; i++) if (test(cellValue(c, i))) return table.lines[i]!;
  return null;
}

/**
 * The target: classes (text as written, booleans by their words, numbers by value) or regression values; NaN
 * where a row has none. 'auto' is classification for text, booleans and at most 20 distinct integers.
 */
function readTarget(table: CsvTable, c: CsvColumn, task: Task | 'auto'): Target {
  const numbers = c.kind === 'number';
  const resolved: Task = task !== 'auto' ? task
    : !numbers || (c.spellings !== null && c.spellings.size <= MAX_AUTO_CLASSES && [...c.spellings.keys()].every(Number.isInteger))
      ? 'classification' : 'regression';
  if (resolved === 'regression') {
    if (!numbers) {
      const line = firstPresent(table, c, (v) => v !== null && !Number.isNaN(v));
      const i = table.lines.indexOf(line!);
      throw new Error(`CSV line ${line}, column '${c.name}': '${c.kind === 'boolean' ? c.labels[c.values[i]!]! : cellValue(c, i)}' is not a number (regression target)`);
    }
    const i = c.values.findIndex((v) => Math.abs(v) > FLOAT32_MAX);
    if (i >= 0) {
      throw new Error(`CSV line ${table.lines[i]}, column '${c.name}': ${writtenAs(c, i)} is beyond float32's range (±3.4028235e38) and would ` +
        'become Infinity (regression target)');
    }
    return { task: resolved, classes: [], values: c.values, notes: [] };
  }
  if (c.kind === 'boolean') return { task: resolved, classes: [...c.labels], values: c.values, notes: [] };
  if (c.kind === 'string') {
    if (c.distinct > MAX_CLASSES) throw tooManyClasses(c.name, false);
    // Every category occurs in the column: the classes are the categories, sorted.
    const classes = [...c.categories].sort(compareText);
    const index = new Map(classes.map((name, k) => [name, k]));
    const classOf = c.categories.map((name) => index.get(name)!);
    return { task: resolved, classes, values: Float64Array.from(c.codes, (code) => (code < 0 ? NaN : classOf[code]!)), notes: [] };
  }
  // The column's distinct numbers: its spellings' keys where it kept them (at most 64), else from its values.
  const values = c.spellings ? [...c.spellings.keys()].sort((a, b) => a - b) : distinctNumbers(c.values);
  if (values.length > MAX_CLASSES) throw tooManyClasses(c.name, true);
  const index = new Map(values.map((v, k) => [v, k]));
  return {
    task: resolved, classes: values.map(String), values: c.values.map((v) => (Number.isNaN(v) ? NaN : index.get(v)!)),
    notes: c.spellings ? spellingNotes(c.name, values, c.spellings) : [],
  };
}

/** The distinct numbers of a column, ascending (missing ones not counted; −0 is 0). */
function distinctNumbers(values: Float64Array): number[] {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort();
  return Array.from(sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]));
}

function tooManyClasses(name: string, numeric: boolean): Error {
  return new Error(`CSV: the target '${name}' has more than ${MAX_CLASSES.toLocaleString('en-US')} distinct values, too many classes` +
    `${numeric ? '; for a numeric target, ask for regression' : ''}`);
}

/** Which numeric labels were written otherwise than their class name (merged or renamed). */
function spellingNotes(name: string, numbers: number[], spellings: Map<number, Set<string>>): string[] {
  const changed = numbers.flatMap((v) => {
    const written = [...spellings.get(v)!].sort();
    return written.length === 1 && written[0] === String(v) ? [] : [`${v} (written ${written.join(', ')})`];
  });
  if (!changed.length) return [];
  const shown = changed.length > 10 ? [...changed.slice(0, 10), `and ${changed.length - 10} more`] : changed;
  return [`the target '${name}' has numeric labels: each number is one class, named in its shortest form: ${shown.join(', ')}`];
}
