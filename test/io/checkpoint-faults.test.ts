// Crash safety: a training process saving a checkpoint after every step is killed (SIGKILL) at random moments,
// many times. After every kill the last checkpoint still loads; restarting from it again and again ends with
// exactly the parameters of a run that was never interrupted.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSafetensors } from '../../src/index.js';
import { mulberry32 } from '../helpers/random.js';

const CHILD = join(import.meta.dirname, '../helpers/checkpoint-child.mjs');
const TOTAL = 60;

/** Runs the child until it exits or `killAfterMs` passes (then SIGKILL); returns the last step it reported. */
function runChild(path: string, killAfterMs?: number): Promise<{ lastSaved: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, path, String(TOTAL)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastSaved = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      const m = [...d.toString().matchAll(/saved (\d+)/g)];
      if (m.length) lastSaved = Number(m[m.length - 1]![1]);
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ lastSaved, killed: true });
      else if (code === 0) resolve({ lastSaved, killed: false });
      else reject(new Error(`child failed (${code}): ${err}`));
    });
  });
}

function checkpoint(path: string): { step: number; model: Record<string, number[]> } {
  const file = fromSafetensors(new Uint8Array(readFileSync(path)));
  const meta = JSON.parse(file.metadata.wasmgrad!) as { step: number };
  const model = Object.fromEntries(Object.entries(file.tensors).filter(([k]) => k.startsWith('model.'))
    .map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
  return { step: meta.step, model };
}

describe('checkpoints under SIGKILL', () => {
  it('always leave a loadable checkpoint, and resuming reproduces the uninterrupted run', async () => {
    const straight = join(mkdtempSync(join(tmpdir(), 'ck-straight-')), 'run.ckpt');
    await runChild(straight);
    const reference = checkpoint(straight);
    expect(reference.step).toBe(TOTAL);

    const path = join(mkdtempSync(join(tmpdir(), 'ck-killed-')), 'run.ckpt');
    const rand = mulberry32(7);
    let kills = 0;
    let last = 0;
    for (let attempt = 0; attempt < 60 && kills < 25; attempt++) {
      const r = await runChild(path, 150 + rand() * 400);
      if (!r.killed) break;
      kills++;
      if (r.lastSaved === 0 && last === 0) continue; // killed before the first save finished
      const c = checkpoint(path); // must parse: the previous checkpoint is never destroyed
      expect(c.step).toBeGreaterThanOrEqual(Math.max(last, r.lastSaved));
      last = c.step;
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    const finish = await runChild(path);
    expect(finish.killed).toBe(false);
    const resumed = checkpoint(path);
    expect(resumed.step).toBe(TOTAL);
    expect(resumed.model).toEqual(reference.model);
  });
});
