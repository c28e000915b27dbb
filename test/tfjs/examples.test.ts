// The examples (a) examples/tfjs-mlp.mjs and (b) examples/tfjs-dense-fit.mjs: they train on the embedded digits on
// the 'wasmgrad' backend, agree with tfjs-backend-cpu step for step from the same weights, and run as files.
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs example, without types
import { digitTensors, trainMlp, variable } from '../../examples/tfjs-mlp.mjs';
// @ts-expect-error: a plain .mjs example, without types
import { fitDense } from '../../examples/tfjs-dense-fit.mjs';
import { expectNoTfLeaks, maxRelDiff, useWasmgrad } from '../helpers/tfjs.js';

const root = join(import.meta.dirname, '../..');
/** float32 results of the same computation in another summation order differ in the last bits. */
const FLOAT32 = 1e-5;

beforeAll(useWasmgrad);

describe('(a) an MLP from tf ops, trained by tf.train optimizers', () => {
  it('learns the digits on wasmgrad: the loss falls and the test accuracy passes 88% in 200 adam steps', async () => {
    const { losses, accuracy } = await expectNoTfLeaks(() => trainMlp({ backend: 'wasmgrad', steps: 200 }));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 5)) / 4);
    expect(accuracy).toBeGreaterThan(0.88);
  });

  for (const optimizer of ['sgd', 'adam']) {
    it(`gives tfjs-backend-cpu's losses over 8 ${optimizer} steps (minimize) from the same weights`, async () => {
      const ours = await expectNoTfLeaks(() => trainMlp({ backend: 'wasmgrad', optimizer, steps: 8 }));
      const cpu = await trainMlp({ backend: 'cpu', optimizer, steps: 8 });
      expect(maxRelDiff(ours.losses, cpu.losses)).toBeLessThan(FLOAT32);
      expect(ours.accuracy).toBeCloseTo(cpu.accuracy, 3);
    });
  }

  it("gives tfjs-backend-cpu's gradients through tf.variableGrads", async () => {
    const gradsOn = async (backend: string) => {
      await tf.setBackend(backend);
      const data = await digitTensors();
      const w = variable(tf.randomNormal([784, 10], 0, 0.05, 'float32', 3));
      const b = variable(tf.zeros([10]));
      const x = data.train.x.slice([0, 0], [64, 784]);
      const y = data.train.y.slice([0, 0], [64, 10]);
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, x.matMul(w).add(b).sigmoid().mul(4)));
      const out = { loss: value.dataSync()[0]!, dw: grads[w.name]!.dataSync(), db: grads[b.name]!.dataSync() };
      tf.dispose([value, grads, w, b, x, y, data.train.x, data.train.y, data.test.x, data.test.y]);
      return out;
    };
    const ours = await expectNoTfLeaks(() => gradsOn('wasmgrad'));
    const cpu = await gradsOn('cpu');
    expect(maxRelDiff([ours.loss], [cpu.loss])).toBeLessThan(FLOAT32);
    const scale = Math.max(...Array.from(cpu.dw, Math.abs));
    expect(Math.max(...Array.from(ours.dw, (v, i) => Math.abs(v - cpu.dw[i]!)))).toBeLessThan(FLOAT32 * scale);
    expect(maxRelDiff(ours.db, cpu.db)).toBeLessThan(1e-4);
    await tf.setBackend('wasmgrad');
  });
});

describe('(b) tf.sequential dense 784-128-10: fit with validationSplit and accuracy, evaluate, predict', () => {
  it("learns on wasmgrad and gives tfjs-backend-cpu's history, evaluation and predictions on 1024 digits", async () => {
    const ours = await expectNoTfLeaks(() => fitDense({ backend: 'wasmgrad', epochs: 2, trainSize: 1024 }));
    const cpu = await fitDense({ backend: 'cpu', epochs: 2, trainSize: 1024 });
    await tf.setBackend('wasmgrad');
    expect(ours.history.loss[1]).toBeLessThan(ours.history.loss[0] * 0.7);
    expect(ours.history.val_acc[1]).toBeGreaterThan(ours.history.val_acc[0]);
    for (const key of ['loss', 'acc', 'val_loss', 'val_acc']) {
      expect(maxRelDiff(ours.history[key], cpu.history[key]), key).toBeLessThan(FLOAT32);
    }
    expect(maxRelDiff(ours.evaluation, cpu.evaluation)).toBeLessThan(FLOAT32);
    expect(ours.predicted).toEqual(cpu.predicted);
  });
});

describe('the example files, run as a user runs them', () => {
  const run = (file: string, ...args: string[]) => execFileSync(process.execPath, [join(root, 'examples', file), ...args],
    { cwd: root, encoding: 'utf8' });

  it('node examples/tfjs-mlp.mjs trains on wasmgrad', () => {
    const out = run('tfjs-mlp.mjs', '--steps', '150');
    const m = /backend wasmgrad: loss ([\d.]+) → ([\d.]+), test accuracy ([\d.]+)%/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]));
    expect(Number(m![3])).toBeGreaterThan(85);
  });

  it('node examples/tfjs-dense-fit.mjs fits on wasmgrad', () => {
    const out = run('tfjs-dense-fit.mjs', '--epochs', '2');
    const m = /backend wasmgrad: test loss ([\d.]+), test accuracy ([\d.]+)%/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(88);
  });
});
