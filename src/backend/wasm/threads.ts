// Worker threads for the simd-threads build: each worker instantiates the same module over the same shared
// linear memory and runs its share of a product when the calling thread asks. A call stays synchronous: the
// caller posts the jobs, computes its own share, then waits for the workers (spinning: a browser's main thread
// may not block in Atomics.wait). Workers spin for a while after a job, so the next one in a training step starts
// without a wake-up, then sleep in Atomics.wait.
import { isNode, nodeModule } from '../../platform.js';

/** Control block states (Int32Array word 0). */
const IDLE = 0, JOB = 1, DONE = 2, FAILED = 3, STOP = 4;
/** Words 1…ARGS of the control block hold the job's arguments (matmul_f32_cols: 15 numbers). */
const ARGS = 15;
/** Indices of the arguments that are pointers (read back as unsigned). */
const POINTERS = [0, 1, 2, 3, 12];

/**
 * The worker's program, as text so it needs no file of its own (bundlers, blob URLs). It receives
 * { module, memory, control }, answers 'ready' (or an error message), then serves jobs until STOP.
 */
const WORKER_SOURCE = `
const SPIN_MS = 2;
function serve(module, memory, control, post) {
  let ex;
  try {
    ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (e) {
    post(String(e && e.message || e));
    return;
  }
  post('ready');
  const ctl = new Int32Array(control);
  const pointers = new Set(${JSON.stringify(POINTERS)});
  for (;;) {
    let since = 0, spins = 0, state;
    while ((state = Atomics.load(ctl, 0)) !== ${JOB}) {
      if (state === ${STOP}) return;
      if ((++spins & 1023) === 0) {
        const now = performance.now();
        if (since === 0) since = now;
        else if (now - since > SPIN_MS) { Atomics.wait(ctl, 0, state); since = 0; }
      }
    }
    const args = [];
    for (let i = 0; i < ${ARGS}; i++) args.push(pointers.has(i) ? ctl[1 + i] >>> 0 : ctl[1 + i]);
    let result = ${DONE};
    try { ex.matmul_f32_cols(...args); } catch (e) { result = ${FAILED}; }
    Atomics.store(ctl, 0, result);
  }
}
if (typeof require === 'function') {
  const { parentPort } = require('node:worker_threads');
  parentPort.once('message', ({ module, memory, control }) =>
    serve(module, memory, control, (m) => parentPort.postMessage(m)));
} else {
  self.onmessage = ({ data: { module, memory, control } }) =>
    serve(module, memory, control, (m) => self.postMessage(m));
}
`;

interface WorkerHandle {
  control: Int32Array;
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

async function startWorker(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WorkerHandle> {
  const control = new Int32Array(new SharedArrayBuffer(4 * (1 + ARGS)));
  const message = { module, memory, control: control.buffer };
  if (isNode()) {
    const { Worker } = await nodeModule<typeof import('node:worker_threads')>('node:worker_threads');
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref(); // an idle pool never keeps a Node process alive
    const answer = new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    worker.postMessage(message);
    ready(await answer);
    return { control, stop: () => void worker.terminate() };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  const answer = new Promise<unknown>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(e.message));
  });
  worker.postMessage(message);
  await ready(await answer);
  return { control, stop: () => worker.terminate() };
}

function ready(answer: unknown): void {
  if (answer !== 'ready') throw new Error(`wasm backend: a worker thread could not start: ${String(answer)}`);
}

/** Column ranges [j0, j1) of one product, one per thread (the caller's first). */
export type Part = [j0: number, j1: number];

export class ThreadPool {
  private closed = false;

  private constructor(private readonly workers: WorkerHandle[]) {}

  /** Starts `count` workers over `memory` (the module's imported shared memory). */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number): Promise<ThreadPool> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(module, memory)));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const w of workers) w.stop();
      throw failed.reason;
    }
    return new ThreadPool(workers);
  }

  /** Worker threads running (0 once closed). */
  get size(): number {
    return this.closed ? 0 : this.workers.length;
  }

  /**
   * Runs matmul_f32_cols(...args, ws[i], j0, j1) for every part i (args: its first 12 arguments): part 0 on this
   * thread through `own`, the others on the workers. Returns when all are done; a trap in a worker becomes a
   * WebAssembly.RuntimeError here.
   */
  run(args: readonly number[], parts: readonly Part[], ws: readonly number[], own: (part: Part) => void): void {
    const busy = this.workers.slice(0, parts.length - 1);
    busy.forEach((w, i) => {
      w.control.set([...args, ws[i + 1]!, ...parts[i + 1]!], 1);
      Atomics.store(w.control, 0, JOB);
      Atomics.notify(w.control, 0);
    });
    let error: unknown = null;
    const started = performance.now();
    try {
      own(parts[0]!);
    } catch (e) {
      error = e;
    }
    // The workers' shares are as large as ours: a worker that takes ten times longer (and 10 s) is gone.
    const deadline = performance.now() + Math.max(10_000, 10 * (performance.now() - started));
    let failed = false;
    for (const w of busy) {
      let state: number;
      for (let spins = 0; (state = Atomics.load(w.control, 0)) === JOB; spins++) {
        if ((spins & 0xfffff) === 0 && performance.now() > deadline) {
          this.close();
          throw new WebAssembly.RuntimeError('a worker thread stopped answering; its threads were closed');
        }
      }
      failed ||= state === FAILED;
      Atomics.store(w.control, 0, IDLE);
    }
    if (error) throw error;
    if (failed) throw new WebAssembly.RuntimeError('a worker thread trapped');
  }

  /** Stops the workers; later products run on the calling thread alone. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) {
      Atomics.store(w.control, 0, STOP);
      Atomics.notify(w.control, 0);
      w.stop();
    }
  }
}
