// Saving and restoring models and whole training runs.
//   save / load            a model's parameters as a safetensors file named by namedParameters()
//   saveCheckpoint / loadCheckpoint
//                          model + optimizer state + scheduler + step + RNG state in ONE safetensors file
//                          (tensors for the numbers, __metadata__ JSON for the rest), written atomically:
//                          a temporary file is written and synced, then renamed over the old checkpoint, so a
//                          crash mid-save leaves the previous checkpoint intact.
// Loading is all-or-nothing: the file's checksum, the model, the optimizer, the scheduler and every generator are
// all validated and staged before any of them changes (see src/staging.ts).
// Node's fs is imported on first use only, so the browser build never sees it; in browsers use the byte forms
// (toSafetensors / fromSafetensors, checkpointToBytes / checkpointFromBytes).
import type { Tensor } from '../autograd/tensor.js';
import { refBackend } from '../backend/registry.js';
import { fromValues } from '../creation.js';
import { Module, type StateValues } from '../nn/module.js';
import { checkOptions, describe, instanceOf, isPlainObject, type Check } from '../options.js';
import { Optimizer, type Hyper, type OptimizerStateDict } from '../optim/optimizer.js';
import { nodeFs } from '../platform.js';
import { globalGenerator, Generator } from '../random.js';
import { stageAll, type Staged, type Stateful } from '../staging.js';
import { fromSafetensors, toSafetensors, type LoadedTensor, type Safetensors } from './safetensors.js';

/** Loaded tensors whose names start with `prefix`, without it, as values a module can take (it checks them). */
function valuesOf(tensors: Record<string, LoadedTensor>, prefix: string): StateValues {
  const out: StateValues = Object.create(null);
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = t as unknown as StateValues[string];
  }
  return out;
}

let saves = 0;

/**
 * Writes bytes to `path` atomically: temporary file `<path>.tmp-<pid>-<n>-<random>` (unique to this call, so
 * saves running at the same time never share one), fsync, rename. A failed write removes its temporary file; a
 * process killed mid-save leaves one behind, which the next save to the same path removes once that process is
 * gone.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const f = await nodeFs();
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
  const tmp = `${path}.tmp-${process.pid}-${++saves}-${random}`;
  try {
    const handle = await f.open(tmp, 'wx'); // 'x': never write into a file that already exists
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await f.rename(tmp, path);
  } catch (e) {
    await f.rm(tmp, { force: true });
    throw e;
  }
  await removeStaleTemporaries(f, path);
}

/**
 * Removes `<path>.tmp-<pid>-…` files whose writing process no longer runs (killed while saving); both this
 * version's names and 0.1.0's `<path>.tmp-<pid>-<time>`.
 */
async function removeStaleTemporaries(f: Awaited<ReturnType<typeof nodeFs>>, path: string): Promise<void> {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dir = path.slice(0, slash + 1); // '' or ending in a separator
  const prefix = `${path.slice(slash + 1)}.tmp-`;
  for (const name of await f.readdir(dir || '.')) {
    const pid = name.startsWith(prefix) ? /^(\d+)-\d+(?:-[0-9a-f]+)?$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && !processRuns(Number(pid))) await f.rm(dir + name, { force: true });
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, but belongs to another user
  }
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await (await nodeFs()).readFile(path));
  } catch (e) {
    throw new Error(`${what}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Saves a model's parameters as safetensors (names from namedParameters(), e.g. '0.weight'). */
export async function save(model: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, toSafetensors(model.stateDict(), { format: 'pt', ...metadata }));
}

/** Loads parameters saved by save() (or by PyTorch's safetensors) into a model; checked before anything changes. */
export async function load(model: Module, path: string, options: { strict?: boolean } = {}): Promise<Record<string, string>> {
  const file = fromSafetensors(await readBytes(path, 'load'), { path });
  model.loadStateDict(valuesOf(file.tensors, ''), options);
  return file.metadata;
}

/**
 * What a checkpoint holds, and where loadCheckpoint restores it: the model, and optionally optimizer, scheduler,
 * step, generators and extra data.
 */
export interface Checkpoint {
  /** The model whose parameters and buffers are saved. */
  model: Module;
  /** The optimizer whose state is saved. */
  optimizer?: Optimizer<Hyper>;
  /** A scheduler (LRScheduler or ReduceLROnPlateau, or anything with stateDict() and stageStateDict()). */
  scheduler?: Stateful;
  /** Training progress (steps or epochs done), restored as is. */
  step?: number;
  /** Generators whose state is saved; default: the global one. */
  generators?: Record<string, Generator>;
  /** Anything else JSON-serialisable (metrics so far, configuration). */
  extra?: unknown;
}

/** The current format: tagged optimizer and scheduler states, and a checksum over the whole file. */
const FORMAT = 'wasmgrad-checkpoint-2';
/** Written by wasmgrad 0.1.0: no checksum, no type tags. Still read. */
const FORMAT_1 = 'wasmgrad-checkpoint-1';

/** What a checkpoint's __metadata__.wasmgrad holds (the tensors hold the numbers). */
interface CheckpointMeta {
  format: typeof FORMAT | typeof FORMAT_1;
  step: number;
  optimizer: (Omit<OptimizerStateDict, 'state'> & { state: Record<string, { step: number; buffers: string[] }> }) | null;
  scheduler: object | null;
  rng: Record<string, unknown>;
  extra: unknown;
}

/** What a Checkpoint may hold: a misspelt name (`optim`) would otherwise leave that part out without a word. */
const CHECKPOINT: Record<keyof Checkpoint, Check> = {
  model: instanceOf(Module, 'a module'),
  optimizer: instanceOf(Optimizer, 'an optimizer'),
  scheduler: { what: 'a scheduler', ok: (v) => typeof (v as Partial<Stateful> | null)?.stageStateDict === 'function' },
  step: { what: 'an integer ≥ 0', ok: (v) => Number.isSafeInteger(v) && (v as number) >= 0 },
  generators: { what: 'an object of named Generators', ok: (v) => isPlainObject(v) && Object.values(v).every((g) => g instanceof Generator) },
  extra: { what: 'anything JSON can hold', ok: () => true },
};

function checkCheckpoint(api: string, c: Checkpoint): void {
  if (!isPlainObject(c)) throw new Error(`${api}: expected { model, optimizer?, scheduler?, … }, got ${describe(c)}`);
  checkOptions(api, c, CHECKPOINT);
  if (!c.model) throw new Error(`${api}: the checkpoint needs its model ({ model, … })`);
}

/** A checkpoint as safetensors bytes (browsers: store them in IndexedDB, download them, …). */
export function checkpointToBytes(c: Checkpoint): Uint8Array {
  checkCheckpoint('checkpointToBytes', c);
  const step = c.step ?? 0;
  const tensors: Record<string, Tensor> = Object.create(null);
  for (const [k, p] of Object.entries(c.model.stateDict())) tensors[`model.${k}`] = p;
  const temps: Tensor[] = [];
  try {
    let optimizer: CheckpointMeta['optimizer'] = null;
    if (c.optimizer) {
      const { state: full, ...sd } = c.optimizer.stateDict();
      const state: Record<string, { step: number; buffers: string[] }> = {};
      for (const [i, s] of Object.entries(full)) {
        state[i] = { step: s.step, buffers: Object.keys(s.buffers) };
        for (const [b, v] of Object.entries(s.buffers)) {
          const t = fromValues(v.data, v.shape, { backend: refBackend() });
          temps.push(t);
          tensors[`optimizer.${i}.${b}`] = t;
        }
      }
      optimizer = { ...sd, state };
    }
    const generators = c.generators ?? { global: globalGenerator };
    const meta: CheckpointMeta = {
      format: FORMAT,
      step,
      optimizer,
      scheduler: c.scheduler?.stateDict() ?? null,
      rng: Object.fromEntries(Object.entries(generators).map(([k, g]) => [k, g.getState()])),
      extra: c.extra ?? null,
    };
    let text: string;
    try {
      text = JSON.stringify(meta);
    } catch (e) {
      throw new Error(`checkpointToBytes: extra must be JSON-serialisable: ${(e as Error).message}`, { cause: e });
    }
    return toSafetensors(tensors, { format: 'pt', wasmgrad: text });
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** What loadCheckpoint and checkpointFromBytes return besides restoring the objects. */
export interface Restored {
  /** The `step` saved (0 when none was). */
  step: number;
  /** The `extra` data saved, as saved. */
  extra: unknown;
}

function fail(message: string): never {
  throw new Error(`loadCheckpoint: ${message}`);
}

/**
 * Parses a checkpoint file and validates its metadata (format, checksum, the shape of every part); `path` names
 * the file in the message for bytes that are not a safetensors file.
 */
export function readCheckpoint(bytes: Uint8Array, path?: string): { file: Safetensors; meta: CheckpointMeta } {
  const file = fromSafetensors(bytes, { path });
  const text = file.metadata.wasmgrad;
  if (text === undefined) fail('not a wasmgrad checkpoint (its metadata has no wasmgrad entry)');
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch {
    fail('the checkpoint metadata is not valid JSON');
  }
  if (!isPlainObject(meta)) fail('the checkpoint metadata must be a JSON object');
  if (meta.format !== FORMAT && meta.format !== FORMAT_1) {
    fail(typeof meta.format === 'string' && meta.format.startsWith('wasmgrad-checkpoint-')
      ? `format ${meta.format} is newer than this wasmgrad reads (${FORMAT_1}, ${FORMAT})`
      : `not a wasmgrad checkpoint (format ${describe(meta.format)})`);
  }
  if (meta.format === FORMAT && !file.verified) {
    fail(`the checkpoint has no checksum, which every ${FORMAT} file carries: it was changed after it was written`);
  }
  if (!Number.isSafeInteger(meta.step) || (meta.step as number) < 0) fail(`step must be an integer ≥ 0, got ${describe(meta.step)}`);
  const opt = meta.optimizer;
  if (opt !== null) {
    if (!isPlainObject(opt) || !isPlainObject(opt.state)) fail(`the optimizer entry must be null or { paramGroups, state }, got ${describe(opt)}`);
    for (const [i, s] of Object.entries(opt.state as object)) {
      if (!isPlainObject(s) || !Array.isArray(s.buffers) || !s.buffers.every((b) => typeof b === 'string')) {
        fail(`the optimizer state of parameter ${i} must be { step, buffers: [names] }, got ${describe(s)}`);
      }
    }
  }
  if (meta.scheduler !== null && !isPlainObject(meta.scheduler)) fail(`the scheduler entry must be null or an object, got ${describe(meta.scheduler)}`);
  if (!isPlainObject(meta.rng)) fail(`the rng entry must map generator names to states, got ${describe(meta.rng)}`);
  return { file, meta: meta as unknown as CheckpointMeta };
}

/**
 * Validates a checkpoint against the given objects and stages the load (see Staged): nothing changes until
 * `staged.commit()`. Errors name the part that does not fit.
 */
export function stageCheckpoint(bytes: Uint8Array, c: Checkpoint, path?: string): Restored & { staged: Staged } {
  checkCheckpoint('loadCheckpoint', c);
  const { file, meta } = readCheckpoint(bytes, path);
  const generators = c.generators ?? { global: globalGenerator };
  for (const k of Object.keys(generators)) if (!Object.hasOwn(meta.rng, k)) fail(`no state saved for generator '${k}'`);
  if (c.optimizer && !meta.optimizer) fail('the checkpoint has no optimizer state');
  if (c.scheduler && !meta.scheduler) fail('the checkpoint has no scheduler state');

  // Every tensor is the model's or a listed optimizer buffer; the optimizer's state takes its buffers by name.
  const optimizerTensors = new Set<string>();
  let optimizerState: OptimizerStateDict | null = null;
  if (meta.optimizer) {
    const state: OptimizerStateDict['state'] = {};
    for (const [i, s] of Object.entries(meta.optimizer.state)) {
      const buffers: Record<string, LoadedTensor> = Object.create(null);
      for (const b of s.buffers) {
        const name = `optimizer.${i}.${b}`;
        if (!Object.hasOwn(file.tensors, name)) fail(`the optimizer buffer '${b}' of parameter ${i} is missing`);
        buffers[b] = file.tensors[name]!;
        optimizerTensors.add(name);
      }
      state[i as unknown as number] = { step: s.step, buffers: buffers as unknown as OptimizerStateDict['state'][number]['buffers'] };
    }
    optimizerState = { ...meta.optimizer, state };
  }
  const stray = Object.keys(file.tensors).filter((k) => !k.startsWith('model.') && !optimizerTensors.has(k));
  if (stray.length) fail(`unexpected tensors ${stray.map((k) => `'${k}'`).join(', ')}`);

  const part = (what: string, stage: () => Staged) => () => {
    try {
      return stage();
    } catch (e) {
      throw new Error(`loadCheckpoint: ${what}: ${(e as Error).message}`, { cause: e });
    }
  };
  const staged = stageAll([
    part('model', () => c.model.stageStateDict(valuesOf(file.tensors, 'model.'))),
    ...(c.optimizer ? [part('optimizer', () => c.optimizer!.stageStateDict(optimizerState!))] : []),
    ...(c.scheduler ? [part('scheduler', () => c.scheduler!.stageStateDict(meta.scheduler))] : []),
    ...Object.entries(generators).map(([k, g]) => part(`generator '${k}'`, () => g.stageState(meta.rng[k]))),
  ]);
  return { step: meta.step, extra: meta.extra, staged };
}

/** Restores a checkpoint into the given objects; everything is validated before any of them changes. */
export function checkpointFromBytes(bytes: Uint8Array, c: Checkpoint): Restored {
  const { step, extra, staged } = stageCheckpoint(bytes, c);
  staged.commit();
  return { step, extra };
}

/**
 * Writes a checkpoint to `path` atomically (a temporary file, then a rename), so an interrupted write leaves the old
 * file (Node only).
 */
export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, checkpointToBytes(c));
}

/**
 * Reads a checkpoint from `path` and restores it into the given objects: everything is validated and staged before
 * any of them changes, so a bad file is an error that changes nothing.
 */
export async function loadCheckpoint(path: string, c: Checkpoint): Promise<Restored> {
  const { step, extra, staged } = stageCheckpoint(await readBytes(path, 'loadCheckpoint'), c, path);
  staged.commit();
  return { step, extra };
}
