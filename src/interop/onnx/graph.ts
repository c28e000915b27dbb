// The graph under construction: nodes in the order they are made (so the graph is topologically sorted by
// construction), initializers named by the module's state-dict names, and a table of layer → nodes that modules
// are emitted through (the walk of ../common.ts). Each layer's entry lives beside its family (mlp.ts, cnn.ts,
// transformer.ts).
import { noGrad, tidy } from '../../autograd/scope.js';
import type { Tensor } from '../../autograd/tensor.js';
import { zeros } from '../../creation.js';
import type { Module } from '../../nn/module.js';
import { entry as tableEntry, layerName, lookup, showShape, type LayerClass, type LayerTable } from '../common.js';
import type { AttributeValue, Dim, OnnxDtype, OnnxNode, OnnxTensor } from './proto.js';

/** A tensor of the graph: its name, element type and shape (the batch a named dim). */
export interface Value {
  name: string;
  dtype: OnnxDtype;
  shape: Dim[];
}

/** How one layer class becomes nodes: the module, its input, and its path in the module tree ('' for the root). */
export type Emitter<M extends Module = Module> = (g: OnnxGraph, m: M, x: Value, path: string) => Value;

/** Layer classes and their emitters. */
export type EmitterTable = LayerTable<Emitter>;

/** A layer class with its emitter, for building tables. */
export const entry = <M extends Module>(cls: abstract new (...args: never[]) => M, emit: Emitter<M>): [LayerClass, Emitter] =>
  tableEntry(cls, emit as Emitter);

/** The graph being built: its nodes in topological order, its initializers, and the table that emits layers. */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, OnnxTensor>();
  private count = 0;

  constructor(readonly opset: number, private readonly table: EmitterTable) {}

  /** Emits `m` applied to `x` through the table; a class without an entry is an error that names the layer. */
  emit(m: Module, x: Value, path: string): Value {
    return lookup(this.table, m, path, 'toOnnx', 'ONNX')(this, m, x, path);
  }

  /** Adds a node under `path` (its name reads '/path/OpType_n') and returns its output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, path = ''): string {
    const name = `/${path ? `${path}/` : ''}${opType}_${this.count++}`;
    const output = `${name}:0`;
    this.nodes.push({ opType, name, inputs, outputs: [output], attrs });
    return output;
  }

  /** The initializer of a parameter or buffer under its state-dict name (float32), added once. */
  param(name: string, t: Tensor): string {
    if (!this.initializers.has(name)) {
      this.initializers.set(name, { name, dtype: 'float32', dims: [...t.shape], values: Float32Array.from(t.data() as ArrayLike<number>) });
    }
    return name;
  }

  /** A Constant node holding float32 values (dims [] for a scalar). */
  floats(values: ArrayLike<number>, dims: readonly number[] = [], path = ''): string {
    return this.constant({ name: '', dtype: 'float32', dims, values: Float32Array.from(values) }, path);
  }

  /** A Constant node holding int64 values (a shape, axes, indices; dims [] for a scalar). */
  ints(values: readonly number[], dims: readonly number[] = [values.length], path = ''): string {
    return this.constant({ name: '', dtype: 'int64', dims, values: BigInt64Array.from(values, BigInt) }, path);
  }

  private constant(tensor: OnnxTensor, path: string): string {
    return this.op('Constant', [], { value: { tensor } }, path);
  }

  /** `x` with its name replaced by a node's output and its shape by `shape`. */
  static with(x: Value, name: string, shape: Dim[] = x.shape): Value {
    return { ...x, name, shape };
  }

  /**
   * The shape of `m(x)` as wasmgrad computes it: `m` runs (in eval mode, without a graph) on zeros of x's shape
   * with each named dim as 1, and a named input dim stays named where the output keeps it. A layer that refuses the
   * input says why, and that inputShape sets it.
   */
  probe(m: Module, x: Value, path: string): Dim[] {
    const dims = x.shape.map((d) => (typeof d === 'number' ? d : 1));
    const training = m.training;
    m.training = false;
    let out: number[];
    try {
      out = tidy(() => noGrad(() => m(zeros(dims, { dtype: x.dtype === 'int64' ? 'int32' : 'float32' })).shape.slice()));
    } catch (e) {
      throw new Error(`toOnnx: ${layerName(m, path)} does not take an input of shape ${showShape(x.shape)}: ` +
        `${(e as Error).message} (the shapes follow from inputShape, the shape of one sample)`);
    } finally {
      m.training = training;
    }
    return out.map((d, i) => (typeof x.shape[i] === 'string' && d === 1 ? x.shape[i]! : d));
  }
}
