// Adam and AdamW — torch.optim.Adam / AdamW's update with bias correction:
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε)
// Adam adds weight decay to the gradient (g ← g + wd·p); AdamW decays the weights directly (p ← p·(1 − lr·wd)).
import type { Tensor } from '../autograd/tensor.js';
import type { AdamParams } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { number, type Check } from '../options.js';
import { Optimizer, pytorchOnly, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of Adam and AdamW (torch.optim's, in camelCase); each may be set per parameter group. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /**
   * Decay rates [β1, β2] of the running averages of the gradient and its square, each in [0, 1) (default [0.9, 0.999]).
   */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /**
   * Adam: L2 penalty added to the gradient (default 0); AdamW: decoupled decay, p·(1 − lr·weightDecay) (default 1e-2).
   */
  weightDecay: number;
}

const beta = number({ ge: 0, lt: 1 });
const betas: Check = { what: 'a pair [β1, β2] of numbers in [0, 1)', ok: (v) => Array.isArray(v) && v.length === 2 && v.every(beta.ok) };

const SPEC = {
  hyper: { lr: number({ ge: 0 }), betas, eps: number({ ge: 0 }), weightDecay: number({ ge: 0 }) },
  unsupported: pytorchOnly('amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable', 'fused'),
};

abstract class AdamBase extends Optimizer<AdamOptions, AdamParams> {
  protected abstract readonly decoupled: boolean;

  protected buffersFor(): string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected kernelParams(h: AdamOptions, state: ParamState): AdamParams {
    const [beta1, beta2] = h.betas;
    return {
      lr: h.lr, beta1, beta2, eps: h.eps, weightDecay: h.weightDecay, decoupled: this.decoupled,
      bc1: 1 - beta1 ** state.step, bc2: 1 - beta2 ** state.step,
    };
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, params: AdamParams): void {
    K.adam(p, grad, state.buffers.expAvg!, state.buffers.expAvgSq!, params);
  }
}

/**
 * Adam (torch.optim.Adam): running averages m, v of the gradient and its square with bias correction,
 * p ← p − lr·m̂/(√v̂ + eps); weight decay is added to the gradient. `new Adam(model.parameters(), { lr: 1e-3 })`.
 */
export class Adam extends AdamBase {
  /** Whether weight decay is decoupled from the gradient (AdamW) or added to it (Adam). */
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, SPEC);
  }
}

/** AdamW (torch.optim.AdamW): Adam with decoupled weight decay, p ← p·(1 − lr·weightDecay) before the Adam step. */
export class AdamW extends AdamBase {
  /** Whether weight decay is decoupled from the gradient (AdamW) or added to it (Adam). */
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 }, SPEC);
  }
}
