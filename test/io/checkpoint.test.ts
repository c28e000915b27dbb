// Checkpoints: one atomically written file with model, optimizer, scheduler, step and RNG state; resuming
// reproduces the uninterrupted run bit for bit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Generator, loadCheckpoint, nn, optim, saveCheckpoint, tensor, tidy } from '../../src/index.js';
import { BACKENDS, expectNoLeaksAsync, useBackend } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';

interface Run {
  model: nn.Sequential; opt: optim.Adam; sched: optim.StepLR; shuffle: Generator; dropout: Generator; step: number;
}

function makeRun(): Run {
  const shuffle = new Generator(21);
  const dropout = new Generator(22);
  const model = new nn.Sequential(
    new nn.Linear(4, 16, { generator: new Generator(1) }), new nn.GELU(), new nn.Dropout(0.2, { generator: dropout }),
    new nn.Linear(16, 3, { generator: new Generator(2) }),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  return { model, opt, sched: new optim.StepLR(opt, { stepSize: 3, gamma: 0.5 }), shuffle, dropout, step: 0 };
}

const rand = mulberry32(9);
const X = Array.from({ length: 32 }, () => [rand(), rand(), rand(), rand()]);
const Y = X.map((r) => (r[0]! + r[1]! > 1 ? 1 : r[2]! > 0.5 ? 2 : 0));

function train(run: Run, steps: number): void {
  for (let s = 0; s < steps; s++) {
    const order = run.shuffle.permutation(X.length).slice(0, 8);
    tidy(() => {
      run.opt.zeroGrad();
      const loss = nn.crossEntropy(run.model(tensor(Array.from(order, (i) => X[i]!))), Array.from(order, (i) => Y[i]!));
      loss.backward();
      run.opt.step();
    });
    run.sched.step();
    run.step++;
  }
}

const params = (r: Run) => r.model.parameters().map((p) => Array.from(p.data()));

function dispose(r: Run): void {
  r.opt.disposeState();
  r.model.dispose();
}

describe.each(BACKENDS)('checkpoints on %s', (name) => {
  it('2×N steps equal N steps + save + load into fresh objects + N steps, bit for bit', async () => {
    await useBackend(name);
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(dir, 'run.ckpt');
    await expectNoLeaksAsync(async () => {
      const straight = makeRun();
      train(straight, 10);
      const first = makeRun();
      train(first, 5);
      await saveCheckpoint(path, { model: first.model, optimizer: first.opt, scheduler: first.sched, step: first.step,
        generators: { shuffle: first.shuffle, dropout: first.dropout }, extra: { note: 'half way' } });
      dispose(first);
      const resumed = makeRun();
      const restored = await loadCheckpoint(path, { model: resumed.model, optimizer: resumed.opt, scheduler: resumed.sched,
        generators: { shuffle: resumed.shuffle, dropout: resumed.dropout } });
      expect(restored).toEqual({ step: 5, extra: { note: 'half way' } });
      resumed.step = restored.step;
      expect(resumed.opt.paramGroups[0]!.lr).toBe(0.01 * 0.5); // StepLR(3, 0.5) after 5 steps
      train(resumed, 5);
      expect(params(resumed)).toEqual(params(straight));
      expect(resumed.opt.paramGroups[0]!.lr).toBe(straight.opt.paramGroups[0]!.lr);
      dispose(straight);
      dispose(resumed);
    });
  });

  it('writes atomically: a crashed save leaves only a temp file, and the previous checkpoint still loads', async () => {
    await useBackend(name);
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(dir, 'run.ckpt');
    const run = makeRun();
    train(run, 2);
    await saveCheckpoint(path, { model: run.model, optimizer: run.opt, step: run.step });
    const good = readFileSync(path);
    // what a kill in the middle of the next save leaves behind: a partial temporary file of a process now gone
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    const stale = `run.ckpt.tmp-${dead}-1`;
    writeFileSync(join(dir, stale), good.subarray(0, good.length >> 1));
    // and one of a process still running (this one), which may be in the middle of its own save
    const live = `run.ckpt.tmp-${process.pid}-1`;
    writeFileSync(join(dir, live), good.subarray(0, 8));
    const fresh = makeRun();
    await expect(loadCheckpoint(path, { model: fresh.model, optimizer: fresh.opt })).resolves.toMatchObject({ step: 2 });
    expect(params(fresh)).toEqual(params(run));
    expect(readdirSync(dir).sort()).toEqual(['run.ckpt', live, stale].sort());
    // a successful save replaces the file, leaves no temp file of its own and removes the dead process's one
    train(run, 1);
    await saveCheckpoint(path, { model: run.model, optimizer: run.opt, step: run.step });
    expect(readdirSync(dir).sort()).toEqual(['run.ckpt', live]);
    expect(existsSync(path)).toBe(true);
    dispose(run);
    dispose(fresh);
  });

  it('refuses a checkpoint that does not fit, before changing anything', async () => {
    await useBackend(name);
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const path = join(dir, 'run.ckpt');
    const run = makeRun();
    train(run, 1);
    await saveCheckpoint(path, { model: run.model, optimizer: run.opt, step: 1 });
    const other = new nn.Sequential(new nn.Linear(4, 8));
    const before = other.parameters().map((p) => Array.from(p.data()));
    await expect(loadCheckpoint(path, { model: other })).rejects.toThrow('loadCheckpoint: model: loadStateDict: unexpected: 3.weight, 3.bias | ' +
      'wrong shape: 0.weight: expected [8,4], got [16,4]; 0.bias: expected [8], got [16] (nothing was loaded)');
    expect(other.parameters().map((p) => Array.from(p.data()))).toEqual(before);
    const fresh = makeRun();
    await expect(loadCheckpoint(path, { model: fresh.model, optimizer: fresh.opt, scheduler: fresh.sched })).rejects.toThrow('loadCheckpoint: the checkpoint has no scheduler state');
    writeFileSync(path, 'not a checkpoint at all');
    await expect(loadCheckpoint(path, { model: fresh.model })).rejects.toThrow(`safetensors: ${path} is not a safetensors file`);
    for (const r of [run, fresh]) dispose(r);
    other.dispose();
  });
});
