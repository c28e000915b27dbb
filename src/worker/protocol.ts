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

/** What the worker posts back: progress of a run, its result, answers to requests, errors. */
export type WorkerEvent =
  | {
    /** The dataset downloading before a run starts. */
    type: 'loading';
    /** Which dataset. */
    what: 'digits' | 'names';
    /** Bytes so far. */
    loaded: number;
    /** Bytes in all (null when the server does not say). */
    total: number | null;
  }
  | {
    /** A run started. */
    type: 'started';
    /** The backend the worker trains on. */
    backend: BackendInfo;
    /** The run's settings: the model's defaults with the request's config over them. */
    config: TrainConfig;
    /** Training examples (digits, or for text the training windows). */
    trainSize: number;
    /** Held-out examples. */
    testSize: number;
  }
  | {
    /** A training batch finished. */
    type: 'batch';
    /** Epoch, from 1. */
    epoch: number;
    /** Batch within the epoch, from 1. */
    batch: number;
    /** Batches per epoch. */
    batches: number;
    /** The batch's loss. */
    loss: number;
    /** The batch's accuracy, 0–1 (null for text). */
    accuracy: number | null;
    /** Throughput so far (see EpochMetrics.samplesPerSecond). */
    samplesPerSecond: number;
  }
  | {
    /** An epoch finished and was evaluated. */
    type: 'epoch';
    /** Its losses, accuracies, lr and timing. */
    metrics: EpochMetrics;
  }
  | {
    /** The run ended (all epochs, or stopped). */
    type: 'done';
    /** Every epoch's metrics. */
    history: EpochMetrics[];
    /** Whether a 'stop' request ended it early. */
    stopped: boolean;
    /** The trained model as safetensors bytes, with its description in the metadata. */
    model: Uint8Array;
  }
  | {
    /** The answer to a 'predict' request. */
    type: 'prediction';
    /** The request's id. */
    id: number;
    /** n × classes probabilities, row-major. */
    probabilities: Float32Array;
  }
  | {
    /** The answer to a 'sample' request. */
    type: 'sample';
    /** The request's id. */
    id: number;
    /** The prompt and its continuation. */
    text: string;
  }
  | {
    /** A request failed (a bad config, no model yet, …). */
    type: 'error';
    /** What went wrong, as the library's error says it. */
    message: string;
  };

/** The part of a worker's port (Web Worker `self`, or Node's `parentPort`) that serveTraining uses. */
export interface Port {
  /** Sends an event to the page. */
  postMessage(message: WorkerEvent): void;
}
