// The trainer with the CNN (issue 13's main job) on a few hundred digits: the architecture the issue describes,
// random shifts that are shifts, evaluation in eval mode, memory flat from the second step, and a run stopped
// mid-epoch that resumes bit-identical (batch norm's running statistics and the shifts' generator included).
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, loadDigits, memory, rand, type Digits, type Tensor } from '../../src/index.js';
import { randomShift } from '../../src/train/augment.js';
import { digitsData } from '../../src/train/data.js';
import { CNN_DEFAULTS, DEFAULTS, Trainer, type TrainConfig, type TrainData } from '../../src/train/trainer.js';
import { expectNoLeaks, expectNoLeaksAsync, useBackend } from '../helpers/api.js';

let digits: Digits;
/** The first `n` digits of each split: enough to train a few steps in well under a second. */
const few = (nTrain: number, nTest: number): Digits => ({
  ...digits,
  train: { n: nTrain, images: digits.train.images.slice(0, nTrain * 784), labels: digits.train.labels.slice(0, nTrain) },
  test: { n: nTest, images: digits.test.images.slice(0, nTest * 784), labels: digits.test.labels.slice(0, nTest) },
});
const CNN: TrainConfig = { ...CNN_DEFAULTS, epochs: 2, batchSize: 32 };

/** Runs fn with a small digits dataset, freed afterwards. */
async function withData<T>(fn: (data: TrainData) => Promise<T>, nTrain = 160, nTest = 100): Promise<T> {
  const data = await digitsData(few(nTrain, nTest));
  try {
    return await fn(data);
  } finally {
    data.train.dispose();
    data.test.dispose();
  }
}

const values = (ts: Record<string, Tensor>) => Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, Array.from(t.data())]));

beforeAll(async () => {
  await useBackend('wasm');
  digits = await loadDigits();
});

describe('the CNN', () => {
  it("is conv5×5(16)-BN-ReLU-pool, conv5×5(32)-BN-ReLU-pool, linear on [N,1,28,28], under PyTorch's state-dict names", async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const t = new Trainer(CNN, data);
      expect(t.inputShape).toEqual([1, 28, 28]);
      expect(t.description()).toEqual({ cnn: { inputShape: [1, 28, 28], channels: [16, 32], kernelSize: 5, hidden: [], outputDim: 10,
        activation: 'relu', dropout: 0 } });
      expect(t.model.namedChildren().map(([, m]) => m).map((m) => m.constructor.name)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d',
        'Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear']);
      expect(Object.fromEntries(Object.entries(t.model.stateDict()).map(([k, v]) => [k, v.shape]))).toEqual({
        '0.weight': [16, 1, 5, 5], '1.weight': [16], '1.bias': [16], '1.running_mean': [16], '1.running_var': [16], '1.num_batches_tracked': [],
        '4.weight': [32, 16, 5, 5], '5.weight': [32], '5.bias': [32], '5.running_mean': [32], '5.running_var': [32], '5.num_batches_tracked': [],
        '9.weight': [10, 32 * 7 * 7], '9.bias': [10],
      });
      t.dispose();
    }));
  });

  it('hidden widths add fully connected layers after the convolutions, with dropout on the flattened features', async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const t = new Trainer({ ...CNN, hidden: [64], dropout: 0.25 }, data);
      expect(t.model.namedChildren().map(([, m]) => m).slice(8).map((m) => m.constructor.name)).toEqual(['Flatten', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear']);
      expect(t.model.namedParameters().slice(-4).map(([k, p]) => [k, p.shape])).toEqual([
        ['10.weight', [64, 1568]], ['10.bias', [64]], ['13.weight', [10, 64]], ['13.bias', [10]]]);
      t.dispose();
    }));
  });

  it('learns: the loss falls over a few epochs of a few hundred digits', async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const t = new Trainer({ ...CNN, epochs: 3 }, data);
      const losses = [];
      for (let e = 0; e < 3; e++) losses.push((await t.trainEpoch())!.trainLoss);
      expect(losses[2]).toBeLessThan(0.7 * losses[0]!);
      expect(t.history[2]!.testAccuracy).toBeGreaterThan(0.6); // chance is 0.1
      t.dispose();
    }, 320, 200));
  });

  it("evaluates in eval mode: batch norm's running statistics, not the batch's, so the batch size does not matter; nothing changes", async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const t = new Trainer(CNN, data);
      await t.trainEpoch();
      const state = () => ({ ...values(t.model.stateDict()), augment: t.augmentGen!.getState() });
      const before = state();
      const whole = t.evaluate(data.test, 100);
      const small = t.evaluate(data.test, 3);
      expect(small.accuracy).toBe(whole.accuracy);
      expect(small.loss).toBeCloseTo(whole.loss, 5);
      expect(state()).toEqual(before);
      expect(t.model.training).toBe(true);
      t.dispose();
    }));
  });

  it('memory is flat from the second step on (tensors, bytes and the heap)', async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const t = new Trainer({ ...CNN, epochs: 1 }, data);
      const steps: { tensors: number; bytes: number; heapBytes: number }[] = [];
      await t.trainEpoch({ onBatch: () => void steps.push((({ tensors, bytes, heapBytes }) => ({ tensors, bytes, heapBytes }))(memory())) });
      expect(steps).toHaveLength(5);
      for (const s of steps.slice(2)) expect(s).toEqual(steps[1]);
      t.dispose();
    }));
  });

  it('a run stopped mid-epoch and restored from its checkpoint ends bit-identical to an uninterrupted one', async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const config: TrainConfig = { ...CNN, epochs: 2, schedule: 'onecycle', hidden: [16], dropout: 0.2 };
      const straight = new Trainer(config, data);
      await straight.trainEpoch();
      await straight.trainEpoch();
      const first = new Trainer(config, data);
      let batches = 0;
      expect(await first.trainEpoch({ shouldStop: () => ++batches === 3 })).toBeNull();
      const bytes = first.checkpointBytes();
      first.dispose();
      const second = new Trainer(config, data);
      second.restore(bytes);
      await second.trainEpoch();
      await second.trainEpoch();
      expect(second.epoch).toBe(2);
      // parameters and buffers (running statistics, batch counts), the shifts' generator, the metrics
      expect(values(second.model.stateDict())).toEqual(values(straight.model.stateDict()));
      expect(second.augmentGen!.getState()).toEqual(straight.augmentGen!.getState());
      expect(second.history.map((m) => m.testLoss)).toEqual(straight.history.map((m) => m.testLoss));
      expect(second.modelBytes()).toEqual(straight.modelBytes());
      straight.dispose();
      second.dispose();
    }));
  });
});

describe('randomShift', () => {
  /** The image at `i` moved by (dy, dx), zeros where it moves in from outside. */
  function shifted(src: Float32Array, i: number, h: number, w: number, dy: number, dx: number): number[] {
    return Array.from({ length: h * w }, (_, p) => {
      const y = Math.floor(p / w) - dy, x = (p % w) - dx;
      return y >= 0 && y < h && x >= 0 && x < w ? src[i * h * w + y * w + x]! : 0;
    });
  }

  it('moves each image by its own offset within ±maxShift, every offset in turn, reproducibly from the seed', () => {
    expectNoLeaks(() => {
      const [n, h, w, k] = [400, 6, 5, 2];
      const x = rand([n, 1, h, w], { generator: new Generator(3) });
      const a = randomShift(x, k, new Generator(7));
      const b = randomShift(x, k, new Generator(7));
      const src = x.data() as Float32Array, out = a.data();
      expect(a.shape).toEqual([n, 1, h, w]);
      expect(Array.from(b.data())).toEqual(Array.from(out));
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const image = Array.from(out.subarray(i * h * w, (i + 1) * h * w));
        const offsets = [];
        for (let dy = -k; dy <= k; dy++) for (let dx = -k; dx <= k; dx++) if (String(shifted(src, i, h, w, dy, dx)) === String(image)) offsets.push(`${dy},${dx}`);
        expect(offsets).toHaveLength(1);
        seen.add(offsets[0]!);
      }
      expect(seen.size).toBe((2 * k + 1) ** 2);
      for (const t of [x, a, b]) t.dispose();
    });
  });

  it('moves every channel of an image alike, and maxShift 0 changes nothing', () => {
    expectNoLeaks(() => {
      const x = rand([3, 2, 4, 4], { generator: new Generator(1) });
      const same = randomShift(x, 0, new Generator(0));
      expect(Array.from(same.data())).toEqual(Array.from(x.data()));
      const shift = randomShift(x, 1, new Generator(5));
      const moved = shift.data();
      const src = x.data() as Float32Array;
      for (let i = 0; i < 3; i++) {
        const match = (c: number, dy: number, dx: number) =>
          String(shifted(src, 2 * i + c, 4, 4, dy, dx)) === String(Array.from(moved.subarray((2 * i + c) * 16, (2 * i + c + 1) * 16)));
        const offsets = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [dy, dx] as const)).filter(([dy, dx]) => match(0, dy, dx));
        expect(offsets).toHaveLength(1);
        expect(match(1, ...offsets[0]!)).toBe(true);
      }
      for (const t of [x, same, shift]) t.dispose();
    });
  });
});

describe('checkpoints written before the CNN', () => {
  it('have no model or randomShift: they were MLP runs without shifts', async () => {
    await expectNoLeaksAsync(() => withData(async (data) => {
      const t = new Trainer({ ...DEFAULTS, hidden: [8], epochs: 1 }, data);
      expect(t.augmentGen).toBeNull();
      const { checkpointToBytes, readCheckpoint } = await import('../../src/io/checkpoint.js');
      const saved = readCheckpoint(t.checkpointBytes()).meta.extra as { config: Partial<TrainConfig> };
      delete saved.config.model;
      delete saved.config.randomShift;
      const old = checkpointToBytes({ model: t.model, optimizer: t.optimizer, scheduler: t.scheduler ?? undefined, step: 0,
        generators: { shuffle: t.shuffle, dropout: t.dropoutGen }, extra: saved });
      expect(Trainer.configOf(old)).toEqual({ ...DEFAULTS, hidden: [8], epochs: 1 });
      t.dispose();
    }));
  });
});
