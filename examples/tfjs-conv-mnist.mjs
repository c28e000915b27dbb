// A convnet on the embedded handwritten digits, written and trained with plain TensorFlow.js (tf.layers,
// model.fit, adam, categoricalCrossentropy): importing 'wasmgrad/tfjs' and choosing the 'wasmgrad' backend runs
// every convolution, pooling and gradient on wasmgrad's WebAssembly kernels.
//
//   node examples/tfjs-conv-mnist.mjs            (after npm run build)
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import 'wasmgrad/tfjs';
import { loadDigits } from 'wasmgrad';

/** The model: two 3×3 convolutions with max pooling, dropout, a dense layer and a softmax over the 10 digits. */
export function buildModel({ seed } = {}) {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.dropout({ rate: 0.25, seed }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 64, activation: 'relu' }));
  model.add(tf.layers.dropout({ rate: 0.5, seed }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  // adam by name: the model owns the optimizer, and model.dispose() frees its state too
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** n digits of a split as tensors: images [n, 28, 28, 1] in [0, 1], one-hot labels [n, 10]. */
export function digitTensors(split, n = split.n) {
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = split.images[i] / 255;
  return tf.tidy(() => ({
    x: tf.tensor4d(images, [n, 28, 28, 1]),
    y: tf.oneHot(tf.tensor1d(split.labels.subarray(0, n), 'int32'), 10),
  }));
}

/** Trains on `trainSamples` digits for `epochs` and returns the losses per epoch and the test accuracy. */
export async function trainDigits({ trainSamples = 8000, testSamples = 2000, epochs = 3, batchSize = 64, log = console.log } = {}) {
  await tf.setBackend('wasmgrad');
  const { train, test } = await loadDigits();
  const data = digitTensors(train, trainSamples);
  const held = digitTensors(test, testSamples);
  const model = buildModel();
  try {
    const start = performance.now();
    const history = await model.fit(data.x, data.y, {
      epochs, batchSize, shuffle: true,
      callbacks: { onEpochEnd: (epoch, logs) => log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}, accuracy ${logs.acc.toFixed(4)}`) },
    });
    const seconds = (performance.now() - start) / 1000;
    const [loss, accuracy] = model.evaluate(held.x, held.y, { batchSize: 500 });
    const testAccuracy = (await accuracy.data())[0];
    tf.dispose([loss, accuracy]);
    log(`${Math.round((epochs * trainSamples) / seconds)} samples/s; test accuracy ${(100 * testAccuracy).toFixed(2)}%`);
    return { losses: history.history.loss, testAccuracy };
  } finally {
    model.dispose();
    tf.dispose([data.x, data.y, held.x, held.y]);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await trainDigits();
