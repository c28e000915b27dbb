// Learning-rate schedules with PyTorch's names and formulas (closed forms of torch.optim.lr_scheduler). Call
// scheduler.step() once per epoch (or per batch for OneCycleLR) after optimizer.step(); each sets every
// parameter group's lr from the group's initial lr and the number of steps taken.
import { Tensor } from '../autograd/tensor.js';
import { effect, tracing } from '../compile/trace.js';
import { checkOptions, checkValue, describe, integer, isPlainObject, number, oneOf, type Check } from '../options.js';
import { staged, type Staged } from '../staging.js';
import { Optimizer, type Hyper } from './optimizer.js';

/** Checks that a scheduler was given an optimizer (the first argument of every scheduler). */
function checkOptimizer(api: string, optimizer: unknown): void {
  if (!(optimizer instanceof Optimizer)) {
    throw new Error(`${api}: the first argument must be an optimizer (e.g. new optim.SGD(...)), got ${describe(optimizer)}`);
  }
}

export interface SchedulerState {
  /** The scheduler's name ('StepLR', …); states of wasmgrad 0.1.0 have none. */
  scheduler?: string;
  lastEpoch: number;
  baseLrs: number[];
}

export abstract class LRScheduler {
  lastEpoch = 0;
  readonly baseLrs: number[];

  constructor(readonly optimizer: Optimizer<Hyper>) {
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

  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.lastEpoch, this.baseLrs[i]!, i)));
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

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

/** Checks a scheduler's positional numbers, named as in its signature. */
function checkArgs(api: string, args: Record<string, [value: unknown, check: Check]>): void {
  for (const [name, [value, check]] of Object.entries(args)) checkValue(api, name, value, check);
}

const positiveInt = integer({ ge: 1 });
const positive = number({ gt: 0 });

/** lr = base·γ^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer<Hyper>, readonly stepSize: number, readonly gamma = 0.1) {
    super(optimizer);
    checkArgs('StepLR', { stepSize: [stepSize, positiveInt], gamma: [gamma, positive] });
  }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = base·γ^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer<Hyper>, readonly gamma: number) {
    super(optimizer);
    checkArgs('ExponentialLR', { gamma: [gamma, positive] });
  }
  protected lrAt(epoch: number, base: number): number {
    return base * this.gamma ** epoch;
  }
}

/** lr = ηmin + (base − ηmin)·(1 + cos(π·epoch/Tmax))/2. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer<Hyper>, readonly tMax: number, readonly etaMin = 0) {
    super(optimizer);
    checkArgs('CosineAnnealingLR', { tMax: [tMax, positiveInt], etaMin: [etaMin, number({ ge: 0 })] });
  }
  protected lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** Linear warm-up (or decay): lr = base·(start + (end − start)·min(epoch, total)/total). */
export class LinearLR extends LRScheduler {
  constructor(optimizer: Optimizer<Hyper>, readonly startFactor = 1 / 3, readonly endFactor = 1, readonly totalIters = 5) {
    super(optimizer);
    checkArgs('LinearLR', {
      startFactor: [startFactor, number({ gt: 0, le: 1 })], endFactor: [endFactor, number({ ge: 0, le: 1 })],
      totalIters: [totalIters, positiveInt],
    });
    this.apply();
  }
  protected lrAt(epoch: number, base: number): number {
    return base * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(epoch, this.totalIters)) / this.totalIters);
  }
}

/**
 * The 1cycle policy (per batch): from maxLr/divFactor up to maxLr over pctStart of the steps, then down to
 * maxLr/(divFactor·finalDivFactor), both with cosine annealing. The optimizer's lr is replaced by this schedule.
 */
export class OneCycleLR extends LRScheduler {
  constructor(optimizer: Optimizer<Hyper>, readonly maxLr: number, readonly totalSteps: number,
    readonly pctStart = 0.3, readonly divFactor = 25, readonly finalDivFactor = 1e4) {
    super(optimizer);
    checkArgs('OneCycleLR', {
      maxLr: [maxLr, positive], totalSteps: [totalSteps, positiveInt], pctStart: [pctStart, number({ gt: 0, lt: 1 })],
      divFactor: [divFactor, positive], finalDivFactor: [finalDivFactor, positive],
    });
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

/** Multiplies lr by `factor` when a metric has not improved for `patience` epochs: step(metric). */
export class ReduceLROnPlateau {
  private best: number;
  private badEpochs = 0;
  private cooldownLeft = 0;

  constructor(readonly optimizer: Optimizer<Hyper>, readonly options: {
    mode?: 'min' | 'max'; factor?: number; patience?: number; threshold?: number; cooldown?: number; minLr?: number;
  } = {}) {
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

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): { scheduler: string; best: number; badEpochs: number; cooldownLeft: number } {
    return { scheduler: 'ReduceLROnPlateau', best: this.best, badEpochs: this.badEpochs, cooldownLeft: this.cooldownLeft };
  }

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
