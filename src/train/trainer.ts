// The training loop behind `wasmgrad train`, the demo's worker and the benchmarks: an MLP or a CNN on rows or
// images, or a character-level GPT on text; a loss (cross-entropy, per row or per character, or MSE) plus the
// seed's optional L2 term J = L + λ/2·Σ‖W‖², an optimizer, a schedule, optional random shifts of the training
// images, and checkpoints that resume exactly — even from the middle of an epoch.
import '../ops/index.js'; // Tensor methods (J.backward()) and the backward engine's ops
import { noGrad, tidy } from '../autograd/scope.js';
import { compile } from '../compile/compile.js';
import type { Tensor } from '../autograd/tensor.js';
import type { TensorDataset } from '../data/dataset.js';
import type { TableEncoderJSON } from '../data/preprocess.js';
import { IGNORE_INDEX } from '../data/text.js';
import { checkpointToBytes, readCheckpoint, stageCheckpoint } from '../io/checkpoint.js';
import { toSafetensors } from '../io/safetensors.js';
import { crossEntropy, mseLoss } from '../nn/losses.js';
import type { Module } from '../nn/module.js';
import { argMax } from '../ops/max.js';
import { l2Penalty } from '../ops/l2Penalty.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { Hyper, Optimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import { CosineAnnealingLR, ExponentialLR, LinearLR, type LRScheduler, OneCycleLR, StepLR } from '../optim/schedulers.js';
import { SGD } from '../optim/sgd.js';
import { checkRngState, Generator } from '../random.js';
import { checkOptions, describe, integer, isPlainObject, number, oneOf, type Check } from '../options.js';
import { stageAll, staged, type Staged } from '../staging.js';
import { randomShift } from './augment.js';
import {
  ACTIVATION_NAMES, buildModel, CNN_BLOCKS, inputShapeOf, MODEL_NAMES, weightsOf, type ActivationName, type ModelDescription, type ModelName,
} from './model.js';

export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;
export const SCHEDULES = ['none', 'step', 'cosine', 'exponential', 'linear', 'onecycle'] as const;

/** The settings of a training run (wasmgrad train's flags; TrainingClient.train's config). */
export interface TrainConfig {
  /** 'mlp', 'cnn' (digits only) or 'gpt' (text only). */
  model: ModelName;
  /** Widths of the hidden fully connected layers (the MLP's; the CNN's head after its convolutions). */
  hidden: number[];
  /** The hidden layers' activation φ. */
  activation: ActivationName;
  /** Dropout probability after each hidden layer (the GPT's: embeddings and each block's outputs). */
  dropout: number;
  /** The GPT's longest sequence (its position table; the training windows' length), blocks, heads and width. */
  context: number;
  /** The GPT's transformer blocks. */
  layers: number;
  /** The GPT's attention heads per block (they divide width). */
  heads: number;
  /** The GPT's embedding width. */
  width: number;
  /** Passes over the training data. */
  epochs: number;
  /** Examples per batch. */
  batchSize: number;
  /** Learning rate (the schedule's starting value). */
  lr: number;
  /** 'sgd', 'adam', 'adamw' or 'rmsprop'. */
  optimizer: (typeof OPTIMIZERS)[number];
  /** SGD's momentum. */
  momentum: number;
  /** The optimizer's weight decay. */
  weightDecay: number;
  /** The seed's λ: adds λ/2·Σ‖W‖² over the weight matrices to the loss. */
  l2: number;
  /** The learning-rate schedule over the run. */
  schedule: (typeof SCHEDULES)[number];
  /** Moves each training image by up to this many pixels in each direction, a new offset every epoch (0: off). */
  randomShift: number;
  /** Seed of the initial weights, shuffling, dropout and splits. */
  seed: number;
}

/**
 * Defaults for the embedded digits: 784-512-10 with dropout 0.3, Adam at 2e-3 annealed by a cosine schedule,
 * 20 epochs — about 96% test accuracy (PyTorch's 784-128-10 + Adam baseline on an 8k/2k split: 95.1%).
 */
export const DEFAULTS: TrainConfig = {
  model: 'mlp', hidden: [512], activation: 'relu', dropout: 0.3, context: 16, layers: 2, heads: 4, width: 64, epochs: 20,
  batchSize: 64, lr: 2e-3, optimizer: 'adam', momentum: 0.9, weightDecay: 0, l2: 0, schedule: 'cosine', randomShift: 0, seed: 0,
};

/**
 * Defaults for the CNN on the digits: conv5×5(16)-BN-ReLU-pool, conv5×5(32)-BN-ReLU-pool, linear; Adam at 2e-3
 * annealed by a cosine schedule over 10 epochs, on digits shifted by up to 2 pixels — about 99% test accuracy
 * (PyTorch's reference for this net, Adam 2e-3 for 10 epochs without schedule or shifts: 98.25–98.4%).
 */
export const CNN_DEFAULTS: TrainConfig = {
  ...DEFAULTS, model: 'cnn', hidden: [], dropout: 0, epochs: 10, lr: 2e-3, schedule: 'cosine', randomShift: 2,
};

/**
 * Defaults for the GPT on the embedded names: 2 blocks of 4 heads, width 64, context 16 (the longest name is 15
 * letters), dropout 0.1; Adam at 2e-3 annealed by a cosine schedule over 20 epochs.
 */
export const GPT_DEFAULTS: TrainConfig = {
  ...DEFAULTS, model: 'gpt', hidden: [], activation: 'gelu', dropout: 0.1, epochs: 20, batchSize: 32, lr: 2e-3, schedule: 'cosine',
};

/** The defaults of a model. */
export const defaultsFor = (model: ModelName): TrainConfig => ({ mlp: DEFAULTS, cnn: CNN_DEFAULTS, gpt: GPT_DEFAULTS })[model];

/** What the data is, saved with the model so predict can prepare inputs the same way. */
export interface DataInfo {
  /** Text: the windows of a text's characters, for next-character prediction; its classes are the vocabulary. */
  kind: 'digits' | 'csv' | 'text';
  /** Classification (classes by index) or regression (one value). */
  task: 'classification' | 'regression';
  /** Inputs per example: features, pixels, or the text model's context. */
  inputDim: number;
  /** Images (the digits): the shape of one, [channels, height, width], whose size is inputDim. */
  imageShape?: number[];
  /** Outputs per example: classes (a text's vocabulary), or 1 for regression. */
  outputDim: number;
  /** The class names in index order (a text's characters); none for regression. */
  classes: string[];
  /** A CSV's model inputs: numeric and boolean columns by name, then one `column=category` per category. */
  featureNames?: string[];
  /** A CSV's target column. */
  target?: string;
  /**
   * How the target column was read: numbers, text, or booleans (true/false, yes/no in any case), whose classes are
   * their words for false and true as the training file wrote them: predict reads a truth written 'TRUE' as 'true'.
   */
  targetKind?: 'number' | 'boolean' | 'string';
  /** A CSV's columns and what was learnt about them (fills, scaling, categories): TableEncoder's JSON. */
  features?: TableEncoderJSON;
  /** Regression on a CSV: the model predicts (target − mean) / scale; predictions and metrics are in the target's units. */
  targetScaler?: {
    /** The training rows' mean of the target. */
    mean: number;
    /** Their standard deviation. */
    scale: number;
  };
  /** Models saved before `features`: each feature standardised with these (no missing values, no text). */
  standardizer?: {
    /** Each feature's mean. */
    mean: number[];
    /** Each feature's standard deviation. */
    std: number[];
  };
}

export interface TrainData { info: DataInfo; train: TensorDataset; test: TensorDataset }

/** One epoch's results. */
export interface EpochMetrics {
  /** The epoch, from 1. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Classification only. */
  trainAccuracy: number | null;
  /** The held-out rows' mean loss: cross-entropy, or for regression the mean squared error in the target's units. */
  testLoss: number;
  /** Classification only: the held-out rows' accuracy, 0–1. */
  testAccuracy: number | null;
  /** Regression only: the held-out rows' mean absolute error (the target's units) and R² (1 − SSE / SST). */
  testMae?: number | null;
  /** Regression only: R² on the held-out rows. */
  testR2?: number | null;
  /** The learning rate the epoch ended with. */
  lr: number;
  /** Wall time of the epoch. */
  seconds: number;
  /** Examples a second: rows or images, or for text the characters predicted. */
  samplesPerSecond: number;
}

export interface EpochHooks {
  onBatch?: (batch: number, batches: number, loss: number, accuracy: number | null, samplesPerSecond: number) => void;
  /** Checked after every batch; when true the epoch stops there (a checkpoint taken then resumes exactly). */
  shouldStop?: () => boolean;
  /** Give the event loop a turn every this many milliseconds (progress output, Ctrl-C). Default 50. */
  yieldMs?: number;
  /** Runs each training step (a batch's forward, backward and update) and returns what it returns: `--profile` times some. */
  step?: <T>(run: () => T) => T;
}

function makeOptimizer(c: TrainConfig, params: Tensor[]): Optimizer<Hyper> {
  switch (c.optimizer) {
    case 'sgd': return new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
    case 'adam': return new Adam(params, { lr: c.lr, weightDecay: c.weightDecay });
    case 'adamw': return new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay });
    case 'rmsprop': return new RMSprop(params, { lr: c.lr, weightDecay: c.weightDecay });
  }
}

function makeScheduler(c: TrainConfig, opt: Optimizer<Hyper>, batchesPerEpoch: number): LRScheduler | null {
  switch (c.schedule) {
    case 'none': return null;
    case 'step': return new StepLR(opt, { stepSize: Math.max(1, Math.round(c.epochs / 3)), gamma: 0.1 });
    case 'cosine': return new CosineAnnealingLR(opt, { tMax: c.epochs });
    case 'exponential': return new ExponentialLR(opt, { gamma: 0.9 });
    case 'linear': return new LinearLR(opt, { startFactor: 0.1, endFactor: 1, totalIters: Math.max(1, Math.min(5, c.epochs)) });
    case 'onecycle': return new OneCycleLR(opt, { maxLr: c.lr, totalSteps: c.epochs * batchesPerEpoch });
  }
}

export class Trainer {
  readonly model: Module;
  readonly optimizer: Optimizer<Hyper>;
  readonly scheduler: LRScheduler | null;
  readonly shuffle: Generator;
  readonly dropoutGen: Generator;
  /** Draws the random shifts (only when config.randomShift > 0). */
  readonly augmentGen: Generator | null;
  /** The shape of one input of the model (a batch's rows are viewed as [n, ...inputShape]). */
  readonly inputShape: number[];
  /** Completed epochs. */
  epoch = 0;
  /** Batches done in the current (unfinished) epoch, and the shuffle state it started from. */
  private batchInEpoch = 0;
  private epochStartState: number[] | null = null;
  readonly history: EpochMetrics[] = [];
  readonly batchesPerEpoch: number;
  /**
   * One training step, compiled: the loss and the model's outputs for a batch. Bit-identical to running it eagerly;
   * each batch size (the last batch of an epoch may be smaller) gets a recording of its own.
   */
  private readonly step = compile((x: Tensor, y: Tensor) => {
    this.optimizer.zeroGrad();
    const out = this.model(x);
    const J = this.loss(out, y);
    J.backward();
    this.optimizer.step();
    return [J, out];
  });

  constructor(readonly config: TrainConfig, readonly data: TrainData) {
    validateConfig(config);
    checkData(config, data.info);
    const init = new Generator(config.seed);
    this.shuffle = new Generator(config.seed + 1);
    this.dropoutGen = new Generator(config.seed + 2);
    this.augmentGen = config.randomShift > 0 ? new Generator(config.seed + 3) : null;
    this.inputShape = inputShapeOf(this.description());
    this.model = buildModel(this.description(), init, this.dropoutGen);
    this.optimizer = makeOptimizer(config, this.model.parameters());
    this.batchesPerEpoch = Math.ceil(data.train.length / config.batchSize);
    this.scheduler = makeScheduler(config, this.optimizer, this.batchesPerEpoch);
  }

  /** The model's architecture, as saved with it. */
  description(): ModelDescription {
    const { hidden, activation, dropout, context, layers, heads, width } = this.config;
    const { inputDim, outputDim, imageShape } = this.data.info;
    switch (this.config.model) {
      case 'cnn':
        return { cnn: { inputShape: imageShape!, channels: [...CNN_BLOCKS.channels], kernelSize: CNN_BLOCKS.kernelSize, hidden, outputDim, activation, dropout } };
      case 'gpt': return { gpt: { vocabSize: outputDim, context, layers, heads, width, dropout } };
      case 'mlp': return { mlp: { inputDim, hidden, outputDim, activation, dropout } };
    }
  }

  /** A batch's rows as the model's inputs, shifted at random when training with randomShift. */
  private inputs(x: Tensor, train: boolean): Tensor {
    const n = x.shape[0]!;
    if (!train || !this.augmentGen) return x.reshape([n, ...this.inputShape]);
    return randomShift(x.reshape([n, ...this.data.info.imageShape!]), this.config.randomShift, this.augmentGen).reshape([n, ...this.inputShape]);
  }

  /**
   * The data's loss: cross-entropy over every label (logits [..., classes] against labels [...]: a GPT's
   * [B, T, V] and [B, T] as B·T rows; a text's padding skipped), or the mean squared error.
   */
  private dataLoss(out: Tensor, y: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
    return this.data.info.task === 'classification'
      ? crossEntropy(out.reshape([-1, out.shape[out.rank - 1]!]), y.reshape([-1]), { reduction, ignoreIndex: IGNORE_INDEX })
      : mseLoss(out, y, { reduction });
  }

  /** What training minimises: the data's loss, plus the seed's L2 term when l2 > 0. */
  private loss(out: Tensor, y: Tensor): Tensor {
    const L = this.dataLoss(out, y);
    return this.config.l2 > 0 ? L.add(l2Penalty(weightsOf(this.model), this.config.l2)) : L;
  }

  /** Trains until the end of the current epoch (or until hooks.shouldStop()); returns its metrics when complete. */
  async trainEpoch(hooks: EpochHooks = {}): Promise<EpochMetrics | null> {
    const { train } = this.data;
    const bs = this.config.batchSize;
    // The epoch's order is drawn from the state the epoch started with, so a resumed epoch sees the same order.
    if (this.batchInEpoch === 0) this.epochStartState = this.shuffle.getState();
    else this.shuffle.setState(this.epochStartState!);
    const order = this.shuffle.permutation(train.length);
    this.model.train();
    const classify = this.data.info.task === 'classification';
    let lossSum = 0, correct = 0, seen = 0, lastYield = performance.now();
    const started = performance.now();
    for (let b = this.batchInEpoch; b < this.batchesPerEpoch; b++) {
      const idx = order.subarray(b * bs, Math.min((b + 1) * bs, order.length));
      const runStep = () => tidy(() => {
        const { x, y } = train.take(idx);
        const [J, out] = this.step(this.inputs(x, true), y);
        return [J!.item(), classify ? countCorrect(out!, y) : { hits: 0, labels: idx.length }] as const;
      });
      const [loss, hits] = hooks.step ? hooks.step(runStep) : runStep();
      if (this.config.schedule === 'onecycle') this.scheduler!.step();
      this.batchInEpoch = b + 1;
      lossSum += loss * hits.labels;
      correct += hits.hits;
      seen += hits.labels;
      const sps = seen / ((performance.now() - started) / 1000);
      hooks.onBatch?.(b + 1, this.batchesPerEpoch, (lossSum / seen) * this.lossUnit, classify ? correct / seen : null, sps);
      if (performance.now() - lastYield > (hooks.yieldMs ?? 50)) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = performance.now();
      }
      if (hooks.shouldStop?.() && b + 1 < this.batchesPerEpoch) return null;
    }
    const seconds = (performance.now() - started) / 1000;
    const lr = this.optimizer.paramGroups[0]!.lr;
    if (this.scheduler && this.config.schedule !== 'onecycle') this.scheduler.step();
    this.epoch++;
    this.batchInEpoch = 0;
    const test = this.evaluate(this.data.test);
    const m: EpochMetrics = {
      epoch: this.epoch, trainLoss: (lossSum / seen) * this.lossUnit, trainAccuracy: classify ? correct / seen : null,
      testLoss: test.loss, testAccuracy: test.accuracy, ...(!classify && { testMae: test.mae, testR2: test.r2 }),
      lr, seconds, samplesPerSecond: seen / seconds,
    };
    this.history.push(m);
    return m;
  }

  /**
   * A loss in the target's units: a regression target is standardised for training, so its squared errors are
   * scale² times what the model sees; 1 otherwise.
   */
  private get lossUnit(): number {
    return (this.data.info.targetScaler?.scale ?? 1) ** 2;
  }

  /**
   * Mean loss and accuracy (classification) over a dataset, in eval mode, without recording a graph: per row, or
   * for text per character (nats/char). For regression, in the target's units: the loss is the mean squared error,
   * with the mean absolute error and R².
   */
  evaluate(ds: TensorDataset, batchSize = 500): { loss: number; accuracy: number | null; mae: number | null; r2: number | null } {
    const classify = this.data.info.task === 'classification';
    this.model.eval();
    let lossSum = 0, correct = 0, labels = 0, absSum = 0, ySum = 0, ySquares = 0;
    for (let start = 0; start < ds.length; start += batchSize) {
      const idx = Int32Array.from({ length: Math.min(batchSize, ds.length - start) }, (_, i) => start + i);
      tidy(() => noGrad(() => {
        const { x, y } = ds.take(idx);
        const out = this.model(this.inputs(x, false));
        lossSum += this.dataLoss(out, y, 'sum').item();
        const counted = classify ? countCorrect(out, y) : { hits: 0, labels: y.size };
        correct += counted.hits;
        labels += counted.labels;
        if (classify) return;
        const o = out.data(), t = y.data();
        t.forEach((v, i) => {
          absSum += Math.abs(o[i]! - v);
          ySum += v;
          ySquares += v * v;
        });
      }));
    }
    this.model.train();
    if (classify) return { loss: lossSum / labels, accuracy: correct / labels, mae: null, r2: null };
    // R² does not depend on the target's scale: computed on the standardised values.
    const total = ySquares - (ySum * ySum) / labels;
    return {
      loss: (lossSum / labels) * this.lossUnit, accuracy: null, mae: (absSum / labels) * Math.sqrt(this.lossUnit),
      r2: total > 0 ? 1 - lossSum / total : null,
    };
  }

  /** Model parameters as safetensors, with what predict needs to rebuild and feed the model. */
  modelBytes(): Uint8Array {
    return toSafetensors(this.model.stateDict(), {
      format: 'pt', wasmgrad_model: JSON.stringify({ ...this.description(), data: this.data.info }),
    });
  }

  /** The run's state as checkpoint bytes; `more` is saved beside it (the CLI's record of a CSV run's file and columns). */
  checkpointBytes(more: Record<string, unknown> = {}): Uint8Array {
    return checkpointToBytes({
      model: this.model, optimizer: this.optimizer, scheduler: this.scheduler ?? undefined, step: this.epoch,
      generators: this.generators(),
      extra: {
        ...more, config: this.config, batchInEpoch: this.batchInEpoch, epochStartState: this.epochStartState, history: this.history,
        // A table's model inputs: the same widths from other columns would load, and train on the wrong features.
        ...(this.data.info.featureNames && { featureNames: this.data.info.featureNames }),
      },
    });
  }

  /**
   * Restores a checkpoint taken by checkpointBytes() of a trainer with the same configuration. All of it is
   * validated (checksum, model, optimizer, schedule, generators and this trainer's progress) before anything
   * changes: after an error the trainer is as it was.
   */
  restore(bytes: Uint8Array): void {
    const checkpoint = stageCheckpoint(bytes, {
      model: this.model, optimizer: this.optimizer, scheduler: this.scheduler ?? undefined,
      generators: this.generators(),
    });
    stageAll([() => checkpoint.staged, () => this.stageProgress(checkpoint.step, checkpoint.extra)]).commit();
  }

  /** The generators a checkpoint saves (the augmentation's only when the run shifts images). */
  private generators(): Record<string, Generator> {
    return { shuffle: this.shuffle, dropout: this.dropoutGen, ...(this.augmentGen && { augment: this.augmentGen }) };
  }

  /** Validates the progress saved in a checkpoint (epochs, position in the epoch, history) and stages it. */
  private stageProgress(epoch: number, extra: unknown): Staged {
    const invalid = "resume: the checkpoint's progress is invalid";
    const fail = (message: string): never => {
      throw new Error(`${invalid}: ${message}`);
    };
    if (!isPlainObject(extra)) return fail('it has no training progress (was it written by wasmgrad train?)');
    const { batchInEpoch, epochStartState, history, featureNames } = extra;
    const ours = this.data.info.featureNames;
    if (Array.isArray(featureNames) && JSON.stringify(featureNames) !== JSON.stringify(ours)) {
      const list = (names: unknown[] | undefined) => (names ? `${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}` : 'none');
      throw new Error(`resume: the checkpoint's run had the inputs ${list(featureNames)}, and this data gives ${list(ours)}: ` +
        'resume with the run\'s own data and columns (--data, --features, --ignore, --max-categories)');
    }
    if (!Number.isSafeInteger(batchInEpoch) || (batchInEpoch as number) < 0 || (batchInEpoch as number) >= this.batchesPerEpoch) {
      fail(`batchInEpoch must be an integer in [0, ${this.batchesPerEpoch}), got ${describe(batchInEpoch)}`);
    }
    // The shuffle state the epoch started from: an unfinished epoch needs it to draw the same order again.
    const start = epochStartState === null && batchInEpoch === 0 ? null : checkRngState(epochStartState, `${invalid}: epochStartState`);
    if (!Array.isArray(history)) return fail(`history must be a list of epoch metrics, got ${describe(history)}`);
    const metrics = history.map((m: unknown, i) => epochMetrics(m) ?? fail(`history entry ${i} is not a record of epoch metrics`));
    return staged(() => {
      this.epoch = epoch;
      this.batchInEpoch = batchInEpoch as number;
      this.epochStartState = start && Array.from(start);
      this.history.length = 0;
      for (const m of metrics) this.history.push(m);
    });
  }

  /** The configuration stored in a checkpoint (to rebuild a trainer before restore()); validated. */
  static configOf(bytes: Uint8Array): TrainConfig {
    return configFrom(Trainer.extraOf(bytes).config);
  }

  /** What checkpointBytes saved beside the weights: the configuration, the progress and the caller's `more`. */
  static extraOf(bytes: Uint8Array): Record<string, unknown> {
    const { extra } = readCheckpoint(bytes).meta;
    if (!isPlainObject(extra) || !Object.hasOwn(extra, 'config')) throw new Error('resume: the checkpoint was not written by wasmgrad train');
    return extra;
  }

  dispose(): void {
    this.step.dispose();
    this.optimizer.disposeState();
    this.model.dispose();
  }
}

/** How many labels there are (a text's padding, IGNORE_INDEX, is none) and at how many the argmax is the label. */
export function countCorrect(logits: Tensor, labels: Tensor): { hits: number; labels: number } {
  const pred = argMax(logits, -1);
  try {
    const p = pred.data();
    const y = labels.data();
    let hits = 0, counted = 0;
    for (let i = 0; i < p.length; i++) {
      if (y[i] === IGNORE_INDEX) continue;
      counted++;
      if (p[i] === y[i]) hits++;
    }
    return { hits, labels: counted };
  } finally {
    pred.dispose();
  }
}

const METRIC_KEYS = ['epoch', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'lr', 'seconds', 'samplesPerSecond'] as const;

/**
 * One epoch's metrics read back from JSON, or null if they are not. JSON writes NaN and ±Infinity (a diverged
 * loss) as null: those come back as NaN; the accuracies are null for regression.
 */
function epochMetrics(m: unknown): EpochMetrics | null {
  if (!isPlainObject(m) || !METRIC_KEYS.every((k) => typeof m[k] === 'number' || m[k] === null)) return null;
  const metrics = Object.fromEntries(METRIC_KEYS.map((k) => [k, m[k] === null && !k.endsWith('Accuracy') ? NaN : m[k]])) as unknown as EpochMetrics;
  // A regression's MAE and R² (checkpoints written before them have none).
  for (const k of ['testMae', 'testR2'] as const) if (typeof m[k] === 'number' || m[k] === null) metrics[k] = m[k] as number | null;
  return metrics;
}

/**
 * A configuration read from a checkpoint: every setting of TrainConfig, each valid. Checkpoints written before
 * the CNN have no model and randomShift: those were MLP runs without shifts; those written before the GPT have
 * none of its settings, which the MLP and the CNN do not use.
 */
function configFrom(saved: unknown): TrainConfig {
  const { context, layers, heads, width } = DEFAULTS;
  const c = isPlainObject(saved) ? { model: 'mlp', randomShift: 0, context, layers, heads, width, ...saved } : saved;
  try {
    validateConfig(c as TrainConfig, 'configuration');
  } catch (e) {
    throw new Error(`resume: the checkpoint's ${(e as Error).message}`);
  }
  return structuredClone(c) as TrainConfig;
}

/** What each setting of a TrainConfig must be. */
const CONFIG: Record<keyof TrainConfig, Check> = {
  model: oneOf(...MODEL_NAMES),
  hidden: { what: 'a list of positive integers (layer widths)', ok: (v) => Array.isArray(v) && v.every((h) => Number.isSafeInteger(h) && h > 0) },
  activation: oneOf(...ACTIVATION_NAMES),
  dropout: number({ ge: 0, lt: 1 }),
  context: integer({ ge: 1 }),
  layers: integer({ ge: 1 }),
  heads: integer({ ge: 1 }),
  width: integer({ ge: 1 }),
  epochs: integer({ ge: 1 }),
  batchSize: integer({ ge: 1 }),
  lr: number({ gt: 0 }),
  optimizer: oneOf(...OPTIMIZERS),
  momentum: number({ ge: 0 }),
  weightDecay: number({ ge: 0 }),
  l2: number({ ge: 0 }),
  schedule: oneOf(...SCHEDULES),
  randomShift: integer({ ge: 0 }),
  seed: integer({ ge: 0 }),
};

/** Throws unless c holds every setting of TrainConfig and nothing else, each valid; `api` names c in messages. */
export function validateConfig(c: TrainConfig, api = 'Trainer'): void {
  if (!isPlainObject(c)) throw new Error(`${api}: expected a training configuration, got ${describe(c)}`);
  checkOptions(api, c, CONFIG);
  const missing = Object.keys(CONFIG).filter((k) => c[k as keyof TrainConfig] === undefined);
  if (missing.length) throw new Error(`${api}: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`);
  if (c.model === 'gpt' && c.width % c.heads !== 0) {
    throw new Error(`${api}: heads must divide width (each head takes width / heads features), got ${c.heads} heads for width ${c.width}`);
  }
}

/**
 * The GPT and text go together; the CNN and random shifts need images (the digits), and shifts smaller than them.
 */
function checkData(c: TrainConfig, info: DataInfo): void {
  if ((c.model === 'gpt') !== (info.kind === 'text')) {
    throw new Error(c.model === 'gpt'
      ? `Trainer: model 'gpt' reads text (a character model), and this data is ${info.kind === 'csv' ? 'a table' : 'images'}: use model 'mlp' or 'cnn'`
      : `Trainer: model '${c.model}' cannot read text: use model 'gpt'`);
  }
  if (c.model === 'gpt' && info.inputDim !== c.context) {
    throw new Error(`Trainer: the text is cut into windows of ${info.inputDim} characters, and the model's context is ${c.context}: make them the same`);
  }
  const [, height = 0, width = 0] = info.imageShape ?? [];
  const needs = c.model === 'cnn' ? "model 'cnn'" : c.randomShift > 0 ? `randomShift ${c.randomShift}` : null;
  if (needs && !info.imageShape) {
    const what = info.kind === 'text' ? 'text' : `a table of ${info.inputDim} features: use model 'mlp' without randomShift`;
    throw new Error(`Trainer: ${needs} needs images (the embedded digits); this data is ${what}`);
  }
  if (c.randomShift > 0 && c.randomShift >= Math.min(height, width)) {
    throw new Error(`Trainer: randomShift must be less than the images' height and width (${height}×${width}), got ${c.randomShift}`);
  }
}
