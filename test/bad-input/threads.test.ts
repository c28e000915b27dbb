// Thread counts that make no sense (0, negative, fractional, text, more than 16) are refused with what is
// allowed; more threads than cores are allowed with a one-time warning (the CLI: a note line); threads where
// memory cannot be shared between threads are an error for a number, and one thread with a note saying why for
// 'auto'. Each refusal leaves memory unchanged and the same model and optimizer working.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendInfo, createWasmBackend, getBackend, init, memory, optim, setBackend } from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable, type World } from '../helpers/world.js';

let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.SGD(params, { lr: 0.1 }));
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});
afterAll(() => disposeWorld(world));

const cores = availableParallelism();
const noSharedMemory = () => vi.stubGlobal('SharedArrayBuffer', undefined);

const REFUSED: [string, () => Promise<unknown>, string][] = [
  ['threads: 0', () => init({ threads: 0 }), "init: threads must be an integer from 1 to 16 or 'auto', got 0"],
  ['a negative count', () => init({ threads: -2 }), "init: threads must be an integer from 1 to 16 or 'auto', got -2"],
  ['a fractional count', () => init({ threads: 2.5 }), "init: threads must be an integer from 1 to 16 or 'auto', got 2.5"],
  ['more than 16', () => createWasmBackend({ threads: 17 }),
    "createWasmBackend: threads must be an integer from 1 to 16 or 'auto', got 17"],
  ['NaN', () => init({ threads: NaN }), "init: threads must be an integer from 1 to 16 or 'auto', got NaN"],
  ['a number as text', () => init({ threads: '2' as never }),
    "init: threads must be an integer from 1 to 16 or 'auto', got the string '2'"],
  ["a misspelt 'auto'", () => init({ threads: 'atuo' as never }),
    "init: threads must be an integer from 1 to 16 or 'auto', got the string 'atuo'; did you mean 'auto'?"],
  ['threads with a build that does not share memory', () => init({ threads: 2, build: 'simd' }),
    "init: threads need a threads build ('relaxed-simd-threads' or 'simd-threads'), not 'simd' (leave build out, or pass one of those)"],
  ['threads for the ref backend', () => init({ backend: 'ref', threads: 2 }),
    "init: threads: options of the wasm backend, not of backend 'ref'"],
  ['threads where memory cannot be shared', () => (noSharedMemory(), init({ threads: 2 })),
    "init: threads: 2 needs memory shared between threads, and this engine has no SharedArrayBuffer; ask for threads: " +
      "'auto' to run on one thread where it cannot be shared"],
];

describe('thread counts the library refuses', () => {
  it.each(REFUSED)('%s', async (_name, call, message) => {
    const backend = getBackend();
    const before = memory();
    await expect(call()).rejects.toThrow(message);
    expect(getBackend()).toBe(backend);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    stillUsable(world);
  });
});

describe('thread counts the library runs, saying why', () => {
  it("threads: 'auto' where memory cannot be shared runs one thread and says why", async () => {
    noSharedMemory();
    const backend = await createWasmBackend({ threads: 'auto' });
    expect(backend.threads).toBe(1);
    expect(backend.build).not.toBe('simd-threads');
    const current = getBackend();
    setBackend(backend);
    expect(backendInfo()).toMatchObject({
      threads: 1, threadsNote: 'one thread: memory cannot be shared between threads here (this engine has no SharedArrayBuffer)',
    });
    setBackend(current);
    stillUsable(world);
  });

  it.runIf(cores < 16)('more threads than cores run, with one warning per process', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const note = `threads: ${cores + 1} is more than the ${cores} cores here; the extra threads take turns on the cores ` +
      "(threads: 'auto' runs one per core)";
    const backend = await createWasmBackend({ threads: cores + 1 });
    expect(backend.threads).toBe(cores + 1);
    expect(backend.threadsNote).toBe(note);
    expect(warn.mock.calls).toEqual([[`wasmgrad: ${note}`]]);
    const again = await createWasmBackend({ threads: cores + 1 });
    expect(warn).toHaveBeenCalledTimes(1);
    backend.close();
    again.close();
    stillUsable(world);
  });
});

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const out = mkdtempSync(join(tmpdir(), 'wg-bad-threads-'));

function cli(args: string[], nodeFlags: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeFlags, CLI, ...args], { timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}

const allowed = "--threads must be an integer from 1 to 16, or 'auto'.";
const small = ['--epochs', '1', '--hidden', '16', '--out', out, '--force']; // the cases share one directory

describe('--threads on the command line', () => {
  it.each(['0', '-1', '1.5', 'abc', '17', ''])('--threads %j is refused with what is allowed', async (value) => {
    const r = await cli(['train', '--threads', value, ...small]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toContain(`option '--threads <n>' argument '${value}' is invalid. ${allowed}`);
  });

  it.runIf(cores < 16)('more threads than cores train, with a note line', async () => {
    const r = await cli(['train', '--threads', String(cores + 1), ...small]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`(relaxed-simd-threads, ${cores + 1} threads)`); // relaxed SIMD: wasmgrad enables it in Node
    expect(r.stdout).toContain(`\nnote: --threads ${cores + 1} is more than the ${cores} cores here; the extra threads take turns ` +
      'on the cores (--threads auto runs one per core)\n');
    expect(r.stderr).toBe('');
  }, 120_000);

  it('where memory cannot be shared, --threads 2 is refused and --threads auto trains on one thread, saying why', async () => {
    const flags = ['--no-harmony-sharedarraybuffer'];
    const two = await cli(['train', '--threads', '2', ...small], flags);
    expect(two).toMatchObject({ code: 1, stdout: '' });
    expect(two.stderr).toBe('wasmgrad: --threads 2 needs memory shared between threads, and this engine has no SharedArrayBuffer; ' +
      'use --threads auto (one thread where memory cannot be shared) or --threads 1\n');
    const auto = await cli(['train', ...small], flags); // --threads auto is the default
    expect(auto.code).toBe(0);
    expect(auto.stdout).toMatch(/backend wasm \((relaxed|simd)\)/);
    expect(auto.stdout).toContain('\nnote: one thread: memory cannot be shared between threads here (this engine has no SharedArrayBuffer)\n');
  }, 120_000);
});
