// The PyTorch reference values (test/fixtures/pytorch-reference.json, a verbatim copy of ../shared/fixtures).
import data from '../fixtures/pytorch-reference.json' with { type: 'json' };

export type Nested = number | Nested[];

export interface SeedMlpCase {
  d: number; h: number; q: number; activation: string; loss: 'mse' | 'cross_entropy'; lambda: number;
  x: number[]; y: number[] | number; W1: number[][]; W2: number[][];
  z: number[]; h_act: number[]; o: number[]; L: number; s: number; J: number;
  dJ_do: number[]; dJ_dh: number[]; dJ_dz: number[]; dJ_dW1: number[][]; dJ_dW2: number[][];
  sgd_lr: number; W1_after_sgd: number[][]; W2_after_sgd: number[][];
}

export interface BatchedMlpCase {
  n: number; dims: number[]; activation: string; loss: 'cross_entropy' | 'mse_mean';
  X: number[][]; Y: number[] | number[][]; W: number[][][]; b: number[][];
  out: number[][]; loss_value: number; dW: number[][][]; db: number[][];
}

export interface OpCase {
  op: string; inputs: Nested[]; shapes: number[][]; out: Nested; upstream: Nested; grads: Nested[];
  axis?: number; keepdims?: boolean;
}

export interface OptimizerRun { lr: number; steps: number[][]; [k: string]: unknown }

export const fixtures = data as unknown as {
  seed_linear: { x: number; y: number; w: number; b: number; lr: number; yhat: number; loss: number;
    dL_dyhat: number; dL_dw: number; dL_db: number; w_new: number; b_new: number };
  seed_mlp: SeedMlpCase[];
  batched_mlp: BatchedMlpCase[];
  ops: OpCase[];
  optimizers: Record<string, OptimizerRun> & { problem: string };
};

export const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

/** Asserts |a − e| ≤ atol + rtol·|e| elementwise, with a message naming the first mismatch. */
export function expectClose(actual: ArrayLike<number> | number, expected: Nested, rtol = 1e-4, atol = 1e-6, what = ''): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = flat(expected);
  if (a.length !== e.length) throw new Error(`${what}: ${a.length} values, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - e[i]!) <= atol + rtol * Math.abs(e[i]!))) {
      throw new Error(`${what}: element ${i} is ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
