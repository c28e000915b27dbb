// The main job end to end: `wasmgrad train` on the digits and on a CSV, resume, predict, and clean failures.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromSafetensors, init, memory } from '../../src/index.js';
import { digitsData } from '../../src/train/data.js';
import { CNN_DEFAULTS, DEFAULTS, Trainer } from '../../src/train/trainer.js';
import { mulberry32 } from '../helpers/random.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const run = promisify(execFile);
const tmp = () => mkdtempSync(join(tmpdir(), 'wg-cli-'));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A small CSV: two numeric features, a class from their sum, a noisy regression target. */
function csv(rows: number, seed = 1): string {
  const r = mulberry32(seed);
  const lines = ['x1,x2,label,value'];
  for (let i = 0; i < rows; i++) {
    const a = r() * 4 - 2, b = r() * 4 - 2;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${a + b > 0 ? 'pos' : 'neg'},${(3 * a - b + 0.01 * r()).toFixed(4)}`);
  }
  return lines.join('\n') + '\n';
}

describe('wasmgrad train (CLI)', () => {
  it('trains on the embedded digits: files written, accuracy above a floor, JSON parses, predict agrees', async () => {
    const out = tmp();
    const r = await cli(['train', '--epochs', '2', '--hidden', '64', '--dropout', '0', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.epochs).toHaveLength(2);
    expect(summary.final.testAccuracy).toBeGreaterThan(0.88);
    expect(summary.backend).toBe('wasm');
    for (const f of ['model.safetensors', 'checkpoint.ckpt', 'metrics.json', 'metrics.csv', 'chart.svg']) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n')[0]).toBe('epoch,trainLoss,trainAccuracy,testLoss,testAccuracy,lr,seconds,samplesPerSecond');
    expect(readFileSync(join(out, 'chart.svg'), 'utf8')).toMatch(/^<svg[\s\S]*polyline[\s\S]*<\/svg>\n$/);
    const p = await cli(['predict', '--model', join(out, 'model.safetensors'), '--json', '--limit', '3']);
    expect(p.code).toBe(0);
    const pred = JSON.parse(p.stdout);
    expect(pred.n).toBe(2000);
    expect(pred.accuracy).toBeCloseTo(summary.final.testAccuracy, 6);
    expect(pred.predictions).toHaveLength(3);
  });

  it('prints progress lines, a summary table and a chart without --json (no progress bar off a TTY)', async () => {
    const out = tmp();
    const r = await cli(['train', '--epochs', '2', '--hidden', '16', '--out', out, '--backend', 'ref']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).toMatch(/epoch 1\/2 .*test acc/);
    expect(r.stdout).toMatch(/epoch\s+train loss\s+train acc\s+test loss\s+test acc/);
    expect(r.stdout).toContain('test accuracy (epochs 1–2)');
    expect(r.stdout).toContain('backend ref');
  });

  it("--l2 adds the seed's λ/2·Σ‖W‖² to the loss: a larger reported loss, smaller weights", async () => {
    const sumOfSquares = (dir: string) => {
      const file = fromSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
      const weights = Object.entries(file.tensors).filter(([k]) => k.endsWith('.weight'));
      expect(weights).toHaveLength(2);
      return weights.reduce((acc, [, t]) => acc + Array.from(t.data as Float32Array).reduce((a, v) => a + v * v, 0), 0);
    };
    const args = ['train', '--epochs', '1', '--hidden', '16'];
    const [plain, l2] = [tmp(), tmp()];
    const without = JSON.parse((await cli([...args, '--json', '--out', plain])).stdout);
    const withL2 = JSON.parse((await cli([...args, '--json', '--l2', '0.01', '--out', l2])).stdout);
    expect(withL2.config.l2).toBe(0.01);
    expect(withL2.final.trainLoss).toBeGreaterThan(without.final.trainLoss);
    expect(sumOfSquares(l2)).toBeLessThan(0.8 * sumOfSquares(plain));
    const text = await cli([...args, '--l2', '0.01', '--out', tmp()]);
    expect(text.stdout).toContain('L2 λ=0.01');
  });

  it('resumes from a checkpoint to the same result as an uninterrupted run', async () => {
    const a = tmp(), b = tmp();
    const args = ['--hidden', '32', '--dropout', '0.2', '--json', '--schedule', 'step'];
    const full = JSON.parse((await cli(['train', '--epochs', '3', '--out', a, ...args])).stdout);
    expect(JSON.parse((await cli(['train', '--epochs', '1', '--out', b, ...args])).stdout).epochs).toHaveLength(1);
    const resumed = JSON.parse((await cli(['train', '--epochs', '3', '--out', b, '--resume', join(b, 'checkpoint.ckpt'), '--json'])).stdout);
    expect(resumed.epochs.map((m: { testLoss: number }) => m.testLoss)).toEqual(full.epochs.map((m: { testLoss: number }) => m.testLoss));
    expect(readFileSync(join(b, 'model.safetensors'))).toEqual(readFileSync(join(a, 'model.safetensors')));
  });

  it('Ctrl-C saves a checkpoint and exits 130; resuming finishes the run', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [CLI, 'train', '--epochs', '50', '--hidden', '32', '--out', out, '--backend', 'ref']);
    let stdout = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('epoch 1/50')) resolve();
    }));
    child.kill('SIGINT');
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    expect(code).toBe(130);
    expect(stdout).toContain(`interrupted (SIGINT): checkpoint saved to ${join(out, 'checkpoint.ckpt')}`);
    const r = await cli(['train', '--epochs', '3', '--resume', join(out, 'checkpoint.ckpt'), '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).epochs.length).toBe(3);
  });

  it('SIGTERM mid-epoch saves a checkpoint like Ctrl-C and exits 143; resuming finishes the run', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [CLI, 'train', '--epochs', '2', '--hidden', '32', '--out', out, '--backend', 'ref']);
    let stdout = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('backend ref')) resolve(); // the header: training has started, no epoch is done
    }));
    child.kill('SIGTERM');
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    expect(code).toBe(143);
    expect(stdout).toContain(`interrupted (SIGTERM): checkpoint saved to ${join(out, 'checkpoint.ckpt')}`);
    expect(stdout).not.toContain('epoch 1/2');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ interrupted: true, signal: 'SIGTERM', epochs: [] });
    const r = await cli(['train', '--epochs', '2', '--resume', join(out, 'checkpoint.ckpt'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('resumed after epoch 0');
    expect(r.stdout).toMatch(/epoch 2\/2 .*test acc/);
  });

  it('a reader that closes stdout early (train | head -1) stops training without a stack trace, keeping a checkpoint', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [CLI, 'train', '--epochs', '50', '--hidden', '32', '--out', out, '--backend', 'ref']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy(); // what head does after its first line
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    expect(stderr).toBe('');
    expect(code).toBe(141); // 128 + SIGPIPE, as for a C program in the same pipe
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))).toMatchObject({ interrupted: true, signal: 'SIGPIPE' });
    expect(existsSync(join(out, 'checkpoint.ckpt'))).toBe(true);
  });

  it.runIf(existsSync('/dev/full'))('stdout on a full device: said once on stderr, without a stack trace, exit 1', async () => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [CLI, 'explain'], { stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    expect(stderr).toBe('wasmgrad: cannot write to stdout: ENOSPC: no space left on device, write\n');
    expect(code).toBe(1);
  });

  it('numeric class labels spelt differently are one class: a note says so, and predict scores them alike', async () => {
    const dir = tmp();
    const spell = ['0', '0.0', '00', '1', '1.0', '+1'];
    const text = csv(300).split('\n').map((line, i) => {
      if (i === 0 || !line) return line;
      const cells = line.split(',');
      cells[2] = spell[(cells[2] === 'pos' ? 3 : 0) + (i % 3)]!;
      return cells.join(',');
    }).join('\n');
    writeFileSync(join(dir, 'spelt.csv'), text);
    const args = ['train', '--data', join(dir, 'spelt.csv'), '--target', 'label', '--epochs', '30', '--hidden', '16', '--lr', '0.01', '--out', dir];
    const note = "note: the target 'label' has numeric labels: each number is one class, named in its shortest form: " +
      '0 (written 0, 0.0, 00), 1 (written +1, 1, 1.0)';
    expect((await cli(args)).stdout).toContain(`${note}\n`);
    const s = JSON.parse((await cli([...args, '--json', '--force'])).stdout);
    expect(s.notes).toEqual([note.slice('note: '.length)]);
    expect(s.final.valAccuracy).toBeGreaterThan(0.9);
    const p = JSON.parse((await cli(['predict', '--model', join(dir, 'model.safetensors'), '--data', join(dir, 'spelt.csv'), '--json'])).stdout);
    expect(p.accuracy).toBeGreaterThan(0.9);
  });

  it('trains on a CSV: classification by class name, and regression', async () => {
    const dir = tmp();
    const file = join(dir, 'data.csv');
    writeFileSync(file, csv(300));
    const cls = await cli(['train', '--data', file, '--target', 'label', '--epochs', '30', '--hidden', '16', '--lr', '0.01', '--out', join(dir, 'c'), '--json']);
    expect(cls.code).toBe(0);
    const s = JSON.parse(cls.stdout);
    expect(s.heldOut).toBe('validation');
    expect(s.final.valAccuracy).toBeGreaterThan(0.9);
    // the value column is numeric with many values: regression; drop 'label' first (it is not a number)
    const reg = join(dir, 'reg.csv');
    writeFileSync(reg, csv(300).split('\n').map((l) => l.split(',').filter((_, i) => i !== 2).join(',')).join('\n'));
    const r = await cli(['train', '--data', reg, '--target', 'value', '--epochs', '40', '--hidden', '16', '--lr', '0.01', '--out', join(dir, 'r'), '--json']);
    expect(r.code).toBe(0);
    const sr = JSON.parse(r.stdout);
    expect(Object.keys(sr.final)).toEqual(['epoch', 'trainLoss', 'valMse', 'valRmse', 'valMae', 'valR2', 'lr', 'seconds', 'samplesPerSecond']);
    expect(sr.config.dropout).toBe(0); // regression's default
    expect(sr.final.valMse).toBeLessThan(0.2); // in the target's units (it spans about ±8)
    expect(sr.final.valRmse).toBeCloseTo(Math.sqrt(sr.final.valMse), 12);
    expect(sr.final.valR2).toBeGreaterThan(0.95);
    const p = await cli(['predict', '--model', join(dir, 'c', 'model.safetensors'), '--data', file, '--json']);
    expect(JSON.parse(p.stdout).accuracy).toBeGreaterThan(0.9);
  });

  // Each case is a separate CLI process that fails at start-up, independent of the others: they may overlap.
  it.concurrent.each([
    [['train', '--epochs', '0'], "option '--epochs <n>' argument '0' is invalid. --epochs must be a positive integer."],
    [['train', '--hidden', '64,x'], '--hidden must be positive integers separated by commas'],
    [['train', '--optimizer', 'lbfgs'], 'Allowed choices are sgd, adam, adamw, rmsprop.'],
    [['train', '--dropout', '1'], '--dropout must be a number in [0, 1).'],
    [['train', '--data', 'x.csv', '--target', 'y', '--val-split', '0'], "--val-split must be a number in (0, 1) (a share of the rows held out; 0 would hold out none)."],
    [['train', '--val-split', '0.1'], 'wasmgrad: --val-split applies to --data and --model gpt: the embedded digits come with their own test set'],
    [['train', '--features', 'a,b'], "wasmgrad: --features applies to a CSV's columns (--data <file.csv>)"],
    [['train', '--frobnicate'], "unknown option '--frobnicate'"],
    [['train', '--data', '/nonexistent.csv', '--target', 'y'], 'wasmgrad: --data: cannot read /nonexistent.csv'],
    [['train', '--data', 'x.csv'], 'wasmgrad: --data needs --target <column>'],
    [['train', '--resume', '/nonexistent.ckpt'], 'wasmgrad: --resume: cannot read /nonexistent.ckpt'],
    [['predict'], "required option '--model <file>' not specified"],
    [['train', '--threads', 'many'], "--threads must be an integer from 1 to 16, or 'auto'."],
    [['train', '--model', 'rnn'], 'Allowed choices are mlp, cnn, gpt.'],
    [['train', '--model', 'cnn', '--data', 'x.csv', '--target', 'y'],
      "wasmgrad: --model cnn trains on images (the embedded digits), and a CSV's rows are not images: leave out --data, or train an MLP on it"],
    [['train', '--random-shift', '1', '--data', 'x.csv', '--target', 'y'],
      "wasmgrad: --random-shift moves images (the embedded digits), and a CSV's rows are not images: leave it out with --data"],
    [['train', '--random-shift', '-1'], '--random-shift must be an integer ≥ 0.'],
    [['train', '--model', 'cnn', '--random-shift', '28'], "wasmgrad: Trainer: randomShift must be less than the images' height and width (28×28), got 28"],
    [['train', '--threads', '2', '--build', 'scalar'], '--threads 2 needs the wasm backend with --build auto'],
    [['nonsense'], "unknown command 'nonsense'"],
  ])('fails cleanly: %j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('--threads 2 trains to the same bytes as one thread', async () => {
    const [one, two] = [tmp(), tmp()];
    const args = ['train', '--epochs', '1', '--hidden', '256', '--json'];
    const a = JSON.parse((await cli([...args, '--threads', '1', '--out', one])).stdout);
    const b = JSON.parse((await cli([...args, '--threads', '2', '--out', two])).stdout);
    expect([a.build, a.threads, b.build, b.threads]).toEqual(['relaxed', 1, 'relaxed-simd-threads', 2]);
    expect(readFileSync(join(two, 'model.safetensors')).equals(readFileSync(join(one, 'model.safetensors')))).toBe(true);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
    const r = await cli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.concurrent.each([
    ['a missing target column', 'x1,x2\n1,2\n3,4\n', "CSV: target column 'label' not found; the columns are: x1, x2"],
    ['a text among numbers', 'x1,x2,label\n1,2,a\n3,oops,b\n4,5,a\n6,7,b\n8,9,a\n',
      "CSV line 3, column 'x2': 'oops' is not a number, though the column holds numbers (line 2: 2); correct it, mark it missing " +
      '(empty, NA or ?), or leave the column out (--ignore)'],
    ['a short row', 'x1,x2,label\n1,2,a\n3,4\n', 'CSV: Invalid Record Length: expect 3, got 2 on line 3'],
  ])('rejects a CSV with %s, naming the line and column', async (_what, text, message) => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.csv'), text);
    const r = await cli(['train', '--data', join(dir, 'bad.csv'), '--target', 'label', '--epochs', '1', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`wasmgrad: ${message}`);
  });
});

describe('wasmgrad train --model cnn', () => {
  /** One epoch of the CNN with its defaults, uninterrupted. */
  const run = tmp();
  let summary: { config: unknown; final: { testAccuracy: number }; epochs: unknown[] };
  beforeAll(async () => {
    const r = await cli(['train', '--model', 'cnn', '--epochs', '1', '--out', run, '--json']);
    expect(r.stderr).toBe('');
    summary = JSON.parse(r.stdout);
  }, 180_000);

  it('trains the CNN on the digits: its defaults, files written, accuracy above a floor, predict agrees', async () => {
    expect(summary.config).toEqual({ ...CNN_DEFAULTS, epochs: 1 });
    expect(summary.epochs).toHaveLength(1);
    expect(summary.final.testAccuracy).toBeGreaterThan(0.93); // one epoch; chance is 0.1, the MLP's first epoch ≈ 0.92
    for (const f of ['model.safetensors', 'checkpoint.ckpt', 'metrics.json', 'metrics.csv', 'chart.svg']) expect(existsSync(join(run, f))).toBe(true);
    const file = fromSafetensors(new Uint8Array(readFileSync(join(run, 'model.safetensors'))));
    expect(JSON.parse(file.metadata.wasmgrad_model!).cnn).toMatchObject({ inputShape: [1, 28, 28], channels: [16, 32], kernelSize: 5 });
    expect(Object.keys(file.tensors)).toEqual(expect.arrayContaining(['0.weight', '1.running_mean', '1.running_var', '1.num_batches_tracked', '9.weight']));
    const p = await cli(['predict', '--model', join(run, 'model.safetensors'), '--json', '--limit', '3']);
    expect(p.code).toBe(0);
    const pred = JSON.parse(p.stdout);
    expect(pred.n).toBe(2000);
    expect(pred.accuracy).toBeCloseTo(summary.final.testAccuracy, 6);
    const csv = join(run, 'rows.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    const refused = await cli(['predict', '--model', join(run, 'model.safetensors'), '--data', csv]);
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'wasmgrad: --data: this model was trained on the embedded digits, not on a CSV\n' });
  });

  it('SIGTERM mid-epoch saves a checkpoint; resuming gives the bytes of the uninterrupted run (shifts and batch norm included)', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [CLI, 'train', '--model', 'cnn', '--epochs', '1', '--out', out]);
    let stdout = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (stdout.includes('backend wasm')) setTimeout(resolve, 1000); // the header: a second into the epoch
    }));
    child.kill('SIGTERM');
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
    expect(code).toBe(143);
    expect(stdout).toContain('model cnn 1×28×28 → conv5×5(16)-bn-relu-pool → conv5×5(32)-bn-relu-pool → 1568-10, adam lr 0.002, batch 64');
    expect(stdout).toContain('random shifts ±2 px');
    expect(stdout).not.toContain('epoch 1/1');
    const r = await cli(['train', '--resume', join(out, 'checkpoint.ckpt'), '--out', out, '--json', '--epochs', '1']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).final.testAccuracy).toBe(summary.final.testAccuracy);
    expect(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(run, 'model.safetensors')))).toBe(true);
  }, 180_000);

  it('--resume refuses a --model other than the checkpoint\'s', async () => {
    const r = await cli(['train', '--resume', join(run, 'checkpoint.ckpt'), '--model', 'mlp', '--epochs', '2', '--out', tmp()]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe("wasmgrad: --resume: --model mlp (the checkpoint: cnn) differs from the checkpoint's run; " +
      'leave them out to continue that run, or start a new run without --resume\n');
  });
});

describe('Trainer', () => {
  it('a run stopped mid-epoch and restored from its checkpoint ends bit-identical to an uninterrupted one', async () => {
    await init({ build: 'simd' });
    const data = await digitsData();
    const start = memory();
    const config = { ...DEFAULTS, hidden: [24], epochs: 2, dropout: 0.2, schedule: 'onecycle' as const };
    const straight = new Trainer(config, data);
    await straight.trainEpoch();
    await straight.trainEpoch();
    const first = new Trainer(config, data);
    let batches = 0;
    expect(await first.trainEpoch({ shouldStop: () => ++batches === 40 })).toBeNull();
    const bytes = first.checkpointBytes();
    first.dispose();
    const second = new Trainer(config, data);
    second.restore(bytes);
    await second.trainEpoch();
    await second.trainEpoch();
    expect(second.epoch).toBe(2);
    expect(second.model.parameters().map((p) => Array.from(p.data()))).toEqual(straight.model.parameters().map((p) => Array.from(p.data())));
    straight.dispose();
    second.dispose();
    expect(memory()).toMatchObject({ tensors: start.tensors, bytes: start.bytes });
    data.train.dispose();
    data.test.dispose();
  });
});
