// Running one case: every contender builds its inputs, runs once, and has its output checked against a float64
// computation (a mismatch stops the run) and, for a threads contender, against the bits of the same build on one
// thread; then runs once more to see how slow it is (a checked call of seconds is the contender's figure instead);
// then short tinybench rounds alternate between the contenders, each round in a rotated order, and each contender
// keeps its best (lowest) per-round median latency. A case compared with other cases (`versus`: a conv pass with
// its products) times those references in its own rounds: per round and contender, the case and its references are
// called in turn, one call each, for as long as each would have had alone (which goes first rotates by round), and
// the share is the median over rounds of the ratio of their per-round medians, so a change in the machine's load
// cancels out unless it is faster than a call.
import { Bench } from 'tinybench';
import type { Contender } from './contenders.js';
import { MismatchError } from './data.js';

export type Group = 'matmul' | 'elementwise' | 'crossEntropy' | 'train' | 'conv' | 'cnn' | 'attention' | 'gpt';

/**
 * Another case whose figure a case is compared with, contender by contender (e.g. a convolution with a product of
 * equal FLOPs): the harness times it in the same rounds as the case, for the contenders it does not skip.
 */
export interface Versus {
  /** What the other case is to this one, e.g. 'the im2col product'. */
  label: string;
  /** The other case (same unit, higher is better); its name keys the shares. */
  reference: Case;
  /** Minimum ratio of this case's headline value to the other's, for the contenders in `who` (a target: reported, never asserted). */
  min?: number;
  who?: readonly string[];
  /** The cases whose ratios one target row summarises (its lowest), e.g. 'conv2d forward'. */
  summary?: string;
}

/** The outputs a check compared: named arrays (a loss, parameters after a step, a product). */
export type Outputs = Record<string, ArrayLike<number>>;

/** What one contender needs for one case. Everything is built outside `fn`. */
export interface Prepared {
  /** The timed call (it frees what it creates). */
  fn: () => void;
  /**
   * Runs the computation once (before `fn` ever runs) and compares its output with the expected values; throws on
   * a mismatch. Returns the outputs it compared, for the bit-for-bit comparison between a threads contender and
   * the same build on one thread.
   */
  check: () => Outputs;
  /** How many calls of `fn` the check's work is (default 1): a checked call of seconds counts as that many calls. */
  checkCalls?: number;
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
  /**
   * Computes the float64 values the checks compare with (once; the harness calls it before the first check, so
   * that the time of a contender's checked call is that contender's own).
   */
  expect: () => unknown;
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
  /** A contender whose checked call takes longer than this is timed by that call alone. */
  singleCallMs: number;
}

/** What a result keeps of a `Versus`: the reference case's name instead of the case. */
export type VersusInfo = Omit<Versus, 'reference'> & { reference: string };

/** A case's figure as a share of a reference case's, both timed in the same rounds on one contender. */
export interface Share {
  /** The median over rounds of this case's headline value over the reference's, both from that round. */
  ratio: number;
  /** Each round's ratio. */
  ratios: number[];
  /** The reference's best per-round p50 latency and its headline value there (as the tables show a case). */
  ms: number;
  value: number;
  roundsMs: number[];
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
  /** Per reference case of `versus` (by name) that this contender ran. */
  shares?: Record<string, Share>;
}

export interface CaseResult {
  group: Group;
  name: string;
  unit: string;
  higherIsBetter: boolean;
  extraUnit?: string;
  targets?: Record<string, number>;
  ratioTargets?: Record<string, Record<string, number>>;
  versus?: VersusInfo[];
  contenders: Record<string, ContenderResult>;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/** Throws unless `got` has exactly the bits of `want` (as float32, the storage of every output here). */
export function assertSameBits(what: string, who: string, got: Outputs, other: string, want: Outputs): void {
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    const a = new Uint32Array(Float32Array.from(g ?? []).buffer);
    const b = new Uint32Array(Float32Array.from(w).buffer);
    const at = a.length !== b.length ? -1 : a.findIndex((v, i) => v !== b[i]);
    if (g === undefined || at !== -1) {
      throw new MismatchError(`${what}: ${who}'s ${name} differs from ${other}'s` +
        (at >= 0 ? ` at element ${at} (${g![at]} vs ${w[at]})` : ` (${g?.length ?? 0} values vs ${w.length})`) +
        ': threads must give the bits of one thread');
    }
  }
}

/**
 * The share of `kase` in `reference` from per-round latencies taken in the same rounds (index i of each array is
 * round i): each round's ratio of headline values, and their median.
 */
export function shareOf(kase: Case, reference: Case, roundsMs: number[], referenceRoundsMs: number[]): Share {
  if (roundsMs.length !== referenceRoundsMs.length || !roundsMs.length) {
    throw new Error(`${kase.name} vs ${reference.name}: ${roundsMs.length} and ${referenceRoundsMs.length} rounds (a share needs the same rounds)`);
  }
  const ratios = roundsMs.map((ms, i) => kase.value(ms) / reference.value(referenceRoundsMs[i]!));
  const ms = Math.min(...referenceRoundsMs);
  return { ratio: median(ratios), ratios, ms, value: reference.value(ms), roundsMs: referenceRoundsMs };
}

function checkLeaks(kase: Case, c: Contender, before: number): void {
  const leaked = c.liveTensors() - before;
  if (leaked !== 0) throw new Error(`${kase.name}, ${c.name}: the timed function leaks (${leaked} more live tensors after the round)`);
}

/** One tinybench task of at least `opts.timeMs` (after a warm-up when `warmup`): its median latency and sample count. */
function timeTask(what: string, fn: () => void, warmup: boolean, opts: TimingOptions): { p50: number; samples: number } {
  const bench = new Bench({
    time: opts.timeMs, iterations: 1, warmup, warmupTime: opts.warmupMs, warmupIterations: 1,
    timestampProvider: 'hrtimeNow', throws: true,
  });
  bench.add(what, fn);
  bench.runSync();
  const res = bench.tasks[0]!.result;
  if (res.state !== 'completed') throw new Error(`${what}: the benchmark ended in state ${res.state}`);
  return { p50: res.latency.p50, samples: res.latency.samplesCount };
}

/**
 * One round of functions timed in turn, one call each per turn (after as long a warm-up when `warmup`), for about
 * `opts.timeMs` per function: each one's call latencies, in ms.
 */
export function interleave(fns: (() => void)[], warmup: boolean, opts: Pick<TimingOptions, 'timeMs' | 'warmupMs'>): number[][] {
  const turns = (ms: number, out?: number[][]) => {
    const end = performance.now() + ms * fns.length;
    do {
      fns.forEach((fn, j) => {
        const t0 = performance.now();
        fn();
        out?.[j]!.push(performance.now() - t0);
      });
    } while (performance.now() < end);
  };
  if (warmup) turns(opts.warmupMs);
  const out = fns.map((): number[] => []);
  turns(opts.timeMs, out);
  return out;
}

/** A function timed in a contender's rounds: the case's own, or a reference's (with the per-round latencies). */
interface Timed { kase: Case; p: Prepared; roundsMs: number[] }

export async function runCase(kase: Case, contenders: Contender[], opts: TimingOptions): Promise<CaseResult> {
  const result: CaseResult = {
    group: kase.group, name: kase.name, unit: kase.unit, higherIsBetter: kase.higherIsBetter,
    extraUnit: kase.extra?.unit, targets: kase.targets, ratioTargets: kase.ratioTargets,
    versus: kase.versus?.map(({ reference, ...v }) => ({ ...v, reference: reference.name })), contenders: {},
  };
  const entries: { c: Contender; p: Prepared; rounds: number; roundsMs: number[]; samples: number; refs: Timed[] }[] = [];
  const checked = new Map<string, Outputs>();
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
      const e = { c, p, rounds: opts.rounds, roundsMs: [] as number[], samples: 0, refs: [] as Timed[] };
      entries.push(e);
      kase.expect();
      const checkStart = performance.now();
      const outputs = p.check();
      const checkMs = performance.now() - checkStart;
      if (c.build) checked.set(c.name, outputs);
      const same = c.sameBitsAs && checked.get(c.sameBitsAs);
      if (same) assertSameBits(kase.name, c.name, outputs, c.sameBitsAs!, same);
      if (checkMs > opts.singleCallMs) {
        // A call of seconds: its checked call is its figure (reading and comparing the output add next to nothing).
        e.rounds = 0;
        e.roundsMs.push(checkMs / (p.checkCalls ?? 1));
        e.samples = 1;
        continue;
      }
      const before = c.liveTensors();
      const t0 = performance.now();
      p.fn();
      const callMs = performance.now() - t0;
      checkLeaks(kase, c, before);
      if (callMs > opts.slowCallMs) e.rounds = Math.min(opts.rounds, opts.slowRounds);
      // The references this contender runs, checked like the case (the rounds check that they free what they create).
      for (const { reference } of kase.versus ?? []) {
        if (reference.skip?.(c)) continue;
        const rp = await reference.prepare(c);
        e.refs.push({ kase: reference, p: rp, roundsMs: [] });
        reference.expect();
        rp.check();
      }
    }
    for (let r = 0; r < opts.rounds; r++) {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[(i + r) % entries.length]!;
        if (r >= e.rounds) continue;
        await e.c.activate();
        const before = e.c.liveTensors();
        if (!e.refs.length) {
          const { p50, samples } = timeTask(`${kase.name}, ${e.c.name}`, e.p.fn, r === 0, opts);
          e.roundsMs.push(p50);
          e.samples += samples;
        } else {
          // The case and its references call by call, so that both medians see the same moments of the machine's load
          // (a round's worth of calls of each back to back did not: the load changes within 100 ms here).
          const tasks: Timed[] = [{ kase, p: e.p, roundsMs: e.roundsMs }, ...e.refs];
          const order = tasks.map((_, j) => tasks[(j + r) % tasks.length]!); // which goes first rotates by round
          const ms = interleave(order.map((t) => t.p.fn), r === 0, opts);
          order.forEach((t, j) => t.roundsMs.push(median(ms[j]!)));
          e.samples += ms[order.findIndex((t) => t.kase === kase)]!.length;
        }
        checkLeaks(kase, e.c, before);
      }
    }
    for (const e of entries) {
      const ms = Math.min(...e.roundsMs);
      await e.c.activate();
      const shares = e.rounds > 0 && e.refs.length
        ? Object.fromEntries(e.refs.map((t) => [t.kase.name, shareOf(kase, t.kase, e.roundsMs, t.roundsMs)])) : undefined;
      result.contenders[e.c.name] = {
        ms, medianMs: median(e.roundsMs), roundsMs: e.roundsMs, samples: e.samples,
        value: kase.value(ms), extra: kase.extra?.value(ms), after: e.p.after?.(), shares,
      };
    }
  } finally {
    for (const e of entries) {
      await e.c.activate();
      for (const t of e.refs) t.p.dispose();
      e.p.dispose();
    }
  }
  return result;
}
