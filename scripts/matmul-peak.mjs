// Share of the FMA peak that matmul reaches on the relaxed build (issue 16's target: ≥ 90% at 256³, 512³, 1024³).
// `node --experimental-wasm-relaxed-simd scripts/matmul-peak.mjs [rounds] [build]` (after `npm run build`).
// The peak is measured in the same process, interleaved with the products: a loop of 12 independent f32x4 FMA
// chains (the micro-kernel's accumulator count), compiled here with asc. Time is the process's CPU time, not
// wall time, so other processes on a busy machine slow a round less; the best round of each is reported.
import asc from 'assemblyscript/asc';
import { readFileSync } from 'node:fs';

const rounds = Number(process.argv[2] ?? 9);
const build = process.argv[3] ?? 'relaxed';
const SIZES = [256, 512, 1024];

const fma = Array.from({ length: 12 }, (_, i) => `c${i} = f32x4.relaxed_madd(a, b, c${i});`).join(' ');
const source = `export function peak(n: i32): f32 {
  const a = f32x4.splat(1.0001), b = f32x4.splat(0.9999);
  let ${Array.from({ length: 12 }, (_, i) => `c${i} = f32x4.splat(0)`).join(', ')};
  for (let i = 0; i < n; i++) { ${fma} }
  return f32x4.extract_lane(${Array.from({ length: 12 }, (_, i) => `c${i}`).reduce((s, c) => `f32x4.add(${s}, ${c})`)}, 0);
}`;
const { binary, error } = await asc.compileString(source, { optimizeLevel: 3, runtime: 'stub', enable: ['simd', 'relaxed-simd'] });
if (error) throw error;
const { peak } = new WebAssembly.Instance(new WebAssembly.Module(binary), {}).exports;

const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL(`../build/${build}.wasm`, import.meta.url))), {}).exports;
let top = (ex.heap_base() + 63) & ~63;
const need = SIZES.reduce((s, n) => s + 12 * n * n + ex.matmul_ws_bytes(n, n, n, 0, 0) + 128, 0);
ex.memory.grow(Math.ceil((top + need - ex.memory.buffer.byteLength) / 65536) + 1);
const operands = new Map(SIZES.map((n) => {
  const [a, b, c] = [0, 1, 2].map((i) => top + 4 * i * n * n);
  const ws = (top + 12 * n * n + 63) & ~63;
  top = ws + ex.matmul_ws_bytes(n, n, n, 0, 0) + 64;
  new Float32Array(ex.memory.buffer, a, 2 * n * n).forEach((_, i, f) => { f[i] = Math.sin(i); });
  return [n, { a, b, c, ws }];
}));

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
/** GFLOP/s of fn doing `flops` per call, over at least 100 ms of CPU time. */
const rate = (fn, flops) => {
  const t0 = cpuMs();
  let calls = 0, ms;
  do { fn(); calls++; ms = cpuMs() - t0; } while (ms < 100);
  return (calls * flops) / (ms * 1e6);
};
const best = new Map();
const keep = (key, g) => best.set(key, Math.max(best.get(key) ?? 0, g));
for (let r = 0; r < rounds; r++) {
  keep('peak', rate(() => peak(1e6), 12 * 8 * 1e6));
  for (const [n, o] of operands) keep(n, rate(() => ex.matmul_f32(o.a, o.b, o.c, 0, n, n, n, 0, 0, 1, 0, 0, o.ws), 2 * n ** 3));
}
const p = best.get('peak');
console.log(`${build}: FMA peak ${p.toFixed(1)} GFLOP/s (best of ${rounds} rounds)`);
for (const n of SIZES) console.log(`  ${n}³  ${best.get(n).toFixed(1)} GFLOP/s  ${(100 * best.get(n) / p).toFixed(1)}% of peak`);
