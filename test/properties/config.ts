// Runs and seed of the property tests in `npm test`: a fixed seed, so CI checks the same graphs every time
// (scripts/fuzz.ts explores new ones). WASMGRAD_FC_SEED / WASMGRAD_FC_RUNS override them, e.g. to replay a seed.
const env = typeof process === 'object' ? process.env : {};

export const SEED = Number(env.WASMGRAD_FC_SEED ?? 20260611);

/** `runs` scaled by WASMGRAD_FC_RUNS (a multiplier, default 1). */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * Number(env.WASMGRAD_FC_RUNS ?? 1)));
}
