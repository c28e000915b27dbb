// Fuzzing, two fuzzers in one run:
//
// graphs — random computational graphs (test/properties/graphs.ts), each checked for
//   A  the same value and gradients on the ref backend and every wasm build (within derived float32 bounds),
//   B  tidy(graph + backward) leaves memory().tensors / .buffers / .bytes unchanged,
//   C  backward() leaves every forward value's bits unchanged.
// A failure is shrunk by fast-check and printed as a wasmgrad program.
//
// state — real checkpoints (every optimizer, with schedules; a trainer's, mid-epoch) and a model's safetensors,
// cut short, bit-flipped or extended, loaded into live objects (test/properties/state-loading.ts): each case
// loads exactly or is refused with our own error, and after a refusal the objects are unchanged bit for bit and
// memory is back where it was. Runs on the ref backend and the default wasm build.
//
// The exit code is 1 if either fails.
//
//   node --experimental-wasm-relaxed-simd --import tsx scripts/fuzz.ts [--only graphs|state] [--seed S]
//        [--runs 10000] [--path P] [--builds relaxed,simd,scalar,debug]   (graphs)
//        [--state-runs 10000]                                              (state)
//
// --only     run one of the two fuzzers (default: both)
// --seed     the seed of both (printed; a failure is replayed with the same seed)
// --runs     graphs to check; --path (printed with a failure) replays one shrunk counterexample;
//            --builds: the wasm builds to compare with ref (default: all this engine supports, and debug)
// --state-runs  damaged files to load, spread over the backends and kinds of file; case i uses seed S + i
import fc from 'fast-check';
import { init, type BuildName } from '../src/index.js';
import { checkAll, loadTargets, newStats, graphArb, toCode, type Graph } from '../test/properties/graphs.js';
import { makeTargets, runCase, Tally } from '../test/properties/state-loading.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}

const only = option('only');
const runs = Number(option('runs') ?? 10_000);
const stateRuns = Number(option('state-runs') ?? 10_000);
const seed = Number(option('seed') ?? (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0);
const path = option('path');
const builds = option('builds')?.split(',') as BuildName[] | undefined;
if (only !== undefined && only !== 'graphs' && only !== 'state') throw new Error(`--only must be graphs or state, got ${only}`);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${option('runs')}`);
if (!Number.isInteger(stateRuns) || stateRuns < 1) throw new Error(`--state-runs must be a positive integer, got ${option('state-runs')}`);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${option('seed')}`);

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

if (only !== 'state') await fuzzGraphs();
if (only !== 'graphs') await fuzzStateLoading();

async function fuzzGraphs(): Promise<void> {
  const targets = await loadTargets(builds);
  console.log(`fuzz: ${runs} graphs, seed ${seed}${path ? `, path ${path}` : ''}; backends: ${targets.map((t) => t.label).join(', ')}`);

  const stats = newStats();
  const started = performance.now();
  const every = Math.max(1, Math.round(runs / 20));
  let done = 0;
  let nodes = 0;
  let failedAt = -1;
  let shrinks = 0;

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
}

async function fuzzStateLoading(): Promise<void> {
  const tally = new Tally();
  const started = performance.now();
  let done = 0;
  for (const backend of ['ref', 'wasm'] as const) {
    const info = await init(backend === 'ref' ? { backend } : {});
    const label = backend === 'ref' ? 'ref' : `wasm-${info.build}`;
    const n = Math.ceil(stateRuns / 2);
    console.log(`\nfuzz: ${n} damaged files on ${label}, seed ${seed}`);
    const targets = await makeTargets();
    try {
      for (let i = 0; i < n && done < stateRuns; i++, done++) {
        const target = targets[done % targets.length]!;
        try {
          tally.add(target, runCase(target, seed + done));
        } catch (e) {
          console.log(`\nFAILED at case ${done + 1} on ${label}: ${(e as Error).message}`);
          console.log(`replay: node --experimental-wasm-relaxed-simd --import tsx scripts/fuzz.ts --only state --seed ${seed} --state-runs ${stateRuns}`);
          process.exitCode = 1;
          return;
        }
      }
    } finally {
      for (const t of targets) t.dispose();
    }
  }
  console.log(`\nOK: ${done} damaged files in ${secs(performance.now() - started)}; outcomes:\n${tally.report()}`);
}
