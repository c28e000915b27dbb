// Saving and restoring models and whole training runs.
//   save / load            a model's parameters as a safetensors file named by namedParameters()
//   saveCheckpoint / loadCheckpoint
//                          model + optimizer state + scheduler + step + RNG state in ONE safetensors file
//                          (tensors for the numbers, __metadata__ JSON for the rest), written atomically:
//                          a temporary file is written and synced, then renamed over the old checkpoint, so a
//                          crash mid-save leaves the previous checkpoint intact.
// Node's fs is imported on first use only, so the browser build never sees it; in browsers use the byte forms
// (toSafetensors / fromSafetensors, checkpointToBytes / checkpointFromBytes).
import type { Tensor } from '../autograd/tensor.js';
import { refBackend } from '../backend/registry.js';
import { fromValues } from '../creation.js';
import type { Module, StateValues } from '../nn/module.js';
import type { Hyper, Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import { nodeFs } from '../platform.js';
import { globalGenerator, type Generator, type RngState } from '../random.js';
import { fromSafetensors, toSafetensors, type LoadedTensor } from './safetensors.js';


/** Loaded tensors as values a module or optimizer can take (float data only). */
function asValues(tensors: Record<string, LoadedTensor>, prefix: string, what: string): StateValues {
  const out: StateValues = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (!k.startsWith(prefix)) continue;
    if (t.data instanceof BigInt64Array || t.dtype === 'U8' || t.dtype === 'I32') {
      throw new Error(`${what}: tensor '${k}' has dtype ${t.dtype}; parameters need floating-point data`);
    }
    out[k.slice(prefix.length)] = { shape: t.shape, data: t.data as Float32Array | Float64Array };
  }
  return out;
}

/**
 * Writes bytes to `path` atomically: temporary file `<path>.tmp-<pid>-<time>`, fsync, rename. A failed write
 * removes its temporary file; a process killed mid-save leaves one behind, which the next save to the same path
 * removes once that process is gone.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const f = await nodeFs();
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const handle = await f.open(tmp, 'w');
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

/** Removes `<path>.tmp-<pid>-<time>` files whose writing process no longer runs (killed while saving). */
async function removeStaleTemporaries(f: Awaited<ReturnType<typeof nodeFs>>, path: string): Promise<void> {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dir = path.slice(0, slash + 1); // '' or ending in a separator
  const prefix = `${path.slice(slash + 1)}.tmp-`;
  for (const name of await f.readdir(dir || '.')) {
    const pid = name.startsWith(prefix) ? /^(\d+)-\d+$/.exec(name.slice(prefix.length))?.[1] : undefined;
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

/** Saves a model's parameters as safetensors (names from namedParameters(), e.g. '0.weight'). */
export async function save(model: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, toSafetensors(model.stateDict(), { format: 'pt', ...metadata }));
}

/** Loads parameters saved by save() (or by PyTorch's safetensors) into a model; checked before anything changes. */
export async function load(model: Module, path: string, options: { strict?: boolean } = {}): Promise<Record<string, string>> {
  const bytes = new Uint8Array(await (await nodeFs()).readFile(path));
  const file = fromSafetensors(bytes);
  model.loadStateDict(asValues(file.tensors, '', `load ${path}`), options);
  return file.metadata;
}

interface StateDictLike<S> { stateDict(): S; loadStateDict(s: S): void }

export interface Checkpoint {
  model: Module;
  optimizer?: Optimizer<Hyper>;
  scheduler?: StateDictLike<object>;
  /** Training progress (steps or epochs done), restored as is. */
  step?: number;
  /** Generators whose state is saved; default: the global one. */
  generators?: Record<string, Generator>;
  /** Anything else JSON-serialisable (metrics so far, configuration). */
  extra?: unknown;
}

const FORMAT = 'wasmgrad-checkpoint-1';

/** A checkpoint as safetensors bytes (browsers: store them in IndexedDB, download them, …). */
export function checkpointToBytes(c: Checkpoint): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [k, p] of Object.entries(c.model.stateDict())) tensors[`model.${k}`] = p;
  const temps: Tensor[] = [];
  let optimizer: Omit<OptimizerStateDict, 'state'> & { state: Record<number, { step: number; buffers: string[] }> } | null = null;
  try {
    if (c.optimizer) {
      const sd = c.optimizer.stateDict();
      const state: Record<number, { step: number; buffers: string[] }> = {};
      for (const [i, s] of Object.entries(sd.state)) {
        state[Number(i)] = { step: s.step, buffers: Object.keys(s.buffers) };
        for (const [b, v] of Object.entries(s.buffers)) {
          const t = fromValues(v.data, v.shape, { backend: refBackend() });
          temps.push(t);
          tensors[`optimizer.${i}.${b}`] = t;
        }
      }
      optimizer = { paramGroups: sd.paramGroups, state };
    }
    const generators = c.generators ?? { global: globalGenerator };
    const meta = {
      format: FORMAT,
      step: c.step ?? 0,
      optimizer,
      scheduler: c.scheduler?.stateDict() ?? null,
      rng: Object.fromEntries(Object.entries(generators).map(([k, g]) => [k, g.getState()])),
      extra: c.extra ?? null,
    };
    return toSafetensors(tensors, { format: 'pt', wasmgrad: JSON.stringify(meta) });
  } finally {
    for (const t of temps) t.dispose();
  }
}

export interface Restored { step: number; extra: unknown }

/** Restores a checkpoint into the given objects; everything is validated before any of them changes. */
export function checkpointFromBytes(bytes: Uint8Array, c: Checkpoint): Restored {
  const file = fromSafetensors(bytes);
  let meta: { format: string; step: number; optimizer: OptimizerStateDict & { state: Record<number, { step: number; buffers: string[] }> } | null;
    scheduler: object | null; rng: Record<string, RngState>; extra: unknown };
  try {
    meta = JSON.parse(file.metadata.wasmgrad ?? 'null');
  } catch {
    throw new Error('loadCheckpoint: the checkpoint metadata is not valid JSON');
  }
  if (meta?.format !== FORMAT) throw new Error(`loadCheckpoint: not a wasmgrad checkpoint (format ${meta?.format ?? 'missing'})`);
  const modelValues = asValues(file.tensors, 'model.', 'loadCheckpoint');
  const generators = c.generators ?? { global: globalGenerator };
  for (const k of Object.keys(generators)) {
    if (!meta.rng?.[k]) throw new Error(`loadCheckpoint: no state saved for generator '${k}'`);
  }
  if (c.optimizer && !meta.optimizer) throw new Error('loadCheckpoint: the checkpoint has no optimizer state');
  if (c.scheduler && !meta.scheduler) throw new Error('loadCheckpoint: the checkpoint has no scheduler state');
  let optimizerState: OptimizerStateDict | null = null;
  if (c.optimizer && meta.optimizer) {
    const state: OptimizerStateDict['state'] = {};
    for (const [i, s] of Object.entries(meta.optimizer.state)) {
      const buffers: OptimizerStateDict['state'][number]['buffers'] = {};
      for (const b of s.buffers) {
        const t = file.tensors[`optimizer.${i}.${b}`];
        if (!t || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
          throw new Error(`loadCheckpoint: optimizer buffer '${b}' of parameter ${i} is missing or not floating-point`);
        }
        buffers[b] = { shape: t.shape, data: t.data };
      }
      state[Number(i)] = { step: s.step, buffers };
    }
    optimizerState = { paramGroups: meta.optimizer.paramGroups, state };
  }
  // Dry runs first: a model or optimizer that does not fit throws here, before anything is changed.
  const params = new Map(c.model.namedParameters());
  for (const [k, v] of Object.entries(modelValues)) {
    const p = params.get(k);
    if (p && p.shape.join() !== v.shape.join()) {
      throw new Error(`loadCheckpoint: parameter '${k}' has shape [${p.shape}] in the model, [${v.shape}] in the checkpoint`);
    }
  }
  const missing = [...params.keys()].filter((k) => !(k in modelValues));
  const unexpected = Object.keys(modelValues).filter((k) => !params.has(k));
  if (missing.length || unexpected.length) {
    throw new Error(`loadCheckpoint: the model does not match (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`);
  }
  if (c.optimizer && optimizerState) c.optimizer.checkStateDict(optimizerState);
  c.model.loadStateDict(modelValues);
  if (c.optimizer && optimizerState) c.optimizer.loadStateDict(optimizerState);
  if (c.scheduler && meta.scheduler) c.scheduler.loadStateDict(meta.scheduler);
  for (const [k, g] of Object.entries(generators)) g.setState(meta.rng[k]!);
  return { step: meta.step, extra: meta.extra };
}

export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  await writeFileAtomic(path, checkpointToBytes(c));
}

export async function loadCheckpoint(path: string, c: Checkpoint): Promise<Restored> {
  return checkpointFromBytes(new Uint8Array(await (await nodeFs()).readFile(path)), c);
}

