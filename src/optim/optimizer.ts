// The optimizer contract, as PyTorch's: parameter groups with their own hyperparameters, per-parameter state,
// step(), zeroGrad(), stateDict() / loadStateDict(). The per-element update itself runs in the backend's
// optimizer kernel (wasm or ref), in place on the parameter's storage: no copies, nothing allocated per step
// once the state exists.
import { noGrad } from '../autograd/scope.js';
import { gradProblem, Tensor } from '../autograd/tensor.js';
import type { TypedArray } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';

export interface Hyper { lr: number }

export type ParamGroup<H extends Hyper> = H & { params: Tensor[] };

/** Parameters, or groups of them with hyperparameters that override the optimizer's defaults. */
export type ParamsInput<H extends Hyper> = readonly Tensor[] | readonly (Partial<H> & { params: readonly Tensor[] })[];

export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

/** A serialisable snapshot: hyperparameters per group, and each parameter's step and buffers (by index). */
export interface OptimizerStateDict {
  paramGroups: (Record<string, number | boolean | number[]> & { params: number[] })[];
  state: Record<number, { step: number; buffers: Record<string, { shape: readonly number[]; data: TypedArray }> }>;
}

export function check(ok: boolean, optimizer: string, message: string): void {
  if (!ok) throw new Error(`${optimizer}: ${message}`);
}

export abstract class Optimizer<H extends Hyper> {
  readonly paramGroups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(readonly name: string, params: ParamsInput<H>, defaults: H) {
    const groups = params.length > 0 && !('params' in params[0]!)
      ? [{ params: params as readonly Tensor[] }]
      : (params as readonly (Partial<H> & { params: readonly Tensor[] })[]);
    check(groups.length > 0 && groups.every((g) => g.params.length > 0), name, 'needs at least one parameter');
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g) => {
      const group = { ...defaults, ...g, params: [...g.params] } as ParamGroup<H>;
      for (const p of group.params) {
        check(p.requiresGrad && p.isLeaf, name, `parameter ${p.name ?? fmt(p.shape)} must be a leaf tensor that requires grad`);
        check(!seen.has(p), name, `parameter ${p.name ?? fmt(p.shape)} appears in more than one group`);
        seen.add(p);
      }
      this.validate(group);
      return group;
    });
  }

  /** Throws a clear error for an invalid hyperparameter (called for every group at construction). */
  protected abstract validate(h: H): void;

  /** Names of the state buffers a parameter needs under these hyperparameters (allocated zero-filled). */
  protected abstract buffersFor(h: H): string[];

  /** Applies one update to p in place. `state.step` has already been incremented. */
  protected abstract update(p: Tensor, grad: Tensor, h: H, state: ParamState): void;

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
      for (const { p, grad, group } of work) {
        const state = this.state.get(p)!;
        state.step++;
        this.update(p, grad, group, state);
      }
    });
  }

  /** Drops every parameter's gradient (PyTorch's set_to_none), also one disposed since it was assigned. */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad && !p.grad.isDisposed) p.grad.dispose();
        p.grad = null;
      }
    }
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
    return { paramGroups, state };
  }

  /** Throws if `sd` does not fit this optimizer (its groups, parameters and shapes); changes nothing. */
  checkStateDict(sd: OptimizerStateDict): void {
    const all = this.allParams();
    check(sd.paramGroups?.length === this.paramGroups.length, this.name,
      `loadStateDict: the state has ${sd.paramGroups?.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    sd.paramGroups.forEach((g, i) => {
      const mine = this.paramGroups[i]!.params.map((p) => all.indexOf(p));
      check(JSON.stringify(g.params) === JSON.stringify(mine), this.name,
        `loadStateDict: group ${i} holds parameters [${g.params}], expected [${mine}]`);
      const { params: _, ...h } = g;
      this.validate({ ...this.paramGroups[i]!, ...h } as unknown as H);
    });
    for (const [key, s] of Object.entries(sd.state ?? {})) {
      const p = all[Number(key)];
      check(p !== undefined, this.name, `loadStateDict: state for parameter ${key}, which does not exist`);
      check(Number.isInteger(s.step) && s.step >= 0, this.name, `loadStateDict: bad step ${s.step} for parameter ${key}`);
      for (const [b, v] of Object.entries(s.buffers)) {
        check(fmt(v.shape) === fmt(p!.shape) && v.data.length === p!.size, this.name,
          `loadStateDict: buffer '${b}' of parameter ${key} has shape ${fmt(v.shape)}, the parameter ${fmt(p!.shape)}`);
      }
    }
  }

  /** Restores hyperparameters and state; everything is validated before anything changes. */
  loadStateDict(sd: OptimizerStateDict): void {
    this.checkStateDict(sd);
    const all = this.allParams();
    sd.paramGroups.forEach((g, i) => {
      const { params: _, ...h } = g;
      Object.assign(this.paramGroups[i]!, h);
    });
    this.disposeState();
    for (const [key, s] of Object.entries(sd.state ?? {})) {
      const p = all[Number(key)]!;
      const buffers: Record<string, Tensor> = {};
      for (const [b, v] of Object.entries(s.buffers)) {
        buffers[b] = zerosFor(p);
        p.backend.write(buffers[b]!.buf, v.data);
      }
      this.state.set(p, { step: s.step, buffers });
    }
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
