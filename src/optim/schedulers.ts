// Learning-rate schedules with PyTorch's names and formulas (closed forms of torch.optim.lr_scheduler). Call
// scheduler.step() once per epoch (or per batch for OneCycleLR) after optimizer.step(); each sets every
// parameter group's lr from the group's initial lr and the number of steps taken. Like the optimizers, every
// scheduler takes its settings as one options object with PyTorch's argument names in camelCase
// (`new CosineAnnealingLR(opt, { tMax: 100 })`); there is no positional form, which for OneCycleLR's five numbers
// could not be read without the signature at hand.
import { Tensor } from '../autograd/tensor.js';
import { effect, tracing } from '../compile/trace.js';
import { checkOptions, describe, integer, isPlainObject, number, oneOf, type Check, type Unsupported } from '../options.js';
import { staged, type Staged } from '../staging.js';
import { Optimizer, type Hyper } from './optimizer.js';

/** Checks that a scheduler was given an optimizer (the first argument of every scheduler). */
function checkOptimizer(api: string, optimizer: unknown): void {
  if (!(optimizer instanceof Optimizer)) {
    throw new Error(`${api}: the first argument must be an optimizer (e.g. new optim.SGD(...)), got ${describe(optimizer)}`);
  }
}

/** The state of an {@link LRScheduler}: what stateDict() gives and loadStateDict() takes. */
export interface SchedulerState {
  /** The scheduler's name ('StepLR', …); states of wasmgrad 0.1.0 have none. */
  scheduler?: string;
  /** Steps taken so far. */
  lastEpoch: number;
  /** Each parameter group's initial lr. */
  baseLrs: number[];
}

/**
 * The base of the schedules that compute each group's lr from its initial lr and the step count (all but
 * {@link ReduceLROnPlateau}). Every scheduler takes its settings as one options object after the optimizer, with
 * PyTorch's argument names in camelCase (`new StepLR(opt, { stepSize: 30 })`); there is no positional form. Its
 * settings are not in the state: a scheduler loads the state of one built with the same options.
 */
export abstract class LRScheduler {
  /** Steps taken so far (PyTorch's last_epoch). */
  lastEpoch = 0;
  /** Each parameter group's lr when the scheduler was made: the lrs the schedule scales. */
  readonly baseLrs: number[];

  /** Checks that `optimizer` is an optimizer and records its groups' lrs as the initial ones. */
  constructor(
    /** The optimizer whose parameter groups' lr this scheduler sets. */
    readonly optimizer: Optimizer<Hyper>,
  ) {
    checkOptimizer(this.constructor.name, optimizer);
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of group i after `epoch` steps. */
  protected abstract lrAt(epoch: number, baseLr: number, i: number): number;

  /** Inside a compiled step, this happens again at every call (the lr it sets is read by the replayed update). */
  step(): void {
    effect(() => {
      this.lastEpoch++;
      this.apply();
    });
  }

  /** Sets every group's lr to the schedule's value at `lastEpoch`. */
  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.lastEpoch, this.baseLrs[i]!, i)));
  }

  /** Each parameter group's current lr. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The step count and initial lrs, tagged with the scheduler's name (JSON-serialisable). */
  stateDict(): SchedulerState {
    return { scheduler: schedulerName(this), lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores the step count and initial lrs, and sets the optimizer's lrs from them; validated first. */
  loadStateDict(s: SchedulerState): void {
    this.stageStateDict(s).commit();
  }

  /** loadStateDict's validation and staging (see Staged). */
  stageStateDict(s: unknown): Staged {
    const fail = readState(s, schedulerName(this), ['lastEpoch', 'baseLrs']);
    const { lastEpoch, baseLrs } = s as { lastEpoch: unknown; baseLrs: unknown };
    if (!Number.isSafeInteger(lastEpoch) || (lastEpoch as number) < 0) fail(`lastEpoch must be an integer ≥ 0, got ${describe(lastEpoch)}`);
    if (!Array.isArray(baseLrs) || baseLrs.length !== this.baseLrs.length ||
      !baseLrs.every((lr) => typeof lr === 'number' && Number.isFinite(lr) && lr >= 0)) {
      fail(`baseLrs must be ${this.baseLrs.length} finite learning rates ≥ 0 (one per parameter group), got ${describe(baseLrs)}`);
    }
    const lrs = [...(baseLrs as number[])];
    return staged(() => {
      this.lastEpoch = lastEpoch as number;
      this.baseLrs.splice(0, this.baseLrs.length, ...lrs);
      this.apply();
    });
  }
}

/**
 * Checks that `s` is an object with exactly the keys `keys` (plus the type tag) and, when tagged, the tag `name`;
 * returns the function that throws the scheduler's errors. An untagged state (wasmgrad 0.1.0) is recognised by
 * its keys.
 */
function readState(s: unknown, name: string, keys: string[]): (message: string) => never {
  const fail = (message: string): never => {
    throw new Error(`${name}: loadStateDict: ${message}`);
  };
  if (!isPlainObject(s)) fail(`expected a state object, got ${describe(s)}`);
  const state = s as Record<string, unknown>;
  if (state.scheduler !== undefined && state.scheduler !== name) {
    fail(typeof state.scheduler === 'string' ? `this state was saved by ${state.scheduler}; it cannot be loaded into ${name}`
      : `the scheduler type must be a name, got ${describe(state.scheduler)}`);
  }
  const theirs = Object.keys(state).filter((k) => k !== 'scheduler');
  if (theirs.length !== keys.length || keys.some((k) => !Object.hasOwn(state, k))) {
    fail(`the state has {${theirs.join(', ')}}, ${name} keeps {${keys.join(', ')}}: was it saved by another scheduler?`);
  }
  return fail;
}

/** PyTorch scheduler arguments that wasmgrad does not take, with what to do instead. */
const NOT_TAKEN = {
  lastEpoch: 'to resume a schedule, load its stateDict() with loadStateDict()',
  verbose: 'read getLastLr() after step()',
};

/**
 * Checks a scheduler's options object: a plain object with only the names of `spec`, every value of the right kind
 * and range, and the `required` names given. A number in its place (the positional form of wasmgrad 0.1 and of
 * PyTorch) is refused with the options object to write instead. Returns the options.
 */
function schedulerOptions<T extends object>(api: string, options: T, spec: Readonly<Record<string, Check>>,
  required: readonly (keyof T & string)[], example: string, unsupported: Unsupported = {}): T {
  if (!isPlainObject(options)) {
    throw new Error(`${api}: the second argument must be an options object such as ${example}, got ${describe(options)}`);
  }
  checkOptions(api, options, spec, { ...NOT_TAKEN, ...unsupported });
  for (const name of required) {
    if (options[name] === undefined) throw new Error(`${api}: ${name} is required, e.g. ${example}`);
  }
  return options;
}

const positiveInt = integer({ ge: 1 });
const positive = number({ gt: 0 });

/** {@link StepLR}'s options, PyTorch's arguments in camelCase. */
export interface StepLROptions {
  /** Steps (epochs) between two decays: PyTorch's `step_size`. Required. */
  stepSize: number;
  /** The factor applied at each decay. Default 0.1. */
  gamma?: number;
}

/**
 * Decays the lr by `gamma` every `stepSize` steps: lr = base·γ^⌊epoch / stepSize⌋ (torch.optim.lr_scheduler.StepLR).
 *
 * @example new optim.StepLR(opt, { stepSize: 30, gamma: 0.1 })
 */
export class StepLR extends LRScheduler {
  /** Steps between two decays. */
  readonly stepSize: number;
  /** The factor applied at each decay. */
  readonly gamma: number;

  /** Throws `StepLR: …` for a missing stepSize, an unknown option or a value out of range. */
  constructor(optimizer: Optimizer<Hyper>, options: StepLROptions) {
    super(optimizer);
    const { stepSize, gamma = 0.1 } = schedulerOptions('StepLR', options, { stepSize: positiveInt, gamma: positive },
      ['stepSize'], '{ stepSize: 30, gamma: 0.1 }');
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** {@link ExponentialLR}'s options. */
export interface ExponentialLROptions {
  /** The factor applied at every step. Required. */
  gamma: number;
}

/**
 * Decays the lr by `gamma` at every step: lr = base·γ^epoch (torch.optim.lr_scheduler.ExponentialLR).
 *
 * @example new optim.ExponentialLR(opt, { gamma: 0.9 })
 */
export class ExponentialLR extends LRScheduler {
  /** The factor applied at every step. */
  readonly gamma: number;

  /** Throws `ExponentialLR: …` for a missing gamma, an unknown option or a value out of range. */
  constructor(optimizer: Optimizer<Hyper>, options: ExponentialLROptions) {
    super(optimizer);
    ({ gamma: this.gamma } = schedulerOptions('ExponentialLR', options, { gamma: positive }, ['gamma'], '{ gamma: 0.9 }'));
  }

  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** epoch;
  }
}

/** {@link CosineAnnealingLR}'s options. */
export interface CosineAnnealingLROptions {
  /** Steps of one half cosine, from the initial lr down to etaMin: PyTorch's `T_max`. Required. */
  tMax: number;
  /** The lr reached after tMax steps: PyTorch's `eta_min`. Default 0. */
  etaMin?: number;
}

/**
 * Anneals the lr along a half cosine: lr = ηmin + (base − ηmin)·(1 + cos(π·epoch/Tmax))/2
 * (the closed form of torch.optim.lr_scheduler.CosineAnnealingLR).
 *
 * @example new optim.CosineAnnealingLR(opt, { tMax: epochs, etaMin: 1e-5 })
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Steps of one half cosine. */
  readonly tMax: number;
  /** The lr reached after tMax steps. */
  readonly etaMin: number;

  /** Throws `CosineAnnealingLR: …` for a missing tMax, an unknown option or a value out of range. */
  constructor(optimizer: Optimizer<Hyper>, options: CosineAnnealingLROptions) {
    super(optimizer);
    const { tMax, etaMin = 0 } = schedulerOptions('CosineAnnealingLR', options,
      { tMax: positiveInt, etaMin: number({ ge: 0 }) }, ['tMax'], '{ tMax: 100 }');
    this.tMax = tMax;
    this.etaMin = etaMin;
  }

  protected lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** {@link LinearLR}'s options; all have PyTorch's defaults. */
export interface LinearLROptions {
  /** The lr's factor at the start, in (0, 1]. Default 1/3. */
  startFactor?: number;
  /** The lr's factor after totalIters steps, in [0, 1]. Default 1. */
  endFactor?: number;
  /** Steps from startFactor to endFactor. Default 5. */
  totalIters?: number;
}

/**
 * Linear warm-up (or decay) of the lr's factor: lr = base·(start + (end − start)·min(epoch, total)/total)
 * (torch.optim.lr_scheduler.LinearLR). The optimizer's lr is set to base·startFactor at once.
 *
 * @example new optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 })
 */
export class LinearLR extends LRScheduler {
  /** The lr's factor at the start. */
  readonly startFactor: number;
  /** The lr's factor after totalIters steps. */
  readonly endFactor: number;
  /** Steps from startFactor to endFactor. */
  readonly totalIters: number;

  /** Throws `LinearLR: …` for an unknown option or a value out of range; no option is required. */
  constructor(optimizer: Optimizer<Hyper>, options: LinearLROptions = {}) {
    super(optimizer);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = schedulerOptions('LinearLR', options, {
      startFactor: number({ gt: 0, le: 1 }), endFactor: number({ ge: 0, le: 1 }), totalIters: positiveInt,
    }, [], '{ startFactor: 0.1, totalIters: 5 }');
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.apply();
  }

  protected lrAt(epoch: number, base: number): number {
    return base * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(epoch, this.totalIters)) / this.totalIters);
  }
}

/** {@link OneCycleLR}'s options: `maxLr` and `totalSteps` are required, the rest have PyTorch's defaults. */
export interface OneCycleLROptions {
  /** The peak lr. Required. */
  maxLr: number;
  /** The number of steps (batches) of the whole schedule: epochs × batches per epoch. Required. */
  totalSteps: number;
  /** The fraction of the steps spent rising to maxLr, in (0, 1). Default 0.3. */
  pctStart?: number;
  /** The initial lr is maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** The final lr is maxLr / (divFactor · finalDivFactor). Default 1e4. */
  finalDivFactor?: number;
}

/**
 * The 1cycle policy (step it per batch): from maxLr/divFactor up to maxLr over pctStart of the steps, then down to
 * maxLr/(divFactor·finalDivFactor), both with cosine annealing (torch.optim.lr_scheduler.OneCycleLR with its
 * default 'cos' strategy, without momentum cycling). The optimizer's lr is replaced by this schedule.
 *
 * @example new optim.OneCycleLR(opt, { maxLr: 0.1, totalSteps: epochs * loader.length })
 */
export class OneCycleLR extends LRScheduler {
  /** The peak lr. */
  readonly maxLr: number;
  /** The number of steps of the whole schedule. */
  readonly totalSteps: number;
  /** The fraction of the steps spent rising to maxLr. */
  readonly pctStart: number;
  /** The initial lr is maxLr / divFactor. */
  readonly divFactor: number;
  /** The final lr is maxLr / (divFactor · finalDivFactor). */
  readonly finalDivFactor: number;

  /** Throws `OneCycleLR: …` for a missing maxLr or totalSteps, an unknown option or a value out of range. */
  constructor(optimizer: Optimizer<Hyper>, options: OneCycleLROptions) {
    super(optimizer);
    const { maxLr, totalSteps, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = schedulerOptions('OneCycleLR', options, {
      maxLr: positive, totalSteps: positiveInt, pctStart: number({ gt: 0, lt: 1 }), divFactor: positive, finalDivFactor: positive,
    }, ['maxLr', 'totalSteps'], '{ maxLr: 0.1, totalSteps: 1000 }', {
      epochs: 'give totalSteps: epochs × steps per epoch',
      stepsPerEpoch: 'give totalSteps: epochs × steps per epoch',
      annealStrategy: "only PyTorch's default, 'cos', is implemented",
      cycleMomentum: 'only the lr is scheduled; momentum stays as the optimizer has it',
      baseMomentum: 'only the lr is scheduled; momentum stays as the optimizer has it',
      maxMomentum: 'only the lr is scheduled; momentum stays as the optimizer has it',
      threePhase: 'only the two-phase schedule is implemented',
    });
    this.maxLr = maxLr;
    this.totalSteps = totalSteps;
    this.pctStart = pctStart;
    this.divFactor = divFactor;
    this.finalDivFactor = finalDivFactor;
    this.apply();
  }

  protected lrAt(epoch: number): number {
    const initial = this.maxLr / this.divFactor;
    const min = initial / this.finalDivFactor;
    const peak = this.pctStart * this.totalSteps - 1;
    const last = this.totalSteps - 1;
    const t = Math.min(epoch, last);
    const anneal = (from: number, to: number, pct: number) => to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1);
    return t <= peak ? anneal(initial, this.maxLr, t / peak) : anneal(this.maxLr, min, (t - peak) / (last - peak));
  }
}

/** {@link ReduceLROnPlateau}'s options, all optional with PyTorch's defaults. */
export interface ReduceLROnPlateauOptions {
  /** 'min' when the metric should fall (a loss), 'max' when it should rise (an accuracy). Default 'min'. */
  mode?: 'min' | 'max';
  /** The factor applied to the lr at each reduction, in (0, 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before a reduction. Default 10. */
  patience?: number;
  /** The relative change that counts as an improvement. Default 1e-4. */
  threshold?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** The lr never goes below this. Default 0. */
  minLr?: number;
}

/**
 * Multiplies lr by `factor` when a metric has not improved for `patience` epochs: step(metric)
 * (torch.optim.lr_scheduler.ReduceLROnPlateau).
 *
 * @example new optim.ReduceLROnPlateau(opt, { mode: 'max', patience: 2 })
 */
export class ReduceLROnPlateau {
  private best: number;
  private badEpochs = 0;
  private cooldownLeft = 0;

  /** Throws `ReduceLROnPlateau: …` for an unknown option or a value out of range. */
  constructor(
    /** The optimizer whose parameter groups' lr this scheduler lowers. */
    readonly optimizer: Optimizer<Hyper>,
    /** The settings as given (defaults are applied where they are read). */
    readonly options: ReduceLROnPlateauOptions = {},
  ) {
    checkOptimizer('ReduceLROnPlateau', optimizer);
    checkOptions('ReduceLROnPlateau', options, {
      mode: oneOf('min', 'max'), factor: number({ gt: 0, lt: 1 }), patience: integer({ ge: 0 }), threshold: number({ ge: 0 }),
      cooldown: integer({ ge: 0 }), minLr: number({ ge: 0 }),
    }, {
      thresholdMode: "only PyTorch's default, 'rel', is implemented",
      eps: 'every reduction is applied, however small',
      verbose: 'read getLastLr() after step()',
    });
    this.best = (options.mode ?? 'min') === 'min' ? Infinity : -Infinity;
  }

  /** The metric may be a number or a one-element tensor (a loss), as PyTorch accepts; NaN never counts as better. */
  step(value: number | Tensor): void {
    if (tracing.active) {
      throw new Error('compile: ReduceLROnPlateau.step() cannot run inside a compiled step (it decides from a metric ' +
        'that replay would not see again); call it outside the step, e.g. once per epoch');
    }
    const metric = value instanceof Tensor && value.size === 1 ? value.item() : value;
    if (typeof metric !== 'number') {
      throw new Error(`ReduceLROnPlateau: step(metric) needs the metric to watch, a number or a one-element tensor, got ${describe(value)}`);
    }
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, cooldown = 0, minLr = 0 } = this.options;
    const better = mode === 'min' ? metric < this.best * (1 - threshold) : metric > this.best * (1 + threshold);
    if (better) {
      this.best = metric;
      this.badEpochs = 0;
    } else this.badEpochs++;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.badEpochs = 0;
    }
    if (this.badEpochs > patience) {
      for (const g of this.optimizer.paramGroups) g.lr = Math.max(g.lr * factor, minLr);
      this.cooldownLeft = cooldown;
      this.badEpochs = 0;
    }
  }

  /** Each parameter group's current lr. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The best metric so far and the epoch counters, tagged with the scheduler's name. */
  stateDict(): {
    /** Always 'ReduceLROnPlateau': what loadStateDict checks before loading. */
    scheduler: string;
    /** The best metric seen (±Infinity before the first step). */
    best: number;
    /** Epochs since the metric last improved. */
    badEpochs: number;
    /** Epochs of cooldown left after the last reduction. */
    cooldownLeft: number;
  } {
    return { scheduler: 'ReduceLROnPlateau', best: this.best, badEpochs: this.badEpochs, cooldownLeft: this.cooldownLeft };
  }

  /** Restores what stateDict() gave; validated first, so a refused state changes nothing. */
  loadStateDict(s: { best: number | null; badEpochs: number; cooldownLeft: number }): void {
    this.stageStateDict(s).commit();
  }

  /**
   * loadStateDict's validation and staging (see Staged). `best` may be null: JSON (a checkpoint) writes the
   * ±Infinity of "no metric seen yet" as null.
   */
  stageStateDict(s: unknown): Staged {
    const fail = readState(s, 'ReduceLROnPlateau', ['best', 'badEpochs', 'cooldownLeft']);
    const { best, badEpochs, cooldownLeft } = s as Record<string, unknown>;
    if (best !== null && (typeof best !== 'number' || Number.isNaN(best))) fail(`best must be a number or null, got ${describe(best)}`);
    for (const [k, v] of [['badEpochs', badEpochs], ['cooldownLeft', cooldownLeft]] as const) {
      if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`${k} must be an integer ≥ 0, got ${describe(v)}`);
    }
    const none = (this.options.mode ?? 'min') === 'min' ? Infinity : -Infinity;
    return staged(() => {
      this.best = best === null ? none : (best as number);
      this.badEpochs = badEpochs as number;
      this.cooldownLeft = cooldownLeft as number;
    });
  }
}

// The names saved in state dicts, spelled out: class names do not survive minifying bundlers.
const SCHEDULER_NAMES = new Map<unknown, string>([
  [StepLR, 'StepLR'], [ExponentialLR, 'ExponentialLR'], [CosineAnnealingLR, 'CosineAnnealingLR'], [LinearLR, 'LinearLR'],
  [OneCycleLR, 'OneCycleLR'],
]);

function schedulerName(s: LRScheduler): string {
  return SCHEDULER_NAMES.get(s.constructor) ?? s.constructor.name;
}
