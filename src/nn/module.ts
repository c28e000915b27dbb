// Module: the base of every layer and model, shaped like PyTorch's nn.Module. A module is callable
// (model(x) runs forward), finds its parameters, buffers and submodules among its own properties (in the order
// they were assigned), names them with dotted paths ('0.weight'), and saves / restores them through a state dict.
// Buffers (PyTorch's register_buffer) are state that is saved and loaded but not trained, such as batch norm's
// running statistics: they are in stateDict() but never in parameters(), so optimizers never see them.
import { keep, noGrad } from '../autograd/scope.js';
import { dropGrads, Tensor } from '../autograd/tensor.js';
import { tracing } from '../compile/trace.js';
import * as K from '../kernels/index.js';
import { fmt, sizeOf } from '../kernels/shape.js';
import { boolean, checkOptions, describe, isPlainObject } from '../options.js';
import { staged, type Staged } from '../staging.js';

const PARAMETER = Symbol('parameter');
const BUFFER = Symbol('buffer');

/** Marks t as a trainable parameter: it requires a gradient and lives until the module is disposed. */
export function parameter(t: Tensor, name?: string): Tensor {
  t.requiresGrad_(true);
  if (name && !t.name) t.name = name;
  (t as unknown as Record<symbol, boolean>)[PARAMETER] = true;
  return keep(t);
}

/** Whether v is a tensor marked as a module parameter. */
export function isParameter(v: unknown): v is Tensor {
  return v instanceof Tensor && (v as unknown as Record<symbol, boolean>)[PARAMETER] === true;
}

/**
 * Marks t as a buffer: state of the module that stateDict() saves and loadStateDict() restores but that is not
 * trained (PyTorch's register_buffer). It needs no gradient and lives until the module is disposed.
 */
export function buffer(t: Tensor, name?: string): Tensor {
  if (t.requiresGrad) throw new Error('buffer: a buffer is not trained, so it cannot require a gradient (use parameter())');
  if (name && !t.name) t.name = name;
  (t as unknown as Record<symbol, boolean>)[BUFFER] = true;
  return keep(t);
}

/** Whether v is a tensor marked as a module buffer. */
export function isBuffer(v: unknown): v is Tensor {
  return v instanceof Tensor && (v as unknown as Record<symbol, boolean>)[BUFFER] === true;
}

/** A module's parameters and buffers by dotted name ('0.weight'), as stateDict() returns them. */
export type StateDict = Record<string, Tensor>;

/** A compiled step that called `m` replays only in the mode it was traced in: train() or eval() makes it retrace. */
function watchMode(m: Module): void {
  const training = m.training;
  tracing.active!.guard(m, () => (m.training === training ? null
    : `${m.constructor.name} was switched to ${m.training ? 'train()' : 'eval()'} mode`));
}

/** Integer data as a file gives it: I32, or I64 (PyTorch saves integer buffers such as num_batches_tracked so). */
type IntegerData = Int32Array | BigInt64Array;

/** Values to load into a module: tensors, or plain data read from a file. */
export type StateValues = Record<string, Tensor | {
  /** The value's shape. */
  shape: readonly number[];
  /** Its values in row-major order (integer buffers may come as I64, as PyTorch writes them). */
  data: ArrayLike<number> | BigInt64Array;
}>;

/** A state tensor to load into, and whether it is a parameter or a buffer. */
interface Target { t: Tensor; kind: 'parameter' | 'buffer' }

/** How messages name a target: 'a float32 parameter', 'an int32 buffer'. */
const targetName = ({ t, kind }: Target) => `${t.dtype === 'int32' ? 'an' : 'a'} ${t.dtype} ${kind}`;

const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

/**
 * Plain data as the values of a target of its dtype, or what is wrong with it: a float target takes floats
 * (Float32Array, Float64Array, numbers), an int32 target integers (Int32Array, BigInt64Array, integer numbers)
 * that fit in int32.
 */
function plainValues(data: unknown, target: Target): ArrayLike<number> | { kind: string; detail: string } {
  const what = targetName(target);
  if (target.t.dtype === 'int32') {
    const ints = data instanceof Int32Array || data instanceof BigInt64Array ||
      (Array.isArray(data) && data.every((x) => Number.isSafeInteger(x)));
    if (!ints) {
      const got = ArrayBuffer.isView(data) ? `${data.constructor.name} data` : describe(data);
      return { kind: 'wrong dtype', detail: `${got} for ${what} (expected Int32Array, BigInt64Array or integers)` };
    }
    const values = Array.from(data as IntegerData | number[], Number);
    const bad = values.find((x) => x < INT32_MIN || x > INT32_MAX);
    if (bad !== undefined) return { kind: 'out of range', detail: `${bad} does not fit in ${what}` };
    return values;
  }
  const floats = data instanceof Float32Array || data instanceof Float64Array ||
    (Array.isArray(data) && data.every((x) => typeof x === 'number'));
  if (!floats) {
    const got = ArrayBuffer.isView(data) ? `integer data (${data.constructor.name})` : describe(data);
    return { kind: 'wrong dtype', detail: `${got} for ${what} (expected Float32Array, Float64Array or numbers)` };
  }
  return data as ArrayLike<number>;
}

/**
 * Checks one value against its parameter or buffer and returns the write that loads it, or what is wrong with it.
 * The write cannot fail: data from another backend or dtype, or from another tensor of the same module (which an
 * earlier write could change), is read now.
 */
function stageValue(v: unknown, target: Target, own: ReadonlySet<Tensor>): (() => void) | { kind: string; detail: string } {
  const { t: p } = target;
  if (v instanceof Tensor) {
    if (v.isDisposed) return { kind: 'disposed', detail: 'the tensor was disposed' };
    if ((v.dtype === 'int32') !== (p.dtype === 'int32')) {
      return { kind: 'wrong dtype', detail: `${v.dtype} data for ${targetName(target)}` };
    }
    if (fmt(v.shape) !== fmt(p.shape)) return { kind: 'wrong shape', detail: `expected ${fmt(p.shape)}, got ${fmt(v.shape)}` };
    const aliased = v !== p && own.has(v);
    if (v.backend === p.backend && v.dtype === p.dtype && !aliased) return () => K.copyInto(p, v, p.shape.map(() => 0));
    const data = v.data();
    return () => p.backend.write(p.buf, data);
  }
  if (!isPlainObject(v) || !Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    return { kind: 'not a tensor', detail: `expected a Tensor or { shape, data }, got ${describe(v)}` };
  }
  const { shape, data } = v as { shape: number[]; data: unknown };
  const values = plainValues(data, target);
  if ('detail' in values) return values;
  if (fmt(shape) !== fmt(p.shape)) return { kind: 'wrong shape', detail: `expected ${fmt(p.shape)}, got ${fmt(shape)}` };
  if (values.length !== sizeOf(shape)) {
    return { kind: 'wrong size', detail: `shape ${fmt(shape)} holds ${sizeOf(shape)} values, the data has ${values.length}` };
  }
  return () => p.backend.write(p.buf, values);
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Module {
  /** Calling a module runs its forward: `model(x)`, as in PyTorch. */
  (...inputs: Tensor[]): Tensor;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
/**
 * The base of every layer and model, PyTorch's nn.Module. Subclass it, assign parameters (made with `parameter()`),
 * buffers and submodules as properties, and write `forward`; a module is callable, `model(x)` runs forward.
 * Parameters, buffers and submodules are found among its own properties in the order they were assigned and named
 * with dotted paths ('0.weight'), as in PyTorch's state dicts.
 */
export abstract class Module {
  /** Training mode (dropout active, batch norm normalising with and updating batch statistics); eval() turns it off. */
  training!: boolean;

  constructor() {
    // The instance is a function whose prototype chain is the subclass's: callable, and still `instanceof`.
    // (An arrow function, not `extends Function`, which would need eval-like code generation under CSP.)
    const callable = ((...inputs: unknown[]) => {
      if (tracing.active) watchMode(callable);
      return (callable as unknown as Module).forward(...inputs);
    }) as unknown as Module;
    Object.setPrototypeOf(callable, new.target.prototype);
    // A function's own `length` and `name` would shadow members of the same name (Sequential.length).
    delete (callable as { length?: number }).length;
    delete (callable as { name?: string }).name;
    // Set here, not as a field initializer: those would land on the object this constructor discards.
    callable.training = true;
    return callable;
  }

  /** Tensors in, a tensor out; a layer may take options after its tensors (MultiheadAttention's masks) and declare its call signature. */
  abstract forward(...inputs: unknown[]): Tensor;

  /** Direct submodules, by property name (arrays of modules are named name.0, name.1, …). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) value.forEach((v, i) => v instanceof Module && out.push([`${key}.${i}`, v]));
    }
    return out;
  }

  /** Every parameter of this module and its submodules, with PyTorch-style dotted names. */
  namedParameters(prefix = ''): [string, Tensor][] {
    return this.namedOf('parameter', prefix);
  }

  /** Every parameter of this module and its submodules (what an optimizer takes). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer of this module and its submodules (running statistics, …), with dotted names. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    return this.namedOf('buffer', prefix);
  }

  /** Every buffer of this module and its submodules. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  private namedOf(kind: Target['kind'], prefix: string): [string, Tensor][] {
    return this.namedState(prefix).filter(([, s]) => s.kind === kind).map(([k, { t }]) => [k, t]);
  }

  /**
   * The whole state in PyTorch's state_dict order: this module's parameters, then its buffers (each in the order
   * they were assigned), then its submodules' state.
   */
  private namedState(prefix = ''): [string, Target][] {
    const own: [string, Target][] = [];
    for (const kind of ['parameter', 'buffer'] as const) {
      for (const [key, value] of Object.entries(this)) {
        if (kind === 'parameter' ? isParameter(value) : isBuffer(value)) own.push([prefix + key, { t: value, kind }]);
      }
    }
    return [...own, ...this.namedChildren().flatMap(([key, child]) => child.namedState(`${prefix}${key}.`))];
  }

  /** Drops every parameter's gradient (PyTorch's set_to_none behaviour), also one disposed since it was assigned. */
  zeroGrad(): void {
    dropGrads(this.parameters());
  }

  /** Sets training mode (on = true) or evaluation mode on this module and every submodule; returns this. */
  train(on = true): this {
    this.training = on;
    for (const [, child] of this.namedChildren()) child.train(on);
    return this;
  }

  /** Evaluation mode, train(false): dropout off, batch norm on its running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** The parameters and buffers by name, in PyTorch's order (the live tensors, not copies). */
  stateDict(): StateDict {
    return Object.fromEntries(this.namedState().map(([k, { t }]) => [k, t]));
  }

  /**
   * Copies values into the parameters and buffers. Everything is checked before anything is written: with strict
   * (the default), missing and unexpected names are an error; a value of the wrong shape, size or dtype (integer
   * buffers take integer data, which may come as I64 from a PyTorch file), or a disposed tensor, always is. The
   * error lists every problem.
   */
  loadStateDict(values: StateValues, options: { strict?: boolean } = {}): {
    /** Names of the module's parameters and buffers that `values` lacks (an error when strict). */
    missing: string[];
    /** Names in `values` the module does not have (an error when strict). */
    unexpected: string[];
  } {
    const { missing, unexpected, commit } = this.stageStateDict(values, options);
    commit();
    return { missing, unexpected };
  }

  /** loadStateDict's validation and staging (see Staged): throws, changing nothing, if any value does not fit. */
  stageStateDict(values: StateValues, options: { strict?: boolean } = {}): Staged & {
    /** Names of the module's parameters and buffers that `values` lacks. */
    missing: string[];
    /** Names in `values` the module does not have. */
    unexpected: string[];
  } {
    checkOptions('loadStateDict', options, { strict: boolean }, { assign: 'values are always copied into the existing parameters' });
    if (!isPlainObject(values)) throw new Error(`loadStateDict: expected an object of named values, got ${describe(values)}`);
    const strict = options.strict ?? true;
    const state = new Map(this.namedState());
    const given = new Map(Object.entries(values)); // own keys only: names like 'constructor' or '__proto__' work
    const missing = [...state.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !state.has(k));
    const problems = new Map<string, string[]>(); // kind of problem → 'name: detail'
    const writes: (() => void)[] = [];
    const own = new Set([...state.values()].map(({ t }) => t));
    for (const [k, target] of state) {
      if (target.t.isDisposed) throw new Error(`loadStateDict: ${target.kind} '${k}' of this module was disposed`);
      if (!given.has(k)) continue;
      const r = stageValue(given.get(k), target, own);
      if (typeof r === 'function') writes.push(r);
      else problems.set(r.kind, [...(problems.get(r.kind) ?? []), `${k}: ${r.detail}`]);
    }
    const report = [
      ...(strict && missing.length ? [`missing: ${missing.join(', ')}`] : []),
      ...(strict && unexpected.length ? [`unexpected: ${unexpected.join(', ')}`] : []),
      ...[...problems].map(([kind, list]) => `${kind}: ${list.join('; ')}`),
    ];
    if (report.length) throw new Error(`loadStateDict: ${report.join(' | ')} (nothing was loaded)`);
    return { missing, unexpected, ...staged(() => noGrad(() => writes.forEach((w) => w()))) };
  }

  /** Frees every parameter (and its gradient) and every buffer. The module cannot be used afterwards. */
  dispose(): void {
    for (const t of [...this.parameters(), ...this.buffers()]) if (!t.isDisposed) t.dispose();
  }

  /** A one-line-per-module summary, like printing a PyTorch model. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()})`;
    if (!children.length) return head;
    const inner = children.map(([k, c]) => `  (${k}): ${c.toString().split('\n').join('\n  ')}`);
    return `${this.constructor.name}(\n${inner.join('\n')}\n)`;
  }

  /** Extra text inside the parentheses of toString() (a layer's sizes); override it in your own modules. */
  protected extraRepr(): string {
    return '';
  }
}

// Modules are functions: give them Function.prototype's members (call, apply, bind) too.
Object.setPrototypeOf(Module.prototype, Function.prototype);
