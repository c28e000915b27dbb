// Messages between a page (or a Node thread) and a training worker. Everything is structured-cloneable.
import type { BackendInfo, InitOptions } from '../backend/registry.js';
import type { EpochMetrics, TrainConfig } from '../train/trainer.js';

/** How the worker loads its backend: init()'s options, passed through as they are (checked by init). */
export type TrainBackendOptions = Pick<InitOptions, 'backend' | 'build' | 'threads'>;

export type WorkerRequest =
  | ({ type: 'train'; config?: Partial<TrainConfig> } & TrainBackendOptions)
  | { type: 'stop' }
  | { type: 'predict'; id: number; inputs: Float32Array; n: number }
  | { type: 'sample'; id: number; prompt: string; maxTokens: number; temperature: number; seed: number };

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
  postMessage(message: WorkerEvent): void;
}
