// The page side: drives a training worker and turns its messages into events and promises.
import type { TrainConfig } from '../train/trainer.js';
import type { TrainBackendOptions, WorkerEvent, WorkerRequest } from './protocol.js';

/** What TrainingClient needs from a worker: a Web Worker or a node:worker_threads Worker both fit. */
export interface WorkerLike {
  /** Sends a request to the worker. */
  postMessage(message: WorkerRequest): void;
  /** Stops the worker. */
  terminate(): unknown;
}

export class TrainingClient {
  private listeners = new Set<(e: WorkerEvent) => void>();
  private nextId = 1;

  /** `subscribe` connects the worker's messages to this client (addEventListener or on('message')). */
  constructor(private readonly worker: WorkerLike & {
    addEventListener?(type: 'message', f: (e: MessageEvent<WorkerEvent>) => void): void;
    on?(event: 'message', f: (m: WorkerEvent) => void): void;
  }) {
    if (worker.addEventListener) worker.addEventListener('message', (e) => this.emit(e.data));
    else worker.on!('message', (m) => this.emit(m));
  }

  private emit(e: WorkerEvent): void {
    for (const f of this.listeners) f(e);
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
    return new Promise((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.type === 'done') {
          off();
          resolve(e);
        } else if (e.type === 'error') {
          off();
          reject(new Error(e.message));
        }
      });
      this.worker.postMessage({ type: 'train', config, ...options });
    });
  }

  /** Asks the run to stop after the current batch (train() then resolves with stopped: true). */
  stop(): void {
    this.worker.postMessage({ type: 'stop' });
  }

  /** Class probabilities for n inputs (n × inputDim floats) from the model being trained or just trained. */
  predict(inputs: Float32Array, n = 1): Promise<Float32Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.type === 'prediction' && e.id === id) {
          off();
          resolve(e.probabilities);
        } else if (e.type === 'error') {
          off();
          reject(new Error(e.message));
        }
      });
      this.worker.postMessage({ type: 'predict', id, inputs, n });
    });
  }

  /**
   * Text from the character GPT being trained (or just trained): the prompt continued by maxTokens characters
   * drawn at `temperature`, reproducibly for a seed. For the names model, new names, one per line.
   */
  sample(prompt = '', options: { maxTokens?: number; temperature?: number; seed?: number } = {}): Promise<string> {
    const { maxTokens = 100, temperature = 1, seed = 0 } = options;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (e.type === 'sample' && e.id === id) {
          off();
          resolve(e.text);
        } else if (e.type === 'error') {
          off();
          reject(new Error(e.message));
        }
      });
      this.worker.postMessage({ type: 'sample', id, prompt, maxTokens, temperature, seed });
    });
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** The URL of the ready-made worker script (for `new Worker(url, { type: 'module' })` or worker_threads). */
export const trainWorkerUrl = () => new URL('./train-worker.js', import.meta.url);
