// Fused attention speed: forward and forward+backward GFLOP/s of the attention kernels at B = 8, 4 heads, head
// dim 32, T = 64 … 256 (causal and not), each timed in alternation with a square 256³ product on the same build,
// so both see the same machine load. FLOPs are the nominal ones of the products attention is made of: forward
// 4·B·H·T²·d (q·kᵀ and ·v), backward 8·B·H·T²·d (dv, dP, dq, dk; the recomputed scores are not counted), half of
// each when causal (the masked half is not work). Kernel-level calls (the op adds only its graph bookkeeping).
// Not a test: figures vary with the machine and its load.
//   node --experimental-wasm-relaxed-simd --import tsx scripts/attention-speed.ts [--builds simd,relaxed] [--rounds 5]
import { readFileSync } from 'node:fs';
import { init, kernels as K, randn, type Tensor } from '../src/index.js';

export interface AttentionShape { batch: number; heads: number; T: number; d: number; causal: boolean }

export const ATTENTION_SHAPES: AttentionShape[] = [64, 128, 256].flatMap((T) =>
  [false, true].map((causal) => ({ batch: 8, heads: 4, T, d: 32, causal })));

/** Nominal FLOPs of a forward and of a backward (see the top of this file). */
export function attentionFlops(s: AttentionShape): { forward: number; backward: number } {
  const square = s.batch * s.heads * s.T * s.T * s.d * (s.causal ? 0.5 : 1);
  return { forward: 4 * square, backward: 8 * square };
}

/** A forward call, and a forward + backward, as kernel calls on q, k, v [B, H, T, d]. */
export function attentionPasses(s: AttentionShape): { forward: () => void; step: () => void; dispose: () => void } {
  const shape = [s.batch, s.heads, s.T, s.d];
  const [q, k, v, dout] = [0, 1, 2, 3].map(() => randn(shape)) as [Tensor, Tensor, Tensor, Tensor];
  const settings = { causal: s.causal };
  return {
    forward: () => {
      const { out, lse } = K.attention(q, k, v, settings);
      K.free(out);
      K.free(lse);
    },
    step: () => {
      const { out, lse } = K.attention(q, k, v, settings);
      const g = K.attentionGrad(q, k, v, out, lse, dout, settings, { q: true, k: true, v: true });
      for (const a of [out, lse, g.dq!, g.dk!, g.dv!]) K.free(a);
    },
    dispose: () => [q, k, v, dout].forEach((t) => t.dispose()),
  };
}

/** Best wall and CPU time of one call over `rounds` rounds of ≥ 200 ms each, in ms; the functions take turns. */
function best(fns: (() => void)[], rounds: number): { wall: number; cpu: number }[] {
  const times = fns.map(() => ({ wall: Infinity, cpu: Infinity }));
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      fn();
      let calls = 0;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      while (performance.now() - t0 < 200 || calls < 3) {
        fn();
        calls++;
      }
      const c = process.cpuUsage(c0);
      times[i]!.wall = Math.min(times[i]!.wall, (performance.now() - t0) / calls);
      times[i]!.cpu = Math.min(times[i]!.cpu, (c.user + c.system) / 1000 / calls);
    });
  }
  return times;
}

type Time = { wall: number; cpu: number };

async function main(): Promise<void> {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1]! : fallback;
  };
  const builds = arg('builds', 'simd,relaxed').split(',') as ('simd' | 'relaxed')[];
  const rounds = Number(arg('rounds', '5'));
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average at start: ${load()}`);
  console.log('GFLOP/s by CPU time (by wall time in brackets); ratios to the 256³ product of the same build and clock.');
  console.log('| build | B×H×T×d | causal | forward | fwd+bwd | matmul 256³ | fwd / matmul | fwd+bwd / matmul | tokens/s (fwd+bwd, wall) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const build of builds) {
    await init({ build });
    const a = randn([256, 256]), b = randn([256, 256]);
    const square = () => K.free(K.matmul(a, b));
    for (const s of ATTENTION_SHAPES) {
      const passes = attentionPasses(s);
      const [fwd, step, mm] = best([passes.forward, passes.step, square], rounds) as [Time, Time, Time];
      passes.dispose();
      const f = attentionFlops(s);
      const gf = (flops: number, ms: number) => flops / ms / 1e6;
      const both = (flops: number, t: Time) => `${gf(flops, t.cpu).toFixed(1)} (${gf(flops, t.wall).toFixed(1)})`;
      const ratio = (flops: number, t: Time) => `${(gf(flops, t.cpu) / gf(2 * 256 ** 3, mm.cpu)).toFixed(2)} ` +
        `(${(gf(flops, t.wall) / gf(2 * 256 ** 3, mm.wall)).toFixed(2)})`;
      const row = [build, `${s.batch}×${s.heads}×${s.T}×${s.d}`, s.causal ? 'yes' : 'no', both(f.forward, fwd),
        both(f.forward + f.backward, step), both(2 * 256 ** 3, mm), ratio(f.forward, fwd), ratio(f.forward + f.backward, step),
        Math.round((s.batch * s.T) / step.wall * 1000).toString()];
      console.log(`| ${row.join(' | ')} |`);
    }
    a.dispose();
    b.dispose();
  }
  console.log(`load average at end: ${load()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
