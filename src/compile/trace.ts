// The engine's side of compile() (compile.ts). While a step is being traced, `tracing.active` is its tracer, and
// the few places where a training step does JavaScript work of its own each call tell it what replay must redo:
// an optimizer's step count and bias corrections, the learning rate a scheduler set, a dropout mask, batch norm's
// batch counter, the checks that read labels and indices, the gradients backward hands to the parameters. Replay
// runs those refreshes at the same point of the kernel sequence, so a compiled step computes what the eager step
// would. Reads of tensor data and random draws anywhere else are refused while tracing: their values would be
// frozen into the recording. Outside a trace each hook costs one property read.
import type { Tensor } from '../autograd/tensor.js';
import type { Buf } from '../backend/types.js';

/** One backend call of a recording. At replay `args` hold the buffers replay uses, and a refresh may change them. */
export interface RecordedCall {
  readonly method: string;
  readonly args: unknown[];
}

/**
 * What replay redoes before the calls `run` made while traced: recompute their numbers (and patch them into the
 * calls' arguments), check data again, set JavaScript state. `map` gives the buffer replay uses for a buffer of the
 * trace (those listed as `uses` when registering).
 */
export type Refresh = (calls: readonly RecordedCall[], map: (buf: Buf) => Buf) => void;

export interface Tracer {
  /**
   * Runs `run` now, recording its backend calls, and `refresh` before them at every replay. Inside `run`, reads of
   * tensor data and random draws are allowed: `refresh` redoes what depends on them. `uses`: buffers of the trace
   * that `refresh` maps.
   */
  replayed<T>(run: () => T, refresh: Refresh, uses?: readonly Buf[]): T;
  /** Before every replay: null while the trace still fits, else what changed (a retrace follows). One per key. */
  guard(key: object, check: () => string | null): void;
  /** backward set `leaf.grad` to `grad`, a tensor this step made; `into`: it accumulated into the old .grad instead. */
  gradient(leaf: Tensor, grad: Tensor, into: boolean): void;
  /** These tensors' gradients were dropped (zeroGrad) inside the step. */
  cleared(leaves: readonly Tensor[]): void;
  /** A generator is about to draw (refused outside `replayed`). */
  draw(): void;
}

export const tracing: { active: Tracer | null } = { active: null };

/** `run()`, and when a step is being traced, `refresh` before its calls at every replay (see Tracer.replayed). */
export function replayed<T>(run: () => T, refresh: Refresh, uses?: readonly Buf[]): T {
  const t = tracing.active;
  return t === null ? run() : t.replayed(run, refresh, uses);
}

/** Runs `fn`, JavaScript state a step changes, now and at this point of every replay of a compiled step. */
export function effect(fn: () => void): void {
  replayed(fn, fn);
}
