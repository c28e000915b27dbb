// --resume of a CSV run (issue 17): the checkpoint records the file (path, size, SHA-256), the column options and
// what training learnt, so resuming needs only --resume; it encodes the rows as the run did (never fitted again),
// and refuses a changed file and column flags that differ, every problem in one message.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { csvData } from '../../src/train/csv-data.js';
import { expectNoLeaksAsync } from '../helpers/api.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'wg-csv-resume-'));

function cli(args: string[], cwd = dir): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000, cwd }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}

/** A table with numbers, a missing value, text and a boolean, and a text target. */
const rows = Array.from({ length: 90 }, (_, i) => `${i % 7},${i % 11 ? (i * 3) % 5 : 'NA'},${['p', 'q', 'r'][i % 3]},${i % 4 ? 'yes' : 'no'},${i % 2 ? 'odd' : 'even'}`);
const TABLE = `a,b,c,d,y\n${rows.join('\n')}\n`;
const file = (name: string, text = TABLE) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('--resume of a CSV run', () => {
  it('needs only --resume, and continues exactly: the same model as the run done in one go', async () => {
    const data = file('t.csv');
    const flags = ['--data', data, '--target', 'y', '--ignore', 'd', '--max-categories', '2', '--val-split', '0.3', '--task', 'classification', '--hidden', '8'];
    expect((await cli(['train', ...flags, '--epochs', '3', '--out', 'whole'])).code).toBe(0);
    expect((await cli(['train', ...flags, '--epochs', '1', '--out', 'parts'])).code).toBe(0);
    const r = await cli(['train', '--resume', 'parts/checkpoint.ckpt', '--epochs', '3']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('wasmgrad train: t (63 train / 27 validation rows, 2 features, 2 classes)');
    expect(r.stdout).toContain('resumed after epoch 1');
    expect(readFileSync(join(dir, 'parts/model.safetensors')).equals(readFileSync(join(dir, 'whole/model.safetensors')))).toBe(true);
  }, 120_000);

  it('a moved copy of the file is the same data; flags given with the checkpoint\'s values are no conflict', async () => {
    const data = file('moved.csv');
    expect((await cli(['train', '--data', data, '--target', 'y', '--epochs', '1', '--hidden', '4', '--out', 'moved'])).code).toBe(0);
    const copy = join(mkdtempSync(join(tmpdir(), 'wg-csv-copy-')), 'elsewhere.csv');
    copyFileSync(data, copy);
    const r = await cli(['train', '--resume', 'moved/checkpoint.ckpt', '--epochs', '2', '--data', copy, '--target', 'y', '--task', 'auto',
      '--max-categories', '50', '--val-split', '0.2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);

  it('a changed file and flags that differ are refused together, in one message; the checkpoint is untouched', async () => {
    const data = file('changing.csv');
    expect((await cli(['train', '--data', data, '--target', 'y', '--epochs', '1', '--hidden', '4', '--out', 'changing'])).code).toBe(0);
    const checkpoint = join(dir, 'changing/checkpoint.ckpt');
    const before = readFileSync(checkpoint);
    const resume = (...more: string[]) => cli(['train', '--resume', checkpoint, '--epochs', '2', ...more]);
    const flags = await resume('--target', 'c', '--features', 'a,b', '--max-categories', '3', '--val-split', '0.5', '--task', 'regression', '--lr', '1');
    expect(flags).toMatchObject({ code: 1, stdout: '' });
    expect(flags.stderr).toBe('wasmgrad: --resume: --lr 1 (the checkpoint: 0.002), --target c (the checkpoint: y), --task regression ' +
      '(the checkpoint: classification), --features a,b (the checkpoint: none), --max-categories 3 (the checkpoint: 50), --val-split 0.5 ' +
      "(the checkpoint: 0.2) differ from the checkpoint's run; leave them out to continue that run, or start a new run without --resume\n");
    writeFileSync(data, TABLE.replace('\n0,', '\n1,')); // same size, other bytes
    const edited = await resume();
    expect(edited.stderr).toBe(`wasmgrad: --resume: ${data} is not the file the run trained on (same size, but its SHA-256 differs: ` +
      "its contents changed); give the run's own file with --data, or start a new run without --resume\n");
    writeFileSync(data, `${TABLE}1,1,p,yes,odd\n`);
    const both = await resume('--ignore', 'd');
    expect(both.stderr).toBe(`wasmgrad: --resume: --ignore d (the checkpoint: none) differs from the checkpoint's run; ${data} is not the ` +
      `file the run trained on (${(TABLE.length + 14).toLocaleString('en-US')} bytes; the checkpoint's: ${TABLE.length.toLocaleString('en-US')}); ` +
      "leave those flags out and give the run's own file with --data, or start a new run without --resume\n");
    const gone = await resume('--data', join(dir, 'nowhere.csv'));
    expect(gone.stderr).toMatch(/^wasmgrad: --resume: cannot read .*nowhere\.csv, the run's data: ENOENT/);
    expect(readFileSync(checkpoint).equals(before)).toBe(true);
  }, 120_000);

  it('--help says what --resume takes from a CSV run', async () => {
    const help = (await cli(['train', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('for a CSV run also --data, --target, --task, --features, --ignore, --max-categories and --val-split, ' +
      'and its file must be unchanged (size and SHA-256)');
  });
});

describe('csvData with what a run learnt', () => {
  it('encodes with the saved encoding and target scaling, never fitted again; memory returns', async () => {
    await init({ build: 'simd' });
    const data = file('learnt.csv', `x,t\n${Array.from({ length: 40 }, (_, i) => `${i},${3 * i + 1}`).join('\n')}\n`);
    await expectNoLeaksAsync(async () => {
      const fitted = await csvData(data, { target: 't' });
      const learnt = structuredClone(fitted.info);
      learnt.features!.scaler!.mean[0]! += 2 * learnt.features!.scaler!.scale[0]!; // every input 2 lower
      learnt.targetScaler!.mean += 5 * learnt.targetScaler!.scale; // every target 5 lower
      const again = await csvData(data, { target: 't', learnt });
      const [x0, x1] = [fitted.train.features.data(), again.train.features.data()];
      const [y0, y1] = [fitted.train.targets.data(), again.train.targets.data()];
      for (let i = 0; i < x0.length; i++) expect(x1[i]! - x0[i]!).toBeCloseTo(-2, 5);
      for (let i = 0; i < y0.length; i++) expect(y1[i]! - y0[i]!).toBeCloseTo(-5, 5);
      for (const d of [fitted, again]) {
        d.train.dispose();
        d.test.dispose();
      }
    });
  });
});
