// (b) An unmodified tf.layers model — tf.sequential dense 784-128-10, categorical cross-entropy, adam, accuracy,
// validationSplit — fit, evaluated and used to predict on the embedded digits, on the 'wasmgrad' backend.
//   node examples/tfjs-dense-fit.mjs [--backend wasmgrad|cpu|wasm] [--epochs 3] [--batch-size 64]
import * as tf from '@tensorflow/tfjs';
import 'wasmgrad/tfjs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { digitTensors } from './tfjs-mlp.mjs';

/** The model, its weights drawn from seeded initialisers (the same numbers on every backend). */
export function denseModel() {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/**
 * Fits the model (shuffle off unless asked, so runs on different backends see the same batches) and returns the
 * fit history, the test [loss, accuracy] from evaluate and the predicted classes of the first test digits.
 */
export async function fitDense({ backend = 'wasmgrad', epochs = 3, batchSize = 64, shuffle = false, trainSize, data, log = () => {} } = {}) {
  await tf.setBackend(backend);
  const { train, test } = data ?? await digitTensors();
  const n = trainSize ?? train.x.shape[0];
  const x = train.x.slice([0, 0], [n, 784]);
  const y = train.y.slice([0, 0], [n, 10]);
  const model = denseModel();
  const history = await model.fit(x, y, {
    epochs, batchSize, shuffle, validationSplit: 0.1, verbose: 0,
    callbacks: { onEpochEnd: (epoch, logs) => log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}, ` +
      `accuracy ${logs.acc.toFixed(4)}, validation accuracy ${logs.val_acc.toFixed(4)}`) },
  });
  const [loss, acc] = model.evaluate(test.x, test.y, { batchSize: 256 });
  const evaluation = [loss.dataSync()[0], acc.dataSync()[0]];
  const predicted = tf.tidy(() => Array.from(model.predict(test.x.slice([0, 0], [16, 784])).argMax(1).dataSync()));
  tf.dispose([loss, acc, x, y]);
  model.optimizer.dispose(); // its moments: model.dispose() frees only an optimizer it made from a name
  model.dispose();
  if (!data) tf.dispose([train.x, train.y, test.x, test.y]);
  return { history: history.history, evaluation, predicted };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { backend: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' } } });
  const t0 = performance.now();
  const { evaluation } = await fitDense({ backend: values.backend, epochs: Number(values.epochs ?? 3),
    batchSize: Number(values['batch-size'] ?? 64), shuffle: true, log: console.log });
  console.log(`backend ${tf.getBackend()}: test loss ${evaluation[0].toFixed(4)}, test accuracy ` +
    `${(100 * evaluation[1]).toFixed(2)}% in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
