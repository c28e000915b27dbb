// Lifetimes and modes: which tensors a tidy() scope will dispose, whether ops record the graph (noGrad), and
// the opt-in numeric checks. JavaScript has no destructors, so every tensor belongs to the innermost open scope
// (or to none) until it is disposed, kept, or returned from the scope.
import { describe } from '../options.js';
import { Tensor } from './tensor.js';

export type Scope = Set<Tensor>;

export const engine = {
  /** Whether ops record nodes for backward (off inside noGrad and during a plain backward pass). */
  gradEnabled: true,
  /** When on, every op checks its output (and backward its gradients) for NaN/Infinity and names the op. */
  checkNumerics: false,
  scopes: [] as Scope[],
};

export function currentScope(): Scope | null {
  return engine.scopes[engine.scopes.length - 1] ?? null;
}

/** Registers a new tensor with the innermost scope, if any. */
export function track(t: Tensor): Scope | null {
  const scope = currentScope();
  scope?.add(t);
  return scope;
}

/**
 * Runs fn and disposes every tensor created inside it except those it returns (found in arrays and plain objects
 * too) and those passed to keep(). Returned tensors move to the enclosing scope. Also cleans up when fn throws.
 */
export function tidy<T>(fn: () => T): T;
export function tidy<T>(name: string, fn: () => T): T;
export function tidy<T>(a: string | (() => T), b?: () => T): T {
  const fn = typeof a === 'function' ? a : b!;
  if (typeof fn !== 'function') throw new Error(`tidy: expected a function (or a name and a function), got ${describe(b ?? a)}`);
  const scope: Scope = new Set();
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    engine.scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  engine.scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy: the function must be synchronous (it returned a Promise); dispose tensors by hand in async code');
  }
  const keepers = new Set<Tensor>();
  collectTensors(result, keepers);
  const parent = currentScope();
  for (const t of scope) {
    if (keepers.has(t)) t.moveToScope(parent);
    else t.dispose();
  }
  return result;
}

/** Takes t out of every scope: it lives until disposed by hand. Returns t. */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new Error(`keep: expected a Tensor, got ${describe(t)}`);
  t.markKept();
  return t;
}

/** Runs fn without recording the graph (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn, 'noGrad');
}

/**
 * Runs fn with graph recording on or off, restoring the previous mode afterwards. fn must be synchronous: the
 * mode would be restored at an async function's first await, so the rest of it would run in the wrong mode.
 * Errors name `api`, the public function that called this.
 */
export function withGradMode<T>(enabled: boolean, fn: () => T, api = 'withGradMode'): T {
  if (typeof fn !== 'function') throw new Error(`${api}: expected a function, got ${describe(fn)}`);
  const before = engine.gradEnabled;
  engine.gradEnabled = enabled;
  let result: T;
  try {
    result = fn();
  } finally {
    engine.gradEnabled = before;
  }
  if (result instanceof Promise) {
    throw new Error(`${api}: the function must be synchronous (it returned a Promise): the grad mode would end at its ` +
      `first await and the rest would run with gradients ${before ? 'recorded' : 'off'}; wrap the synchronous parts in ${api} instead`);
  }
  return result;
}

/** Whether operations are being recorded for autograd now (false inside noGrad). */
export function isGradEnabled(): boolean {
  return engine.gradEnabled;
}

/** Turns the NaN/Infinity check of every op's output and gradients on or off (off by default: it reads memory). */
export function checkNumerics(on: boolean): void {
  engine.checkNumerics = on;
}

function collectTensors(value: unknown, into: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into, seen);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, into, seen);
}
