// Property fuzzing: random computational graphs (test/properties/graphs.ts), each checked for
//   A  the same value and gradients on the ref backend and every wasm build (within derived float32 bounds),
//   B  tidy(graph + backward) leaves memory().tensors / .buffers / .bytes unchanged,
//   C  backward() leaves every forward value's bits unchanged.
// A failure is shrunk by fast-check and printed as a wasmgrad program; the exit code is then 1.
//
//   node --experimental-wasm-relaxed-simd --import tsx scripts/fuzz.ts [--runs 10000] [--seed S] [--path P]
//        [--builds relaxed,simd,scalar,debug]
//
// --seed and --path (both printed with a failure) replay it.
import fc from 'fast-check';
import type { BuildName } from '../src/index.js';
import { checkAll, loadTargets, newStats, graphArb, toCode, type Graph } from '../test/properties/graphs.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

const runs = Number(option('runs') ?? 10_000);
const seed = Number(option('seed') ?? (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0);
const path = option('path');
const builds = option('builds')?.split(',') as BuildName[] | undefined;
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${option('runs')}`);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${option('seed')}`);

const targets = await loadTargets(builds);
console.log(`fuzz: ${runs} graphs, seed ${seed}${path ? `, path ${path}` : ''}; backends: ${targets.map((t) => t.label).join(', ')}`);

const stats = newStats();
const started = performance.now();
const every = Math.max(1, Math.round(runs / 20));
let done = 0;
let nodes = 0;
let failedAt = -1;
let shrinks = 0;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const details = fc.check(
  fc.property(graphArb, (g: Graph) => {
    if (failedAt >= 0) {
      // Shrinking: no statistics, a line now and then.
      if (++shrinks % 100 === 0) console.log(`  … ${shrinks} shrink attempts`);
      checkAll(g, targets);
      return;
    }
    try {
      checkAll(g, targets, stats);
    } catch (e) {
      failedAt = done + 1;
      console.log(`graph ${failedAt} fails: ${(e as Error).message.split('\n')[0]}\n  shrinking…`);
      throw e;
    }
    done++;
    nodes += g.nodes.length;
    if (done % every === 0 || done === runs) {
      const t = performance.now() - started;
      console.log(`  ${String(done).padStart(String(runs).length)}/${runs} graphs  ${secs(t)}  ` +
        `(${(done / (t / 1000)).toFixed(0)}/s; near-tie skips: ${stats.skippedGrads} gradient, ${stats.skippedValues} value)`);
    }
  }),
  { numRuns: runs, seed, ...(path ? { path } : {}) },
);

const elapsed = performance.now() - started;
if (details.failed) {
  const g = details.counterexample?.[0] as Graph | undefined;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  console.log(`\nFAILED after ${failedAt} graphs and ${details.numShrinks} shrinks (${secs(elapsed)}).`);
  console.log(`replay: node --experimental-wasm-relaxed-simd --import tsx scripts/fuzz.ts --seed ${seed} --path ${details.counterexamplePath}`);
  console.log(`\n${error.split('\n\n')[0]}`);
  if (g) console.log(`\nshrunk counterexample (${g.nodes.length} nodes):\n${toCode(g)}`);
  process.exitCode = 1;
} else {
  const [a, b, c, d] = stats.used;
  const total = stats.comparisons || 1;
  const pct = (x: number) => `${((100 * x) / total).toFixed(1)}%`;
  console.log(`\nOK: ${done} graphs (${(nodes / done).toFixed(1)} nodes on average) on ${targets.length} backends in ${secs(elapsed)}`);
  console.log(`  time: A ${secs(stats.ms.A)}, B ${secs(stats.ms.B)}, C ${secs(stats.ms.C)}`);
  console.log(`  A: ${stats.comparisons} value/gradient comparisons; error/bound ≤ 0.1 %: ${pct(a)}, ≤ 1 %: ${pct(b)}, ` +
    `≤ 10 %: ${pct(c)}, above: ${pct(d)}; largest ${(100 * stats.worst.ratio).toFixed(1)} % (${stats.worst.what})`);
  console.log(`  near-tie skips: ${stats.skippedGrads} runs without gradient comparison, ${stats.skippedValues} without any ` +
    `(of ${done * targets.length})`);
  const ops = [...stats.ops].sort((x, y) => y[1] - x[1]).map(([op, k]) => `${op} ${k}`);
  console.log(`  nodes per op: ${ops.join(', ')}`);
}
