// Running one case: every contender builds its inputs, runs once, and has its output checked against a float64
// computation (a mismatch stops the run), then runs once more to see how slow it is; then short tinybench rounds alternate between the contenders, each
// round in a rotated order, and each contender keeps its best (lowest) per-round median latency.
import { Bench } from 'tinybench';
import type { Contender } from './contenders.js';

export type Group = 'matmul' | 'elementwise' | 'crossEntropy' | 'train' | 'conv' | 'convMatmul' | 'cnn';

/** Another case whose figure a case is compared with, contender by contender (e.g. a convolution with a product of equal FLOPs). */
export interface Versus {
  label: string;
  group: Group;
  name: string;
  /** Minimum ratio of this case's headline value to the other's (a target: reported, never asserted). */
  min?: number;
}

/** What one contender needs for one case. Everything is built outside `fn`. */
export interface Prepared {
  /** The timed call (it frees what it creates). */
  fn: () => void;
  /** Runs the computation once (before `fn` ever runs) and compares its output with the expected values; throws on a mismatch. */
  check: () => void;
  /** Figures read after timing (e.g. memory), stored with the case. */
  after?: () => Record<string, number | boolean | string>;
  dispose: () => void;
}

export interface Case {
  group: Group;
  name: string;
  /** The headline metric and how to get it from the latency of one call. */
  unit: string;
  higherIsBetter: boolean;
  value: (ms: number) => number;
  /** A second figure for the tables (µs beside rows/s, ms/step beside samples/s). */
  extra?: { unit: string; value: (ms: number) => number };
  /** Minimum headline value expected of some contenders (reported, never asserted). */
  targets?: Record<string, number>;
  /** Minimum speed ratios: contender → (other contender → ratio), e.g. { 'wasm-simd': { 'tfjs-wasm': 12 } }. */
  ratioTargets?: Record<string, Record<string, number>>;
  versus?: Versus[];
  /** Why a contender is left out of this case, if it is. */
  skip?: (c: Contender) => string | undefined;
  prepare: (c: Contender) => Prepared | Promise<Prepared>;
}

export interface TimingOptions {
  rounds: number;
  /** Minimum time per contender per round (tinybench `time`). */
  timeMs: number;
  /** Warm-up time before the first round (tinybench `warmupTime`). */
  warmupMs: number;
  /** A contender whose single call takes longer than this gets `slowRounds` rounds. */
  slowCallMs: number;
  slowRounds: number;
  /** A contender whose single call takes longer than this is timed by that one call (after the checked one). */
  singleCallMs: number;
}

export interface ContenderResult {
  skipped?: string;
  /** The best per-round p50 latency, in ms: what the tables show. */
  ms?: number;
  /** The median over rounds of the per-round p50 latency, in ms. */
  medianMs?: number;
  roundsMs?: number[];
  samples?: number;
  value?: number;
  extra?: number;
  after?: Record<string, number | boolean | string>;
}

export interface CaseResult {
  group: Group;
  name: string;
  unit: string;
  higherIsBetter: boolean;
  extraUnit?: string;
  targets?: Record<string, number>;
  ratioTargets?: Record<string, Record<string, number>>;
  versus?: Versus[];
  contenders: Record<string, ContenderResult>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

function checkLeaks(kase: Case, c: Contender, before: number): void {
  const leaked = c.liveTensors() - before;
  if (leaked !== 0) throw new Error(`${kase.name}, ${c.name}: the timed function leaks (${leaked} more live tensors after the round)`);
}

export async function runCase(kase: Case, contenders: Contender[], opts: TimingOptions): Promise<CaseResult> {
  const result: CaseResult = {
    group: kase.group, name: kase.name, unit: kase.unit, higherIsBetter: kase.higherIsBetter,
    extraUnit: kase.extra?.unit, targets: kase.targets, ratioTargets: kase.ratioTargets, versus: kase.versus, contenders: {},
  };
  const entries: { c: Contender; p: Prepared; rounds: number; roundsMs: number[]; samples: number }[] = [];
  try {
    for (const c of contenders) {
      const why = kase.skip?.(c);
      if (why) {
        result.contenders[c.name] = { skipped: why };
        continue;
      }
      await c.fresh();
      await c.activate();
      const p = await kase.prepare(c);
      entries.push({ c, p, rounds: opts.rounds, roundsMs: [], samples: 0 });
      p.check();
      const before = c.liveTensors();
      const t0 = performance.now();
      p.fn();
      const callMs = performance.now() - t0;
      const e = entries[entries.length - 1]!;
      checkLeaks(kase, c, before);
      if (callMs > opts.singleCallMs) {
        e.rounds = 0;
        e.roundsMs.push(callMs);
        e.samples = 1;
      } else if (callMs > opts.slowCallMs) {
        e.rounds = Math.min(opts.rounds, opts.slowRounds);
      }
    }
    for (let r = 0; r < opts.rounds; r++) {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[(i + r) % entries.length]!;
        if (r >= e.rounds) continue;
        await e.c.activate();
        const before = e.c.liveTensors();
        const bench = new Bench({
          time: opts.timeMs, iterations: 1, warmup: r === 0, warmupTime: opts.warmupMs, warmupIterations: 1,
          timestampProvider: 'hrtimeNow', throws: true,
        });
        bench.add(e.c.name, e.p.fn);
        bench.runSync();
        const res = bench.tasks[0]!.result;
        if (res.state !== 'completed') throw new Error(`${kase.name}, ${e.c.name}: the benchmark ended in state ${res.state}`);
        checkLeaks(kase, e.c, before);
        e.roundsMs.push(res.latency.p50);
        e.samples += res.latency.samplesCount;
      }
    }
    for (const e of entries) {
      const ms = Math.min(...e.roundsMs);
      await e.c.activate();
      result.contenders[e.c.name] = {
        ms, medianMs: median(e.roundsMs), roundsMs: e.roundsMs, samples: e.samples,
        value: kase.value(ms), extra: kase.extra?.value(ms), after: e.p.after?.(),
      };
    }
  } finally {
    for (const e of entries) {
      await e.c.activate();
      e.p.dispose();
    }
  }
  return result;
}
