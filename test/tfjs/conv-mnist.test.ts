// Scenario (c) of the tfjs backend: examples/tfjs-conv-mnist.mjs, a tf.layers convnet (Conv2D, MaxPooling2D, Dropout,
// Flatten, Dense, adam, categoricalCrossentropy) trained by model.fit on the 'wasmgrad' backend exactly as a user
// writes it. It imports 'wasmgrad/tfjs' and 'wasmgrad' as a user does (under vitest they resolve to src/, as the tests' imports).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs example, without types
import { buildModel, digitTensors, trainDigits } from '../../examples/tfjs-conv-mnist.mjs';
import { loadDigits } from '../../src/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

type Model = tf.Sequential;

describe('examples/tfjs-conv-mnist.mjs: a tf.layers convnet trained by model.fit on wasmgrad', () => {
  it('learns: the loss falls and the test accuracy is far above chance after two short epochs', async () => {
    const logs: string[] = [];
    await useWasmgrad();
    const { losses, testAccuracy } = await expectNoTfLeaks((): Promise<{ losses: number[]; testAccuracy: number }> =>
      trainDigits({ trainSamples: 1024, testSamples: 500, epochs: 2, batchSize: 32, log: (s: string) => logs.push(s) }));
    expect(losses).toHaveLength(2);
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(logs.at(-1)).toMatch(/samples\/s; test accuracy/);
  });

  it('takes the steps tfjs-backend-cpu takes from the same weights, dropout masks and batches (float32 tolerance)', async () => {
    const { train } = await loadDigits();
    /** Three adam steps of model.fit (batches of 16 in order, seeded dropout) from `start`; the weights after and the loss. */
    const steps = async (backend: string, start: Float32Array[] | null) => {
      await tf.setBackend(backend);
      const model: Model = buildModel({ seed: 7 });
      if (start) tf.tidy(() => model.setWeights(start.map((w, i) => tf.tensor(w, model.getWeights()[i]!.shape))));
      const initial = model.getWeights().map((w) => w.dataSync() as Float32Array);
      const { x, y } = digitTensors(train, 48);
      const history = await model.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false });
      const after = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
      model.dispose();
      tf.dispose([x, y]);
      return { initial, after, loss: history.history.loss[0] as number };
    };
    const cpu = await steps('cpu', null);
    await useWasmgrad();
    const ours = await expectNoTfLeaks(() => steps('wasmgrad', cpu.initial));
    expect(ours.loss).toBeCloseTo(cpu.loss, 5);
    ours.after.forEach((w, i) => {
      expect(w.length).toBe(cpu.after[i]!.length);
      // adam moves each weight by about lr = 1e-3 a step: 1e-5 is float32 summation noise, not a different step
      const worst = w.reduce((m, v, j) => Math.max(m, Math.abs(v - cpu.after[i]![j]!)), 0);
      expect(worst, `weight ${i}`).toBeLessThan(1e-5);
    });
    await tf.setBackend('cpu');
  });
});
