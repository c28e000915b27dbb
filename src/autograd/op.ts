// apply(): how every op in src/ops/ runs. It turns plain numbers into scalar tensors, runs the forward kernel,
// and — when grad mode is on and an input requires a gradient — records a Node with the tensors the backward
// rule needs. Saved tensors are extra handles on the same storage, outside every scope, so tidy() can dispose
// the forward's tensor objects while the graph still holds what backward will read.
import { freeOnError, type NDArray } from '../kernels/index.js';
import { describe } from '../options.js';
import { census } from './census.js';
import { Node, type BackwardFn, type Edge, type LocalFormula } from './node.js';
import { engine } from './scope.js';
import { Tensor } from './tensor.js';

/** A tensor, or a number that ops treat as a scalar tensor of the other operand's dtype. */
export type TensorLike = Tensor | number;

export interface OpSpec {
  op: string;
  inputs: readonly TensorLike[];
  /**
   * Computes the result from the inputs (numbers already turned into scalar tensors); a Tensor result is a view.
   * If it throws, the kernel arrays it allocated are freed (so it must not wrap them in tensors before returning).
   */
  forward: (xs: Tensor[]) => NDArray | Tensor;
  /** The gradient rule: upstream gradient and saved tensors in, one gradient (or null) per input out. */
  backward?: BackwardFn;
  /** The tensors backward needs, from the inputs and the output (default: none). */
  save?: (xs: Tensor[], out: Tensor) => Tensor[];
  attrs?: Record<string, unknown>;
  local?: LocalFormula;
}

/** Checks that every tensor input is alive, naming the op otherwise. */
export function checkAlive(op: string, xs: readonly TensorLike[]): void {
  for (const x of xs) {
    if (x instanceof Tensor && x.isDisposed) {
      throw new Error(`${op}: input tensor${x.name ? ` '${x.name}'` : ''} was used after it was disposed`);
    }
  }
}

/** Throws unless `value` is a Tensor (`api: name must be a Tensor, got …`). */
export function checkTensor(api: string, name: string, value: unknown): asserts value is Tensor {
  if (!(value instanceof Tensor)) throw new Error(`${api}: ${name} must be a Tensor, got ${describe(value)}${arrayHint(value)}`);
}

/** A Tensor, or an array (any iterable) of tensors, as an array; an error names the first entry that is not one. */
export function tensorList(api: string, name: string, value: unknown): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (value === null || typeof value !== 'object' || !(Symbol.iterator in value)) {
    const isModule = typeof (value as { parameters?: unknown } | null)?.parameters === 'function';
    throw new Error(`${api}: ${name} must be a Tensor or an array of tensors, got ${describe(value)}` +
      (isModule ? '; pass model.parameters()' : ''));
  }
  const list = [...(value as Iterable<unknown>)];
  list.forEach((t, i) => checkTensor(api, `${name}[${i}]`, t));
  return list as Tensor[];
}

const arrayHint = (v: unknown) => (Array.isArray(v) ? ' (make one with tensor(...))' : '');

/** Wraps a kernel result (its storage is handed over) as a tensor. */
export function fromKernel(a: NDArray): Tensor {
  return new Tensor(a.buf, a.shape);
}

/** A scalar (shape []) tensor with `like`'s dtype and backend. */
export function scalarLike(value: number, like: Tensor): Tensor {
  const buf = like.backend.alloc(like.dtype, 1);
  like.backend.write(buf, [value]);
  return new Tensor(buf, []);
}

export function toTensors(op: string, xs: readonly TensorLike[]): { tensors: Tensor[]; temps: Tensor[] } {
  checkAlive(op, xs);
  const like = xs.find((x): x is Tensor => x instanceof Tensor);
  if (!like) throw new Error(`${op}: at least one input must be a tensor`);
  const temps: Tensor[] = [];
  const tensors = xs.map((x) => {
    if (x instanceof Tensor) return x;
    if (typeof x !== 'number') throw new Error(`${op}: expected a tensor or a number, got ${describe(x)}${arrayHint(x)}`);
    const t = scalarLike(x, like);
    temps.push(t);
    return t;
  });
  return { tensors, temps };
}

export function apply(spec: OpSpec): Tensor {
  const { tensors: xs, temps } = toTensors(spec.op, spec.inputs);
  const outer = census.origin;
  census.origin = spec.op; // the tensors made from here on count as this op's (memory reports)
  try {
    const result = freeOnError(() => spec.forward(xs));
    const out = result instanceof Tensor ? result : new Tensor(result.buf, result.shape);
    if (engine.checkNumerics) assertFinite(spec.op, out, 'output (forward)');
    if (engine.gradEnabled && xs.some((x) => x.requiresGrad)) record(spec, xs, out);
    return out;
  } finally {
    census.origin = outer;
    for (const t of temps) t.dispose();
  }
}

function record(spec: OpSpec, xs: Tensor[], out: Tensor): void {
  const backward: BackwardFn = spec.backward ?? (() => {
    throw new Error(`backward: op '${spec.op}' has no backward rule, so no gradient can flow through it`);
  });
  const node = new Node(spec.op, xs.map(edgeOf), [...xs], out, backward, spec.attrs ?? {}, spec.local);
  node.retain();
  out.node = node;
  out.requiresGrad = true;
  node.setSaved((spec.save?.(xs, out) ?? []).map((t) => t.savedHandle(t === out ? node : null, false)));
}

/** Where the gradient of x goes: the node that produced it, or the leaf itself. */
export function edgeOf(x: Tensor): Edge | null {
  if (!x.requiresGrad) return null;
  return x.node ? { node: x.node } : { leaf: x.gradLeaf };
}

/** Throws if t holds NaN or ±Infinity, naming the op (used when checkNumerics(true) is on). */
export function assertFinite(op: string, t: Tensor, where: string): void {
  if (t.dtype === 'int32') return;
  const values = t.data();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`checkNumerics: op '${op}' produced ${values[i]} at index ${i} of its ${where}`);
    }
  }
}
