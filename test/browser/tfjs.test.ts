// The 'wasmgrad' TensorFlow.js backend in Chromium: it registers, and (a) an MLP written with tf ops trains on it
// with tf.train.adam through minimize, giving tfjs-backend-cpu's losses from the same seeded weights.
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { BACKEND_NAME, type WasmgradBackend } from '../../src/tfjs/index.js';

/** Two classes of 20-dim points split by a seeded hyperplane; an MLP 20-32-2 trained for `steps` adam steps. */
async function train(backend: string, steps: number): Promise<number[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  return tf.tidy(() => {
    const x = tf.randomNormal([256, 20], 0, 1, 'float32', 7);
    const w = tf.randomNormal([20, 1], 0, 1, 'float32', 8);
    const y = tf.oneHot(x.matMul(w).reshape([256]).greater(0).toInt(), 2).toFloat();
    const vars = [tf.randomNormal([20, 32], 0, 0.3, 'float32', 1), tf.zeros([32]), tf.randomNormal([32, 2], 0, 0.3, 'float32', 2),
      tf.zeros([2])].map((t) => tf.variable(t));
    const [w1, b1, w2, b2] = vars as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, x.matMul(w1).add(b1).relu().matMul(w2).add(b2)), true)!;
      losses.push(loss.dataSync()[0]!);
    }
    opt.dispose();
    tf.dispose(vars);
    return losses;
  });
}

it("registers in Chromium and trains an MLP from tf ops as tfjs-backend-cpu does", async () => {
  expect(tf.engine().registryFactory[BACKEND_NAME]).toBeDefined();
  expect(await tf.setBackend(BACKEND_NAME)).toBe(true);
  const backend = tf.backend() as WasmgradBackend;
  const before = { tensors: tf.memory().numTensors, bytes: backend.wasm.memory().bytesInUse };
  const ours = await train(BACKEND_NAME, 60);
  expect({ tensors: tf.memory().numTensors, bytes: backend.wasm.memory().bytesInUse }).toEqual(before);
  expect(ours[59]!).toBeLessThan(ours[0]! / 3);
  const cpu = await train('cpu', 8);
  ours.slice(0, 8).forEach((l, i) => expect(Math.abs(l - cpu[i]!) / cpu[i]!).toBeLessThan(1e-5));
});
