// Regression on a real CSV with the library, step by step as `wasmgrad train --data <file> --target <column>` does it:
// read the file into typed columns, encode the features (fill gaps, standardise numbers, one-hot text), standardise
// the target, train an MLP, and report the held-out rows' RMSE, MAE and R² in the target's units.
//   node examples/regression-csv.mjs [--file data.csv --target column] [--epochs 60]
// By default: life expectancy ('health') from income, population and region, Gapminder's data as the vega-datasets
// npm package ships it (CC BY 4.0, Gapminder Foundation).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DataLoader, init, manualSeed, nn, noGrad, optim, readCsv, StandardScaler, TableEncoder, tensor, TensorDataset, tidy, trainTestSplit,
} from 'wasmgrad';

export const GAPMINDER = join(dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..', 'data', 'gapminder-health-income.csv');

/** Trains and returns the held-out metrics, in the target's units, and what the encoder did to the columns. */
export async function trainRegression({ file = GAPMINDER, target = 'health', epochs = 60, seed = 0, log = () => {} } = {}) {
  await init();
  manualSeed(seed);

  // 1. Typed columns; rows without a target cannot teach anything.
  const table = await readCsv(file);
  const y = table.columns.find((c) => c.name === target);
  if (!y || y.kind !== 'number') throw new Error(`${file} has no numeric column '${target}'`);
  const labelled = Int32Array.from({ length: table.n }, (_, i) => i).filter((i) => !Number.isNaN(y.values[i]));

  // 2. A seeded split, then everything fitted on the training rows only.
  const split = trainTestSplit(labelled.length, { testSize: 0.2, seed });
  const train = split.train.map((i) => labelled[i]), test = split.test.map((i) => labelled[i]);
  const features = { ...table, columns: table.columns.filter((c) => c !== y) };
  const { encoder, notes } = TableEncoder.fit(features, train);
  notes.forEach((n) => log(`note: ${n}`));
  const scaler = new StandardScaler().fit(Array.from(train, (r) => [y.values[r]]));
  const [mean, scale] = [scaler.mean[0], scaler.scale[0]];
  const d = encoder.featureNames.length;
  const dataset = (rows) => new TensorDataset(
    tensor(encoder.transform(features, rows), { shape: [rows.length, d] }),
    tensor(Float32Array.from(rows, (r) => (y.values[r] - mean) / scale), { shape: [rows.length, 1] }),
  );
  const trainSet = dataset(train), testSet = dataset(test);

  // 3. An MLP trained on the standardised target with the mean squared error.
  const model = new nn.Sequential(new nn.Linear(d, 32), new nn.ReLU(), new nn.Linear(32, 1));
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const loader = new DataLoader(trainSet, { batchSize: 32, shuffle: true, seed });
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (const { x, y: t } of loader) {
      tidy(() => {
        opt.zeroGrad();
        const loss = nn.mseLoss(model(x), t);
        loss.backward();
        opt.step();
      });
    }
  }

  // 4. The held-out rows, back in the target's units.
  model.eval();
  const predicted = tidy(() => noGrad(() => Array.from(model(testSet.features).data(), (v) => v * scale + mean)));
  const truth = Array.from(test, (r) => y.values[r]);
  const errors = predicted.map((p, i) => p - truth[i]);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const truthMean = avg(truth);
  const metrics = {
    rmse: Math.sqrt(avg(errors.map((e) => e * e))),
    mae: avg(errors.map(Math.abs)),
    r2: 1 - errors.reduce((a, e) => a + e * e, 0) / truth.reduce((a, t) => a + (t - truthMean) ** 2, 0),
    baselineRmse: Math.sqrt(avg(truth.map((t) => (t - truthMean) ** 2))),
  };
  model.dispose();
  opt.disposeState();
  trainSet.dispose();
  testSet.dispose();
  return { metrics, notes, featureNames: encoder.featureNames, rows: { train: train.length, test: test.length } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { file: { type: 'string' }, target: { type: 'string' }, epochs: { type: 'string', default: '60' } } });
  const { metrics, rows, featureNames } = await trainRegression({
    file: values.file, target: values.target, epochs: Number(values.epochs), log: console.log,
  });
  console.log(`${rows.train} training / ${rows.test} held-out rows, ${featureNames.length} features`);
  console.log(`held-out RMSE ${metrics.rmse.toFixed(3)} (always guessing the mean: ${metrics.baselineRmse.toFixed(3)}), ` +
    `MAE ${metrics.mae.toFixed(3)}, R² ${metrics.r2.toFixed(3)}`);
}
