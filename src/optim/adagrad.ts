// Adagrad — torch.optim.Adagrad's update: g ← g + wd·p;  sum ← sum + g²;  p ← p − clr·g / (√sum + ε)
// with clr = lr / (1 + (t − 1)·lrDecay).
import type { Tensor } from '../autograd/tensor.js';
import type { AdagradParams } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { number } from '../options.js';
import { Optimizer, pytorchOnly, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of Adagrad (torch.optim.Adagrad's, in camelCase); each may be set per parameter group. */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** The rate is lr / (1 + (t − 1)·lrDecay) at step t (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient, g + weightDecay·p (default 0). */
  weightDecay: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue: number;
}

const SPEC = {
  hyper: {
    lr: number({ ge: 0 }), lrDecay: number({ ge: 0 }), weightDecay: number({ ge: 0 }), eps: number({ ge: 0 }),
    initialAccumulatorValue: number({ ge: 0 }),
  },
  unsupported: pytorchOnly('maximize', 'foreach', 'differentiable', 'fused'),
};

export class Adagrad extends Optimizer<AdagradOptions, AdagradParams> {
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, options, { lr: 1e-2, lrDecay: 0, weightDecay: 0, eps: 1e-10, initialAccumulatorValue: 0 }, SPEC);
  }

  protected buffersFor(): string[] {
    return ['sum'];
  }

  protected override stateOf(p: Tensor, h: AdagradOptions): ParamState {
    const fresh = !this.state.has(p);
    const s = super.stateOf(p, h);
    if (fresh && h.initialAccumulatorValue !== 0) K.fill(s.buffers.sum!, h.initialAccumulatorValue);
    return s;
  }

  protected kernelParams(h: AdagradOptions, state: ParamState): AdagradParams {
    return { clr: h.lr / (1 + (state.step - 1) * h.lrDecay), eps: h.eps, weightDecay: h.weightDecay };
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, params: AdagradParams): void {
    K.adagrad(p, grad, state.buffers.sum!, params);
  }
}
