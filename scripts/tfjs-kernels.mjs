// Which TensorFlow.js kernels the three scenarios of issue 15 call: (a) an MLP written with tf ops trained by
// tf.train.sgd / adam through minimize and variableGrads, (b) a tf.sequential dense 784-128-10 fit (categorical
// cross-entropy, adam, accuracy, validationSplit) with predict and evaluate, (c) a small conv MNIST model fit
// (Conv2D, MaxPool, Dropout, Dense). Each runs on 'logged-cpu': tfjs-backend-cpu's own kernels, each wrapped to
// record its name. Prints each scenario's sorted kernel list; `--json` writes the lists the backend, its tests and
// the docs cite (test/tfjs/scenario-kernels.json; test/tfjs/kernel-lists.test.ts checks that they are current).
//   node scripts/tfjs-kernels.mjs [--json > test/tfjs/scenario-kernels.json]
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadDigits, toFloat } from '../dist/index.js';

const seen = new Set();
for (const k of tf.getKernelsForBackend('cpu')) {
  tf.registerKernel({
    ...k,
    backendName: 'logged-cpu',
    kernelFunc: (args) => {
      seen.add(k.kernelName);
      return k.kernelFunc(args);
    },
  });
}
tf.registerBackend('logged-cpu', () => new MathBackendCPU());
await tf.setBackend('logged-cpu');

const { train } = await loadDigits();
const N = 128;
const images = toFloat(train.images.subarray(0, N * 784));
const labels = Array.from(train.labels.subarray(0, N));
const x = tf.tensor2d(images, [N, 784]);
const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();

/** (a) an MLP from tf ops: minimize with sgd and adam, then variableGrads and applyGradients. */
function mlp() {
  const w1 = tf.variable(tf.randomNormal([784, 64], 0, 0.05));
  const b1 = tf.variable(tf.zeros([64]));
  const w2 = tf.variable(tf.randomNormal([64, 10], 0, 0.05));
  const b2 = tf.variable(tf.zeros([10]));
  const loss = () => tf.losses.softmaxCrossEntropy(y, x.matMul(w1).add(b1).relu().matMul(w2).add(b2));
  for (const opt of [tf.train.sgd(0.1), tf.train.adam(1e-3)]) {
    for (let i = 0; i < 2; i++) opt.minimize(loss);
    const { value, grads } = tf.variableGrads(loss);
    opt.applyGradients(grads);
    tf.dispose([value, grads]);
    opt.dispose();
  }
  tf.dispose([w1, b1, w2, b2]);
}

/** (b) tf.sequential dense 784-128-10: fit with validationSplit and accuracy, predict, evaluate. */
async function denseFit() {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(x, y, { batchSize: 64, epochs: 1, validationSplit: 0.2, verbose: 0 });
  tf.dispose(model.predict(x));
  tf.dispose(model.evaluate(x, y, { batchSize: 128 }));
  model.dispose();
}

/** (c) a small conv MNIST model: Conv2D, MaxPool, Dropout, Dense. */
async function convFit() {
  const model = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dropout({ rate: 0.25 }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const xi = x.reshape([N, 28, 28, 1]);
  await model.fit(xi, y, { batchSize: 64, epochs: 1, validationSplit: 0.2, verbose: 0 });
  tf.dispose(model.predict(xi));
  tf.dispose(model.evaluate(xi, y, { batchSize: 128 }));
  tf.dispose(xi);
  model.dispose();
}

const lists = {};
for (const [name, run] of [['mlp', mlp], ['denseFit', denseFit], ['convFit', convFit]]) {
  seen.clear();
  await run();
  lists[name] = [...seen].sort();
}
tf.dispose([x, y]);

if (process.argv.includes('--json')) console.log(JSON.stringify(lists, null, 2));
else for (const [name, list] of Object.entries(lists)) console.log(`${name} (${list.length}): ${list.join(', ')}`);
