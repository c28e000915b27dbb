// The embedded digits as datasets on the current backend (CSV data: csv-data.ts, Node only).
import { fromValues } from '../creation.js';
import { TensorDataset } from '../data/dataset.js';
import { loadDigits, toFloat, type Digits, type DigitSplit } from '../data/digits.js';
import type { TrainData } from './trainer.js';

function digitDataset(s: DigitSplit): TensorDataset {
  return new TensorDataset(
    fromValues(toFloat(s.images), [s.n, s.images.length / s.n]),
    fromValues(Int32Array.from(s.labels), [s.n], { dtype: 'int32' }),
  );
}

export async function digitsData(digits?: Digits): Promise<TrainData> {
  const d = digits ?? (await loadDigits());
  return {
    info: { kind: 'digits', task: 'classification', inputDim: d.rows * d.cols, imageShape: [1, d.rows, d.cols], outputDim: 10,
      classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
    train: digitDataset(d.train),
    test: digitDataset(d.test),
  };
}
