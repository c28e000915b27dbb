// (a) An MLP written with TensorFlow.js ops, trained on the embedded digits on the 'wasmgrad' backend.
//   node examples/tfjs-mlp.mjs [--backend wasmgrad|cpu|wasm] [--optimizer adam|sgd] [--steps 300]
// Nothing here is wasmgrad-specific but the import and tf.setBackend: the same code runs on any tfjs backend.
import * as tf from '@tensorflow/tfjs';
import 'wasmgrad/tfjs';
import { loadDigits, toFloat } from 'wasmgrad';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The digits as tfjs tensors: images [n, 784] in [0, 1] and one-hot labels [n, 10]. The file stores each split
 * class by class, so the rows are put in one fixed random order (the same on every run and backend).
 */
export async function digitTensors() {
  const { train, test } = await loadDigits();
  const split = (s) => {
    const order = shuffled(s.n);
    const images = new Uint8Array(s.n * 784);
    order.forEach((from, i) => images.set(s.images.subarray(from * 784, (from + 1) * 784), i * 784));
    return {
      x: tf.tensor2d(toFloat(images), [s.n, 784]),
      y: tf.tidy(() => tf.oneHot(tf.tensor1d(order.map((from) => s.labels[from]), 'int32'), 10).toFloat()),
    };
  };
  return { train: split(train), test: split(test) };
}

/** 0..n−1 in a seeded random order (Fisher–Yates with a small LCG). */
function shuffled(n, seed = 1) {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** A variable holding `initial`, which is disposed (tf.variable keeps the data, not the tensor). */
export function variable(initial) {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/**
 * Trains a 784-128-10 ReLU MLP for `steps` batches (in order, from the first image) with tf.train.adam or sgd and
 * optimizer.minimize, and returns the loss of each step and the test accuracy. The weights start from seeded
 * normal draws, so every backend starts from the same numbers.
 */
export async function trainMlp({ backend = 'wasmgrad', optimizer = 'adam', steps = 300, batchSize = 64, data, log = () => {} } = {}) {
  await tf.setBackend(backend);
  const { train, test } = data ?? await digitTensors();
  const w1 = variable(tf.randomNormal([784, 128], 0, Math.sqrt(2 / 784), 'float32', 1));
  const b1 = variable(tf.zeros([128]));
  const w2 = variable(tf.randomNormal([128, 10], 0, Math.sqrt(2 / 128), 'float32', 2));
  const b2 = variable(tf.zeros([10]));
  const model = (x) => x.matMul(w1).add(b1).relu().matMul(w2).add(b2);
  const opt = optimizer === 'sgd' ? tf.train.sgd(0.1) : tf.train.adam(1e-3);

  const losses = [];
  const batches = Math.floor(train.x.shape[0] / batchSize);
  for (let step = 0; step < steps; step++) {
    const at = (step % batches) * batchSize;
    const loss = tf.tidy(() => {
      const x = train.x.slice([at, 0], [batchSize, 784]);
      const y = train.y.slice([at, 0], [batchSize, 10]);
      return opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model(x)), true);
    });
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    if (step % 50 === 0) log(`step ${step}: loss ${losses[step].toFixed(4)}`);
  }
  const accuracy = tf.tidy(() => model(test.x).argMax(1).equal(test.y.argMax(1)).mean().dataSync()[0]);
  tf.dispose([w1, b1, w2, b2]);
  opt.dispose();
  if (!data) tf.dispose([train.x, train.y, test.x, test.y]);
  return { losses, accuracy };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { backend: { type: 'string' }, optimizer: { type: 'string' }, steps: { type: 'string' } } });
  const t0 = performance.now();
  const { losses, accuracy } = await trainMlp({ ...values, steps: Number(values.steps ?? 300), log: console.log });
  console.log(`backend ${tf.getBackend()}: loss ${losses[0].toFixed(4)} → ${losses.at(-1).toFixed(4)}, ` +
    `test accuracy ${(100 * accuracy).toFixed(2)}% in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
