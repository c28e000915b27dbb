// Worker threads for a build with shared memory: each worker instantiates the same module over the same shared
// linear memory, and a kernel call is shared out as a job of chunks (ranges of columns, rows, elements).
//
// Dynamic work sharing. One job at a time: the calling thread writes the job (kernel, arguments, how the
// arguments move from chunk to chunk) into a shared control block, publishes it and wakes the workers; then
// every thread, the caller included, takes chunk indices from one atomic counter until none are left, and counts
// the chunks it finishes. A slow or descheduled worker holds back at most the chunk it is running, never a fixed
// share, and a call stays synchronous: it returns when every chunk is done.
//
// Waiting that yields. A worker with no job spins, then sleeps in Atomics.wait until the next job; the caller
// sets how long it spins after each job (idleSpinMs): through the gap it expects before the next job when that gap
// is short (shorter than a job and than PREWAKE_MS) and sharing pays well (prewake: with threads 'auto', the
// scheduler turns it off on a busy machine), so that jobs that come close together, as in a training step, find
// the workers awake and pay no wake-up; otherwise about as long as a wake-up costs (measured when the pool
// starts), or not at all when jobs have been coming further apart than that, as spinning would only burn the core
// until the same sleep. The caller, once no chunk is left to take, spins for about a wake-up's cost and then
// sleeps in Atomics.wait until the last chunk is done (the worker that finishes it notifies); where blocking is
// refused (a browser's main thread) it spins until then, which is at most the rest of one chunk while the
// workers run. Either way no thread burns a core that the work it waits for could use.
import { isNode, nodeModule } from '../../platform.js';
import type { KernelExports } from './exports.js';

/**
 * The kernels a worker can run: a job names one by its index here (a kernel is shareable when a chunk of its
 * output is a range along one dimension).
 */
const KERNELS = [
  'matmul_f32_block', 'binary_f32', 'where_f32', 'unary_f32', 'unary_grad_f32', 'reduce_f32', 'softmax_f32',
  'softmax_grad_f32', 'cross_entropy_f32', 'cross_entropy_grad_f32', 'copy_strided_32', 'fill_f32', 'fill_i32',
  'scale_f32', 'axpy_f32', 'gather_32', 'scatter_add_f32', 'sgd_f32', 'adam_f32', 'rmsprop_f32', 'adagrad_f32',
  'layer_norm_f32', 'layer_norm_grad_f32', 'layer_norm_params_grad_f32',
  'attention_f32', 'attention_grad_f32',
  'conv2d_f32', 'conv2d_input_grad_f32', 'conv2d_weight_grad_f32', 'max_pool2d_f32', 'max_pool2d_grad_f32',
  'max_pool2d_gather_f32', 'avg_pool2d_f32', 'avg_pool2d_grad_f32', 'adaptive_avg_pool2d_f32',
  'adaptive_avg_pool2d_grad_f32', 'batch_norm_stats_f32', 'batch_norm_f32', 'batch_norm_grad_f32',
] as const;
export type ThreadKernel = (typeof KERNELS)[number];

/** At most this many threads share a call (the caller and 15 workers). */
export const MAX_THREADS = 16;
const MAX_ARGS = 24;

// The control block. Int32 words:
const GEN = 0; //   the job's generation, bumped for each job and at close: idle workers sleep on it
const NEXT = 1; //  (generation tag << 16) | the next chunk to take; index CLOSED while a job is being written
const DONE = 2; //  chunks finished in the current job: the caller sleeps on it
const FAILED = 3; // set when a chunk of the current job trapped
const STOP = 4; //  set when the pool closes
const FOUND = 5; // the least position a chunk of the current job found (Job.found), or −1
const INT_WORDS = 8;
// Float64 words, from byte 4·INT_WORDS:
const KERNEL = 0, UNITS = 1, CHUNK = 2, CHUNKS = 3, WS_ARG = 4, ARGC = 5, FOUND_PER = 6;
const IDLE_MS = 7; // how long a worker that finds no chunk left spins before it sleeps (ThreadPool.noteJob)
const FULL = 8; // chunks before the tail: chunk i < FULL covers [i·CHUNK, min(UNITS, (i + 1)·CHUNK))
const WS = 9; // per thread: its scratch pointer (for the argument WS_ARG)
const BASE = WS + MAX_THREADS, PER_START = BASE + MAX_ARGS, PER_COUNT = PER_START + MAX_ARGS;
const TAIL = PER_COUNT + MAX_ARGS; // the tail's chunk starts, then UNITS: chunk FULL + t covers [TAIL[t], TAIL[t + 1])
/** Chunks of a job's tail at most (see chunkStarts). */
const MAX_TAIL = 64;
const CONTROL_BYTES = 4 * INT_WORDS + 8 * (TAIL + MAX_TAIL + 1);
const CLOSED = 0xffff;
/**
 * The longest that idle workers spin through a gap between jobs, in ms: long enough for the gaps between the
 * products of a training step, short enough that a spin never holds a core for long on a busy machine.
 */
const PREWAKE_MS = 0.5;

/**
 * The worker's program, as text so it needs no file of its own (bundlers, blob URLs). It receives
 * { module, memory, control, self }, answers 'ready' (or an error message), then serves jobs until STOP.
 *
 * Taking a chunk: read NEXT, read the chunk count, then compare-and-swap NEXT to the next index. The caller
 * rewrites a job only after all its chunks are done and with NEXT set to CLOSED, so a swap that succeeds proves
 * that the count read before it belongs to the job the chunk is from (a seqlock: NEXT's tag would have to come
 * round again, 32,768 jobs later, between the read and the swap to fool it). A chunk's arguments are then read
 * from the job, which cannot change until that chunk is counted done.
 *
 * Chunk i < FULL covers units [i·CHUNK, min(UNITS, (i + 1)·CHUNK)), chunk FULL + t units [TAIL[t], TAIL[t + 1])
 * (the tail of shrinking chunks, chunkStarts); argument a is BASE[a] + start·PER_START[a] +
 * length·PER_COUNT[a] (pointers advance with the start, counts are the length), and argument WS_ARG, when set,
 * is the thread's own scratch. Arguments travel as float64: exact for every pointer and size, and the wasm call
 * converts them to i32 / f64 as declared. A position the chunk's kernel returns (when FOUND_PER ≥ 0) is made
 * the job's (start·FOUND_PER + position) and kept in FOUND when it is the least so far (keepLeast), before the
 * chunk is counted done. ThreadPool.runChunks is the same loop on the calling thread.
 */
const SERVE_SOURCE = `
const KERNELS = ${JSON.stringify(KERNELS)};
function keepLeast(ctl, at, position) {
  for (let seen = Atomics.load(ctl, at); seen < 0 || position < seen; seen = Atomics.load(ctl, at)) {
    if (Atomics.compareExchange(ctl, at, seen, position) === seen) return;
  }
}
function serve(module, memory, control, self, post) {
  let ex;
  try {
    ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (e) {
    post(String(e && e.message || e));
    return;
  }
  const ctl = new Int32Array(control, 0, ${INT_WORDS});
  const job = new Float64Array(control, ${4 * INT_WORDS});
  const fns = KERNELS.map((name) => ex[name]);
  const argv = fns.map((fn) => new Array(fn.length));
  let seen = Atomics.load(ctl, ${GEN}); // before 'ready': the first job comes after it
  post('ready');
  for (;;) {
    let gen = Atomics.load(ctl, ${GEN});
    if (gen === seen) {
      const until = performance.now() + job[${IDLE_MS}];
      let spins = 0;
      while ((gen = Atomics.load(ctl, ${GEN})) === seen) {
        if ((++spins & 63) === 0 && performance.now() > until) Atomics.wait(ctl, ${GEN}, seen);
      }
    }
    seen = gen;
    if (Atomics.load(ctl, ${STOP})) return;
    const tag = gen & 0x7fff;
    for (;;) {
      const next = Atomics.load(ctl, ${NEXT});
      const chunks = job[${CHUNKS}];
      const i = next & 0xffff;
      if ((next >>> 16) !== tag || i >= chunks) break;
      if (Atomics.compareExchange(ctl, ${NEXT}, next, next + 1) !== next) continue;
      const k = job[${KERNEL}], args = argv[k], argc = job[${ARGC}], wsArg = job[${WS_ARG}];
      const full = job[${FULL}], start = i < full ? i * job[${CHUNK}] : job[${TAIL} + i - full];
      const count = (i < full ? Math.min(job[${UNITS}], start + job[${CHUNK}]) : job[${TAIL} + i - full + 1]) - start;
      for (let a = 0; a < argc; a++) {
        const step = start * job[${PER_START} + a] + count * job[${PER_COUNT} + a];
        args[a] = step === 0 ? job[${BASE} + a] : job[${BASE} + a] + step; // base + 0 would turn −0 into +0
      }
      if (wsArg >= 0) args[wsArg] = job[${WS} + self];
      try {
        const found = fns[k].apply(null, args), per = job[${FOUND_PER}];
        if (per >= 0 && found >= 0) keepLeast(ctl, ${FOUND}, start * per + found);
      } catch (e) { Atomics.store(ctl, ${FAILED}, 1); }
      if (Atomics.add(ctl, ${DONE}, 1) + 1 === chunks) Atomics.notify(ctl, ${DONE});
    }
  }
}
`;

/**
 * How the program gets its first message. Node evaluates a worker's text as CommonJS or as an ES module
 * depending on the parent's flags (an ES module under `node --input-type=module`, with -e or from stdin), so the
 * Node start uses import(), which both have, never `require` or an `import` statement; parentPort holds the
 * message until then. A browser runs the text as a classic worker script.
 */
const NODE_START = `
import('node:worker_threads').then(({ parentPort }) => parentPort.once('message', ({ module, memory, control, self }) =>
  serve(module, memory, control, self, (m) => parentPort.postMessage(m))));
`;
const BROWSER_START = `
self.onmessage = ({ data: { module, memory, control, self: index } }) =>
  serve(module, memory, control, index, (m) => self.postMessage(m));
`;

interface WorkerHandle {
  /** Set when the worker died (an error outside any kernel): the pool then closes instead of waiting for it. */
  dead: boolean;
  stop(): void;
}

/**
 * One kernel call cut into chunks along one dimension of `units` (columns, rows, elements): chunk i covers units
 * [i·chunk, min(units, (i + 1)·chunk)), and its argument a is base[a] + start·perStart[a] + length·perCount[a].
 * The whole call is the one chunk [0, units).
 */
export interface Job {
  kernel: ThreadKernel;
  base: readonly number[];
  perStart: readonly number[];
  perCount: readonly number[];
  units: number;
  /** Units per chunk (the last chunk may be shorter; with `align`, the tail's are: see chunkStarts). */
  chunk: number;
  /**
   * When given, the chunks that come last shrink (chunkStarts): their starts stay multiples of `align`, as every
   * cut's chunk starts must.
   */
  align?: number;
  /** The argument that receives each thread's own scratch space, and those spaces (index 0: the caller's). */
  scratch?: { arg: number; ptrs: readonly number[] };
  /**
   * For a kernel that returns the first position where it found something in its chunk (≥ 0, counted from the
   * chunk's start; −1 for nothing), such as a bad index: how far the positions of a chunk move per unit of its
   * start. run() then returns the least position found in the whole job, or −1.
   */
  found?: number;
}

/**
 * Where the chunks of a job of `units` start (then `units`, where the last ends), when `threads` take them:
 * chunks of `chunk` units while every thread has more than one such chunk left to take, then a tail of
 * chunks that each take 1/threads of what is left (rounded up to a multiple of `align`, at least `align`). With
 * chunks of one size, the thread that takes the last full chunk may finish a whole chunk after the others (a
 * worker that woke late only makes that likelier); the tail's shrinking chunks let every thread end within about
 * `align` units of the others, for a few more, ever smaller, chunks. A chunk of `chunk` units is the most any
 * thread holds either way, which is what a thread that the OS switches out holds back.
 */
export function chunkStarts(units: number, chunk: number, align: number, threads: number): number[] {
  const starts: number[] = [];
  forEachChunk(units, chunk, align, threads, (start) => starts.push(start));
  starts.push(units);
  return starts;
}

/** Calls `each` with the start and end of every chunk chunkStarts lays out, in order, allocating nothing. */
export function forEachChunk(units: number, chunk: number, align: number, threads: number,
  each: (start: number, end: number) => void): void {
  const tailStep = (left: number) => Math.min(chunk, left, Math.max(align, Math.ceil(left / threads / align) * align));
  let at = 0;
  for (; at < units && tailStep(units - at) === chunk; at += chunk) each(at, at + chunk);
  for (let tail = 0; at < units; tail++) {
    const end = tail === MAX_TAIL - 1 ? units : at + tailStep(units - at);
    each(at, end);
    at = end;
  }
}

/**
 * ctl[at] = position when ctl[at] is −1 or greater: the least position found so far, whatever the threads' order
 * (the workers' copy is in SERVE_SOURCE).
 */
function keepLeast(ctl: Int32Array, at: number, position: number): void {
  for (let seen = Atomics.load(ctl, at); seen < 0 || position < seen; seen = Atomics.load(ctl, at)) {
    if (Atomics.compareExchange(ctl, at, seen, position) === seen) return;
  }
}

/** Whether this engine can share linear memory between threads (browsers: only cross-origin-isolated pages). */
export function threadsAvailable(): boolean {
  return threadsUnavailableReason() === null;
}

/** Why this engine cannot share linear memory between threads, or null when it can. */
export function threadsUnavailableReason(): string | null {
  // A page that is not cross-origin isolated has no SharedArrayBuffer either: say the cause.
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin ' +
      'and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    return 'this engine has no SharedArrayBuffer';
  }
  try {
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return shared.buffer instanceof SharedArrayBuffer ? null : 'this engine cannot share WebAssembly memory';
  } catch {
    return 'this engine cannot share WebAssembly memory';
  }
}

/** Starts one worker and waits for its 'ready'; a worker that fails to start is stopped and its error thrown. */
async function startWorker(module: WebAssembly.Module, memory: WebAssembly.Memory, control: SharedArrayBuffer,
  self: number): Promise<WorkerHandle> {
  let answered: (answer: unknown) => void = () => {};
  const answer = new Promise<unknown>((resolve) => (answered = resolve));
  const handle: WorkerHandle = { dead: false, stop: () => {} };
  const died = (error: unknown) => {
    handle.dead = true;
    answered(error instanceof Error ? error.message : String(error));
  };
  if (isNode()) {
    const { Worker } = await nodeModule<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(SERVE_SOURCE + NODE_START, { eval: true });
    worker.unref(); // an idle pool never keeps a Node process alive
    worker.once('message', answered);
    worker.on('error', died);
    worker.on('exit', () => (handle.dead = true));
    handle.stop = () => void worker.terminate();
    worker.postMessage({ module, memory, control, self });
  } else {
    const url = URL.createObjectURL(new Blob([SERVE_SOURCE + BROWSER_START], { type: 'text/javascript' }));
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    worker.onmessage = (e) => answered(e.data);
    worker.onerror = (e) => died(e.message);
    handle.stop = () => worker.terminate();
    worker.postMessage({ module, memory, control, self });
  }
  const first = await answer;
  if (first !== 'ready') {
    handle.stop();
    throw new Error(`wasm backend: a worker thread could not start: ${String(first)}`);
  }
  return handle;
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
function mayBlock(ctl: Int32Array): boolean {
  try {
    Atomics.wait(ctl, STOP, 1, 0); // STOP is 0: returns 'not-equal' at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ThreadPool {
  private closed = false;
  private readonly ctl: Int32Array;
  private readonly job: Float64Array;
  private readonly fns: ((...args: number[]) => number | void)[];
  private readonly argv: number[][];
  /** Whether the calling thread sleeps in Atomics.wait when it waits (not on a browser's main thread). */
  readonly mayBlock: boolean;
  /** How long a sleeping worker takes to wake up and finish an empty chunk, in ms (the least of probes when the pool started). */
  wakeMs = 0;
  /** What taking and running one empty chunk costs the calling thread, in ms. */
  chunkMs = 0;
  /** The least time, in ms, a worker may take over a chunk before it is taken for gone. */
  patienceMs = 10_000;
  /** When the last job ended (performance.now()), for the gap before the next. */
  private ended = performance.now();
  /**
   * The typical gap between jobs, in ms: it drops at once to a shorter gap (jobs come close together again) and
   * moves an eighth of the way towards a longer one, so that one pause between bursts of close jobs counts little.
   */
  private gapMs = 0;
  /**
   * The longest of the recent gaps, in ms: it rises at once (to at most PREWAKE_MS, so that after a pause the
   * workers spin through gaps again within a few jobs) and decays by an eighth per job.
   */
  private longGapMs = 0;
  /** The typical length of a job, in ms (a running average over the last ~8). */
  private jobMs = 0;
  /** Whether idle workers may spin through short gaps between jobs (the backend's scheduler says; see noteJob). */
  prewake = true;
  /** Jobs that found a worker asleep (and woke it): for tests and measurements. */
  wakeUps = 0;
  /** How long a thread with nothing to do spins before it sleeps, in ms (about what a wake-up costs). */
  spinMs = 0.05; // until the wake-up cost is measured

  private constructor(exports: KernelExports, control: SharedArrayBuffer, private readonly workers: WorkerHandle[]) {
    this.ctl = new Int32Array(control, 0, INT_WORDS);
    this.job = new Float64Array(control, 4 * INT_WORDS);
    this.fns = KERNELS.map((name) => exports[name] as (...args: number[]) => number | void);
    this.argv = this.fns.map((fn) => new Array<number>(fn.length));
    this.mayBlock = mayBlock(this.ctl);
    this.job[IDLE_MS] = this.spinMs;
  }

  /** How long a worker that finds no chunk left spins before it sleeps, in ms (noteJob sets it). */
  get idleSpinMs(): number {
    return this.job[IDLE_MS]!;
  }

  /**
   * Notes a job's gap since the previous one and its length, in ms, and sets how long the workers spin after the
   * jobs that follow (see the top of this file): with `prewake`, through the gap expected next (half as much
   * again as the longest recent one) when that is under both a job's length and PREWAKE_MS, else a wake-up's cost,
   * or not at all when jobs come further apart than that.
   */
  private noteJob(gap: number, ms: number): void {
    this.gapMs = gap < this.gapMs ? gap : this.gapMs + (gap - this.gapMs) / 8;
    this.longGapMs = Math.max(Math.min(gap, PREWAKE_MS), this.longGapMs * 7 / 8);
    this.jobMs += (ms - this.jobMs) / 8;
    const expected = 1.5 * this.longGapMs;
    this.job[IDLE_MS] = this.prewake && expected <= Math.min(this.jobMs, PREWAKE_MS) ? Math.max(expected, this.spinMs)
      : this.gapMs > this.spinMs ? 0 : this.spinMs;
  }

  /**
   * Starts `count` workers over `memory`, the shared memory of the instance whose `exports` the caller uses, and
   * measures what waking a sleeping worker and taking a chunk cost.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, exports: KernelExports,
    count: number): Promise<ThreadPool> {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startWorker(module, memory, control, i + 1)));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const w of workers) w.stop();
      throw failed.reason;
    }
    const pool = new ThreadPool(exports, control, workers);
    await pool.measure();
    return pool;
  }

  /** Worker threads running (0 once closed). */
  get size(): number {
    return this.closed ? 0 : this.workers.length;
  }

  /**
   * Runs every chunk of `job` on this thread and the workers (only the workers when `callerWorks` is false: to
   * measure them); returns when all are done, with the least position found (see Job.found; −1 without). A trap
   * in a worker becomes a WebAssembly.RuntimeError (a trap on this thread is rethrown as it is), once every chunk
   * has ended.
   */
  run(job: Job, callerWorks = true): number {
    if (this.workers.some((w) => w.dead)) {
      this.close();
      throw new WebAssembly.RuntimeError('a worker thread died; its threads were closed');
    }
    const started = performance.now();
    const chunks = this.publish(job);
    const error = callerWorks ? this.runChunks(0) : null;
    this.join(chunks, started);
    const ended = performance.now();
    this.noteJob(started - this.ended, ended - started);
    this.ended = ended;
    if (error) throw error;
    if (Atomics.load(this.ctl, FAILED)) throw new WebAssembly.RuntimeError('a worker thread trapped');
    return Atomics.load(this.ctl, FOUND);
  }

  /** Stops the workers; later calls run on the calling thread alone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.stop();
  }

  /** Writes the job into the control block and wakes the workers; returns its number of chunks. */
  private publish(job: Job): number {
    const { ctl, job: words } = this;
    const starts = job.align === undefined ? null : chunkStarts(job.units, job.chunk, job.align, 1 + this.workers.length);
    const chunks = starts ? starts.length - 1 : Math.ceil(job.units / job.chunk);
    let full = chunks; // the leading chunks of the uniform layout; the table lists the others
    if (starts) for (full = 0; full < chunks && starts[full + 1] === Math.min(job.units, (full + 1) * job.chunk);) full++;
    const argc = job.base.length;
    if (chunks >= CLOSED || argc > MAX_ARGS || chunks - full > MAX_TAIL) {
      throw new Error(`wasm backend: a job of ${chunks} chunks and ${argc} arguments is too big`);
    }
    const gen = Atomics.load(ctl, GEN);
    Atomics.store(ctl, NEXT, ((gen & 0x7fff) << 16) | CLOSED); // no chunk can be taken while the job is written
    words[KERNEL] = KERNELS.indexOf(job.kernel);
    words[UNITS] = job.units;
    words[CHUNK] = job.chunk;
    words[CHUNKS] = chunks;
    words[FULL] = full;
    if (starts) for (let t = full; t < starts.length; t++) words[TAIL + t - full] = starts[t]!;
    words[ARGC] = argc;
    words[WS_ARG] = job.scratch ? job.scratch.arg : -1;
    words[FOUND_PER] = job.found ?? -1;
    if (job.scratch) words.set(job.scratch.ptrs, WS);
    words.set(job.base, BASE);
    words.set(job.perStart, PER_START);
    words.set(job.perCount, PER_COUNT);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, FOUND, -1);
    const next = (gen + 1) | 0;
    Atomics.store(ctl, NEXT, (next & 0x7fff) << 16);
    Atomics.store(ctl, GEN, next);
    if (Atomics.notify(ctl, GEN) > 0) this.wakeUps++;
    return chunks;
  }

  /**
   * The workers' chunk loop (SERVE_SOURCE) on this thread, as thread `self`. After a trap it keeps taking chunks
   * but only counts them, so the job still ends; returns the trap.
   */
  private runChunks(self: number): unknown {
    const { ctl, job } = this;
    const tag = Atomics.load(ctl, GEN) & 0x7fff;
    let error: unknown = null;
    for (;;) {
      const next = Atomics.load(ctl, NEXT);
      const chunks = job[CHUNKS]!;
      const i = next & 0xffff;
      if (next >>> 16 !== tag || i >= chunks) return error;
      if (Atomics.compareExchange(ctl, NEXT, next, next + 1) !== next) continue;
      if (!error) {
        const k = job[KERNEL]!, args = this.argv[k]!, argc = job[ARGC]!, wsArg = job[WS_ARG]!;
        const full = job[FULL]!, start = i < full ? i * job[CHUNK]! : job[TAIL + i - full]!;
        const count = (i < full ? Math.min(job[UNITS]!, start + job[CHUNK]!) : job[TAIL + i - full + 1]!) - start;
        for (let a = 0; a < argc; a++) {
          const step = start * job[PER_START + a]! + count * job[PER_COUNT + a]!;
          args[a] = step === 0 ? job[BASE + a]! : job[BASE + a]! + step; // base + 0 would turn −0 into +0
        }
        if (wsArg >= 0) args[wsArg] = job[WS + self]!;
        try {
          const found = this.fns[k]!.apply(null, args), per = job[FOUND_PER]!;
          if (per >= 0 && typeof found === 'number' && found >= 0) keepLeast(ctl, FOUND, start * per + found);
        } catch (e) {
          error = e;
        }
      }
      if (Atomics.add(ctl, DONE, 1) + 1 === chunks) Atomics.notify(ctl, DONE);
    }
  }

  /**
   * Waits until all `chunks` are done: spins about as long as a wake-up costs, then sleeps until the worker
   * that finishes the last chunk notifies (or spins on, where this thread may not block). A worker still busy
   * after ten times as long as this thread has worked on the job (and at least patienceMs) is taken for gone.
   */
  private join(chunks: number, started: number): void {
    const { ctl } = this;
    if (Atomics.load(ctl, DONE) >= chunks) return;
    const now = performance.now();
    const spinUntil = now + this.spinMs;
    const deadline = now + Math.max(this.patienceMs, 10 * (now - started));
    for (let spins = 0, done; (done = Atomics.load(ctl, DONE)) < chunks; spins++) {
      if ((spins & 63) !== 0) continue;
      const t = performance.now();
      if (t > deadline) {
        this.close();
        throw new WebAssembly.RuntimeError('a worker thread stopped answering; its threads were closed');
      }
      if (this.mayBlock && t > spinUntil) Atomics.wait(ctl, DONE, done, deadline - t);
    }
  }

  /**
   * What sharing costs here: the time for a sleeping worker to wake and finish an empty chunk, the least of a
   * few probes (the workers' spin before they sleep is set to it, as is the caller's), and the time to take and
   * run one empty chunk on this thread. The least, as the scheduler's rates are the best seen: a probe that was
   * preempted only looks slower, and the scheduler keeps what it measures here for the pool's life. A median
   * taken on a busy machine ranged from 0.04 to 0.28 ms between pools started a second apart, and a pool that drew
   * a high one never shared the MLP's b64 products (nor, above about 0.45 ms, its b256 ones) for its whole life.
   */
  private async measure(): Promise<void> {
    const zeros = [0, 0, 0];
    const empty = (units: number): Job => ({ kernel: 'fill_f32', base: zeros, perStart: zeros, perCount: zeros, units, chunk: 1 });
    const wakes: number[] = [];
    for (let probe = 0; probe < 8; probe++) {
      await sleep(2); // long enough for the workers to be asleep
      const t0 = performance.now();
      this.run(empty(this.workers.length), false);
      wakes.push(performance.now() - t0);
    }
    this.wakeMs = Math.min(...wakes);
    this.spinMs = Math.min(0.2, Math.max(0.02, this.wakeMs));
    // Every thread takes some of these chunks: their time over all threads is the cost of one (the best of a
    // few jobs, the first ones running code the engine has not optimised yet).
    const many = 64;
    this.chunkMs = Infinity;
    for (let probe = 0; probe < 5; probe++) {
      const t0 = performance.now();
      this.run(empty(many));
      this.chunkMs = Math.min(this.chunkMs, ((performance.now() - t0) * (1 + this.workers.length)) / many);
    }
  }
}
