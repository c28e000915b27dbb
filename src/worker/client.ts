// The page side: drives a training worker and turns its messages into events and promises.
import { isNode } from '../platform.js';
import type { TrainConfig } from '../train/trainer.js';
import type { TrainBackendOptions, WorkerEvent, WorkerRequest } from './protocol.js';

/** What TrainingClient needs from a worker: a Web Worker or a node:worker_threads Worker both fit. */
export interface WorkerLike {
  /** Sends a request to the worker. */
  postMessage(message: WorkerRequest): void;
  /** Stops the worker. */
  terminate(): unknown;
}

/** A Web Worker's events, or a node:worker_threads Worker's. */
export type ListenableWorker = WorkerLike & {
  // `any`: each event's type depends on its name (the listeners below say which).
  /** A Web Worker's way to listen. */
  addEventListener?(type: 'message' | 'error' | 'messageerror', f: (e: any) => void): void;
  /** A node:worker_threads Worker's way to listen. */
  on?(event: 'message' | 'error' | 'exit', f: (value: any) => void): unknown;
};

/**
 * The ready-made training worker (train-worker.js), in browsers. Written as `new Worker(new URL(…,
 * import.meta.url), { type: 'module' })` on purpose: Vite, webpack and other bundlers recognise this form and build
 * the worker as an entry of its own, with the modules, .wasm builds and data files it needs.
 */
function startTrainWorker(): ListenableWorker {
  if (isNode() || typeof Worker !== 'function') {
    throw new Error("TrainingClient: no Web Worker here; in Node pass a worker thread: new TrainingClient(new Worker(trainWorkerUrl())) with Worker from 'node:worker_threads'");
  }
  return new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' }) as unknown as ListenableWorker;
}

/** A browser worker's error event, said in words: an uncaught error has a message, a failed load has none. */
function describeError(e: ErrorEvent): string {
  return e.message ? `it threw ${e.message}` : 'it could not be loaded (its script, or a module it imports, failed to fetch or to run: the browser console says which)';
}

/**
 * The page side of wasmgrad/worker: drives a worker that runs serveTraining (a Web Worker, or a node:worker_threads
 * Worker) with promises and events — train(), stop(), predict(), sample(), onEvent().
 */
export class TrainingClient {
  private listeners = new Set<(e: WorkerEvent) => void>();
  private nextId = 1;
  private readonly worker: ListenableWorker;
  /** Why the worker can answer no more (it failed to load, died, or was terminated); null while it can. */
  private failure: Error | null = null;
  /** The reject functions of the requests waiting for an answer. */
  private readonly waiting = new Set<(error: Error) => void>();

  /**
   * Drives `worker` (a Web Worker, or a node:worker_threads Worker, running serveTraining); without one, starts the
   * ready-made worker (browsers only). When the worker fails to load, throws an uncaught error, exits or is
   * terminated, every waiting request rejects, and so does every later one, saying why.
   */
  constructor(worker?: ListenableWorker) {
    this.worker = worker ?? startTrainWorker();
    const w = this.worker;
    if (w.addEventListener) {
      w.addEventListener('message', (e: MessageEvent<WorkerEvent>) => this.emit(e.data));
      w.addEventListener('error', (e: ErrorEvent) => {
        e.preventDefault?.(); // reported by the rejected promises, not again as the page's uncaught error
        this.fail(`the worker failed: ${describeError(e)}`);
      });
      w.addEventListener('messageerror', () => this.fail('a message from the worker could not be read'));
    } else {
      w.on!('message', (m: WorkerEvent) => this.emit(m));
      w.on!('error', (e: Error) => this.fail(`the worker failed: it threw ${e.message}`));
      w.on!('exit', (code: number) => this.fail(`the worker exited (exit code ${code})`));
    }
  }

  private emit(e: WorkerEvent): void {
    for (const f of this.listeners) f(e);
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = new Error(`TrainingClient: ${reason}`);
    for (const reject of this.waiting) reject(this.failure);
    this.waiting.clear();
  }

  /**
   * Posts `message` and resolves with the first value `answer` finds in the events; rejects on the worker's error
   * event, or when the worker fails.
   */
  private request<T>(message: WorkerRequest, answer: (e: WorkerEvent) => T | undefined): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const settle = (done: () => void) => {
        off();
        this.waiting.delete(fail);
        done();
      };
      const fail = (error: Error) => settle(() => reject(error));
      const off = this.onEvent((e) => {
        if (e.type === 'error') return fail(new Error(e.message));
        const value = answer(e);
        if (value !== undefined) settle(() => resolve(value));
      });
      this.waiting.add(fail);
      this.worker.postMessage(message);
    });
  }

  /** Calls f with every event; returns a function that unsubscribes. */
  onEvent(f: (e: WorkerEvent) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /**
   * Starts training; resolves with the 'done' event (or rejects with the worker's error). `options` are init()'s
   * backend, build and threads, for the worker's backend (threads > 1 needs shared memory: in browsers, a
   * cross-origin-isolated page).
   */
  train(config: Partial<TrainConfig> = {}, options: TrainBackendOptions = {}): Promise<Extract<WorkerEvent, { type: 'done' }>> {
    return this.request({ type: 'train', config, ...options }, (e) => (e.type === 'done' ? e : undefined));
  }

  /** Asks the run to stop after the current batch (train() then resolves with stopped: true). */
  stop(): void {
    if (!this.failure) this.worker.postMessage({ type: 'stop' });
  }

  /** Class probabilities for n inputs (n × inputDim floats) from the model being trained or just trained. */
  predict(inputs: Float32Array, n = 1): Promise<Float32Array> {
    const id = this.nextId++;
    return this.request({ type: 'predict', id, inputs, n }, (e) => (e.type === 'prediction' && e.id === id ? e.probabilities : undefined));
  }

  /**
   * Text from the character GPT being trained (or just trained): the prompt continued by maxTokens characters
   * drawn at `temperature`, reproducibly for a seed. For the names model, new names, one per line.
   */
  sample(prompt = '', options: { maxTokens?: number; temperature?: number; seed?: number } = {}): Promise<string> {
    const { maxTokens = 100, temperature = 1, seed = 0 } = options;
    const id = this.nextId++;
    return this.request({ type: 'sample', id, prompt, maxTokens, temperature, seed }, (e) => (e.type === 'sample' && e.id === id ? e.text : undefined));
  }

  /** Stops the worker; requests still waiting reject. */
  terminate(): void {
    this.worker.terminate();
    this.fail('the worker was terminated');
  }
}

// Through a variable, so that bundlers do not copy train-worker.js alone as an asset (without the modules it imports).
const moduleUrl = import.meta.url;

/**
 * The URL of the ready-made worker script, for `new Worker(url)` from node:worker_threads (or a page that serves the
 * package's files unbundled). In a bundled page use `new TrainingClient()`, which starts it in a form bundlers build.
 */
export const trainWorkerUrl = () => new URL('./train-worker.js', moduleUrl);
