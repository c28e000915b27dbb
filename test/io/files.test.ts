// Files: saves to one path at the same moment never mix or lose data and leave no temporary behind; any name,
// '__proto__' included, round-trips through safetensors, save / load and checkpoints.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/io/checkpoint.js';
import {
  fromSafetensors, Generator, load, loadCheckpoint, nn, optim, save, saveCheckpoint, tensor, tidy, toSafetensors, type Tensor,
} from '../../src/index.js';
import { expectNoLeaksAsync, useBackend } from '../helpers/api.js';

const run = promisify(execFile);

/** `size` bytes all equal to `mark`: a file that is complete and unmixed iff all its bytes are one mark. */
const filled = (mark: number, size: number) => new Uint8Array(size).fill(mark);

function checkWhole(path: string, size: number): number {
  const bytes = readFileSync(path);
  expect(bytes.length).toBe(size);
  expect(bytes.every((b) => b === bytes[0])).toBe(true);
  return bytes[0]!;
}

const temporaries = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

describe('saves to the same path at the same moment', () => {
  it('in one process: the file is one whole save, and no temporary remains', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const path = join(dir, 'run.ckpt');
    const size = 1 << 20;
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 16 }, (_, i) => writeFileAtomic(path, filled(1 + i, size))));
      expect(checkWhole(path, size)).toBeGreaterThanOrEqual(1);
      expect(temporaries(dir)).toEqual([]);
    }
  });

  it('from two processes: the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const path = join(dir, 'run.ckpt');
    const size = 256 << 10;
    const module = new URL('../../dist/io/checkpoint.js', import.meta.url).href;
    const child = (base: number) => run(process.execPath, ['--input-type=module', '-e', `
      import { writeFileAtomic } from ${JSON.stringify(module)};
      for (let round = 0; round < 10; round++) {
        await Promise.all([0, 1, 2, 3].map((i) => writeFileAtomic(${JSON.stringify(path)}, new Uint8Array(${size}).fill(${base} + 4 * round + i))));
      }`]);
    await Promise.all([child(1), child(101)]);
    const mark = checkWhole(path, size);
    expect(mark >= 37 && mark <= 40 || mark >= 137 && mark <= 140).toBe(true); // one of the last round's saves
    expect(temporaries(dir)).toEqual([]);
  });

  it("removes only dead processes' temporaries, in this version's names and 0.1.0's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const path = join(dir, 'run.ckpt');
    const { stdout } = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    const dead = Number(stdout);
    const stale = [`run.ckpt.tmp-${dead}-3-0a1b2c3d`, `run.ckpt.tmp-${dead}-1700000000000`];
    const live = `run.ckpt.tmp-${process.pid}-1-deadbeef`;
    const other = 'run.ckpt.tmp-notes.txt';
    for (const f of [...stale, live, other]) writeFileSync(join(dir, f), 'partial');
    await writeFileAtomic(path, filled(7, 100));
    expect(readdirSync(dir).sort()).toEqual(['run.ckpt', live, other].sort());
  });
});

const NAMES = ['__proto__', 'constructor', 'toString'];

/** A module whose parameters are named like members of Object.prototype. */
class Awkward extends nn.Module {
  constructor(seed: number) {
    super();
    const g = new Generator(seed);
    for (const name of NAMES) {
      Object.defineProperty(this, name, { value: nn.parameter(tensor(Array.from(g.uniform(3)))), enumerable: true, writable: true, configurable: true });
    }
  }

  forward(x: Tensor): Tensor {
    const p = Object.fromEntries(this.namedParameters());
    return NAMES.reduce((acc, n) => acc.mul(p[n]!), x);
  }
}

const values = (m: nn.Module) => m.namedParameters().map(([k, p]) => [k, Array.from(p.data())]);

describe("names like '__proto__', 'constructor', 'toString'", () => {
  it('round-trip through safetensors bytes', async () => {
    await useBackend('wasm');
    await expectNoLeaksAsync(async () => {
      const m = new Awkward(1);
      expect(m.namedParameters().map(([k]) => k)).toEqual(NAMES);
      const file = fromSafetensors(toSafetensors(m.stateDict(), { constructor: 'meta too' }));
      expect(Object.keys(file.tensors)).toEqual(NAMES);
      expect(NAMES.map((n) => Array.from(file.tensors[n]!.data as Float32Array))).toEqual(values(m).map(([, v]) => v));
      expect(Object.entries(file.metadata)).toEqual([['constructor', 'meta too']]);
      m.dispose();
    });
  });

  it('round-trip through save / load, and a missing one is reported by name', async () => {
    await useBackend('wasm');
    await expectNoLeaksAsync(async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'names-')), 'm.safetensors');
      const [a, b] = [new Awkward(1), new Awkward(2)];
      await save(a, path);
      await load(b, path);
      expect(values(b)).toEqual(values(a));
      expect(() => b.loadStateDict({})).toThrow('loadStateDict: missing: __proto__, constructor, toString (nothing was loaded)');
      a.dispose();
      b.dispose();
    });
  });

  it('round-trip through checkpoints with optimizer state', async () => {
    await useBackend('wasm');
    await expectNoLeaksAsync(async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'names-')), 'run.ckpt');
      const train = (m: Awkward, opt: optim.SGD) => tidy(() => {
        opt.zeroGrad();
        m(tensor([1, 2, 3])).sum().backward();
        opt.step();
      });
      const a = new Awkward(1);
      const optA = new optim.SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
      train(a, optA);
      await saveCheckpoint(path, { model: a, optimizer: optA });
      const b = new Awkward(2);
      const optB = new optim.SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
      await loadCheckpoint(path, { model: b, optimizer: optB });
      train(a, optA);
      train(b, optB);
      expect(values(b)).toEqual(values(a));
      for (const [m, o] of [[a, optA], [b, optB]] as const) {
        o.disposeState();
        m.dispose();
      }
    });
  });
});
