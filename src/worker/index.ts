// wasmgrad/worker: train in a Web Worker or a Node worker thread, with progress events posted back.
export { TrainingClient, trainWorkerUrl } from './client.js';
export type { ListenableWorker, WorkerLike } from './client.js';
export { serveTraining } from './serve.js';
export type { Port, TrainBackendOptions, WorkerEvent, WorkerRequest } from './protocol.js';
export type { EpochMetrics, TrainConfig } from '../train/trainer.js';
