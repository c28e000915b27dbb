// The character GPT end to end: `wasmgrad train --model gpt` on a text file (lines are the samples) and on the
// embedded names, `wasmgrad sample` from the run, and --resume that reproduces an uninterrupted run bit for bit.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fromSafetensors } from '../../src/index.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const run = promisify(execFile);
const tmp = () => mkdtempSync(join(tmpdir(), 'wg-gpt-'));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A small text: 60 lines of words over a few letters. */
const TEXT = Array.from({ length: 60 }, (_, i) => ['abba', 'baba', 'cab', 'acab', 'bac'][i % 5]!.repeat(1 + (i % 3))).join('\n') + '\n';
const SMALL = ['--model', 'gpt', '--context', '8', '--layers', '1', '--heads', '2', '--width', '16', '--batch-size', '8'];

describe('wasmgrad train --model gpt', () => {
  it('trains on a text file: files written, validation loss per character below a uniform guess, sample writes text', async () => {
    const dir = tmp();
    const data = join(dir, 'words.txt');
    writeFileSync(data, TEXT);
    const out = join(dir, 'run');
    const r = await cli(['train', '--data', data, ...SMALL, '--epochs', '3', '--lr', '0.01', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.epochs).toHaveLength(3);
    expect(summary.config).toMatchObject({ model: 'gpt', context: 8, layers: 1, heads: 2, width: 16 });
    // 4 tokens (newline, a, b, c): a uniform guess costs ln 4 = 1.386 nats per character
    expect(summary.heldOut).toBe('validation');
    expect(summary.final.valLoss).toBeLessThan(Math.log(4));
    for (const f of ['model.safetensors', 'checkpoint.ckpt', 'metrics.json', 'metrics.csv', 'chart.svg']) expect(existsSync(join(out, f))).toBe(true);
    const file = fromSafetensors(new Uint8Array(readFileSync(join(out, 'model.safetensors'))));
    expect(JSON.parse(file.metadata.wasmgrad_model!)).toMatchObject({
      gpt: { vocabSize: 4, context: 8, layers: 1, heads: 2, width: 16 }, data: { kind: 'text', classes: ['\n', 'a', 'b', 'c'] },
    });
    expect(Object.keys(file.tensors)).toContain('blocks.0.attn.in_proj_weight');

    const text = await cli(['train', '--data', data, ...SMALL, '--epochs', '1', '--out', join(dir, 'text')]);
    expect(text.stdout).toContain('wasmgrad train: words (54 train / 6 validation lines');
    expect(text.stdout).toMatch(/epoch 1\/1 .*validation loss \d\.\d{4} nats\/char .*chars\/s/);
    expect(text.stdout).toMatch(/done in .*: validation loss \d\.\d{4} nats\/char/);

    const s = await cli(['sample', '--model', out, '--prompt', 'ab', '--max-tokens', '40', '--seed', '3', '--json']);
    expect(s.stderr).toBe('');
    const sample = JSON.parse(s.stdout);
    expect(sample).toMatchObject({ prompt: 'ab', seed: 3, maxTokens: 40, temperature: 1 });
    expect(sample.text).toMatch(/^ab[abc\n]{40}$/);
    const again = await cli(['sample', '--model', join(out, 'model.safetensors'), '--prompt', 'ab', '--max-tokens', '40', '--seed', '3']);
    expect(again.stdout).toBe(`${sample.text}\n`);
  });

  it('resumes from a checkpoint to the same model and metrics as an uninterrupted run', async () => {
    const dir = tmp();
    const data = join(dir, 'words.txt');
    writeFileSync(data, TEXT);
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    const args = ['--data', data, ...SMALL, '--dropout', '0.2', '--json'];
    const full = JSON.parse((await cli(['train', '--epochs', '3', '--out', a, ...args])).stdout);
    expect(JSON.parse((await cli(['train', '--epochs', '1', '--out', b, ...args])).stdout).epochs).toHaveLength(1);
    const resumed = await cli(['train', '--epochs', '3', '--data', data, '--out', b, '--resume', join(b, 'checkpoint.ckpt'), '--json']);
    expect(resumed.code).toBe(0);
    const losses = (s: { epochs: { trainLoss: number; valLoss: number }[] }) => s.epochs.map((m) => [m.trainLoss, m.valLoss]);
    expect(losses(JSON.parse(resumed.stdout))).toEqual(losses(full));
    expect(readFileSync(join(b, 'model.safetensors'))).toEqual(readFileSync(join(a, 'model.safetensors')));
  });

  it('without --data learns the embedded names, and samples names', async () => {
    const out = tmp();
    const r = await cli(['train', '--model', 'gpt', '--epochs', '1', '--layers', '1', '--width', '32', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('wasmgrad train: names (7,580 train / 842 validation lines, 53,218 / 5,951 characters, vocabulary of 28)');
    const loss = Number(/validation loss (\d\.\d+) nats\/char/.exec(r.stdout)![1]);
    expect(loss).toBeLessThan(2.6); // a uniform guess: ln 28 = 3.33; letter frequencies alone: 2.70
    const s = await cli(['sample', '--model', out, '--max-tokens', '100', '--seed', '1']);
    expect(s.stdout).toMatch(/^[a-z\n-]{100}\n$/);
    expect(s.stdout.split('\n').length).toBeGreaterThan(5);
  });
});
