// loadModel(dir): a model written by `wasmgrad train` as a Module plus what the trainer saved, for every kind the
// trainer makes (an MLP on the digits or on a CSV, the CNN, the GPT), and a CSV model's column encoding applied in
// code gives what `wasmgrad predict` prints.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { init, loadModel, noGrad, TableEncoder, tensor, tidy } from '../../src/index.js';
import { digitsData } from '../../src/train/data.js';
import { textData } from '../../src/train/text-data.js';
import { CNN_DEFAULTS, DEFAULTS, GPT_DEFAULTS, Trainer, type TrainConfig, type TrainData } from '../../src/train/trainer.js';
import { expectNoLeaksAsync } from '../helpers/api.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'wg-load-'));

/** The model file a trainer writes (the same bytes `wasmgrad train` writes to model.safetensors), in a run directory. */
function saveRun(name: string, config: TrainConfig, data: TrainData): { run: string; parameters: number[][] } {
  const trainer = new Trainer(config, data);
  try {
    const run = join(dir, name);
    mkdirSync(run);
    writeFileSync(join(run, 'model.safetensors'), trainer.modelBytes());
    return { run, parameters: trainer.model.parameters().map((p) => Array.from(p.data())) };
  } finally {
    trainer.dispose();
    data.train.dispose();
    data.test.dispose();
  }
}

describe('loadModel', () => {
  it.each([
    ['mlp', { ...DEFAULTS, hidden: [16] }, () => digitsData(), [10], 'digits'],
    ['cnn', { ...CNN_DEFAULTS }, () => digitsData(), [10], 'digits'],
    ['gpt', { ...GPT_DEFAULTS, context: 8, layers: 1, heads: 2, width: 16 },
      async () => textData(['abba', 'baba', 'cab', 'abc', 'bca', 'acab', 'cc', 'ba', 'ab', 'ca'], { context: 8 }), [8, 4], 'text'], // a, b, c, newline
  ] as const)('a %s run: a Module in eval mode with the trained weights, and its description', async (kind, config, data, outShape, dataKind) => {
    await init({ build: 'simd' });
    const { run, parameters } = saveRun(kind, config as TrainConfig, await data());
    await expectNoLeaksAsync(async () => {
      const { module, metadata } = await loadModel(run);
      expect(kind in metadata.description).toBe(true);
      expect(metadata.data.kind).toBe(dataKind);
      expect(module.training).toBe(false);
      expect(module.parameters().map((p) => Array.from(p.data()))).toEqual(parameters);
      const shape = tidy(() => noGrad(() => {
        const x = kind === 'gpt' ? tensor(new Int32Array(8), { shape: [1, 8], dtype: 'int32' }) : tensor(new Float32Array(metadata.inputShape.reduce((a, b) => a * b)), { shape: [1, ...metadata.inputShape] });
        return module(x).shape;
      }));
      expect(shape).toEqual([1, ...outShape]);
      module.dispose();
    });
  });

  it('a CSV run trained by the CLI: its column encoding, applied in code, gives the predictions `wasmgrad predict` prints', async () => {
    await init({ build: 'simd' });
    const csv = join(dir, 'pets.csv');
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 7},${i % 5 ? (i % 2 ? 'yes' : 'no') : 'NA'},${['red', 'blue', 'green'][i % 3]},${i % 2 ? 'cat' : 'dog'}`);
    writeFileSync(csv, ['weight,indoor,colour,kind', ...rows].join('\n') + '\n');
    const run = join(dir, 'csv-run');
    await promisify(execFile)(process.execPath, [CLI, 'train', '--data', csv, '--target', 'kind', '--epochs', '3', '--hidden', '8', '--out', run]);
    const printed = JSON.parse((await promisify(execFile)(process.execPath, [CLI, 'predict', '--model', run, '--data', csv, '--json', '--limit', '60'])).stdout);
    await expectNoLeaksAsync(async () => {
      const { module, metadata } = await loadModel(join(run, 'model.safetensors'));
      expect(metadata.data).toMatchObject({ kind: 'csv', task: 'classification', target: 'kind', classes: ['cat', 'dog'] });
      const encoder = TableEncoder.fromJSON(metadata.data.features!);
      expect(encoder.columns).toEqual(['weight', 'indoor', 'colour']);
      const x = encoder.encode(rows.map((r, i) => encoder.parseRow(r.split(',').slice(0, 3), `row ${i}`)));
      const predicted = tidy(() => noGrad(() => Array.from(module(tensor(x, { shape: [60, encoder.featureNames.length] })).argMax(-1).data())));
      expect(predicted.map((k) => metadata.data.classes[k])).toEqual(printed.predictions.map((p: { prediction: string }) => p.prediction));
      module.dispose();
    });
  });

  it('names what it cannot load', async () => {
    await expect(loadModel(join(dir, 'nowhere'))).rejects.toThrow(`loadModel: cannot read ${join(dir, 'nowhere')}: ENOENT`);
    await expect(loadModel(42 as unknown as string)).rejects.toThrow('loadModel: expected a run directory or a .safetensors file, got 42');
  });
});
