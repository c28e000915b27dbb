// Crash safety: a training process saving a checkpoint after every step is killed (SIGKILL) 25 times, at random
// moments and, every other time, while its checkpoint file is being written. After every kill the last checkpoint
// still loads; restarting from it again and again ends with exactly the parameters of a run that was never
// interrupted, and with no temporary file left behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSafetensors } from '../../src/index.js';
import { mulberry32 } from '../helpers/random.js';

const CHILD = join(import.meta.dirname, '../helpers/checkpoint-child.mjs');
const TOTAL = 60;

interface Kill {
  /** Kill once the child has reported this many saves in this run... */
  afterSaves: number;
  /**
   * ...and then after this many more milliseconds, so the kill lands anywhere in the next step or save; or
   * 'on-write': as soon as the next save's temporary file appears, so it lands while the file is being written.
   */
  delay: number | 'on-write';
}

/**
 * Runs the child until it exits, or, with `kill`, SIGKILLs it at a moment tied to its progress (not to the
 * clock, which would let a fast machine finish before the kill). Returns the last step it reported and the
 * times between its reports.
 */
function runChild(path: string, kill?: Kill): Promise<{ lastSaved: number; killed: boolean; intervals: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, path, String(TOTAL)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastSaved = 0;
    let saves = 0;
    let lastAt = 0;
    const intervals: number[] = [];
    let armed = false;
    const disarm: (() => void)[] = [];
    let err = '';
    const arm = (k: Kill) => {
      armed = true;
      if (k.delay !== 'on-write') {
        const timer = setTimeout(() => child.kill('SIGKILL'), k.delay);
        disarm.push(() => clearTimeout(timer));
      } else {
        const watcher = watch(dirname(path), (_, name) => {
          if (name?.startsWith(`${basename(path)}.tmp-`)) child.kill('SIGKILL');
        });
        disarm.push(() => watcher.close());
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/saved (\d+)/g)) {
        lastSaved = Number(m[1]);
        const now = performance.now();
        if (saves++ > 0) intervals.push(now - lastAt);
        lastAt = now;
      }
      if (kill && !armed && saves >= kill.afterSaves) arm(kill);
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code, signal) => {
      for (const f of disarm) f();
      if (signal === 'SIGKILL') resolve({ lastSaved, killed: true, intervals });
      else if (code === 0) resolve({ lastSaved, killed: false, intervals });
      else reject(new Error(`child failed (${code}): ${err}`));
    });
  });
}

function temporaries(path: string): string[] {
  return readdirSync(dirname(path)).filter((f) => f.startsWith(`${basename(path)}.tmp-`));
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
    const { intervals } = await runChild(straight);
    const stepMs = intervals.reduce((a, b) => a + b, 0) / intervals.length; // one training step + one save
    const reference = checkpoint(straight);
    expect(reference.step).toBe(TOTAL);

    const path = join(mkdtempSync(join(tmpdir(), 'ck-killed-')), 'run.ckpt');
    const rand = mulberry32(7);
    let kills = 0;
    let midSave = 0; // kills that left a temporary file: they landed while a checkpoint was being written
    let last = 0;
    for (let attempt = 0; attempt < 60 && kills < 25; attempt++) {
      const afterSaves = 1 + Math.floor(rand() * 2);
      const r = await runChild(path, { afterSaves, delay: attempt % 2 ? 'on-write' : rand() * stepMs });
      if (!r.killed) break;
      kills++;
      if (temporaries(path).length > 0) midSave++;
      const c = checkpoint(path); // must parse: the previous checkpoint is never destroyed
      expect(c.step).toBeGreaterThanOrEqual(Math.max(last, r.lastSaved));
      last = c.step;
    }
    expect(kills).toBe(25);
    expect(midSave).toBeGreaterThanOrEqual(5);
    const finish = await runChild(path);
    expect(finish.killed).toBe(false);
    const resumed = checkpoint(path);
    expect(resumed.step).toBe(TOTAL);
    expect(resumed.model).toEqual(reference.model);
    expect(temporaries(path)).toEqual([]); // the finishing run's saves removed what the killed ones left
  });
});
