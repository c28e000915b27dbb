// Worker threads for the simd-threads build: each worker instantiates the same module over the same shared
// linear memory and runs a share of a kernel call (a block of a product's columns, a range of an optimizer
// update) when the calling thread asks. A call stays synchronous: the caller posts the shares, runs its own, then
// waits for the workers (spinning: a browser's main thread may not block in Atomics.wait). Workers spin for a
// while after a job, so the next one in a training step starts without a wake-up, then sleep in Atomics.wait.
import { isNode, nodeModule } from '../../platform.js';
import type { KernelExports } from './exports.js';

/** The kernels a worker can run: a job names one by its index here. */
const KERNELS = ['matmul_f32_cols', 'sgd_f32', 'adam_f32', 'rmsprop_f32', 'adagrad_f32'] as const;
export type ThreadKernel = (typeof KERNELS)[number];

/** Control block: an Int32 state word, then (from byte 8) float64 words: the kernel's index and its arguments. */
const IDLE = 0, JOB = 1, DONE = 2, FAILED = 3, STOP = 4;
const MAX_ARGS = 16;
const CONTROL_BYTES = 8 + 8 * (1 + MAX_ARGS);

/**
 * The worker's program, as text so it needs no file of its own (bundlers, blob URLs). It receives
 * { module, memory, control }, answers 'ready' (or an error message), then serves jobs until STOP. Arguments
 * travel as float64: exact for every pointer and size, and the wasm call converts them to i32 / f64 as declared.
 */
const SERVE_SOURCE = `
const SPIN_MS = 2;
const KERNELS = ${JSON.stringify(KERNELS)};
function serve(module, memory, control, post) {
  let ex;
  try {
    ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (e) {
    post(String(e && e.message || e));
    return;
  }
  post('ready');
  const state = new Int32Array(control, 0, 1);
  const words = new Float64Array(control, 8);
  for (;;) {
    let since = 0, spins = 0, s;
    while ((s = Atomics.load(state, 0)) !== ${JOB}) {
      if (s === ${STOP}) return;
      if ((++spins & 1023) === 0) {
        const now = performance.now();
        if (since === 0) since = now;
        else if (now - since > SPIN_MS) { Atomics.wait(state, 0, s); since = 0; }
      }
    }
    let result = ${DONE};
    try { ex[KERNELS[words[0]]](...words.subarray(1, 1 + ex[KERNELS[words[0]]].length)); } catch (e) { result = ${FAILED}; }
    Atomics.store(state, 0, result);
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
import('node:worker_threads').then(({ parentPort }) => parentPort.once('message', ({ module, memory, control }) =>
  serve(module, memory, control, (m) => parentPort.postMessage(m))));
`;
const BROWSER_START = `
self.onmessage = ({ data: { module, memory, control } }) => serve(module, memory, control, (m) => self.postMessage(m));
`;

interface WorkerHandle {
  state: Int32Array;
  words: Float64Array;
  /** Set when the worker died (an error outside any kernel): the pool then closes instead of waiting for it. */
  dead: boolean;
  stop(): void;
}

/** Whether this engine can share linear memory between threads (browsers: only cross-origin-isolated pages). */
export function threadsAvailable(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  if (!isNode() && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor).buffer
      instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Starts one worker and waits for its 'ready'; a worker that fails to start is stopped and its error thrown. */
async function startWorker(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WorkerHandle> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  let answered: (answer: unknown) => void = () => {};
  const answer = new Promise<unknown>((resolve) => (answered = resolve));
  const views = { state: new Int32Array(control, 0, 1), words: new Float64Array(control, 8), dead: false };
  let handle: WorkerHandle;
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
    handle = { ...views, stop: () => void worker.terminate() };
    worker.postMessage({ module, memory, control });
  } else {
    const url = URL.createObjectURL(new Blob([SERVE_SOURCE + BROWSER_START], { type: 'text/javascript' }));
    const worker = new Worker(url);
    URL.revokeObjectURL(url);
    worker.onmessage = (e) => answered(e.data);
    worker.onerror = (e) => died(e.message);
    handle = { ...views, stop: () => worker.terminate() };
    worker.postMessage({ module, memory, control });
  }
  const first = await answer;
  if (first !== 'ready') {
    handle.stop();
    throw new Error(`wasm backend: a worker thread could not start: ${String(first)}`);
  }
  return handle;
}

export class ThreadPool {
  private closed = false;

  private constructor(private readonly exports: KernelExports, private readonly workers: WorkerHandle[]) {}

  /** Starts `count` workers over `memory`, the shared memory of the instance whose `exports` the caller uses. */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, exports: KernelExports,
    count: number): Promise<ThreadPool> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(module, memory)));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const w of workers) w.stop();
      throw failed.reason;
    }
    return new ThreadPool(exports, workers);
  }

  /** Worker threads running (0 once closed). */
  get size(): number {
    return this.closed ? 0 : this.workers.length;
  }

  /**
   * Calls `kernel` once per share (its arguments): the first share on this thread, the others on the workers
   * (at most size + 1 shares). Returns when all are done; a trap in a worker becomes a WebAssembly.RuntimeError.
   */
  run(kernel: ThreadKernel, shares: readonly (readonly number[])[]): void {
    const fn = this.exports[kernel] as (...args: number[]) => void;
    const busy = this.workers.slice(0, shares.length - 1);
    if (busy.some((w) => w.dead)) {
      this.close();
      throw new WebAssembly.RuntimeError('a worker thread died; its threads were closed');
    }
    busy.forEach((w, i) => {
      w.words[0] = KERNELS.indexOf(kernel);
      w.words.set(shares[i + 1]!, 1);
      Atomics.store(w.state, 0, JOB);
      Atomics.notify(w.state, 0);
    });
    let error: unknown = null;
    const started = performance.now();
    try {
      fn(...shares[0]!);
    } catch (e) {
      error = e;
    }
    // The workers' shares are as large as ours: a worker that takes ten times longer (and 10 s) is gone.
    const deadline = performance.now() + Math.max(10_000, 10 * (performance.now() - started));
    let failed = false;
    for (const w of busy) {
      let state: number;
      for (let spins = 0; (state = Atomics.load(w.state, 0)) === JOB; spins++) {
        if ((spins & 0xfffff) === 0 && performance.now() > deadline) {
          this.close();
          throw new WebAssembly.RuntimeError('a worker thread stopped answering; its threads were closed');
        }
      }
      failed ||= state === FAILED;
      Atomics.store(w.state, 0, IDLE);
    }
    if (error) throw error;
    if (failed) throw new WebAssembly.RuntimeError('a worker thread trapped');
  }

  /** Stops the workers; later calls run on the calling thread alone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) {
      Atomics.store(w.state, 0, STOP);
      Atomics.notify(w.state, 0);
      w.stop();
    }
  }
}
