export { Optimizer } from './optimizer.js';
export type { Hyper, OptimizerStateDict, ParamGroup, ParamsInput, ParamState } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SgdOptions } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RmspropOptions } from './rmsprop.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR, ReduceLROnPlateau } from './schedulers.js';
export type {
  CosineAnnealingLROptions, ExponentialLROptions, LinearLROptions, OneCycleLROptions, ReduceLROnPlateauOptions, SchedulerState,
  StepLROptions,
} from './schedulers.js';
export { clipGradNorm, clipGradValue } from './clip.js';
