// The f32x4 FMA peak of one core, the figure a product's GFLOP/s is a share of (issue 16's target: matmul ≥ 90%
// of the relaxed build's FMA peak at 256³–1024³). A loop of 12 independent chains c = c·b + a, each step one
// relaxed_madd (a fused vfmadd, as in the relaxed micro-kernel, which keeps 12 accumulators too): more chains than
// the FMA's latency times its throughput, so the loop runs at the ports' rate. Compiled here with asc and timed in
// the products' own rounds (the cases' `versus`), so a change in the machine's load moves both figures alike.
// Only the relaxed build has one: a mul-then-add loop with its product on the chain waits on two latencies and
// measured below what the simd micro-kernel reaches (its products are off the accumulator chains), so it would
// not be that build's peak.
import asc from 'assemblyscript/asc';
import type { Case, Prepared } from '../harness.js';

/** Accumulator chains, and loop steps per call: 12·4·2·STEPS = 48 MFLOP, about 1 ms at 50 GFLOP/s. */
const CHAINS = 12;
const STEPS = 500_000;
const A = 1.0001;
const B = 0.99;

/** One step of chain `c`. */
const step = (c: string) => `${c} = f32x4.relaxed_madd(${c}, b, a);`;

let module: Promise<WebAssembly.Module> | null = null;

/** The peak loop, compiled once per process: peak(n) runs n steps and returns lane 0 of the chains' sum. */
function peakModule(): Promise<WebAssembly.Module> {
  const chains = Array.from({ length: CHAINS }, (_, i) => `c${i}`);
  const source = `export function peak(n: i32): f32 {
  const a = f32x4.splat(${A}), b = f32x4.splat(${B});
  let ${chains.map((c) => `${c} = f32x4.splat(0)`).join(', ')};
  for (let i = 0; i < n; i++) { ${chains.map(step).join(' ')} }
  return f32x4.extract_lane(${chains.reduce((s, c) => `f32x4.add(${s}, ${c})`)}, 0);
}`;
  return (module ??= asc.compileString(source, { optimizeLevel: 3, runtime: 'stub', enable: ['simd', 'relaxed-simd'] })
    .then(({ binary, error }) => {
      if (error || !binary) throw new Error(`FMA peak loop: ${error?.message ?? 'asc produced no binary'}`);
      return WebAssembly.compile(new Uint8Array(binary));
    }));
}

export function peakCase(): Case {
  const flops = CHAINS * 4 * 2 * STEPS;
  return {
    group: 'matmul',
    name: `the f32x4 FMA peak (${CHAINS} chains)`,
    unit: 'GFLOP/s',
    higherIsBetter: true,
    value: (ms) => flops / (ms * 1e6),
    expect: () => undefined,
    skip: (c) => (c.build === 'relaxed' ? undefined : 'skipped: the FMA peak is the relaxed build\'s'),
    prepare: async (c): Promise<Prepared> => {
      const { peak } = (await WebAssembly.instantiate(await peakModule())).exports as { peak: (n: number) => number };
      return {
        fn: () => void peak(STEPS),
        // Each chain converges to its fixed point a / (1 − b) (0.99ⁿ falls below float32's precision within a few
        // thousand steps), where rounding leaves it within ulp / (1 − b), about 1e-5 relative: a loop computing
        // anything else (a lost chain, a wrong operand order) would be far off.
        check: () => {
          const sum = peak(STEPS);
          const want = (CHAINS * Math.fround(A)) / (1 - Math.fround(B));
          if (!(Math.abs(sum - want) < 1e-4 * want)) throw new Error(`peak loop on ${c.name}: ${sum}, expected about ${want}`);
          return { sum: [sum] };
        },
        dispose: () => {},
      };
    },
  };
}
