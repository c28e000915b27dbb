// When a kernel call is shared between threads, and in how many chunks: decided per call from what it costs and
// from rates measured on this machine, never from thresholds tuned to one.
//
// Each kernel class (a product, an elementwise op such as 'exp', a reduction, an optimizer update) has a rate:
// milliseconds per unit of cost on one thread (a product's cost is its FLOPs, every other kernel's the bytes it
// reads and writes), the best seen in its calls that ran on one thread and were timed: a call that was preempted
// only looks slower, so the best is the steadiest figure, and it may rise by 5% per timed call to follow a
// machine that became slower for good. The first calls of a class run on one thread and are timed (the very first
// is not counted: its code and memory are cold; products start from a rate measured when the pool starts
// instead), and so does one in 64 of the calls worth sharing. A call's single-thread time T is its cost at that
// rate. Shared in c chunks by p threads, the estimate is
//     (T + (c − 1)·R + (p − 1)·W) / p  +  (T/c + R) / 2
// where W is what waking a sleeping worker costs (measured when the pool starts: a worker that wakes late does
// less of the work), R what each chunk adds (taking it; for a product also repacking the operand a chunk does
// not divide, at the packing rate measured when the pool starts), and the last term the expected wait for the
// last chunk. The call is shared in the c (2 … 4p) and along the dimension (columns, rows, batch items,
// elements) that give the lowest estimate, when that estimate is below 0.8·T; otherwise it runs on one thread.
// c sets the size of the chunks, T/c units: the job then cuts the last ones smaller (chunkStarts in threads.ts), so
// the wait for the last chunk is shorter than the model's term, for a few more chunks than c. The model keeps the
// term: the chunk size it picks is also the most a thread that the OS switches out holds back.
//
// threads: 'auto' adds a check that sharing pays where it is done (a busy machine makes it pay less, or not at
// all): per class, it keeps the time per unit of cost of its recent shared calls and compares it with the
// single-thread rate. When three or more shared calls since the last check ran less than 1.1× faster than one
// thread would have, the class runs on one thread for a while (100 ms, doubling at each consecutive failure up to
// 10 s), its single-thread calls keep the single-thread rate current, and then sharing is tried again; a
// successful try resets the wait to 100 ms. The last check also says whether idle workers may spin through the
// gaps between jobs (paysWell: the shared calls ran at least 1.4× faster than one thread, which a busy machine
// does not give; a worker spinning there would take time from the calling thread's own work between the jobs).
// A fixed number of threads (threads: 2) shares whatever the estimate
// says is worth sharing, with no such check, so its behaviour does not depend on the machine's load.

import { forEachChunk } from './threads.js';

/** Decay of the running sums of shared calls per new call: the last ~8 calls count. */
const DECAY = 7 / 8;
/** How much a class's single-thread rate may rise per timed call (it is the best seen otherwise). */
const DRIFT = 1.05;
/** Timed single-thread calls a class needs before its calls are shared (the first is not counted). */
const LEARN_CALLS = 3;
/** One in this many calls worth sharing runs on one thread instead, timed, to keep the single-thread rate current. */
const SAMPLE_EVERY = 64;
/** A shared call must be estimated to take at most this share of the single-thread time. */
const WORTH = 0.8;
/** Chunks per thread at most: enough to balance, few enough that taking chunks stays cheap. */
const CHUNKS_PER_THREAD = 4;
/** 'auto': sharing must run at least this much faster than one thread to be kept. */
const MIN_SPEEDUP = 1.1;
/** 'auto': idle workers spin through the gaps between jobs only while shared calls run this much faster. */
const PREWAKE_SPEEDUP = 1.4;
/** 'auto': shared calls of a class observed before they are judged. */
const JUDGE_AFTER = 3;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;

/**
 * One way to cut a call into chunks: along a dimension of `units` (chunk starts are multiples of `align`, which
 * keeps every element on the path it takes in the whole call), with the arguments of chunk [start, start + count)
 * base[a] + start·perStart[a] + count·perCount[a].
 */
export interface Cut {
  units: number;
  align: number;
  /** Work each chunk adds to the whole call's, in the call's cost units (a product: repacking an operand). */
  overhead: number;
  /** Bytes of scratch space each thread needs for chunks of `chunk` units (kernels that take scratch). */
  scratch?: (chunk: number) => number;
  base: number[];
  perStart: number[];
  perCount: number[];
}

/** A shared call: the cut and the units per chunk. */
export interface Plan {
  cut: Cut;
  chunk: number;
}

interface ClassState {
  /** Timed single-thread calls so far. */
  calls: number;
  /** Calls worth sharing so far. */
  worth: number;
  /** The single-thread rate, ms per unit of cost (Infinity until known). */
  msPerUnit: number;
  /** 'auto': decayed sums over shared calls since the class was last judged, and how many. */
  sharedMs: number;
  sharedCost: number;
  sharedCalls: number;
  /** 'auto': how long the class last ran on one thread after sharing failed to pay (0: it pays), and until when. */
  backoffMs: number;
  retryAt: number;
}

/** What to do with one call: its plan (null: one thread), and whether to time it for the rates. */
export interface Decision {
  plan: Plan | null;
  timed: boolean;
}

/** Whether a class's single-thread rate is known (learned from its calls, or seeded). */
const rateKnown = (s: ClassState) => s.calls >= LEARN_CALLS && s.msPerUnit !== Infinity;

/** The decisions to run a call on one thread, timed or not (shared: never changed). */
const ALONE: Decision = Object.freeze({ plan: null, timed: false });
const ALONE_TIMED: Decision = Object.freeze({ plan: null, timed: true });

export class Scheduler {
  private readonly classes = new Map<string, ClassState>();
  /**
   * Whether sharing paid well at the last check of any class ('auto'; always with a fixed number of threads):
   * the pool then lets idle workers spin through short gaps between jobs (ThreadPool.prewake).
   */
  paysWell = true;

  constructor(
    /** Threads that take chunks: the caller and its workers. */
    private readonly threads: number,
    /** What waking a sleeping worker costs, in ms. */
    private readonly wakeMs: number,
    /** What taking one chunk costs, in ms. */
    private readonly chunkMs: number,
    /** threads: 'auto': judge whether sharing pays, and stop for a while when it does not. */
    readonly adaptive: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Seeds a class's single-thread rate (ms per unit of cost) from a measurement made when the pool starts, so
   * that its first calls can be shared.
   */
  seed(key: string, msPerUnit: number): void {
    const s = this.state(key);
    s.msPerUnit = msPerUnit;
    s.calls = LEARN_CALLS;
  }

  /**
   * The plan for a call of class `key` costing `cost` units, cut along one of the cuts `cutsOf` makes (none: it
   * cannot be shared, and is not timed). A call far too small to share or to time, once the rate is known, costs
   * one lookup: its cuts are not made and nothing is allocated.
   */
  decide(key: string, cost: number, cutsOf: () => readonly Cut[]): Decision {
    const s = this.state(key);
    const known = rateKnown(s);
    if (known && this.tooShort(s, cost)) return ALONE;
    const T = cost * s.msPerUnit;
    const cuts = cutsOf();
    if (cuts.length === 0) return ALONE;
    if (!known) return ALONE_TIMED;
    const plan = this.bestPlan(T, s.msPerUnit, cuts);
    if (!plan) return ALONE_TIMED; // calls near the line keep the rate current
    if (++s.worth % SAMPLE_EVERY === 0) return ALONE_TIMED;
    if (!this.adaptive) return { plan, timed: false };
    if (this.now() < s.retryAt) return ALONE_TIMED;
    return { plan, timed: true };
  }

  /**
   * Whether a call of class `key` costing `cost` units is far too short to share or to time, once the class's rate
   * is known: decide() then runs it alone and records nothing, so a caller may run it alone without asking.
   */
  farTooShort(key: string, cost: number): boolean {
    const s = this.state(key);
    return rateKnown(s) && this.tooShort(s, cost);
  }

  /**
   * Every estimate exceeds the workers' share of waking up, (p − 1)·W/p ≥ W/2, so a call is shared only when
   * WORTH·T exceeds that: never below W/4, where calls are not timed either.
   */
  private tooShort(s: ClassState, cost: number): boolean {
    return cost * s.msPerUnit < this.wakeMs / 4;
  }

  /** A timed call of class `key`: `ms` it took, shared or not. */
  record(key: string, cost: number, ms: number, shared: boolean): void {
    const s = this.state(key);
    if (!shared) {
      // The first call is cold; one too short says little more than the cost of a call.
      if (++s.calls === 1 || ms < 4 * this.chunkMs) return;
      s.msPerUnit = Math.min(ms / cost, s.msPerUnit * DRIFT);
      return;
    }
    if (!this.adaptive) return;
    s.sharedMs = s.sharedMs * DECAY + ms;
    s.sharedCost = s.sharedCost * DECAY + cost;
    if (++s.sharedCalls < JUDGE_AFTER) return;
    const speedup = (s.sharedCost * s.msPerUnit) / s.sharedMs;
    this.paysWell = speedup >= PREWAKE_SPEEDUP;
    if (speedup >= MIN_SPEEDUP) {
      s.backoffMs = 0;
      return;
    }
    s.backoffMs = Math.min(BACKOFF_MAX_MS, s.backoffMs ? 2 * s.backoffMs : BACKOFF_MIN_MS);
    s.retryAt = this.now() + s.backoffMs;
    s.sharedMs = s.sharedCost = s.sharedCalls = 0;
  }

  /** 'auto': whether class `key` runs on one thread now because sharing did not pay (for tests and backendInfo). */
  backingOff(key: string): boolean {
    return this.now() < (this.classes.get(key)?.retryAt ?? 0);
  }

  private state(key: string): ClassState {
    let s = this.classes.get(key);
    if (!s) {
      s = { calls: 0, worth: 0, msPerUnit: Infinity, sharedMs: 0, sharedCost: 0, sharedCalls: 0, backoffMs: 0, retryAt: 0 };
      this.classes.set(key, s);
    }
    return s;
  }

  /**
   * The scratch space each thread needs for any plan of a call with these cuts: the most over every cut and
   * chunk count a plan may take. Which plan a call gets follows rates that change, so reserving this before the
   * first shared call means no later plan grows a thread's scratch (and moves the heap's top mid-training).
   */
  scratchBytes(cuts: readonly Cut[]): number {
    let most = 0;
    for (const cut of cuts) {
      if (!cut.scratch) continue;
      const known = new Map<number, number>();
      for (let c = 2, last = this.mostChunks(cut); c <= last; c++) {
        most = Math.max(most, chunkScratch(cut, chunkOf(cut, c), this.threads, known));
      }
    }
    return most;
  }

  /** The cut and chunk count with the lowest estimate (see the top of this file), or null when none is worth it. */
  private bestPlan(T: number, msPerUnit: number, cuts: readonly Cut[]): Plan | null {
    const p = this.threads;
    let best: Plan | null = null;
    let bestMs = WORTH * T;
    for (const cut of cuts) {
      const R = cut.overhead * msPerUnit + this.chunkMs;
      for (let c = 2, most = this.mostChunks(cut); c <= most; c++) {
        const ms = (T + (c - 1) * R + (p - 1) * this.wakeMs) / p + (T / c + R) / 2;
        if (ms < bestMs) {
          bestMs = ms;
          best = { cut, chunk: chunkOf(cut, c) };
        }
      }
    }
    return best;
  }

  /** The most chunks a plan cuts `cut` into. */
  private mostChunks(cut: Cut): number {
    return Math.min(CHUNKS_PER_THREAD * this.threads, Math.floor(cut.units / cut.align));
  }
}

/** Units per chunk when `cut` is cut in about c chunks (chunk starts stay on the alignment). */
function chunkOf(cut: Cut, c: number): number {
  return Math.ceil(cut.units / c / cut.align) * cut.align;
}

/**
 * The scratch space a thread needs for chunks of `chunk` units of `cut` shared by `threads` (0 for a cut
 * without): the chunks of the tail are narrower (chunkStarts), and a product's scratch is not monotonic in its
 * width (its orientation may change). `known` keeps the scratch of the widths already asked (scratchBytes asks
 * for many plans of one cut, whose chunks share widths).
 */
export function chunkScratch(cut: Cut, chunk: number, threads: number, known = new Map<number, number>()): number {
  const scratch = cut.scratch;
  if (!scratch) return 0;
  let most = 0;
  forEachChunk(cut.units, chunk, cut.align, threads, (start, end) => {
    const width = end - start;
    let bytes = known.get(width);
    if (bytes === undefined) known.set(width, (bytes = scratch(width)));
    most = Math.max(most, bytes);
  });
  return most;
}
