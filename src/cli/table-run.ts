// What a CSV run's checkpoint records so that --resume can continue it without being told the data again: the
// file (its path, size and SHA-256), the column options and what training learnt (the encoding, the classes, the
// target's scaling). Resuming reads the same file, encodes it as the run did (never fitted again) and refuses a
// file that has changed or column options that differ, every problem in one message.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, isPlainObject } from '../options.js';
import type { Task } from '../train/csv-data.js';
import type { DataInfo } from '../train/trainer.js';

/** A data file as a checkpoint identifies it. */
export interface FileIdentity {
  /** Absolute, so that a run resumed from another directory finds it. */
  path: string;
  size: number;
  /** Hex. */
  sha256: string;
}

/** The column options of a CSV run, as resolved (defaults filled in; the task as the target was read). */
export interface TableOptions {
  target: string; task: Task; features: string[] | null; ignore: string[] | null; maxCategories: number; valSplit: number;
}

/** A CSV run as its checkpoint saves it (under `table`). */
export interface TableRun extends TableOptions {
  file: FileIdentity;
  /** What training learnt about the data; resuming encodes the rows with it. */
  info: DataInfo;
}

/** The flags of the column options, in the order a message lists them. */
const OPTION_FLAGS: [keyof TableOptions, string][] = [
  ['target', '--target'], ['task', '--task'], ['features', '--features'], ['ignore', '--ignore'],
  ['maxCategories', '--max-categories'], ['valSplit', '--val-split'],
];

/** A file's size and SHA-256, read as a stream (a file of any size, in constant memory). */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { path: resolve(path), size, sha256: hash.digest('hex') };
}

/** The CSV run a checkpoint's extra holds, or null for a run on the digits or a text (or a checkpoint from before it). */
export function tableRunOf(extra: Record<string, unknown>): TableRun | null {
  const t = extra.table;
  if (t === undefined) return null;
  const bad = (what: string): never => {
    throw new Error(`--resume: the checkpoint's record of its CSV run is invalid: ${what}`);
  };
  if (!isPlainObject(t)) return bad(`expected an object, got ${describe(t)}`);
  const f = t.file;
  const names = (v: unknown) => v === null || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  if (!isPlainObject(f) || typeof f.path !== 'string' || !Number.isSafeInteger(f.size) || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) {
    bad('the file (path, size, SHA-256)');
  }
  if (typeof t.target !== 'string' || (t.task !== 'classification' && t.task !== 'regression')) bad('the target');
  if (!names(t.features) || !names(t.ignore)) bad('the columns');
  if (!Number.isSafeInteger(t.maxCategories) || !(typeof t.valSplit === 'number' && t.valSplit > 0 && t.valSplit < 1)) bad('the options');
  if (!isPlainObject(t.info) || t.info.kind !== 'csv' || !isPlainObject(t.info.features)) bad('what training learnt');
  return t as unknown as TableRun;
}

/** A flag's value as a message shows it. */
const shown = (v: unknown) => (v === null || v === undefined ? 'none' : Array.isArray(v) ? v.join(',') : String(v));

/**
 * The column flags the user gave that differ from the saved run's, as '--target y (the checkpoint: x)'. --task auto
 * is no conflict: the same file reads the same way.
 */
export function tableConflicts(saved: TableRun, flags: Partial<Record<keyof TableOptions, unknown>>, given: (flag: keyof TableOptions) => boolean): string[] {
  return OPTION_FLAGS.filter(([k]) => given(k) && !(k === 'task' && flags.task === 'auto') && shown(flags[k]) !== shown(saved[k]))
    .map(([k, flag]) => `${flag} ${shown(flags[k])} (the checkpoint: ${shown(saved[k])})`);
}

/** Why `path` is not the file the run trained on (null when it is): unreadable, another size, or other bytes. */
export async function fileProblem(saved: FileIdentity, path: string): Promise<string | null> {
  const size = await stat(path).then((s) => s.size, (e: Error) => e);
  if (size instanceof Error) return `cannot read ${path}, the run's data: ${size.message}`;
  const changed = `${path} is not the file the run trained on`;
  if (size !== saved.size) return `${changed} (${size.toLocaleString('en-US')} bytes; the checkpoint's: ${saved.size.toLocaleString('en-US')})`;
  const now = await fileIdentity(path).catch((e: Error) => e);
  if (now instanceof Error) return `cannot read ${path}, the run's data: ${now.message}`;
  return now.sha256 === saved.sha256 ? null : `${changed} (same size, but its SHA-256 differs: its contents changed)`;
}
