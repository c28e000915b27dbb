// Bad input to the character GPT (issue 14's main job): texts with nothing to learn or too few lines to hold some
// out, settings that do not fit the model (heads that do not divide the width, a model for other data), token ids
// the model cannot read (sequences longer than the position table, float ids), sampling at a temperature ≤ 0 or
// from a prompt with characters outside the vocabulary, flags that do not apply to the GPT, and model files whose
// GPT description does not describe a GPT. Each case asserts its message and that memory is unchanged (in
// process) or that nothing was trained or printed (the CLI), and that the data, model and files keep working.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromSafetensors, tensor, TensorDataset, tidy, toSafetensors } from '../../src/index.js';
import { readModel } from '../../src/train/saved-model.js';
import { Generator } from '../../src/random.js';
import { GPT } from '../../src/train/gpt.js';
import { textData, type TextData } from '../../src/train/text-data.js';
import { DEFAULTS, GPT_DEFAULTS, Trainer, type TrainConfig, type TrainData } from '../../src/train/trainer.js';
import { expectNoLeaks, expectNoLeaksAsync, useBackend } from '../helpers/api.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'wg-bad-gpt-'));
const file = (name: string, text: string | Uint8Array) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const LINES = Array.from({ length: 20 }, (_, i) => ['ab', 'ba', 'abc', 'cab'][i % 4]!);
const GPT_SMALL: TrainConfig = { ...GPT_DEFAULTS, context: 8, layers: 1, heads: 2, width: 8, epochs: 1, batchSize: 4 };
const SMALL_FLAGS = ['--model', 'gpt', '--context', '8', '--layers', '1', '--heads', '2', '--width', '8'];
let text: TextData;
let table: TrainData;
/** A trained GPT run (model file and checkpoint) and an MLP model file. */
const gptRun = join(dir, 'gpt-run');
const mlpRun = join(dir, 'mlp-run');

beforeAll(async () => {
  await useBackend('wasm');
  text = textData(LINES, { context: 8 });
  const rows = (n: number) => new TensorDataset(tensor(Array.from({ length: n }, (_, i) => [i / n, 1 - i / n])),
    tensor(Array.from({ length: n }, (_, i) => i % 2), { dtype: 'int32' }));
  table = { info: { kind: 'csv', task: 'classification', inputDim: 2, outputDim: 2, classes: ['a', 'b'] }, train: rows(8), test: rows(4) };
  const words = file('words.txt', `${LINES.join('\n')}\n`);
  const [g, m] = await Promise.all([
    cli(['train', '--data', words, ...SMALL_FLAGS, '--epochs', '1', '--out', gptRun]),
    cli(['train', '--epochs', '1', '--hidden', '8', '--out', mlpRun]),
  ]);
  expect([g.code, m.code, g.stderr, m.stderr]).toEqual([0, 0, '', '']);
}, 120_000);

afterAll(() => {
  for (const d of [text, table]) {
    d.train.dispose();
    d.test.dispose();
  }
});

describe('texts the GPT cannot learn from', () => {
  it.each([
    ['no lines', [], 'text: words.txt is empty; it needs lines of text to learn from'],
    ['only blank lines', ['', '  ', '\t'], 'text: words.txt is empty; it needs lines of text to learn from'],
    ['one line', ['just one line'], 'text: words.txt has 1 line, too few to hold out 0.1 of them for validation and train on the rest; ' +
      'lines are the samples: give more lines, or change --val-split'],
  ])('%s is refused, memory unchanged, and a text of lines still makes data', (_name, lines, message) => {
    expectNoLeaks(() => expect(() => textData(lines, { context: 8, name: 'words.txt' })).toThrow(message));
    expectNoLeaks(() => {
      const d = textData(LINES, { context: 8 });
      expect(d.train.length).toBeGreaterThan(0);
      d.train.dispose();
      d.test.dispose();
    });
  });
});

describe('trainer configurations for the GPT', () => {
  it.each([
    ['heads that do not divide the width', () => new Trainer({ ...GPT_SMALL, heads: 3 }, text),
      'Trainer: heads must divide width (each head takes width / heads features), got 3 heads for width 8'],
    ['the GPT on a table', () => new Trainer(GPT_SMALL, table),
      "Trainer: model 'gpt' reads text (a character model), and this data is a table: use model 'mlp' or 'cnn'"],
    ['an MLP on text', () => new Trainer({ ...DEFAULTS, epochs: 1 }, text), "Trainer: model 'mlp' cannot read text: use model 'gpt'"],
    ['a context other than the windows', () => new Trainer({ ...GPT_SMALL, context: 16 }, text),
      "Trainer: the text is cut into windows of 8 characters, and the model's context is 16: make them the same"],
    ['zero layers', () => new Trainer({ ...GPT_SMALL, layers: 0 }, text), 'Trainer: layers must be a positive integer, got 0'],
    ['random shifts of text', () => new Trainer({ ...GPT_SMALL, randomShift: 1 }, text),
      'Trainer: randomShift 1 needs images (the embedded digits); this data is text'],
  ])('%s is refused, memory unchanged, the text still trains', async (_name, bad, message) => {
    expectNoLeaks(() => expect(bad).toThrow(message));
    await expectNoLeaksAsync(async () => {
      const t = new Trainer(GPT_SMALL, text);
      expect((await t.trainEpoch())!.testLoss).toBeGreaterThan(0);
      t.dispose();
    });
  });
});

describe('what the GPT reads and how it samples', () => {
  let model: GPT;
  beforeAll(() => {
    model = new GPT({ vocabSize: 5, context: 4, layers: 1, heads: 2, width: 8, dropout: 0 }, new Generator(0), new Generator(1));
  });
  afterAll(() => model.dispose());

  it.each([
    ['a sequence longer than the position table', () => model(tensor([[1, 2, 3, 4, 0]], { dtype: 'int32' })),
      'GPT: a sequence of 5 tokens is longer than the position table (context 4); give at most 4 tokens (sample keeps the last 4)'],
    ['float token ids', () => model(tensor([[1, 2]])), 'GPT: expected int32 token ids [batch, time], got float32 [1,2]'],
    ['ids without a batch dimension', () => model(tensor([1, 2], { dtype: 'int32' })), 'GPT: expected int32 token ids [batch, time], got int32 [2]'],
    ['a temperature of 0', () => model.generate([1], 3, { temperature: 0, generator: new Generator(0) }),
      'GPT.generate: temperature must be a number > 0, got 0'],
    ['a negative temperature', () => model.generate([1], 3, { temperature: -1, generator: new Generator(0) }),
      'GPT.generate: temperature must be a number > 0, got -1'],
    ['nothing to start from', () => model.generate([], 3, { generator: new Generator(0) }), 'GPT.generate: needs at least one token to start from'],
  ])('%s is refused, memory unchanged, the model still runs', (_name, bad, message) => {
    expectNoLeaks(() => expect(() => tidy(bad as () => unknown)).toThrow(message)); // tidy frees the test's own input tensor
    expectNoLeaks(() => {
      expect(tidy(() => model(tensor([[1, 2, 3, 4]], { dtype: 'int32' })).shape)).toEqual([1, 4, 5]);
      expect(model.generate([1], 6, { generator: new Generator(0) })).toHaveLength(7);
    });
  });
});

describe('the CLI refuses, before any training, and prints nothing on stdout', () => {
  it.each([
    ['an empty text file', () => ['train', '--data', file('empty.txt', ''), ...SMALL_FLAGS],
      `text: ${join(dir, 'empty.txt')} is empty; it needs lines of text to learn from`],
    ['a text file of blank lines', () => ['train', '--data', file('blank.txt', '\n\n \n'), ...SMALL_FLAGS],
      `text: ${join(dir, 'blank.txt')} is empty; it needs lines of text to learn from`],
    ['a file that is not UTF-8 text', () => ['train', '--data', file('bytes.txt', new Uint8Array([0x61, 0xff, 0x0a])), ...SMALL_FLAGS],
      `--data: ${join(dir, 'bytes.txt')} is not UTF-8 text`],
    ['heads that do not divide the width', () => ['train', '--model', 'gpt', '--heads', '3', '--width', '16'],
      'Trainer: heads must divide width (each head takes width / heads features), got 3 heads for width 16'],
    ['--hidden for the GPT', () => ['train', '--model', 'gpt', '--hidden', '32'],
      "--hidden does not apply to --model gpt (a block's MLP is 4× --width, with GELU)"],
    ['--context for the MLP', () => ['train', '--context', '32'], '--context does not apply to --model mlp (they shape --model gpt)'],
    ['--target for the GPT', () => ['train', '--model', 'gpt', '--data', 'x.txt', '--target', 'y'],
      "--target is a CSV's column; --model gpt learns a text file's lines (--data <file.txt>) and needs none"],
    ['a prompt with characters the model never saw', () => ['sample', '--model', gptRun, '--prompt', 'aXbé'],
      "--prompt: 'X', 'é' are not in the vocabulary (U+000A 'a' 'b' 'c'): use only characters of the text the model was trained on"],
    ['a temperature of 0', () => ['sample', '--model', gptRun, '--temperature', '0'], "error: option '--temperature <t>' argument '0' is invalid. --temperature must be a number > 0."],
    ['a negative temperature', () => ['sample', '--model', gptRun, '--temperature', '-0.5'],
      "error: option '--temperature <t>' argument '-0.5' is invalid. --temperature must be a number > 0."],
    ['sampling from an MLP', () => ['sample', '--model', mlpRun],
      `--model: ${join(mlpRun, 'model.safetensors')} is an MLP, which classifies; sample needs a model trained with --model gpt`],
    ['predicting with a GPT', () => ['predict', '--model', join(gptRun, 'model.safetensors')],
      `--model: ${join(gptRun, 'model.safetensors')} is a character-level GPT; it writes text: wasmgrad sample --model ${join(gptRun, 'model.safetensors')}`],
    ['resuming with another context', () => ['train', '--data', join(dir, 'words.txt'), '--model', 'gpt', '--context', '16', '--resume', join(gptRun, 'checkpoint.ckpt'),
      '--epochs', '2', '--out', gptRun],
    "--resume: --context 16 (the checkpoint: 8) differs from the checkpoint's run; leave them out to continue that run, or start a new run without --resume"],
  ])('%s', async (_name, args, message) => {
    const out = join(dir, 'refused');
    const argv = args();
    const r = await cli(argv.includes('--out') || argv[0] !== 'train' ? argv : [...argv, '--out', out]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(1);
    expect(existsSync(join(out, 'checkpoint.ckpt'))).toBe(false);
  });

  it('after all that, the run samples and resumes', async () => {
    const s = await cli(['sample', '--model', gptRun, '--prompt', 'ab', '--max-tokens', '10', '--seed', '0']);
    expect(s.stdout).toMatch(/^ab[abc\n]{10}\n$/);
    const r = await cli(['train', '--data', join(dir, 'words.txt'), '--resume', join(gptRun, 'checkpoint.ckpt'), '--epochs', '2', '--out', gptRun]);
    expect(r.stdout).toContain('resumed after epoch 1');
  });
});

/** A model file's GPT description, as JSON gives it. */
type Description = { gpt: Record<string, unknown>; mlp?: unknown; data: Record<string, unknown> };

describe('model files whose GPT description does not describe a GPT', () => {
  /** The GPT run's model file with its description edited (re-sealed with a valid checksum, as an editing tool would). */
  function edited(edit: (d: Description) => void): string {
    const f = fromSafetensors(new Uint8Array(readFileSync(join(gptRun, 'model.safetensors'))));
    const d = JSON.parse(f.metadata.wasmgrad_model!);
    edit(d);
    const tensors = Object.fromEntries(Object.entries(f.tensors).map(([k, v]) => [k, tensor(v.data as Float32Array, { shape: v.shape })]));
    const path = join(dir, `${Math.random().toString(36).slice(2)}.safetensors`);
    writeFileSync(path, toSafetensors(tensors, { format: 'pt', wasmgrad_model: JSON.stringify(d) }));
    for (const v of Object.values(tensors)) v.dispose();
    return path;
  }
  const invalid = (what: string) => `has an invalid model description: ${what}`;

  it.each([
    ['heads that do not divide the width', (d: Description) => (d.gpt.heads = 3), invalid('3 heads do not divide width 8')],
    ['a fractional layer count', (d: Description) => (d.gpt.layers = 1.5), invalid('the sizes of the GPT (vocabSize, context, layers, heads, width)')],
    ['a dropout of 1', (d: Description) => (d.gpt.dropout = 1), invalid('dropout 1')],
    ['a vocabulary with a character twice', (d: Description) => (d.data.classes = ['\n', 'a', 'a', 'c']),
      invalid('the vocabulary (data.classes) is not vocabSize distinct characters')],
    ['a vocabulary entry of two characters', (d: Description) => (d.data.classes = ['\n', 'a', 'b', 'cd']),
      invalid('the vocabulary (data.classes) is not vocabSize distinct characters')],
    ['a GPT said to be trained on the digits', (d: Description) => (d.data.kind = 'digits'), invalid('a GPT is trained on text')],
    ['a context other than the data', (d: Description) => (d.gpt.context = 16), invalid('the data does not match the GPT')],
    ['a GPT and an MLP at once', (d: Description) => (d.mlp = { inputDim: 8, hidden: [], outputDim: 4, activation: 'relu', dropout: 0 }),
      invalid('it needs the object data and one of the objects mlp, cnn and gpt')],
    ['a width other than the weights', (d: Description) => (d.gpt.width = 16), 'loadStateDict: wrong shape'],
  ])('%s is refused, memory unchanged', async (_name, edit, message) => {
    const path = edited(edit);
    await expectNoLeaksAsync(() => expect(readModel(path, '--model')).rejects.toThrow(message));
  });

  it('the file unedited loads, and its model reads [N, 8] token ids', async () => {
    await expectNoLeaksAsync(async () => {
      const { module: model, metadata: { inputShape } } = await readModel(edited(() => {}), '--model');
      expect(inputShape).toEqual([8]);
      expect(model.training).toBe(false);
      model.dispose();
    });
  });
});
