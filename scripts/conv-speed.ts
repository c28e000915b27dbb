// Convolution speed: conv2d forward, input-gradient and weight-gradient GFLOP/s at LeNet and small-ResNet shapes
// (batch 64), each beside the product of equal FLOPs on the same build, timed in alternation so that both see the
// same machine load: the product im2col turns the pass into (same m, n, k), and a square product. Kernel-level
// calls (the ops add only their graph bookkeeping). Not a test: figures vary with the machine and its load.
//   node --experimental-wasm-relaxed-simd --import tsx scripts/conv-speed.ts [--builds simd,relaxed] [--rounds 5]
import { readFileSync } from 'node:fs';
import { init, kernels as K, randn, tidy, type Tensor } from '../src/index.js';

export interface ConvShape {
  name: string;
  n: number; c: number; size: number; o: number; k: number; padding: number;
}

/** LeNet's two convolutions (28×28 and 14×14, 5×5) and small-ResNet 3×3 blocks of 16–64 channels. */
export const CONV_SHAPES: ConvShape[] = [
  { name: 'LeNet conv1 1→16 5×5 28²', n: 64, c: 1, size: 28, o: 16, k: 5, padding: 2 },
  { name: 'LeNet conv2 16→32 5×5 14²', n: 64, c: 16, size: 14, o: 32, k: 5, padding: 2 },
  { name: 'ResNet 16→16 3×3 28²', n: 64, c: 16, size: 28, o: 16, k: 3, padding: 1 },
  { name: 'ResNet 32→32 3×3 14²', n: 64, c: 32, size: 14, o: 32, k: 3, padding: 1 },
  { name: 'ResNet 64→64 3×3 14²', n: 64, c: 64, size: 14, o: 64, k: 3, padding: 1 },
  { name: 'ResNet 32→64 3×3 28²', n: 64, c: 32, size: 28, o: 64, k: 3, padding: 1 },
];

export type Pass = 'forward' | 'input grad' | 'weight grad';

/** The three passes of a shape as kernel calls, and the (m, n, k) of the product im2col makes of each. */
export function convPasses(s: ConvShape): { pass: Pass; run: () => void; mnk: [number, number, number] }[] {
  const g: K.ConvGeometry = { stride: [1, 1], padding: [[s.padding, s.padding], [s.padding, s.padding]], dilation: [1, 1], groups: 1 };
  const x = randn([s.n, s.c, s.size, s.size]);
  const w = randn([s.o, s.c, s.k, s.k]);
  const out = s.size + 2 * s.padding - s.k + 1;
  const dy = randn([s.n, s.o, out, out]);
  const P = s.n * out * out, taps = s.c * s.k * s.k;
  const call = (f: () => K.NDArray) => () => K.free(f());
  return [
    { pass: 'forward', run: call(() => K.conv(x, w, null, g)), mnk: [s.o, P, taps] },
    { pass: 'input grad', run: call(() => K.convInputGrad(dy, w, x.shape, g)), mnk: [taps, P, s.o] },
    { pass: 'weight grad', run: call(() => K.convWeightGrad(x, dy, w.shape, g)), mnk: [s.o, taps, P] },
  ];
}

/** A product C = A·B of the given size, as one call. */
export function product(m: number, n: number, k: number): { run: () => void; dispose: () => void } {
  const a: Tensor = randn([m, k]);
  const b: Tensor = randn([k, n]);
  return { run: () => K.free(K.matmul(a, b)), dispose: () => [a, b].forEach((t) => t.dispose()) };
}

/** Best time of one call over `rounds` rounds of ≥ 200 ms, in ms. */
function best(fns: (() => void)[], rounds: number): number[] {
  const times = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      fn();
      let calls = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 200 || calls < 3) {
        fn();
        calls++;
      }
      times[i] = Math.min(times[i]!, (performance.now() - t0) / calls);
    });
  }
  return times;
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1]! : fallback;
  };
  const builds = arg('builds', 'simd,relaxed').split(',') as ('simd' | 'relaxed')[];
  const rounds = Number(arg('rounds', '5'));
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average at start: ${load()}`);
  console.log('| build | shape | pass | conv GFLOP/s | same-size product | conv / product | square product | conv / square |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const build of builds) {
    await init({ build });
    for (const s of CONV_SHAPES) {
      tidy(() => {
        for (const { pass, run, mnk: [m, n, k] } of convPasses(s)) {
          const flops = 2 * m * n * k;
          const same = product(m, n, k);
          const side = Math.round(Math.cbrt(m * n * k));
          const square = product(side, side, side);
          const [tc, ts, tq] = best([run, same.run, square.run], rounds);
          const rate = (ms: number, f = flops) => f / (ms! * 1e6);
          const conv = rate(tc!), sameRate = rate(ts!), squareRate = rate(tq!, 2 * side ** 3);
          console.log(`| ${build} | ${s.name} | ${pass} | ${conv.toFixed(1)} | ${sameRate.toFixed(1)} (${m}×${k}·${k}×${n}) | ` +
            `${(100 * conv / sameRate).toFixed(0)}% | ${squareRate.toFixed(1)} (${side}³) | ${(100 * conv / squareRate).toFixed(0)}% |`);
          same.dispose();
          square.dispose();
        }
      });
    }
  }
  console.log(`load average at end: ${load()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
