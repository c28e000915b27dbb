// The profiler: `profile(fn)` runs fn with an observer on the current backend (observeBackend, the one mechanism
// for watching backend calls) that times every kernel call with two performance.now() and prices it with the cost
// table (costs.ts). A backend method that calls another on itself (a cast between equal dtypes runs a copy) is
// counted by self time, FLOPs and bytes — its own minus those of the calls it made — so totals never count a
// call twice. What is left of the wall time is outside the kernels: the JavaScript of building the graph,
// dispatching, allocating, and the profiler itself.
import { getBackend } from '../backend/registry.js';
import { observeBackend, type BackendMethod, type Observer } from '../backend/observe.js';
import type { Backend } from '../backend/types.js';
import { describe } from '../options.js';
import { COSTS, costOf } from './costs.js';

/** One kernel call. Times in milliseconds from the start of the profile. */
export interface KernelCall {
  /** The kernel: the op for the Backend methods that take one (add, exp, sum, reluGrad), else the method. */
  kernel: string;
  /** The Backend method called. */
  method: BackendMethod;
  /** When the call began, in ms from the start of the profile. */
  start: number;
  /** From start to return, backend calls it made itself included. */
  duration: number;
  /** duration less the backend calls it made itself. */
  self: number;
  /** FLOPs and bytes of the call less those of the backend calls it made itself (see costs.ts for the rules). */
  flops: number;
  /** Bytes read and written (same rule). */
  bytes: number;
  /** The sizes that define the call (a product's m, n, k; an elementwise op's n). */
  sizes: Record<string, number | boolean>;
}

/** A stretch of profiled time: the function given to profile(), or each profiled training step. */
export interface Span {
  /** What it was ('profile', 'step 3', …). */
  name: string;
  /** When it began, in ms from the start of the profile. */
  start: number;
  /** How long it took, in ms. */
  duration: number;
}

/** The calls of one kernel, by self time. */
export interface KernelStats {
  /** The kernel (see KernelCall.kernel). */
  kernel: string;
  /** The Backend method. */
  method: BackendMethod;
  /** Number of calls. */
  calls: number;
  /** Total self time in ms. */
  totalMs: number;
  /** totalMs / calls. */
  meanMs: number;
  /** Its share of the profiled wall time, 0–1. */
  share: number;
  /** Total FLOPs. */
  flops: number;
  /** Total bytes read and written. */
  bytes: number;
  /** flops / totalMs and bytes / totalMs in GFLOP/s and GB/s (0 when no time was measured). */
  gflops: number;
  /** GB/s (see gflops). */
  gbps: number;
}

/** One event of the Trace Event Format (the JSON that Perfetto, chrome://tracing and Chrome's performance panel load). */
export interface TraceEvent {
  /** The event's name (the kernel, or a span). */
  name: string;
  /** Category ('kernel', 'span'). */
  cat?: string;
  /** 'X': a complete event (ts and dur); 'M': metadata (process and thread names). */
  ph: 'X' | 'M';
  /** Microseconds from the start of the profile. */
  ts?: number;
  /** Duration in microseconds ('X' events). */
  dur?: number;
  /** Process id (always 1). */
  pid: number;
  /** Thread id (the calling thread). */
  tid: number;
  /** Sizes, FLOPs and bytes of a kernel call; names for metadata events. */
  args?: Record<string, unknown>;
}

/** A Chrome trace (Trace Event Format JSON): save it as .json and open it in ui.perfetto.dev or chrome://tracing. */
export interface Trace {
  /** The events. */
  traceEvents: TraceEvent[];
  /** Time unit the viewers display. */
  displayTimeUnit: 'ms';
  /** What ran and the totals (backend, build, threads, wallMs, kernelMs, outsideMs). */
  otherData: Record<string, unknown>;
}

/** What ran: the backend, its build and its threads. */
export interface ProfiledBackend {
  /** The backend. */
  backend: 'wasm' | 'ref';
  /** Its build ('relaxed', 'simd', …, or 'ref'). */
  build: string;
  /** Its threads. */
  threads: number;
}

/** A profile: per-kernel counts, time, FLOPs and bytes, the time outside the kernels, as a table and as a trace. */
export class Profile<T = unknown> {
  /** Per kernel, the most time first. */
  readonly kernels: KernelStats[];
  /** Wall time of the spans (the function, or the steps profiled), in ms. */
  readonly wallMs: number;
  /** Self time of every kernel call, in ms. */
  readonly kernelMs: number;
  /** wallMs − kernelMs: JavaScript (graph building, dispatch, allocation) and the profiler's own cost. */
  readonly outsideMs: number;

  constructor(
    /** What the profiled function returned. */
    readonly result: T,
    /** What ran. */
    readonly backend: ProfiledBackend,
    /** The profiled stretches of time. */
    readonly spans: readonly Span[],
    /** Every kernel call, in the order they began. */
    readonly calls: readonly KernelCall[],
  ) {
    this.wallMs = spans.reduce((acc, s) => acc + s.duration, 0);
    this.kernelMs = calls.reduce((acc, c) => acc + c.self, 0);
    this.outsideMs = Math.max(0, this.wallMs - this.kernelMs);
    this.kernels = stats(calls, this.wallMs);
  }

  /** The profile as a table, one row per kernel (the most time first), then the kernels' total, outside and total. */
  table(): string {
    const { backend: b, wallMs } = this;
    const pct = (ms: number) => (wallMs > 0 ? `${((100 * ms) / wallMs).toFixed(1)}%` : '—');
    const rate = (x: number, ms: number) => (x > 0 && ms > 0 ? (x / ms / 1e6).toFixed(2) : '—');
    const head = ['kernel', 'calls', 'total ms', 'mean µs', 'time', 'MFLOP', 'GFLOP/s', 'MB', 'GB/s'];
    const row = (k: KernelStats) => [k.kernel, String(k.calls), k.totalMs.toFixed(3), (1000 * k.meanMs).toFixed(1), pct(k.totalMs),
      (k.flops / 1e6).toFixed(3), rate(k.flops, k.totalMs), (k.bytes / 1e6).toFixed(3), rate(k.bytes, k.totalMs)];
    const flops = this.calls.reduce((acc, c) => acc + c.flops, 0), bytes = this.calls.reduce((acc, c) => acc + c.bytes, 0);
    const body = [
      ...this.kernels.map(row),
      ['all kernels', String(this.calls.length), this.kernelMs.toFixed(3), '', pct(this.kernelMs), (flops / 1e6).toFixed(3),
        rate(flops, this.kernelMs), (bytes / 1e6).toFixed(3), rate(bytes, this.kernelMs)],
      ['outside kernels', '', this.outsideMs.toFixed(3), '', pct(this.outsideMs), '', '', '', ''],
      [`total (${this.spans.length} ${this.spans.length === 1 ? 'span' : 'spans'})`, '', wallMs.toFixed(3), '', pct(wallMs), '', '', '', ''],
    ];
    const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
    const rule = w.map((n) => '─'.repeat(n)).join('  ');
    const kernelRows = this.kernels.length;
    return [
      `profile: ${wallMs.toFixed(3)} ms on ${describeBackend(b)}; outside kernels: JavaScript (graph building, dispatch, ` +
        'allocation) and the profiler',
      line(head), rule, ...body.slice(0, kernelRows).map(line), rule, ...body.slice(kernelRows).map(line),
    ].join('\n');
  }

  /**
   * The profile in the Trace Event Format (JSON object form): one complete event ('X', ts and dur in µs) per span
   * and per kernel call, named by the kernel, with its sizes, FLOPs and bytes as args; all on one thread, the
   * calling one (with threads, a shared call is one event on it). Write it with JSON.stringify and open it in
   * ui.perfetto.dev, chrome://tracing or Chrome's performance panel.
   */
  trace(): Trace {
    const pid = 1, tid = 1;
    // Whole nanoseconds, so that a call's end never passes its parent's once a viewer adds ts and dur.
    const ns = (ms: number) => Math.round(ms * 1e6);
    const complete = (name: string, cat: string, start: number, duration: number, args: Record<string, unknown>): TraceEvent => {
      const t0 = ns(start);
      return { name, cat, ph: 'X', ts: t0 / 1000, dur: (ns(start + duration) - t0) / 1000, pid, tid, args };
    };
    const events = [
      ...this.spans.map((s) => complete(s.name, 'span', s.start, s.duration, {})),
      ...this.calls.map((c) => complete(c.kernel, 'kernel', c.start, c.duration,
        { method: c.method, ...c.sizes, flops: c.flops, bytes: c.bytes, selfUs: Math.round(c.self * 1e6) / 1000 })),
    ];
    // By start, and an enclosing event before the events it encloses.
    events.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    return {
      traceEvents: [
        { name: 'process_name', ph: 'M', pid, tid, args: { name: 'wasmgrad' } },
        { name: 'thread_name', ph: 'M', pid, tid, args: { name: `calling thread (${describeBackend(this.backend)})` } },
        ...events,
      ],
      displayTimeUnit: 'ms',
      otherData: { ...this.backend, wallMs: this.wallMs, kernelMs: this.kernelMs, outsideMs: this.outsideMs },
    };
  }

  /** The profile's numbers for JSON (what ran, the totals and the kernels; not the result, nor each call). */
  toJSON(): {
    /** What ran. */
    backend: ProfiledBackend;
    /** Number of spans. */
    spans: number;
    /** See {@link Profile.wallMs}. */
    wallMs: number;
    /** See {@link Profile.kernelMs}. */
    kernelMs: number;
    /** See {@link Profile.outsideMs}. */
    outsideMs: number;
    /** See {@link Profile.kernels}. */
    kernels: KernelStats[];
  } {
    const { backend, wallMs, kernelMs, outsideMs, kernels } = this;
    return { backend, spans: this.spans.length, wallMs, kernelMs, outsideMs, kernels };
  }
}

function describeBackend(b: ProfiledBackend): string {
  return b.backend === 'ref' ? 'the ref backend' : `wasm ${b.build}, ${b.threads} ${b.threads === 1 ? 'thread' : 'threads'}`;
}

/** The calls grouped by kernel, the most self time first. */
function stats(calls: readonly KernelCall[], wallMs: number): KernelStats[] {
  const byKernel = new Map<string, KernelStats>();
  for (const c of calls) {
    let s = byKernel.get(c.kernel);
    if (!s) {
      s = { kernel: c.kernel, method: c.method, calls: 0, totalMs: 0, meanMs: 0, share: 0, flops: 0, bytes: 0, gflops: 0, gbps: 0 };
      byKernel.set(c.kernel, s);
    }
    s.calls++;
    s.totalMs += c.self;
    s.flops += c.flops;
    s.bytes += c.bytes;
  }
  const all = [...byKernel.values()];
  for (const s of all) {
    s.meanMs = s.totalMs / s.calls;
    s.share = wallMs > 0 ? s.totalMs / wallMs : 0;
    s.gflops = s.totalMs > 0 ? s.flops / s.totalMs / 1e6 : 0;
    s.gbps = s.totalMs > 0 ? s.bytes / s.totalMs / 1e6 : 0;
  }
  return all.sort((a, b) => b.totalMs - a.totalMs);
}

/**
 * Records the kernel calls on one backend during spans of time (begin … end), for one Profile: profile(fn) has
 * one span, `wasmgrad train --profile` one per profiled step.
 */
export class Recorder {
  private readonly calls: KernelCall[] = [];
  private readonly spans: Span[] = [];
  // Per call in progress (innermost last): what the backend calls it made itself took, cost FLOPs and moved. Plain
  // number arrays indexed by depth, so that timing a call allocates nothing but its record.
  private depth = 0;
  private readonly innerTime: number[] = [];
  private readonly innerFlops: number[] = [];
  private readonly innerBytes: number[] = [];
  private origin: number | null = null;

  constructor(readonly backend: Backend) {}

  /** Observes the backend from now until the returned function is called (once; later calls do nothing). */
  begin(name: string): () => void {
    const detach = observeBackend(this.backend, this.observe);
    const start = performance.now();
    this.origin ??= start;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      const end = performance.now();
      detach();
      this.spans.push({ name, start: start - this.origin!, duration: end - start });
    };
  }

  /** The profile of what was recorded so far. */
  profile<T>(result: T): Profile<T> {
    const b = this.backend as Backend & { threads?: number };
    // Calls are recorded as they return (a nested call before its caller): in the order they began, a caller first.
    const calls = [...this.calls].sort((x, y) => x.start - y.start || y.duration - x.duration);
    return new Profile(result, { backend: b.name, build: b.build, threads: b.threads ?? 1 }, [...this.spans], calls);
  }

  private readonly observe: Observer = (method, args, run) => {
    if (COSTS[method] === null) return run(); // storage bookkeeping: its time counts as outside the kernels
    const d = this.depth++;
    this.innerTime[d] = this.innerFlops[d] = this.innerBytes[d] = 0;
    const t0 = performance.now();
    let result: unknown;
    try {
      result = run();
    } finally {
      // A call that throws is not recorded: its time stays its caller's (or outside the kernels).
      this.depth = d;
    }
    const duration = performance.now() - t0;
    const cost = costOf(method, args)!;
    if (d > 0) {
      this.innerTime[d - 1]! += duration;
      this.innerFlops[d - 1]! += cost.flops;
      this.innerBytes[d - 1]! += cost.bytes;
    }
    this.calls.push({
      kernel: cost.kernel, method, start: t0 - this.origin!, duration, self: Math.max(0, duration - this.innerTime[d]!),
      flops: Math.max(0, cost.flops - this.innerFlops[d]!), bytes: Math.max(0, cost.bytes - this.innerBytes[d]!), sizes: cost.sizes,
    });
    return result;
  };
}

/**
 * Runs fn and returns its profile: every kernel call on the current backend while fn runs, timed and priced, with
 * fn's result as `result`. An async fn (one that returns a promise) gives a promise of the profile, and everything
 * that reaches the backend until it settles is counted, work interleaved with fn's awaits included. Profiles nest
 * (an inner one sees its own calls, the outer one all of them); the observer is removed when fn returns or throws.
 */
export function profile<T>(fn: () => Promise<T>): Promise<Profile<T>>;
export function profile<T>(fn: () => T): Profile<T>;
export function profile<T>(fn: () => T | Promise<T>): Profile<T> | Promise<Profile<T>> {
  if (typeof fn !== 'function') {
    throw new Error(`profile: expected a function to run and profile, got ${describe(fn)}; pass the function itself ` +
      '(profile(() => step())), not what it returns');
  }
  const recorder = new Recorder(getBackend());
  const end = recorder.begin('profile');
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (e) {
    end();
    throw e;
  }
  if (!isThenable(result)) {
    end();
    return recorder.profile(result);
  }
  return Promise.resolve(result).then(
    (value) => {
      end();
      return recorder.profile(value);
    },
    (e: unknown) => {
      end();
      throw e;
    },
  );
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
