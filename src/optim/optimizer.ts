// The optimizer contract, as PyTorch's: parameter groups with their own hyperparameters, per-parameter state,
// step(), zeroGrad(), stateDict() / loadStateDict(). The per-element update itself runs in the backend's
// optimizer kernel (wasm or ref), in place on the parameter's storage: no copies, nothing allocated per step
// once the state exists.
import { tensorList } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import type { TypedArray } from '../backend/types.js';
import { fmt } from '../kernels/shape.js';
import { checkKeys, checkValue, describe, given, isPlainObject, type Check, type Unsupported } from '../options.js';

export interface Hyper { lr: number }

export type ParamGroup<H extends Hyper> = H & { params: Tensor[] };

/** Parameters (one tensor, or an array of them), or groups of them with hyperparameters that override the defaults. */
export type ParamsInput<H extends Hyper> = Tensor | readonly Tensor[] | readonly (Partial<H> & { params: Tensor | readonly Tensor[] })[];

export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

/** A serialisable snapshot: hyperparameters per group, and each parameter's step and buffers (by index). */
export interface OptimizerStateDict {
  paramGroups: (Record<string, number | boolean | number[]> & { params: number[] })[];
  state: Record<number, { step: number; buffers: Record<string, { shape: readonly number[]; data: TypedArray }> }>;
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

export abstract class Optimizer<H extends Hyper> {
  readonly paramGroups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, ParamState>();

  /**
   * `options` are the defaults of every group (over the optimizer's own `defaults`); a group's own options win.
   * Everything is checked: the names and values of the options, and the parameters (leaves that require a
   * gradient, each listed once).
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

  /** Applies one update to p in place. `state.step` has already been incremented. */
  protected abstract update(p: Tensor, grad: Tensor, h: H, state: ParamState): void;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          const state = this.stateOf(p, group);
          state.step++;
          this.update(p, p.grad, group, state);
        }
      }
    });
  }

  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  protected stateOf(p: Tensor, h: H): ParamState {
    let s = this.state.get(p);
    if (!s) {
      const buffers: Record<string, Tensor> = {};
      for (const b of this.buffersFor(h)) buffers[b] = zerosFor(p);
      s = { step: 0, buffers };
      this.state.set(p, s);
    }
    return s;
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
  const buf = p.backend.alloc(p.dtype, p.size);
  p.backend.fill(buf, 0, 0, p.size);
  const t = new Tensor(buf, p.shape);
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
