// The f32x4 multiply-add peak of one core, the figure a product's GFLOP/s is a share of (issue 16's target:
// matmul ≥ 90% of the relaxed build's FMA peak at 256³–1024³). A loop of 12 independent accumulator chains (the
// relaxed micro-kernel's count, enough to hide the latency of each multiply-add), compiled here with asc. Each
// step is c = c·b + a, on the relaxed contender one relaxed_madd (a fused vfmadd), on the simd contender a mul then
// an add: the operations each build's micro-kernel issues. The product depends on the chain, so no compiler can
// hoist it out of the loop (c += a·b would leave only the adds). Timed in the products' own rounds (the cases' `versus`), so a change
// in the machine's load moves both figures alike.
import asc from 'assemblyscript/asc';
import type { BuildName } from '../../dist/index.js';
import type { Case, Prepared } from '../harness.js';

/** Accumulator chains, and loop steps per call: 12·4·2·STEPS = 48 MFLOP, about 1 ms at 50 GFLOP/s. */
const CHAINS = 12;
const STEPS = 500_000;
const A = 1.0001;
const B = 0.99;

/** The builds with a loop: the multiply-add each issues. */
const STEP: Partial<Record<BuildName, (c: string) => string>> = {
  relaxed: (c) => `${c} = f32x4.relaxed_madd(${c}, b, a);`,
  simd: (c) => `${c} = f32x4.add(f32x4.mul(${c}, b), a);`,
};

const modules = new Map<BuildName, Promise<WebAssembly.Module>>();

/** The peak loop for `build`, compiled once per process: peak(n) runs n steps and returns lane 0 of the chains' sum. */
function peakModule(build: BuildName): Promise<WebAssembly.Module> {
  const step = STEP[build]!;
  const chains = Array.from({ length: CHAINS }, (_, i) => `c${i}`);
  const source = `export function peak(n: i32): f32 {
  const a = f32x4.splat(${A}), b = f32x4.splat(${B});
  let ${chains.map((c) => `${c} = f32x4.splat(0)`).join(', ')};
  for (let i = 0; i < n; i++) { ${chains.map(step).join(' ')} }
  return f32x4.extract_lane(${chains.reduce((s, c) => `f32x4.add(${s}, ${c})`)}, 0);
}`;
  let m = modules.get(build);
  if (!m) {
    m = asc.compileString(source, { optimizeLevel: 3, runtime: 'stub', enable: build === 'relaxed' ? ['simd', 'relaxed-simd'] : ['simd'] })
      .then(({ binary, error }) => {
        if (error || !binary) throw new Error(`peak loop for the ${build} build: ${error?.message ?? 'asc produced no binary'}`);
        return WebAssembly.compile(new Uint8Array(binary));
      });
    modules.set(build, m);
  }
  return m;
}

export function peakCase(): Case {
  const flops = CHAINS * 4 * 2 * STEPS;
  return {
    group: 'matmul',
    name: `f32x4 multiply-add peak (${CHAINS} chains)`,
    unit: 'GFLOP/s',
    higherIsBetter: true,
    value: (ms) => flops / (ms * 1e6),
    expect: () => undefined,
    skip: (c) => (c.build && STEP[c.build] ? undefined : 'skipped: the one-thread relaxed and simd builds have a peak loop'),
    prepare: async (c): Promise<Prepared> => {
      const { peak } = (await WebAssembly.instantiate(await peakModule(c.build!))).exports as { peak: (n: number) => number };
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
