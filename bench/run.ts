// The benchmark suite: `npm run bench [-- --quick] [-- --only sections] [-- --out dir]`, or `wasmgrad bench`.
// Contenders: wasmgrad's wasm backend per build, its ref backend, TensorFlow.js 4.22 wasm and cpu (contenders.ts).
// Sections: startup, matmul, elementwise, softmax cross-entropy, an MLP training step, conv2d passes (each with its
// same-build matmuls, timed in its rounds), a CNN training step, fused attention (each case with its same-build
// matmul, timed in its rounds), a tiny-GPT training
// step (cases/*.ts), eager against compiled training steps timed alternately (cases/compile.ts), wasmgrad's training steps by thread
// setting on an idle and a busy machine (cases/contention.ts), and the 'wasmgrad' TensorFlow.js backend against
// tfjs's wasm and cpu (cases/tfjs.ts, cases/tfjs-conv.ts).
// Outputs: markdown, JSON and SVG in --out (default bench/results/); --quick runs a small subset in seconds and
// checks only that everything runs and that the outputs agree (no speed is asserted anywhere).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { supportedBuilds } from '../dist/index.js';
import { attentionCases } from './cases/attention.js';
import { cnnCase, cnnConfigs } from './cases/cnn.js';
import { measureCompile, type CompileTiming } from './cases/compile.js';
import { measureContention, type ContentionTiming } from './cases/contention.js';
import { convCases } from './cases/conv.js';
import { gptCase, gptConfigs } from './cases/gpt.js';
import { crossEntropyCase, crossEntropyShapes } from './cases/crossEntropy.js';
import { elementwiseCase, elementwiseOps, elementwiseSizes } from './cases/elementwise.js';
import { matmulCases } from './cases/matmul.js';
import { measureStartup } from './cases/startup.js';
import { measureTfjs } from './cases/tfjs.js';
import { measureTfjsConv } from './cases/tfjs-conv.js';
import { trainBatches, trainCase } from './cases/train.js';
import { makeContenders, tf, tfjsWasmDir } from './contenders.js';
import { MismatchError } from './data.js';
import { runCase, type Case, type CaseResult, type TimingOptions } from './harness.js';
import { markdown, num, svg, type Report } from './report.js';

/** The parts of the suite, in the order they run; --only picks some (a conv or attention case times its same-build matmuls). */
const SECTIONS = ['startup', 'matmul', 'elementwise', 'crossEntropy', 'train', 'conv', 'cnn', 'attention', 'gpt', 'compile',
  'contention', 'tfjs', 'tfjs-conv'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results/' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench -- [--quick] [--only <sections>] [--out <dir>]\n' +
    '  --quick      a small subset that runs in seconds (a smoke test: everything runs, outputs agree)\n' +
    `  --only <s>   only these sections, comma-separated: ${SECTIONS.join(', ')}\n` +
    '  --out <dir>  where the .md, .json and .svg go (default bench/results/)');
  process.exit(0);
}
const quick = args.quick!;
const only: string[] = args.only === undefined ? [...SECTIONS] : args.only.split(',').map((s) => s.trim());
for (const s of only) {
  if (!(SECTIONS as readonly string[]).includes(s)) {
    console.error(`bench: --only: unknown section '${s}' (sections: ${SECTIONS.join(', ')})`);
    process.exit(2);
  }
}
const runs = (s: Section) => only.includes(s);

/** Threads under contention (cases/contention.ts): its own rounds, each setting's steps timed for roundMs. */
const contentionTiming: ContentionTiming = quick ? { rounds: 2, roundMs: 30, warmupMs: 30 } : { rounds: 7, roundMs: 300, warmupMs: 300 };

/** Eager against compiled (cases/compile.ts): its own rounds, the two modes of a build back to back in each. */
const compileTiming: CompileTiming = quick ? { rounds: 2, roundMs: 10, warmupMs: 10 } : { rounds: 15, roundMs: 100, warmupMs: 150 };

const timing: TimingOptions = quick
  ? { rounds: 1, timeMs: 10, warmupMs: 10, slowCallMs: 50, slowRounds: 1, singleCallMs: 1000 }
  : { rounds: 5, timeMs: 100, warmupMs: 100, slowCallMs: 50, slowRounds: 3, singleCallMs: 2000 };

function cases(): Case[] {
  const all: Record<Exclude<Section, 'startup' | 'compile' | 'contention' | 'tfjs' | 'tfjs-conv'>, () => Case[]> = {
    matmul: () => matmulCases(quick),
    elementwise: () => elementwiseSizes(quick).flatMap((n) => elementwiseOps.map((op) => elementwiseCase(op, n))),
    crossEntropy: () => crossEntropyShapes(quick).map(([n, c]) => crossEntropyCase(n, c)),
    train: () => trainBatches(quick).map((b) => trainCase(b)),
    conv: () => convCases(quick),
    cnn: () => cnnConfigs(quick).map((cfg) => cnnCase(cfg)),
    attention: () => attentionCases(quick),
    gpt: () => gptConfigs(quick).map((cfg) => gptCase(cfg)),
  };
  return Object.entries(all).flatMap(([s, make]) => (runs(s as Section) ? make() : []));
}

function cpuFlags(): string {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? [];
    return ['sse4_1', 'avx2', 'fma', 'avx512f'].filter((f) => flags.includes(f)).join(' ');
  } catch {
    return '';
  }
}

function progress(r: CaseResult, names: string[]): string {
  const parts = names.map((n) => {
    const c = r.contenders[n];
    return `${n} ${c?.value !== undefined ? num(c.value) : c?.skipped ? 'skipped' : '—'}`;
  });
  return `  ${r.group} ${r.name} (${r.unit}): ${parts.join(', ')}`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadavgStart = os.loadavg();
  if (loadavgStart[0]! > 0.5) {
    console.warn(`bench: the 1-minute load average is ${loadavgStart[0]!.toFixed(2)} on ${os.cpus().length} cores: other work may slow the figures`);
  }
  const builds = supportedBuilds();
  console.log(`bench (${quick ? 'quick' : 'full'}): builds ${builds.join(', ')}; load average ${loadavgStart.map((v) => v.toFixed(2)).join(' ')}`);
  const startup = runs('startup') ? await measureStartup(builds, quick ? 5 : 20) : [];
  const contenders = await makeContenders();
  const names = contenders.map((c) => c.name);
  const results: CaseResult[] = [];
  for (const kase of cases()) {
    const r = await runCase(kase, contenders, timing);
    results.push(r);
    console.log(progress(r, names));
  }
  const compiled = runs('compile') ? await measureCompile(contenders, quick, compileTiming, (line) => console.log(line)) : undefined;
  const contention = runs('contention') ? await measureContention(quick, contentionTiming, (line) => console.log(line)) : undefined;
  const tfjsBackends = runs('tfjs') ? await measureTfjs(quick, (line) => console.log(line)) : undefined;
  const tfjsConv = runs('tfjs-conv') ? await measureTfjsConv(quick, (line) => console.log(line)) : undefined;
  const rep: Report = {
    env: {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      only: args.only === undefined ? undefined : only,
      node: process.versions.node,
      v8: process.versions.v8,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cpus: os.cpus().length,
      cpuFlags: cpuFlags(),
      loadavgStart,
      loadavgEnd: os.loadavg(),
      builds,
      contenders: names,
      tfjs: tf.version.tfjs,
      tfjsWasmBytes: statSync(`${tfjsWasmDir()}tfjs-backend-wasm-simd.wasm`).size,
      method: `Timing: inputs are built outside the timed function, and every contender's output is checked against a float64 ` +
        `computation first (a mismatch stops the run). Then ${timing.rounds} round(s); in each, the contenders take turns ` +
        `(rotated order) and each runs a tinybench task for at least ${timing.timeMs} ms (runSync, hrtime; the first round after a ` +
        `${timing.warmupMs} ms warm-up). Tables show each contender's best (lowest) per-round median latency; the JSON also has ` +
        `every round and the median over rounds. A contender whose single call exceeds ${timing.slowCallMs} ms gets ` +
        `${timing.slowRounds} round(s); one whose checked call exceeds ${timing.singleCallMs} ms is timed by that call alone. A threads ` +
        `contender's checked outputs must have the bits of the same build on one thread. The timed functions free what they create (tidy / tf.tidy; checked after every round). ` +
        `A case shown as a share of a product (conv passes, attention) or of the FMA peak (square products) times that reference in its own ` +
        `rounds: on each build the case and its references are called in turn, one call each (which goes first rotates by round); the share is the median over rounds ` +
        `of the ratio of their per-round median latencies.`,
      durationS: 0,
    },
    startup,
    cases: results,
    compile: compiled,
    contention,
    tfjs: tfjsBackends,
    tfjsConv,
  };
  rep.env.durationS = (performance.now() - started) / 1000;
  const dir = path.resolve(args.out!);
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${quick ? 'bench-quick' : 'bench'}${args.only === undefined ? '' : `-${only.join('-')}`}`);
  const md = markdown(rep);
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify(rep, null, 1)}\n`);
  writeFileSync(`${base}.svg`, svg(rep));
  console.log(`\n${md}`);
  console.log(`bench: wrote ${base}.md, ${base}.json and ${base}.svg (${rep.env.durationS.toFixed(1)} s)`);
}

main().catch((e: unknown) => {
  if (e instanceof MismatchError) console.error(`bench: FAILED: outputs disagree before timing: ${e.message}`);
  else console.error('bench: FAILED:', e);
  process.exitCode = 1;
});
