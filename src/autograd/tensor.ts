// Tensor: a shaped, typed block of storage on one backend, plus what autograd needs — whether it requires a
// gradient, its accumulated .grad, and the node that produced it. Storage is reference counted so reshape and
// detach share memory instead of copying; the memory goes back to the backend when the last holder lets go.
// A tensor the program drops without dispose() gives its storage reference back when the garbage collector finds
// it (see `reclaim`).
import type { Backend, Buf, DType, TypedArray } from '../backend/types.js';
import { effect, tracing } from '../compile/trace.js';
import { fmt, sameShape, sizeOf } from '../kernels/shape.js';
import { checkValue, oneOf } from '../options.js';
import { census, countTensor, DIRECT, uncountTensor } from './census.js';
import type { Node } from './node.js';
import { track, type Scope } from './scope.js';

let nextTensorId = 1;

const DTYPE = oneOf('float32', 'float64', 'int32');

class Storage {
  private refs = 1;
  constructor(readonly buf: Buf) {}
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) this.buf.backend.free(this.buf);
  }
  get shared(): boolean {
    return this.refs > 1;
  }
}

/**
 * What a tensor holds that must be given back: its storage reference and its census entry (origin; null for an
 * internal handle, which is not counted). The safety net keeps this, never the tensor, which it would keep alive.
 */
interface Lease { readonly storage: Storage; origin: string | null }

/**
 * The safety net for tensors dropped without dispose(), such as a training loop that forgot tidy(): when the
 * garbage collector finds one, its storage reference is released (a view's storage stays while other tensors
 * share it) and it leaves the census. Node reference counts are left alone: a node's saved tensors are watched
 * together with the node (one registration, see watchTogether), so once the node is unreachable they are
 * reclaimed the same way; a backward pass's gradients in flight are not watched (see unscope). The collector runs
 * on its own schedule and the release waits for the event loop, so this bounds a leak rather than replacing tidy().
 * Tensors inside a tidy() scope are not watched (the scope holds them and disposes them): a tensor is watched once
 * it is outside every scope.
 */
const reclaim = new FinalizationRegistry<Lease | readonly Lease[]>((held) => {
  for (const { storage, origin } of Array.isArray(held) ? held : [held as Lease]) {
    storage.release();
    if (origin !== null) uncountTensor(origin);
  }
});

/** Nested arrays of numbers, as tensor() takes them and array() returns them. */
export type NestedArray = number | NestedArray[];

/** The typed array that holds each dtype's values: what {@link Tensor.data} returns. */
export interface DTypeArrays {
  /** float32 data. */
  float32: Float32Array;
  /** float64 data (the ref backend). */
  float64: Float64Array;
  /** int32 data (indices, labels, masks). */
  int32: Int32Array;
}

/**
 * The typed array of dtype D: `TypedArrayOf<'float32'>` is Float32Array. For a tensor whose dtype is not known
 * where it is read (`Tensor`, i.e. `Tensor<DType>`) it is the union of the three.
 */
export type TypedArrayOf<D extends DType> = DTypeArrays[D];

/**
 * A tensor of dtype D. D is what the type system knows of the dtype: creation functions and ops infer it
 * (`tensor([1, 2])` is a `Tensor<'float32'>`, `x.argMax()` a `Tensor<'int32'>`, `x.relu()` keeps x's), so
 * `t.data()` is typed as that dtype's array and `t.data().reduce(…)` compiles. Plain `Tensor` (any dtype) is what
 * modules return and what every API accepts; read it with `t.data('float32')`, which checks the dtype.
 */
export class Tensor<D extends DType = DType> {
  /** A number unique to this tensor in the process. */
  readonly id = nextTensorId++;
  /** The size of each dim ([] for a scalar). */
  readonly shape: readonly number[];
  private _grad: Tensor | null = null;
  /** The op that produced this tensor; null for leaves. */
  node: Node | null = null;
  /** A display name for graphs and explain() ('W1', 'x', …). */
  name: string | undefined;
  private _requiresGrad = false;
  /** For a saved handle of a leaf: the leaf its gradient belongs to. */
  private leafOrigin: Tensor | null = null;
  /** A saved handle of an op's own output points at that op's node without holding it (no cycle). */
  private weakNode = false;
  private kept = false;
  /** Its storage reference and census entry; null once disposed. */
  private lease: Lease | null;
  private scope: Scope | null;
  /** Whether `reclaim` watches this tensor (it has been outside every scope). */
  private watched = false;

  /**
   * Wraps a buffer the caller hands over (not copied), or shares another tensor's storage under a new shape of
   * the same size. Users create tensors with tensor(), zeros(), randn() and friends instead.
   */
  constructor(source: Buf | Tensor, shape: readonly number[], options: { requiresGrad?: boolean; name?: string } = {}) {
    const dtype = source.dtype;
    if (options.requiresGrad && dtype === 'int32') {
      if (!(source instanceof Tensor)) source.backend.free(source);
      throw new Error('requiresGrad: only floating-point tensors can require gradients (this one is int32)');
    }
    const storage = source instanceof Tensor ? source.alive('view').retain() : new Storage(source);
    if (storage.buf.size !== sizeOf(shape)) {
      storage.release();
      throw new Error(`Tensor: shape ${fmt(shape)} does not match ${storage.buf.size} elements`);
    }
    const origin = census.origin ?? (source instanceof Tensor ? source.lease!.origin : null) ?? DIRECT;
    this.lease = { storage, origin };
    // A frozen shape (another tensor's) cannot change under us: shared, not copied (views, saved handles).
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.name = options.name;
    if (options.requiresGrad) this.requiresGrad = true;
    countTensor(origin);
    this.scope = track(this);
    if (!this.scope) this.watch();
  }

  /** @internal The storage (backend buffer) behind this tensor; throws once it is disposed. */
  get buf(): Buf {
    return this.alive('use').buf;
  }
  /** Element type: 'float32', 'float64' or 'int32'. */
  get dtype(): D {
    return this.buf.dtype as D;
  }
  /** The backend that holds the storage. */
  get backend(): Backend {
    return this.buf.backend;
  }
  /** Number of elements (the product of the shape). */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** Number of dims. */
  get rank(): number {
    return this.shape.length;
  }
  /** Whether no op produced this tensor (data and parameters are leaves; PyTorch's is_leaf). */
  get isLeaf(): boolean {
    return this.node === null;
  }
  /** Whether dispose() freed this tensor (or its scope did). */
  get isDisposed(): boolean {
    return this.lease === null;
  }

  /**
   * The accumulated gradient (leaf tensors that require grad), like PyTorch's .grad. What is assigned is checked,
   * as PyTorch does: null, or a live tensor with exactly this tensor's shape, dtype and backend, so the optimizers'
   * kernels never read a gradient of the wrong size. An assigned gradient stays in the tidy() scope that made it
   * (a step after that scope ended says so); backward() makes its gradients outside every scope.
   */
  get grad(): Tensor<D> | null {
    return this._grad as Tensor<D> | null;
  }
  /** Assigns the gradient: null, or a live tensor of this tensor's shape, dtype and backend (an error otherwise). */
  set grad(g: Tensor<D> | null) {
    if (g !== null) {
      if (this.isDisposed) throw new Error(`grad: ${this.describe()} was disposed; it can take no gradient`);
      const problem = gradProblem(this, g);
      if (problem) throw new Error(`grad: ${problem}`);
    }
    this._grad = g;
  }

  /** @internal Sets .grad to a tensor made for it (a compiled step's gradient view), skipping the setter's checks. */
  installGrad(g: Tensor): void {
    this._grad = g;
  }

  /** Whether autograd records ops on this tensor; setting it is allowed on leaves only (PyTorch's requires_grad). */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  /** Turns recording on (floating-point tensors only) or off (leaves only: detach() an op's output instead). */
  set requiresGrad(on: boolean) {
    if (on && this.dtype === 'int32') {
      throw new Error('requiresGrad: only floating-point tensors can require gradients (this one is int32)');
    }
    if (!on && this.node) throw new Error('requiresGrad: cannot turn off on a non-leaf tensor; use detach()');
    this._requiresGrad = on;
  }

  /** Sets requiresGrad (leaves only) and returns this, like PyTorch's requires_grad_(). */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** Names the tensor for graphs and explain(); returns this. */
  named(name: string): this {
    this.name = name;
    return this;
  }

  /**
   * A copy of the values, in the typed array of the tensor's dtype (Float32Array, Float64Array or Int32Array).
   * Given a dtype, checks that the tensor has it and is typed accordingly: `model(x).data('float32')` is a
   * Float32Array (and an error, not a cast, if the tensor is int32).
   */
  data(): TypedArrayOf<D>;
  data<E extends D>(dtype: E): TypedArrayOf<E>;
  data(dtype?: DType): TypedArray {
    const b = this.buf;
    if (dtype !== undefined && dtype !== b.dtype) {
      checkValue('data', 'dtype', dtype, DTYPE);
      throw new Error(`data: ${this.describe()} is ${b.dtype}, not ${dtype}; convert it with .cast('${dtype}') to read it as ${dtype}`);
    }
    return b.backend.read(b);
  }

  /** The values as nested arrays. */
  array(): NestedArray {
    const values = Array.from(this.data());
    if (this.rank === 0) return values[0]!;
    const build = (dim: number, offset: number): NestedArray[] => {
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) =>
        dim === this.rank - 1 ? values[offset + i]! : build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: the tensor has ${this.size} elements (shape ${fmt(this.shape)}), not 1`);
    return this.data()[0]!;
  }

  /** Frees the tensor's storage (once no view shares it) and its .grad. Disposing twice is an error. */
  dispose(): void {
    const storage = this.alive('dispose');
    const { origin } = this.lease!;
    this.lease = null;
    if (this.watched) reclaim.unregister(this);
    if (origin !== null) uncountTensor(origin);
    this.scope?.delete(this);
    this.scope = null;
    storage.release();
    if (this.grad && !this.grad.isDisposed) this.grad.dispose();
    this.grad = null;
    const node = this.node;
    this.node = null;
    if (!this.weakNode) node?.release();
  }

  /** A tensor sharing this one's storage, cut from the graph (no gradient flows through it). */
  detach(): Tensor<D> {
    return new Tensor(this, this.shape) as Tensor<D>;
  }

  /** The leaf tensor whose .grad receives this tensor's gradient (itself, unless it is a saved handle). */
  get gradLeaf(): Tensor {
    return this.leafOrigin ?? this;
  }

  /**
   * @internal A handle on this tensor's storage for a node's saved tensors: outside every scope, and still
   * connected to the graph (so higher-order gradients flow through saved values). `ownNode` is given when the
   * handle is the node's own output; it is referenced without being held, which would be a cycle. Unless
   * `watched` is false (the node's handles are then watched together: see watchTogether), it is under the
   * safety net on its own.
   */
  savedHandle(ownNode: Node | null, watched = true): Tensor {
    const h = new Tensor(this, this.shape);
    if (watched) h.moveToScope(null);
    else {
      h.unscope();
      if (h.watched) reclaim.unregister(h); // made outside every scope: watched by the constructor
      h.watched = false;
    }
    uncountTensor(h.lease!.origin!);
    h.lease!.origin = null; // internal: not counted in memory().tensors; its bytes are
    if (this.requiresGrad) {
      h._requiresGrad = true;
      h.leafOrigin = this.node ? null : this.gradLeaf;
      h.node = ownNode ?? this.node;
      if (ownNode) h.weakNode = true;
      else h.node?.retain();
    }
    return h;
  }

  /** Whether no other tensor (a view, a saved copy in the graph) shares this tensor's storage. */
  ownsStorage(): boolean {
    return !this.alive('use').shared;
  }

  /** @internal Moves the tensor to another scope (tidy's return values, keep()). */
  moveToScope(scope: Scope | null): void {
    this.scope?.delete(this);
    this.scope = scope;
    if (scope) scope.add(this);
    else this.watch();
    this.kept = false;
  }

  /**
   * @internal Takes the tensor out of its scope without putting it under the safety net: for a gradient in flight
   * inside a backward pass, which the pass always disposes or hands on (a leaf's .grad and the gradients returned
   * to the caller are watched then). Registering and unregistering every such gradient showed in step profiles.
   */
  unscope(): void {
    this.scope?.delete(this);
    this.scope = null;
    this.kept = false;
  }

  /**
   * @internal Puts the storage references of `handles` (made by savedHandle with watched false) under the safety
   * net as one, released when `owner` is collected: for a node's saved tensors, which nothing but the node holds,
   * so they become unreachable together. One registration per node instead of one per saved tensor (registering
   * them showed in step profiles). The owner must call unwatchTogether before it disposes them.
   */
  static watchTogether(owner: object, handles: readonly Tensor[]): void {
    if (handles.length > 0) reclaim.register(owner, handles.map((h) => h.lease!), owner);
  }

  /** @internal Takes what watchTogether registered for `owner` off the safety net. */
  static unwatchTogether(owner: object): void {
    reclaim.unregister(owner);
  }

  /** Puts the tensor under the safety net (once): from now on no scope will dispose it. */
  private watch(): void {
    if (this.watched) return;
    reclaim.register(this, this.lease!, this);
    this.watched = true;
  }

  /** Whether keep() took this tensor out of every scope. */
  get isKept(): boolean {
    return this.kept;
  }

  /** @internal keep(): no scope, and owners such as a DataLoader leave it alone. */
  markKept(): void {
    this.moveToScope(null);
    this.kept = true;
  }

  /** `Tensor([2,3], float32, 'W1', requiresGrad): [[…]]`; the op that made it instead of requiresGrad. */
  toString(): string {
    const tags = [fmt(this.shape), this.isDisposed ? 'disposed' : this.dtype];
    if (this.name) tags.push(`'${this.name}'`);
    if (this.node) tags.push(`op ${this.node.op}`);
    else if (this.requiresGrad) tags.push('requiresGrad');
    const head = `Tensor(${tags.join(', ')})`;
    if (this.isDisposed) return head;
    if (this.size <= 64) return `${head}: ${formatNested(this.array())}`;
    return `${head}: [${Array.from(this.data().subarray(0, 8)).join(',')},…] (${this.size} values)`;
  }

  /** Node's console.log and REPL print the same text as toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** `tensor 'W1' [2,3]`, or `tensor [2,3]` without a name: how messages refer to it. */
  describe(): string {
    return `tensor${this.name ? ` '${this.name}'` : ''} ${fmt(this.shape)}`;
  }

  private alive(what: string): Storage {
    if (!this.lease) {
      throw new Error(`${what}: tensor${this.name ? ` '${this.name}'` : ''} ${fmt(this.shape)} was used after it was disposed`);
    }
    return this.lease.storage;
  }
}

/**
 * Why `g` cannot be the gradient of the live tensor `t`, or null if it can: it must be another live Tensor with
 * t's shape, dtype and backend. Checked when .grad is assigned, and again by the optimizers and clipping before
 * they touch any gradient (a gradient may have been disposed since).
 */
export function gradProblem(t: Tensor, g: unknown): string | null {
  if (!(g instanceof Tensor)) {
    const got = g === null ? 'null' : Array.isArray(g) ? 'an array' : typeof g === 'object' ? 'an object' : typeof g;
    return `a gradient must be a Tensor or null, got ${got}`;
  }
  if (g === t) return 'a tensor cannot be its own gradient';
  // Described only for a message: every gradient a backward pass hands to a leaf is checked here.
  const of = () => `the gradient of ${t.describe()}`;
  if (g.isDisposed) return `${of()} was disposed`;
  if (g.backend !== t.backend) {
    const where = g.backend.name === t.backend.name ? `another ${g.backend.name} backend` : `the ${g.backend.name} backend`;
    return `${of()} is on ${where} (a gradient must live on its tensor's backend)`;
  }
  if (g.dtype !== t.dtype) return `${of()} is ${g.dtype}, not ${t.dtype} (a gradient must have its tensor's dtype)`;
  if (!sameShape(g.shape, t.shape)) return `${of()} has shape ${fmt(g.shape)} (a gradient must have its tensor's shape)`;
  return null;
}

/**
 * Drops the gradients of `params` (PyTorch's zero_grad with set_to_none), also one disposed since it was assigned.
 * Inside a compiled step this happens again at the same point of every call.
 */
export function dropGrads(params: readonly Tensor[]): void {
  tracing.active?.cleared(params);
  effect(() => {
    for (const p of params) {
      if (p.grad && !p.grad.isDisposed) p.grad.dispose();
      p.grad = null;
    }
  });
}

/** Nested arrays as text, NaN and ±Infinity included (JSON.stringify would print them as null). */
function formatNested(a: NestedArray): string {
  return Array.isArray(a) ? `[${a.map(formatNested).join(',')}]` : String(a);
}
