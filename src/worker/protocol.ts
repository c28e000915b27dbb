// Messages between a page (or a Node thread) and a training worker. Everything is structured-cloneable.
import type { BackendInfo, InitOptions } from '../backend/registry.js';
import type { EpochMetrics, TrainConfig } from '../train/trainer.js';

/** How the worker loads its backend: init()'s options, passed through as they are (checked by init). */
export type TrainBackendOptions = Pick<InitOptions, 'backend' | 'build' | 'threads'>;

/** What a page (TrainingClient) asks the worker; serveTraining's handler takes these. */
export type WorkerRequest =
  | ({
    /** Start a training run (one at a time). */
    type: 'train';
    /** The trainer's settings (model, hidden, epochs, lr, …); the model's defaults fill the rest. */
    config?: Partial<TrainConfig>;
  } & TrainBackendOptions)
  | {
    /** Stop the run after the current batch. */
    type: 'stop';
  }
  | {
    /** Class probabilities for inputs, from the model being trained or just trained. */
    type: 'predict';
    /** Matches the answer ('prediction') to the request. */
    id: number;
    /** n × inputDim floats (a digit: 784 values in [0, 1]). */
    inputs: Float32Array;
    /** Number of inputs. */
    n: number;
  }
  | {
    /** Text from the character GPT being trained or just trained. */
    type: 'sample';
    /** Matches the answer ('sample') to the request. */
    id: number;
    /** The text to continue ('' for new names). */
    prompt: string;
    /** Characters to draw. */
    maxTokens: number;
    /** Softmax temperature, > 0. */
    temperature: number;
    /** Seed of the draws. */
    seed: number;
  };

export type WorkerEvent =
  /** The dataset downloading before a run starts: bytes so far, of `total` (null when the server does not say). */
  | { type: 'loading'; what: 'digits' | 'names'; loaded: number; total: number | null }
  | { type: 'started'; backend: BackendInfo; config: TrainConfig; trainSize: number; testSize: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number | null; samplesPerSecond: number }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'done'; history: EpochMetrics[]; stopped: boolean; model: Uint8Array }
  | { type: 'prediction'; id: number; probabilities: Float32Array }
  | { type: 'sample'; id: number; text: string }
  | { type: 'error'; message: string };

/** The part of a worker's port (Web Worker `self`, or Node's `parentPort`) that serveTraining uses. */
export interface Port {
  /** Sends an event to the page. */
  postMessage(message: WorkerEvent): void;
}
