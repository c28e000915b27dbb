// Safetensors checkpoints as the Hugging Face hub serves them: one file, or shards listed by an index
// (model.safetensors.index.json: { "weight_map": { tensor name: shard file name } }), from a local path or an
// http(s) URL. Tensors come as F32, F16 or BF16 (read as float32; fromSafetensors decodes them) or F64.
// loadPretrained maps them onto a module by name, with PyTorch's strict=False as an option: the names that
// match load, the others are reported as missing and unexpected.
import type { Module } from '../nn/module.js';
import { boolean, checkOptions, describe, integer, isPlainObject, type Check } from '../options.js';
import { isNode, nodeFs } from '../platform.js';
import { fromSafetensors, type LoadedTensor } from './safetensors.js';

/** Options of loadSafetensors. */
export interface LoadSafetensorsOptions {
  /** Largest JSON header accepted per file, in bytes (default 100 MB, as the format's own reader). */
  maxHeaderBytes?: number;
}

/** A checkpoint read by loadSafetensors. */
export interface HubCheckpoint {
  /** Every tensor by name (an object without prototype), decoded as LoadedTensor says. */
  tensors: Record<string, LoadedTensor>;
  /** The `__metadata__` of the file, or of the first shard (the shards of one checkpoint carry the same). */
  metadata: Record<string, string>;
  /** The files read, in order: the index first when there is one. */
  files: string[];
}

/** What loadPretrained loaded, and the names that did not match (PyTorch's `missing_keys` and `unexpected_keys`). */
export interface LoadReport {
  /** Parameters and buffers of the module that the checkpoint has no value for. */
  missing: string[];
  /** Names in the checkpoint that the module has no parameter or buffer for. */
  unexpected: string[];
  /** The files read. */
  files: string[];
}

const INDEX = 'model.safetensors.index.json';
const SINGLE = 'model.safetensors';

const isUrl = (s: string) => /^https?:\/\//i.test(s);

function fail(message: string, cause?: unknown): never {
  throw new Error(`loadSafetensors: ${message}`, cause === undefined ? undefined : { cause });
}

/** The bytes of a local file or of a URL; `what` says how the file came up, for the message if it cannot be had. */
async function readSource(source: string, what: string): Promise<Uint8Array> {
  if (isUrl(source) || !isNode()) {
    let res: Response;
    try {
      res = await fetch(source);
    } catch (e) {
      fail(`cannot fetch ${what}: ${(e as Error).message}`, e);
    }
    if (!res.ok) fail(`cannot fetch ${what}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  try {
    return new Uint8Array(await (await nodeFs()).readFile(source));
  } catch (e) {
    fail(`cannot read ${what}: ${(e as Error).message}`, e);
  }
}

/** A local directory stands for the index in it, or else its model.safetensors. */
async function resolveDirectory(source: string): Promise<string> {
  if (isUrl(source) || !isNode()) return source;
  const fs = await nodeFs();
  const isDir = await fs.stat(source).then((s) => s.isDirectory(), () => false);
  if (!isDir) return source;
  const join = (name: string) => `${source.replace(/[/\\]+$/, '')}/${name}`;
  for (const name of [INDEX, SINGLE]) {
    if (await fs.stat(join(name)).then((s) => s.isFile(), () => false)) return join(name);
  }
  return fail(`the directory ${source} has neither ${INDEX} nor ${SINGLE}`);
}

/** A shard's location: its name resolved against the index's URL or directory. */
function beside(index: string, name: string): string {
  if (isUrl(index) || !isNode()) return new URL(name, new URL(index, typeof location === 'object' ? location.href : undefined)).href;
  const slash = Math.max(index.lastIndexOf('/'), index.lastIndexOf('\\'));
  return index.slice(0, slash + 1) + name;
}

/** The index's weight_map, checked: tensor names to shard file names, each a plain file name beside the index. */
function readIndex(bytes: Uint8Array, source: string): Map<string, string[]> {
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    fail(`the index ${source} is not valid JSON: ${(e as Error).message}`);
  }
  const map = isPlainObject(index) ? index.weight_map : undefined;
  if (!isPlainObject(map)) fail(`the index ${source} has no "weight_map" object (tensor name → shard file name)`);
  const shards = new Map<string, string[]>(); // shard file → its tensor names, in the order the index lists them
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== 'string' || !file || /[/\\]/.test(file) || file === '.' || file === '..') {
      fail(`the index ${source} names ${typeof file === 'string' ? `'${file}'` : describe(file)} as the file of '${name}': expected a file name beside the index`);
    }
    shards.set(file, [...(shards.get(file) ?? []), name]);
  }
  return shards;
}

/** Parses one file's bytes, naming the file in the message when they are not valid safetensors. */
function parse(bytes: Uint8Array, source: string, options: LoadSafetensorsOptions) {
  try {
    return fromSafetensors(bytes, { path: source, ...options });
  } catch (e) {
    return fail(`${source}: ${(e as Error).message.replace(/^safetensors: /, '')}`, e);
  }
}

/**
 * Reads a safetensors checkpoint as the Hugging Face hub serves it: a `.safetensors` file, a sharded checkpoint's
 * `model.safetensors.index.json` (each shard named in its `weight_map` is read from beside it), or a local
 * directory holding either. `source` is a local path (Node) or an http(s) URL (fetched). Every file is validated
 * before anything is returned; F16 and BF16 are read as float32, F64 as float64.
 */
export async function loadSafetensors(source: string, options: LoadSafetensorsOptions = {}): Promise<HubCheckpoint> {
  if (typeof source !== 'string' || !source) fail(`expected a path or an http(s) URL, got ${describe(source)}`);
  checkOptions('loadSafetensors', options, { maxHeaderBytes: integer({ ge: 0 }) });
  const first = await resolveDirectory(source);
  if (!/\.json$/i.test(first)) {
    const file = parse(await readSource(first, first), first, options);
    return { tensors: file.tensors, metadata: file.metadata, files: [first] };
  }
  const shards = readIndex(await readSource(first, `the index ${first}`), first);
  const tensors: Record<string, LoadedTensor> = Object.create(null);
  const files = [first];
  let metadata: Record<string, string> | undefined;
  for (const [shard, names] of shards) {
    const path = beside(first, shard);
    const file = parse(await readSource(path, `shard '${shard}' named by the index ${first} (at ${path})`), path, options);
    for (const name of names) {
      const t = file.tensors[name];
      if (!t) fail(`the index ${first} puts '${name}' in '${shard}', which has no tensor of that name`);
      tensors[name] = t;
    }
    metadata ??= file.metadata;
    files.push(path);
  }
  return { tensors, metadata: metadata ?? Object.create(null), files };
}

/** Options of loadPretrained. */
export interface LoadPretrainedOptions extends LoadSafetensorsOptions {
  /** PyTorch's strict: every name must match (default true); false loads the names that match and reports the rest. */
  strict?: boolean;
  /**
   * Renames the checkpoint's tensors onto the module's names before they are matched, for a checkpoint saved by a
   * model whose layers are named otherwise (Hugging Face's `model.layers.0.mlp.up_proj.weight` onto '0.weight'): a
   * record from checkpoint name to module name (names it does not list keep theirs), or a function from
   * checkpoint name to module name. The missing and unexpected names are reported after the renaming.
   */
  keyMapping?: Readonly<Record<string, string>> | ((key: string) => string);
}

const KEY_MAPPING: Check = {
  what: 'a record from checkpoint names to module names, or a function from one to the other',
  ok: (v) => typeof v === 'function' || (isPlainObject(v) && Object.values(v).every((name) => typeof name === 'string')),
};

/** The tensors under the names keyMapping gives them; two tensors given one name is an error naming both. */
function renamed<T>(tensors: Record<string, T>, keyMapping: NonNullable<LoadPretrainedOptions['keyMapping']>): Record<string, T> {
  const rename = typeof keyMapping === 'function' ? keyMapping : (key: string) => (Object.hasOwn(keyMapping, key) ? keyMapping[key]! : key);
  const out: Record<string, T> = Object.create(null);
  const from = new Map<string, string>(); // module name → the checkpoint name it came from
  for (const [key, t] of Object.entries(tensors)) {
    const name = rename(key);
    if (typeof name !== 'string' || !name) {
      throw new Error(`loadPretrained: keyMapping gave ${describe(name)} for '${key}': expected a module name (a non-empty string)`);
    }
    if (from.has(name)) throw new Error(`loadPretrained: keyMapping renames both '${from.get(name)}' and '${key}' to '${name}'`);
    from.set(name, key);
    out[name] = t;
  }
  return out;
}

/**
 * Loads a Hugging Face-style safetensors checkpoint (see loadSafetensors) into a module's parameters and buffers
 * by name, through loadStateDict: everything is checked before anything is written. With `strict: false`
 * (PyTorch's strict=False) names the module lacks and parameters the checkpoint lacks are reported instead of
 * refused; a value of the wrong shape or dtype is refused either way. `keyMapping` renames the checkpoint's
 * names onto the module's first (see {@link LoadPretrainedOptions}).
 *
 * @example
 * ```ts
 * const { missing, unexpected } = await loadPretrained(model, 'checkpoints/hf-mlp', {
 *   strict: false, keyMapping: (key) => key.replace(/^model\.layers\./, ''),
 * });
 * ```
 */
export async function loadPretrained(model: Module, source: string, options: LoadPretrainedOptions = {}): Promise<LoadReport> {
  checkOptions('loadPretrained', options, { maxHeaderBytes: integer({ ge: 0 }), strict: boolean, keyMapping: KEY_MAPPING });
  const { strict, keyMapping, ...read } = options;
  const { tensors, files } = await loadSafetensors(source, read);
  const values = keyMapping ? renamed(tensors, keyMapping) : tensors;
  try {
    return { ...model.loadStateDict(values, strict === undefined ? {} : { strict }), files };
  } catch (e) {
    const message = (e as Error).message.replace(/^loadStateDict: /, '');
    const hint = /^(missing|unexpected): /.test(message) ? ' ({ strict: false } loads the names that match and reports the others)' : '';
    throw new Error(`loadPretrained: ${source}: ${message}${hint}`, { cause: e });
  }
}
