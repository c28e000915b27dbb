// Watching a backend's calls: the one mechanism behind the profiler (time, FLOPs and bytes per kernel) and the
// compiled step (recording the kernel sequence). Kernels call `buf.backend.method(...)`, so a wrapper object would
// miss them; instead the backend instance itself gets own properties that shadow its methods while any observer is
// attached, and loses them when the last one detaches (the prototype's methods are never touched).
import type { Backend } from './types.js';

/** Every method of the Backend contract: storage (alloc, free, read, write, memory, resetPeak) and kernels. */
export type BackendMethod = {
  [K in keyof Backend]: Backend[K] extends (...args: never[]) => unknown ? K : never
}[keyof Backend];

/**
 * Runs around one call: `method` and its arguments as the caller passed them, `run` calls the next observer (or
 * the backend). Return what `run` returned (an observer may not change results); let its errors through.
 */
export type Observer = (method: BackendMethod, args: readonly unknown[], run: () => unknown) => unknown;

const observers = new WeakMap<Backend, Observer[]>();

// Every method, listed once: the Record type makes the compiler refuse a list that misses or invents one.
const METHODS: Record<BackendMethod, true> = {
  alloc: true, free: true, read: true, write: true, memory: true, resetPeak: true,
  matmul: true, conv2d: true, conv2dInputGrad: true, conv2dWeightGrad: true, attention: true, attentionGrad: true,
  binary: true, where: true, unary: true, unaryGrad: true, reduce: true, softmax: true, softmaxGrad: true,
  crossEntropy: true, crossEntropyGrad: true, cast: true, triangle: true, cumsum: true, copy: true, fill: true,
  scale: true, axpy: true, gather: true, scatterAdd: true, maxPool2d: true, maxPool2dGrad: true,
  maxPool2dGather: true, avgPool2d: true, avgPool2dGrad: true, adaptiveAvgPool2d: true, adaptiveAvgPool2dGrad: true,
  batchNormStats: true, batchNorm: true, batchNormGrad: true, layerNorm: true, layerNormGrad: true,
  sgd: true, matmulSgd: true, adam: true, rmsprop: true, adagrad: true,
};

/**
 * Attaches `observer` to every call of every Backend method of `backend` until the returned function is called.
 * Observers nest: the first attached runs outermost. Detaching is idempotent and may happen in any order.
 * A backend method that calls another on itself is seen twice (the inner call inside the outer's `run`).
 */
export function observeBackend(backend: Backend, observer: Observer): () => void {
  let list = observers.get(backend);
  if (!list) {
    list = [];
    observers.set(backend, list);
    const chain = list;
    const target = backend as unknown as Record<string, unknown>;
    for (const method of Object.keys(METHODS) as BackendMethod[]) {
      const original = target[method] as (...args: unknown[]) => unknown;
      target[method] = function observed(this: unknown, ...args: unknown[]): unknown {
        const at = (i: number): unknown => (i === chain.length
          ? original.apply(backend, args)
          : chain[i]!(method, args, () => at(i + 1)));
        return at(0);
      };
    }
  }
  list.push(observer);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    const chain = observers.get(backend)!;
    chain.splice(chain.indexOf(observer), 1);
    if (chain.length === 0) {
      observers.delete(backend);
      // Last added, first deleted: each delete then undoes one step of the object's shape, and the backend keeps
      // the fast properties every kernel call reads (deleting in any other order turns them into a slow dictionary).
      for (const method of Object.keys(METHODS).reverse()) delete (backend as unknown as Record<string, unknown>)[method];
    }
  };
}

/** Whether any observer watches `backend` now (a caller that looked up its methods beforehand must go through them). */
export function isObserved(backend: Backend): boolean {
  return observers.has(backend);
}
