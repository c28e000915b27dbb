// Fusions of a recording (compile.ts), made before its buffers are planned: pairs of recorded calls that one
// backend call can run with the same results. Each keeps every float operation and its order per element (the
// fused kernels say how), so a compiled step stays bit-identical to the eager one.
//
// matmul + sgd: a weight gradient's product and the plain SGD update that consumes it become one matmulSgd at the
// update's place, which the wasm backend runs as the product with the update applied as each tile of the gradient
// is stored (no second pass over the gradient). Moving the product later is safe when nothing in between touches
// the gradient or the parameter, or writes the product's operands; the update's own refresh (a schedule's lr) then
// still runs just before it.
import type { Buf, MatmulPlan, SgdParams } from '../backend/types.js';
import type { RecordedCall } from './trace.js';

/** The recorded-call fields fusion needs (compile.ts's Call). */
export interface FusableCall extends RecordedCall {
  readonly method: string;
  readonly result: unknown;
}

/** The hook fields fusion needs: the call index it runs before, the calls it refreshes, the buffers it uses. */
export interface FusableHook {
  at: number;
  end: number;
  readonly uses: readonly Buf[];
  readonly install?: unknown;
}

/**
 * The argument positions each method writes, for the calls that may sit between a fused pair (a method not listed
 * stops a fusion: its writes are not known here).
 */
const WRITES: Record<string, readonly number[]> = {
  matmul: [2], reduce: [2, 6], unary: [2], unaryGrad: [3], binary: [3], scale: [1], sgd: [0, 2],
  // A pair fused already (the first layer's, whose update runs before the second layer's): C and the parameter.
  matmulSgd: [2, 4],
};

/**
 * Rewrites `calls` and `hooks` in place: each fusable matmul is removed and its sgd becomes a matmulSgd (the same
 * call object, so the optimizer's refresh still patches its last argument, the update's numbers). `bufsOf` lists
 * the buffers inside a call's arguments (plans hold some).
 */
export function fuseMatmulSgd(calls: FusableCall[], hooks: FusableHook[], bufsOf: (args: unknown[]) => Buf[]): void {
  for (let j = 0; j < calls.length; j++) {
    const s = calls[j]!;
    if (s.method !== 'sgd') continue;
    const [p, g, momentumBuf, n, h] = s.args as [Buf, Buf, Buf | null, number, SgdParams];
    if (momentumBuf !== null || h.momentum !== 0 || h.weightDecay !== 0) continue;
    const i = producer(calls, g, j, bufsOf);
    if (i < 0) continue;
    const [a, b, c, plan] = calls[i]!.args as [Buf, Buf, Buf, MatmulPlan];
    const operands = [a, b, plan.bias].filter((x): x is Buf => x !== null);
    if (plan.m * plan.n * plan.batch !== n || operands.includes(p) || p === c) continue;
    if (!quietBetween(calls, hooks, i, j, [c, p], operands, bufsOf)) continue;
    (s as { method: string }).method = 'matmulSgd';
    s.args.splice(0, s.args.length, a, b, c, plan, p, momentumBuf, n, h);
    calls.splice(i, 1);
    for (const hook of hooks) {
      if (hook.at > i) hook.at--;
      if (hook.end > i) hook.end--;
    }
    j--;
  }
}

/** The index of the matmul before `j` that last wrote `c` as its whole output, or -1. */
function producer(calls: readonly FusableCall[], c: Buf, j: number, bufsOf: (args: unknown[]) => Buf[]): number {
  for (let i = j - 1; i >= 0; i--) {
    const call = calls[i]!;
    if (!bufsOf(call.args).includes(c)) continue;
    return call.method === 'matmul' && call.args[2] === c ? i : -1;
  }
  return -1;
}

/**
 * Whether the calls and hooks strictly between i and j leave alone the buffers in `untouched` (neither read nor
 * written; a hook that hands out a gradient does not read it) and do not write `operands`; a refresh whose calls
 * include call i would patch a call that moved, so it stops the fusion too.
 */
function quietBetween(calls: readonly FusableCall[], hooks: readonly FusableHook[], i: number, j: number,
  untouched: readonly Buf[], operands: readonly Buf[], bufsOf: (args: unknown[]) => Buf[]): boolean {
  for (let t = i + 1; t < j; t++) {
    const call = calls[t]!;
    const writes = WRITES[call.method];
    if (!writes) return false;
    const bufs = bufsOf(call.args);
    if (bufs.some((x) => untouched.includes(x))) return false;
    if (writes.some((w) => operands.includes(call.args[w] as Buf))) return false;
  }
  for (const hook of hooks) {
    if (hook.at <= i && hook.end > i) return false;
    if (hook.at > i && hook.at <= j && !hook.install && hook.uses.some((x) => untouched.includes(x) || operands.includes(x))) {
      return false;
    }
  }
  return true;
}
