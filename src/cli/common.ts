// Shared by the CLI commands: choosing the backend, flag parsers whose messages say what is allowed, stopping
// cleanly on a signal, and checking an output directory before any work.
import { InvalidArgumentError } from 'commander';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { init } from '../backend/registry.js';
import type { BuildName } from '../backend/types.js';
import { withThreadsWarning } from '../backend/wasm/index.js';
import { threadsUnavailableReason } from '../backend/wasm/threads.js';

/**
 * Makes the backend current and returns what the user should know about its threads (one line each). threads
 * 'auto' is the library's: one thread per core where memory can be shared, a kind of kernel call shared only
 * while that pays; with an explicit --build it is one thread. More threads than cores are allowed, with a note.
 */
export async function initBackend(name: string, build = 'auto', threads: number | 'auto' = 1): Promise<string[]> {
  if (name !== 'wasm' && name !== 'ref') throw new Error(`--backend must be 'wasm' or 'ref', got '${name}'`);
  if (threads !== 'auto' && threads > 1 && (name === 'ref' || build !== 'auto')) {
    throw new Error(`--threads ${threads} needs the wasm backend with --build auto`);
  }
  if (name === 'ref') {
    await init({ backend: 'ref' });
    return [];
  }
  const cannotShare = threadsUnavailableReason();
  if (threads !== 'auto' && threads > 1 && cannotShare) {
    throw new Error(`--threads ${threads} needs memory shared between threads, and ${cannotShare}; ` +
      'use --threads auto (one thread where memory cannot be shared) or --threads 1');
  }
  const notes: string[] = [];
  const info = await withThreadsWarning((note) => notes.push(note), () =>
    init({ backend: 'wasm', build: build as BuildName | 'auto', threads: build === 'auto' ? threads : 1 }));
  // 'auto' falling back to one thread is worth a line; what it chose on a normal machine is not.
  if (threads === 'auto' && info.threads === 1 && build === 'auto' && info.threadsNote) notes.push(info.threadsNote);
  return notes.map((note) => note.replace(/threads: '?(\w+)'?/g, '--threads $1')); // as the flag is spelt
}

/** --threads: an integer from 1 to 16, or 'auto'. */
export function threadCount(value: string): number | 'auto' {
  if (value === 'auto') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > 16) {
    throw new InvalidArgumentError("--threads must be an integer from 1 to 16, or 'auto'.");
  }
  return n;
}

function parser(check: (x: number) => boolean, what: string) {
  return (flag: string) => (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !check(x)) throw new InvalidArgumentError(`${flag} must be ${what}.`);
    return x;
  };
}

export const positiveInt = parser((x) => Number.isInteger(x) && x > 0, 'a positive integer');
export const positiveNumber = parser((x) => Number.isFinite(x) && x > 0, 'a number > 0');
export const nonNegative = parser((x) => Number.isFinite(x) && x >= 0, 'a number ≥ 0');
export const nonNegativeInt = parser((x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0');
export const probability = parser((x) => x >= 0 && x < 1, 'a number in [0, 1)');
/** A share of rows held out: 0 would leave nothing to validate on, 1 nothing to train on. */
export const fraction = parser((x) => x > 0 && x < 1, 'a number in (0, 1) (a share of the rows held out; 0 would hold out none)');

/** Column names separated by commas: 'a,b,c' (each trimmed, none empty, none twice). */
export function nameList(flag: string) {
  return (value: string): string[] => {
    const names = value.split(',').map((s) => s.trim());
    if (names.some((n) => n === '')) throw new InvalidArgumentError(`${flag} must be column names separated by commas, e.g. age,height.`);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new InvalidArgumentError(`${flag} names '${twice}' twice.`);
    return names;
  };
}

export function intList(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (!parts.length || parts.some((p) => p === '') || nums.some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new InvalidArgumentError(`${flag} must be positive integers separated by commas, e.g. 128,64.`);
    }
    return nums;
  };
}

/** Why a long command was asked to stop, as a signal: SIGPIPE stands for stdout's reader going away (EPIPE). */
export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGPIPE';

/** The shell's exit code for a process ended by `signal`: 128 + its number (SIGINT 130, SIGTERM 143, SIGPIPE 141). */
export const exitCodeOf = (signal: StopSignal): number => 128 + constants.signals[signal];

/**
 * Watches for requests to stop: Ctrl-C (SIGINT), SIGTERM (`kill`, a service manager, a container stopping), and
 * the reader of stdout going away (`wasmgrad train | head -1`, where a C program would get SIGPIPE). While
 * watched, none of them ends the process: the command checks `signal` and stops at a point it can save.
 */
export function watchStops(): { readonly signal: StopSignal | null; close(): void } {
  let signal: StopSignal | null = null;
  const onInt = () => void (signal ??= 'SIGINT');
  const onTerm = () => void (signal ??= 'SIGTERM');
  const onStdoutError = (e: NodeJS.ErrnoException) => void (e.code === 'EPIPE' && (signal ??= 'SIGPIPE'));
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.stdout.on('error', onStdoutError);
  return {
    get signal() {
      return signal;
    },
    close() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.stdout.off('error', onStdoutError);
    },
  };
}

/**
 * mkdir -p that always ends. Node's mkdir({ recursive: true }) spins forever where a parent exists but making
 * the child still fails with ENOENT (under /proc, below a dangling symlink); here each missing level is made
 * once, after its parent, and its error is final.
 */
export async function makeDir(dir: string, parentMade = false): Promise<void> {
  try {
    await mkdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(dir)).isDirectory()) return;
    if (code !== 'ENOENT' || parentMade || dirname(dir) === dir) throw e;
    await makeDir(dirname(dir));
    await makeDir(dir, true);
  }
}

/**
 * Makes an output directory and proves it writable with a probe file, so that a bad --out (read-only, under a
 * file, no permission) is reported before any work, with the OS's reason.
 */
export async function checkOutDir(dir: string): Promise<void> {
  const probe = join(dir, `.wasmgrad-probe-${process.pid}`);
  try {
    await makeDir(dir);
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`--out: cannot write to ${dir}: ${err.code === 'EEXIST' ? 'it exists and is not a directory' : err.message}`);
  }
}

/** The files a training run writes: a directory holding any of them holds a run. */
const RUN_FILES = ['model.safetensors', 'checkpoint.ckpt', 'metrics.json'];

async function holdsRun(dir: string): Promise<string[]> {
  const found = await Promise.all(RUN_FILES.map((f) => access(join(dir, f)).then(() => f, () => null)));
  return found.filter((f): f is string => f !== null);
}

/**
 * The directory a run writes to, never a previous run's without being told: by default `fallback`, numbered
 * (`runs/digits-2`, `-3`, …) past directories that hold a run, or with --resume the checkpoint's own directory;
 * an --out that holds a run other than the one resumed is refused unless --force. The note says where a numbered
 * run went.
 */
export async function runDir(out: string | undefined, fallback: string, o: { force?: boolean; resume?: string }): Promise<{ dir: string; note?: string }> {
  const resumed = o.resume && dirname(resolve(o.resume));
  if (out === undefined) {
    if (o.resume) return { dir: dirname(o.resume) };
    let dir = fallback;
    for (let k = 2; (await holdsRun(dir)).length; k++) dir = `${fallback}-${k}`;
    return dir === fallback ? { dir } : { dir, note: `${fallback} holds a previous run: this one writes to ${dir}` };
  }
  const found = o.force || resolve(out) === resumed ? [] : await holdsRun(out);
  if (found.length) {
    throw new Error(`--out: ${out} holds a previous run (${found.join(', ')}); choose another --out, or add --force to overwrite it`);
  }
  return { dir: out };
}
