// A boolean target (issue 17): its classes are the training file's words for false and true, and predict reads
// the truth as training read the column, in any case ('YES' is the class 'yes'), saved with the model as targetKind.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromSafetensors, init, tensor, toSafetensors } from '../../src/index.js';
import { readModel } from '../../src/train/saved-model.js';
import { expectNoLeaksAsync } from '../helpers/api.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'wg-csv-bool-'));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

/** x decides the target: yes when x > 4 (written yes/no as the training file writes it). */
const xs = Array.from({ length: 80 }, (_, i) => i % 10);
const table = (word: (yes: boolean, i: number) => string) => `x,late\n${xs.map((x, i) => `${x},${word(x > 4, i)}`).join('\n')}\n`;
const run = join(dir, 'run');

beforeAll(async () => {
  const r = await cli(['train', '--data', file('train.csv', table((y) => (y ? 'yes' : 'no'))), '--target', 'late', '--epochs', '30',
    '--hidden', '8', '--lr', '0.02', '--out', run, '--json']);
  expect(r.stderr).toBe('');
}, 120_000);

describe('predict with a boolean target', () => {
  it('the model saves the target as booleans, its classes the file\'s words', () => {
    const header = readFileSync(join(run, 'model.safetensors'));
    const meta = JSON.parse(JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString()).__metadata__.wasmgrad_model);
    expect([meta.data.targetKind, meta.data.classes]).toEqual(['boolean', ['no', 'yes']]);
  });

  it('reads the truth in any case, prints the training file\'s words, and scores as on the file as written', async () => {
    const same = JSON.parse((await cli(['predict', '--model', run, '--json', '--limit', '80', '--data', file('same.csv', table((y) => (y ? 'yes' : 'no')))])).stdout);
    const cased = await cli(['predict', '--model', run, '--json', '--limit', '80',
      '--data', file('cased.csv', table((y, i) => [y ? 'YES' : 'NO', y ? 'Yes' : 'No', y ? 'yes' : 'no'][i % 3]!))]);
    expect(cased.stderr).toBe('');
    const p = JSON.parse(cased.stdout);
    expect(p.accuracy).toBeGreaterThan(0.9);
    expect(p.accuracy).toBe(same.accuracy);
    expect(new Set(p.predictions.map((q: { truth: string }) => q.truth))).toEqual(new Set(['no', 'yes']));
    expect(new Set(p.predictions.map((q: { prediction: string }) => q.prediction))).toEqual(new Set(['no', 'yes']));
  });

  it('a model whose target kind is damaged is refused on load, memory unchanged', async () => {
    await init({ build: 'simd' });
    const file = fromSafetensors(new Uint8Array(readFileSync(join(run, 'model.safetensors'))));
    const model = JSON.parse(file.metadata.wasmgrad_model!);
    model.data.targetKind = 'maybe';
    const tensors = Object.fromEntries(Object.entries(file.tensors).map(([k, v]) => [k, tensor(v.data as Float32Array, { shape: v.shape })]));
    const path = join(dir, 'damaged.safetensors');
    writeFileSync(path, toSafetensors(tensors, { format: 'pt', wasmgrad_model: JSON.stringify(model) }));
    for (const t of Object.values(tensors)) t.dispose();
    await expectNoLeaksAsync(() => expect(readModel(path, '--model')).rejects.toThrow(`${path} has an invalid model description: target kind the string 'maybe'`));
  });

  it('a truth that is not one of the two words is refused with its line', async () => {
    const r = await cli(['predict', '--model', run, '--data', file('bad.csv', 'x,late\n1,no\n7,true\n')]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe("wasmgrad: CSV line 3, column 'late': 'true' is not no or yes (the target)\n");
  });
});
