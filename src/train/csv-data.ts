// A user's CSV as training and validation datasets on the current backend. Kept apart from the digits because
// csv-parse needs Node's Buffer, which browsers do not have.
import { fromValues } from '../creation.js';
import { fitStandardizer, readCsv, splitRows, standardize, type Task } from '../data/csv.js';
import { TensorDataset } from '../data/dataset.js';
import type { TrainData } from './trainer.js';

export interface CsvOptions { target: string; task?: Task | 'auto'; valSplit?: number; seed?: number }

/**
 * A CSV file as training and validation datasets (features standardised with the training rows' statistics),
 * and notes on what was done to its labels.
 */
export async function csvData(path: string, o: CsvOptions): Promise<TrainData & { notes: string[] }> {
  const table = await readCsv(path, o.target, o.task ?? 'auto');
  const { train, val } = splitRows(table.n, o.valSplit ?? 0.2, o.seed ?? 0);
  if (train.length === 0 || val.length === 0) {
    throw new Error(`CSV: ${table.n} rows are too few for a training and a validation split (val split ${o.valSplit ?? 0.2})`);
  }
  const standardizer = fitStandardizer(table, train);
  const classify = table.task === 'classification';
  const outputDim = classify ? table.classes.length : 1;
  if (classify && outputDim < 2) throw new Error(`CSV: the target '${o.target}' has a single class; nothing to learn`);
  const make = (rows: Int32Array) => new TensorDataset(
    fromValues(standardize(table, rows, standardizer), [rows.length, table.d]),
    classify
      ? fromValues(Int32Array.from(rows, (r) => table.targets[r]!), [rows.length], { dtype: 'int32' })
      : fromValues(Float32Array.from(rows, (r) => table.targets[r]!), [rows.length, 1]),
  );
  return {
    info: { kind: 'csv', task: table.task, inputDim: table.d, outputDim, classes: table.classes,
      featureNames: table.featureNames, target: o.target, standardizer },
    train: make(train),
    test: make(val),
    notes: table.notes,
  };
}
