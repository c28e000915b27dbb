// What the ONNX and PyTorch exporters share: the walk over a module by a table of layer classes (matched by exact
// class, since a subclass may compute something else; a class without an entry is an error naming the layer and
// listing the known ones), the dotted state-dict names, and what the model's first layer says about its input.
import { MultiheadAttention } from '../nn/attention.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { TransformerEncoderLayer } from '../nn/transformer.js';
import { integer, type Check } from '../options.js';
import { GPT } from '../train/gpt.js';

/** A layer class, as a table's key. */
export type LayerClass = abstract new (...args: never[]) => Module;

/** Layer classes and how an exporter writes each. */
export type LayerTable<F> = ReadonlyMap<LayerClass, F>;

/** A layer class with its handler `f`, for building tables; `f` takes the class's instances. */
export function entry<M extends Module, F>(cls: abstract new (...args: never[]) => M, f: F): [LayerClass, F] {
  return [cls, f];
}

/** The dotted state-dict name of `key` under `path`. */
export const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** How messages name a layer: "layer 'blocks.0.attn' (MultiheadAttention)", or "the model (GPT)" at the root. */
export const layerName = (m: Module, path: string): string =>
  (path ? `layer '${path}' (${m.constructor.name})` : `the model (${m.constructor.name})`);

/** A shape as messages show it: [batch, 3, 28, 28]. */
export const showShape = (shape: readonly (number | string)[]): string => `[${shape.join(', ')}]`;

/** The table's handler for `m`, or an error from `api` naming the layer and the classes that `format` knows. */
export function lookup<F>(table: LayerTable<F>, m: Module, path: string, api: string, format: string): F {
  const found = table.get(m.constructor as LayerClass);
  if (!found) {
    throw new Error(`${api}: ${layerName(m, path)} has no ${format} equivalent; the exporter knows ` +
      `${[...table.keys()].map((c) => c.name).join(', ')}`);
  }
  return found;
}

/** The module that reads the model's input: a Sequential's first layer, recursively. */
export function firstLayer(m: Module): Module {
  const first = m instanceof Sequential ? m.namedChildren()[0]?.[1] : undefined;
  return first ? firstLayer(first) : m;
}

/** Whether the model reads token ids (it starts by looking them up), not floats. */
export const takesTokenIds = (first: Module): boolean => first instanceof Embedding || first instanceof GPT;

/** Where the batch dim goes: after the sequence for attention layers that are not batch-first (PyTorch's default). */
export function batchAxis(first: Module): number {
  if (first instanceof MultiheadAttention) return first.batchFirst ? 0 : 1;
  if (first instanceof TransformerEncoderLayer) return first.self_attn.batchFirst ? 0 : 1;
  return 0;
}

/** The shape of one sample as the first layer tells it, or undefined. */
export function inferredShape(first: Module): number[] | undefined {
  if (first instanceof Linear) return [first.inFeatures];
  if (first instanceof GPT) return [first.config.context];
  return undefined;
}

/** The check of an inputShape option. */
export const SAMPLE_SHAPE: Check = {
  what: 'an array of positive integers (the shape of one sample, without the batch dim)',
  ok: (v) => Array.isArray(v) && v.every((d) => integer({ ge: 1 }).ok(d)),
};
