// The optimizer contract, as PyTorch's: parameter groups with their own hyperparameters, per-parameter state,
// step(), zeroGrad(), stateDict() / loadStateDict(). The per-element update itself runs in the backend's
// optimizer kernel (wasm or ref), in place on the parameter's storage: no copies, nothing allocated per step
// once the state exists.
import { tensorList } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import { replayed, tracing } from '../compile/trace.js';
import { dropGrads, gradProblem, Tensor } from '../autograd/tensor.js';
import type { TypedArray } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { checkKeys, checkValue, describe, given, isPlainObject, type Check, type Unsupported } from '../options.js';
import type { Staged } from '../staging.js';

/** What every optimizer's hyperparameters have: a learning rate. */
export interface Hyper {
  /** Learning rate. */
  lr: number;
}

/** A parameter group: its hyperparameters and its parameters (PyTorch's param_groups entries). */
export type ParamGroup<H extends Hyper> = H & {
  /** The parameters this group updates. */
  params: Tensor[];
};

/** Parameters (one tensor, or an array of them), or groups of them with hyperparameters that override the defaults. */
export type ParamsInput<H extends Hyper> = Tensor | readonly Tensor[] | readonly (Partial<H> & {
  /** The group's parameters. */
  params: Tensor | readonly Tensor[];
})[];

/** An optimizer's state for one parameter. */
export interface ParamState {
  /** Updates made so far. */
  step: number;
  /**
   * The optimizer's running tensors by name (SGD: momentumBuffer; Adam: expAvg, expAvgSq; …), shaped like the
   * parameter.
   */
  buffers: Record<string, Tensor>;
}

/** A serialisable snapshot: hyperparameters per group, and each parameter's step and buffers (by index). */
export interface OptimizerStateDict {
  /** The optimizer's name ('SGD', 'Adam', …); state dicts of wasmgrad 0.1.0 have none. */
  optimizer?: string;
  /** Each group's hyperparameters and its parameters as indices into the optimizer's parameter order. */
  paramGroups: (Record<string, number | boolean | number[]> & {
    /** Indices of the group's parameters. */
    params: number[];
  })[];
  /** Per parameter index (only parameters that have state): its step count and buffers as plain data. */
  state: Record<number, {
    /** Updates made so far. */
    step: number;
    /** The optimizer's buffers by name. */
    buffers: Record<string, {
      /** The buffer's shape. */
      shape: readonly number[];
      /** Its values in row-major order. */
      data: TypedArray;
    }>;
  }>;
}

/** What an optimizer accepts: each hyperparameter with its check, and the PyTorch options it knowingly lacks. */
export interface OptimizerSpec {
  hyper: Readonly<Record<string, Check>>;
  unsupported: Unsupported;
}

const PYTORCH_ONLY: Unsupported = {
  maximize: 'minimise the negated objective instead',
  foreach: "a PyTorch implementation switch; wasmgrad's update is always one fused kernel per parameter",
  fused: "a PyTorch implementation switch; wasmgrad's update is always one fused kernel per parameter",
  capturable: 'CUDA graph capture does not apply here',
  differentiable: 'optimizer steps are not recorded for autograd',
  amsgrad: 'the AMSGrad variant is not implemented',
};

/** The PyTorch options of one optimizer that wasmgrad lacks, with the reason for each. */
export function pytorchOnly(...names: (keyof typeof PYTORCH_ONLY)[]): Unsupported {
  return Object.fromEntries(names.map((n) => [n, PYTORCH_ONLY[n]!]));
}

export function check(ok: boolean, optimizer: string, message: string): void {
  if (!ok) throw new Error(`${optimizer}: ${message}`);
}

/** H: the hyperparameters of a group; P: the numbers its update kernel takes (Adam's bias corrections, …). */
/**
 * The base of every optimizer, as PyTorch's torch.optim.Optimizer: parameter groups with their own
 * hyperparameters, per-parameter state, step(), zeroGrad(), stateDict() / loadStateDict(). The update runs in the
 * backend's kernel, in place on each parameter's storage.
 */
export abstract class Optimizer<H extends Hyper, P = unknown> {
  /** The parameter groups with their hyperparameters; change `lr` here (as schedulers do). */
  readonly paramGroups: ParamGroup<H>[];
  /** Each parameter's state, made on its first update. */
  protected readonly state = new Map<Tensor, ParamState>();

  /**
   * `options` are the defaults of every group (over the optimizer's own `defaults`); a group's own options win.
   * Everything is checked: the names and values of the options, and the parameters (leaves that require a
   * gradient, each listed once).
   *
   * @param name The optimizer's name, used in error messages and state dicts ('SGD', 'Adam', …).
   */
  constructor(readonly name: string, params: ParamsInput<H>, options: unknown, defaults: Partial<H>,
    private readonly spec: OptimizerSpec) {
    checkKeys(name, options, Object.keys(spec.hyper), spec.unsupported);
    const seen = new Map<Tensor, string>();
    this.paramGroups = groupsOf(name, params).map(({ params: ps, hyper, label }) => {
      const group = { ...defaults, ...given(options as Partial<H>), ...given(hyper), params: ps } as ParamGroup<H>;
      ps.forEach((p, i) => {
        const where = `${label}params[${i}]`;
        const what = `parameter ${p.name ? `'${p.name}'` : fmt(p.shape)}`;
        check(!p.isDisposed, name, `${what} (${where}) was disposed`);
        check(p.requiresGrad && p.isLeaf, name, `${what} (${where}) must be a leaf tensor that requires grad`);
        const first = seen.get(p);
        check(first === undefined, name, `${what} is listed twice, as ${first} and as ${where}; list each parameter once`);
        seen.set(p, where);
      });
      this.validate(group);
      return group;
    });
  }

  /**
   * Throws a clear error unless h holds exactly this optimizer's hyperparameters (and params), each a valid
   * value: called for every group at construction and by loadStateDict.
   */
  protected validate(h: H): void {
    checkKeys(this.name, h, [...Object.keys(this.spec.hyper), 'params'], this.spec.unsupported);
    for (const [k, c] of Object.entries(this.spec.hyper)) checkValue(this.name, k, (h as unknown as Record<string, unknown>)[k], c);
  }

  /** Names of the state buffers a parameter needs under these hyperparameters (allocated zero-filled). */
  protected abstract buffersFor(h: H): string[];

  /** The numbers of p's update kernel for this step, from its group's hyperparameters and its state (step counted). */
  protected abstract kernelParams(h: H, state: ParamState): P;

  /** Applies one update to p in place, with the numbers kernelParams() gave. */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, params: P): void;

  /**
   * One optimisation step over every parameter that has a gradient, all or nothing: every gradient is checked and
   * every missing state buffer allocated before the first parameter changes. If that fails (a disposed gradient,
   * out of memory), no parameter and no existing state has changed, and the state allocated here is freed again.
   */
  step(): void {
    noGrad(() => {
      const work = this.paramGroups.flatMap((group) =>
        group.params.filter((p) => p.grad !== null).map((p) => ({ p, grad: p.grad!, group })));
      for (const { p, grad } of work) {
        const problem = gradProblem(p, grad);
        if (problem) throw new Error(`${this.name}: ${problem}; nothing was updated`);
      }
      const fresh: Tensor[] = [];
      try {
        for (const { p, group } of work) {
          if (!this.state.has(p)) fresh.push(p);
          this.stateOf(p, group);
        }
      } catch (e) {
        for (const p of fresh) this.dropState(p);
        throw e;
      }
      tracing.active?.guard(this, this.watchGroups());
      for (const { p, grad, group } of work) {
        const state = this.state.get(p)!;
        // A compiled step counts the step and recomputes the kernel's numbers (a schedule's lr, Adam's bias
        // corrections, SGD's first step) at every call, then runs the recorded update.
        replayed(() => {
          state.step++;
          this.update(p, grad, state, this.kernelParams(group, state));
        }, ([call]) => {
          state.step++;
          call!.args[call!.args.length - 1] = this.kernelParams(group, state);
        });
      }
    });
  }

  /**
   * For a compiled step: a check that the groups still hold the same parameters and keep the same state buffers
   * (which momentum or centered may change), null while they do.
   */
  private watchGroups(): () => string | null {
    const traced = this.paramGroups.map((g) => ({ group: g, params: [...g.params], buffers: this.buffersFor(g).join() }));
    const same = () => this.paramGroups.length === traced.length && traced.every((t, i) => {
      const g = this.paramGroups[i]!;
      return g === t.group && g.params.length === t.params.length && t.params.every((p, j) => g.params[j] === p) &&
        this.buffersFor(g).join() === t.buffers;
    });
    return () => (same() ? null : `${this.name}'s parameter groups or their state buffers changed`);
  }

  /** Drops every parameter's gradient (PyTorch's set_to_none), also one disposed since it was assigned. */
  zeroGrad(): void {
    dropGrads(this.allParams());
  }

  /** p's state, allocated zero-filled on first use; an allocation that fails frees the buffers made before it. */
  protected stateOf(p: Tensor, h: H): ParamState {
    let s = this.state.get(p);
    if (!s) {
      const buffers: Record<string, Tensor> = {};
      try {
        for (const b of this.buffersFor(h)) buffers[b] = zerosFor(p);
      } catch (e) {
        for (const t of Object.values(buffers)) t.dispose();
        throw e;
      }
      s = { step: 0, buffers };
      this.state.set(p, s);
    }
    return s;
  }

  private dropState(p: Tensor): void {
    const s = this.state.get(p);
    if (!s) return;
    for (const t of Object.values(s.buffers)) t.dispose();
    this.state.delete(p);
  }

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** A snapshot of the groups' hyperparameters and every parameter's state, as plain data (copies). */
  stateDict(): OptimizerStateDict {
    const all = this.allParams();
    const paramGroups = this.paramGroups.map(({ params, ...h }) => ({
      ...(h as unknown as Record<string, number | boolean | number[]>),
      params: params.map((p) => all.indexOf(p)),
    }));
    const state: OptimizerStateDict['state'] = {};
    all.forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      state[i] = {
        step: s.step,
        buffers: Object.fromEntries(Object.entries(s.buffers).map(([k, t]) => [k, { shape: t.shape, data: t.data() }])),
      };
    });
    return { optimizer: this.name, paramGroups, state };
  }

  /** Throws if `sd` does not fit this optimizer (see loadStateDict); changes nothing. */
  checkStateDict(sd: OptimizerStateDict): void {
    this.readStateDict(sd);
  }

  /**
   * Restores hyperparameters and state. Everything is validated before anything changes: the optimizer type,
   * the groups and their parameters, every hyperparameter, each parameter's step and buffers (names, shapes,
   * sizes, floating-point data).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    this.stageStateDict(sd).commit();
  }

  /**
   * loadStateDict's validation and staging (see Staged): the new state buffers are allocated here, so running
   * out of memory throws before anything changes; commit() swaps them in and frees the old ones.
   */
  stageStateDict(sd: OptimizerStateDict): Staged {
    const { groups, states } = this.readStateDict(sd);
    const created: Tensor[] = [];
    const next = new Map<Tensor, ParamState>();
    try {
      for (const { p, step, buffers } of states) {
        const tensors: Record<string, Tensor> = {};
        for (const [b, data] of buffers) {
          const t = zerosFor(p);
          created.push(t);
          p.backend.write(t.buf, data);
          tensors[b] = t;
        }
        next.set(p, { step, buffers: tensors });
      }
    } catch (e) {
      for (const t of created) t.dispose();
      throw e;
    }
    return {
      commit: () => {
        groups.forEach((h, i) => Object.assign(this.paramGroups[i]!, h));
        this.disposeState();
        for (const [p, s] of next) this.state.set(p, s);
      },
      abort: () => {
        for (const t of created) t.dispose();
      },
    };
  }

  /** Validates a state dict against this optimizer and returns what loading it sets; throws naming the problem. */
  private readStateDict(sd: OptimizerStateDict): {
    groups: Record<string, unknown>[];
    states: { p: Tensor; step: number; buffers: [string, ArrayLike<number>][] }[];
  } {
    const fail = (message: string): never => {
      throw new Error(`${this.name}: loadStateDict: ${message}`);
    };
    if (!isPlainObject(sd)) fail(`expected a state dict { optimizer, paramGroups, state }, got ${describe(sd)}`);
    if (sd.optimizer !== undefined && sd.optimizer !== this.name) {
      fail(typeof sd.optimizer === 'string'
        ? `this state was saved by ${sd.optimizer}; it cannot be loaded into ${this.name} (continue it with ${sd.optimizer})`
        : `the optimizer type must be a name, got ${describe(sd.optimizer)}`);
    }
    if (!Array.isArray(sd.paramGroups) || sd.paramGroups.length !== this.paramGroups.length) {
      fail(`the state has ${Array.isArray(sd.paramGroups) ? sd.paramGroups.length : 'no list of'} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const all = this.allParams();
    const groups = sd.paramGroups.map((g: unknown, i) => this.readGroup(g, i, all, sd.optimizer === this.name, fail));
    if (!isPlainObject(sd.state)) fail(`state must map parameter indices to { step, buffers }, got ${describe(sd.state)}`);
    const states = Object.entries(sd.state).map(([key, s]) => this.readParamState(key, s, all, groups, fail));
    return { groups, states };
  }

  /** Validates the state of parameter `key`: its step, and exactly the buffers these hyperparameters use. */
  private readParamState(key: string, s: unknown, all: Tensor[], groups: Record<string, unknown>[], fail: (m: string) => never) {
    const i = Number(key);
    if (String(i) !== key || !Number.isInteger(i) || i < 0 || i >= all.length) {
      fail(`state for parameter ${key}, which does not exist (this optimizer has parameters 0 to ${all.length - 1})`);
    }
    const p = all[i]!;
    if (!isPlainObject(s)) return fail(`the state of parameter ${key} must be { step, buffers }, got ${describe(s)}`);
    if (!Number.isSafeInteger(s.step) || (s.step as number) < 0) fail(`parameter ${key}: step must be an integer ≥ 0, got ${describe(s.step)}`);
    const given = s.buffers;
    if (!isPlainObject(given)) return fail(`parameter ${key}: buffers must map names to { shape, data }, got ${describe(given)}`);
    const h = groups[this.paramGroups.findIndex((g) => g.params.includes(p))]!;
    const expected = this.buffersFor(h as unknown as H);
    const names = Object.keys(given);
    if (names.length !== expected.length || expected.some((b) => !names.includes(b))) {
      fail(`parameter ${key} has buffers [${names.join(', ')}]; ${this.name} with these hyperparameters keeps [${expected.join(', ')}]`);
    }
    const buffers = expected.map((b): [string, ArrayLike<number>] => {
      const v = given[b];
      const shape = isPlainObject(v) ? v.shape : undefined;
      const data = isPlainObject(v) ? v.data : undefined;
      if (!Array.isArray(shape) || fmt(shape) !== fmt(p.shape)) {
        fail(`buffer '${b}' of parameter ${key} has shape ${Array.isArray(shape) ? fmt(shape) : describe(shape)}, the parameter ${fmt(p.shape)}`);
      }
      if (!(data instanceof Float32Array || data instanceof Float64Array || (Array.isArray(data) && data.every((x) => typeof x === 'number')))) {
        fail(`buffer '${b}' of parameter ${key} must hold floating-point data, got ${describe(data)}`);
      }
      const values = data as ArrayLike<number>;
      if (values.length !== p.size) fail(`buffer '${b}' of parameter ${key} has ${values.length} values, its shape ${fmt(p.shape)} holds ${p.size}`);
      return [b, values];
    });
    return { p, step: s.step as number, buffers };
  }

  /** Validates group i of a state dict: its parameters, and this optimizer's hyperparameters with valid values. */
  private readGroup(g: unknown, i: number, all: Tensor[], tagged: boolean, fail: (m: string) => never): Record<string, unknown> {
    if (!isPlainObject(g)) fail(`group ${i} must be an object of hyperparameters and params, got ${describe(g)}`);
    const { params, ...h } = g;
    const mine = this.paramGroups[i]!;
    const indices = mine.params.map((p) => all.indexOf(p));
    if (!Array.isArray(params) || params.join() !== indices.join() || params.some((x) => typeof x !== 'number')) {
      fail(`group ${i} holds parameters ${describe(params)}, expected [${indices}]`);
    }
    const ours = Object.keys(mine).filter((k) => k !== 'params');
    const theirs = Object.keys(h);
    // A missing name is said here; an unknown one in a state tagged as ours is validate()'s (it suggests the name
    // meant). Without a tag (files of wasmgrad 0.1.0) a different set of names is how another optimizer's state
    // is recognised.
    const missing = ours.some((k) => !Object.hasOwn(h, k));
    if (missing || (!tagged && ours.length !== theirs.length)) {
      fail(`group ${i} has the hyperparameters {${theirs.join(', ')}}, ${this.name} has {${ours.join(', ')}}` +
        (tagged ? '' : ': was the state saved by another optimizer?'));
    }
    const copy = structuredClone(h);
    try {
      this.validate({ ...copy, params: mine.params } as unknown as H);
    } catch (e) {
      fail(`group ${i}: ${(e as Error).message.replace(`${this.name}: `, '')}`);
    }
    return copy;
  }

  /** Frees the state buffers (the parameters are the model's). */
  disposeState(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.state.clear();
  }
}

function zerosFor(p: Tensor): Tensor {
  const z = K.empty(p.backend, p.dtype, p.shape);
  K.fill(z, 0);
  const t = new Tensor(z.buf, z.shape);
  t.moveToScope(null);
  return t;
}

/**
 * The groups a params argument describes: tensors (one group), or groups { params, ...hyperparameters }; each
 * with the label its parameters are named by in messages ('group 1, ').
 */
function groupsOf(name: string, params: unknown): { params: Tensor[]; hyper: Record<string, unknown>; label: string }[] {
  const items = params instanceof Tensor ? [params]
    : params !== null && typeof params === 'object' && Symbol.iterator in params ? [...(params as Iterable<unknown>)] : null;
  if (!items) {
    const isModule = typeof (params as { parameters?: unknown } | null)?.parameters === 'function';
    throw new Error(`${name}: params must be an array of tensors (model.parameters()) or of parameter groups ` +
      `{ params, ...options }, got ${describe(params)}${isModule ? '; pass model.parameters()' : ''}`);
  }
  check(items.length > 0, name, 'needs at least one parameter');
  if (!items.every(isPlainObject)) return [{ params: tensorList(name, 'params', items), hyper: {}, label: '' }];
  return items.map((group, g) => {
    const { params: ps, ...hyper } = group as Record<string, unknown>;
    const list = tensorList(name, `group ${g}: params`, ps);
    check(list.length > 0, name, `group ${g} needs at least one parameter`);
    return { params: list, hyper, label: `group ${g}, ` };
  });
}
