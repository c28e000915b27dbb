// Bad input to the CNN's training and prediction (issue 13's main job): a model name the trainer does not know, the
// CNN or random shifts on data that are not images, shifts as large as the image, a checkpoint of a shifting run
// without the shifts' generator, and model files whose CNN description does not describe a CNN. Each case asserts
// its message, that memory is unchanged, and that the data, trainer and files keep working afterwards.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointToBytes, fromSafetensors, loadDigits, memory, tensor, TensorDataset, toSafetensors, type Digits } from '../../src/index.js';
import { readModel } from '../../src/train/saved-model.js';
import { readCheckpoint } from '../../src/io/checkpoint.js';
import { digitsData } from '../../src/train/data.js';
import { CNN_DEFAULTS, Trainer, type TrainConfig, type TrainData } from '../../src/train/trainer.js';
import { expectNoLeaks, expectNoLeaksAsync, useBackend } from '../helpers/api.js';

const CNN: TrainConfig = { ...CNN_DEFAULTS, epochs: 1, batchSize: 16 };
let digits: TrainData;
let table: TrainData;

beforeAll(async () => {
  await useBackend('wasm');
  const all: Digits = await loadDigits();
  const few = (s: Digits['train'], n: number) => ({ n, images: s.images.slice(0, n * 784), labels: s.labels.slice(0, n) });
  digits = await digitsData({ ...all, train: few(all.train, 48), test: few(all.test, 16) });
  const rows = (n: number) => new TensorDataset(tensor(Array.from({ length: n }, (_, i) => [i / n, 1 - i / n])),
    tensor(Array.from({ length: n }, (_, i) => i % 2), { dtype: 'int32' }));
  table = { info: { kind: 'csv', task: 'classification', inputDim: 2, outputDim: 2, classes: ['a', 'b'] }, train: rows(8), test: rows(4) };
});

afterAll(() => {
  for (const d of [digits, table]) {
    d.train.dispose();
    d.test.dispose();
  }
});

describe('trainer configurations for the CNN', () => {
  it.each([
    ['an unknown model', () => new Trainer({ ...CNN, model: 'rnn' as never }, digits), "Trainer: model must be 'mlp', 'cnn' or 'gpt', got the string 'rnn'"],
    ['a model name in capitals', () => new Trainer({ ...CNN, model: 'CNN' as never }, digits),
      "Trainer: model must be 'mlp', 'cnn' or 'gpt', got the string 'CNN'; did you mean 'cnn'?"],
    ['the CNN on a table', () => new Trainer(CNN, table),
      "Trainer: model 'cnn' needs images (the embedded digits); this data is a table of 2 features: use model 'mlp' without randomShift"],
    ['random shifts of a table', () => new Trainer({ ...CNN, model: 'mlp', hidden: [4], randomShift: 1 }, table),
      "Trainer: randomShift 1 needs images (the embedded digits); this data is a table of 2 features: use model 'mlp' without randomShift"],
    ['a shift as large as the image', () => new Trainer({ ...CNN, randomShift: 28 }, digits),
      "Trainer: randomShift must be less than the images' height and width (28×28), got 28"],
    ['a fractional shift', () => new Trainer({ ...CNN, randomShift: 1.5 }, digits), 'Trainer: randomShift must be an integer ≥ 0, got 1.5'],
    ['a hidden width of zero', () => new Trainer({ ...CNN, hidden: [0] }, digits),
      'Trainer: hidden must be a list of positive integers (layer widths), got [0]'],
  ])('%s is refused, memory unchanged, the data still trains', async (_name, bad, message) => {
    expectNoLeaks(() => expect(bad).toThrow(message));
    await expectNoLeaksAsync(async () => {
      const t = new Trainer(CNN, digits);
      expect((await t.trainEpoch())!.trainLoss).toBeGreaterThan(0);
      t.dispose();
    });
  });
});

describe('checkpoints of a CNN run', () => {
  it.each([
    ['no state for the shifts\' generator', (extra: { config: TrainConfig }, t: Trainer) => checkpointToBytes({
      model: t.model, optimizer: t.optimizer, scheduler: t.scheduler ?? undefined, step: 0,
      generators: { shuffle: t.shuffle, dropout: t.dropoutGen }, extra }), "loadCheckpoint: no state saved for generator 'augment'"],
  ])('%s: restore refuses it and the trainer is as it was', async (_name, make, message) => {
    await expectNoLeaksAsync(async () => {
      const t = new Trainer(CNN, digits);
      await t.trainEpoch({ shouldStop: () => true });
      const bad = make(readCheckpoint(t.checkpointBytes()).meta.extra as { config: TrainConfig }, t);
      const state = Buffer.from(t.checkpointBytes()).toString('hex');
      const before = memory();
      expect(() => t.restore(bad)).toThrow(message);
      expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
      expect(Buffer.from(t.checkpointBytes()).toString('hex')).toBe(state);
      expect(await t.trainEpoch()).not.toBeNull();
      t.dispose();
    });
  });

  it("configOf: a model the trainer does not know is the checkpoint's error", () => {
    const t = new Trainer(CNN, digits);
    const extra = readCheckpoint(t.checkpointBytes()).meta.extra as { config: Record<string, unknown> };
    extra.config.model = 'rnn';
    const bytes = checkpointToBytes({ model: t.model, optimizer: t.optimizer, step: 0, extra });
    t.dispose();
    expect(() => Trainer.configOf(bytes)).toThrow("resume: the checkpoint's configuration: model must be 'mlp', 'cnn' or 'gpt', got the string 'rnn'");
  });
});

/** A model file's description, as JSON gives it. */
type Description = { cnn: Record<string, unknown>; mlp?: unknown; data: Record<string, unknown> };

describe('predict reading a CNN model file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-bad-cnn-'));
  /** A CNN model file whose description `edit` changes (re-sealed with a valid checksum, as an editing tool would). */
  function edited(edit: (d: Description) => void): string {
    const t = new Trainer(CNN, digits);
    const file = fromSafetensors(t.modelBytes());
    t.dispose();
    const d = JSON.parse(file.metadata.wasmgrad_model!);
    edit(d);
    const tensors = Object.fromEntries(Object.entries(file.tensors).map(([k, v]) =>
      [k, tensor(v.data as Float32Array | Int32Array, { shape: v.shape, dtype: v.data instanceof Int32Array ? 'int32' : 'float32' })]));
    const path = join(dir, `${Math.random().toString(36).slice(2)}.safetensors`);
    writeFileSync(path, toSafetensors(tensors, { format: 'pt', wasmgrad_model: JSON.stringify(d) }));
    for (const v of Object.values(tensors)) v.dispose();
    return path;
  }
  const invalid = (what: string) => `has an invalid model description: ${what}`;

  it.each([
    ['an image shape of two dims', (d: Description) => (d.cnn.inputShape = [1, 784]),
      invalid('input shape [1, 784] (expected [channels, height, width])')],
    ['a block of zero channels', (d: Description) => (d.cnn.channels = [16, 0]),
      invalid('convolution channels or kernel size')],
    ['a fractional kernel', (d: Description) => (d.cnn.kernelSize = 2.5), invalid('convolution channels or kernel size')],
    ['more poolings than the image has pixels', (d: Description) => (d.cnn.channels = [16, 32, 32, 32, 32]),
      invalid('5 poolings leave nothing of a 1×28×28 image')],
    ['a CNN said to be trained on a CSV', (d: Description) => (d.data.kind = 'csv'),
      invalid('a CNN is trained on the embedded digits')],
    ['images of another size than the data', (d: Description) => (d.cnn.inputShape = [1, 14, 14]),
      invalid('the data does not match the layer widths')],
    ['an MLP and a CNN at once', (d: Description) => (d.mlp = { ...d.cnn, inputDim: 784 }),
      invalid('it needs the object data and one of the objects mlp, cnn and gpt')],
    ['channels that are not those of the weights', (d: Description) => (d.cnn.channels = [8, 32]),
      'loadStateDict: wrong shape: 0.weight: expected [8,1,5,5], got [16,1,5,5]'],
  ])('%s is refused, memory unchanged', async (_name, edit, message) => {
    const path = edited(edit);
    await expectNoLeaksAsync(() => expect(readModel(path, '--model')).rejects.toThrow(message));
  });

  it('the file unedited loads, and its model reads [N,1,28,28]', async () => {
    await expectNoLeaksAsync(async () => {
      const { module: model, metadata: { inputShape } } = await readModel(edited(() => {}), '--model');
      expect(inputShape).toEqual([1, 28, 28]);
      expect(model.training).toBe(false);
      model.dispose();
    });
  });
});
