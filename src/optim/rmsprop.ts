// RMSprop — torch.optim.RMSprop's update, with the centered and momentum variants:
//   g ← g + wd·p;  sq ← α·sq + (1 − α)·g²;  avg ← √(sq − ḡ²) + ε (centered, ḡ ← α·ḡ + (1 − α)·g) or √sq + ε;
//   buf ← μ·buf + g/avg, p ← p − lr·buf (momentum)  or  p ← p − lr·g/avg
import type { Tensor } from '../autograd/tensor.js';
import type { RmspropParams } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { boolean, number } from '../options.js';
import { Optimizer, pytorchOnly, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of RMSprop (torch.optim.RMSprop's, in camelCase); each may be set per parameter group. */
export interface RmspropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the running average of squared gradients, in [0, 1] (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /**
   * Normalise by the variance of the gradient (its mean subtracted) instead of the raw second moment (default false).
   */
  centered: boolean;
}

const SPEC = {
  hyper: {
    lr: number({ ge: 0 }), alpha: number({ ge: 0, le: 1 }), eps: number({ ge: 0 }), weightDecay: number({ ge: 0 }),
    momentum: number({ ge: 0 }), centered: boolean,
  },
  unsupported: pytorchOnly('maximize', 'foreach', 'capturable', 'differentiable'),
};

export class RMSprop extends Optimizer<RmspropOptions, RmspropParams> {
  constructor(params: ParamsInput<RmspropOptions>, options: Partial<RmspropOptions> = {}) {
    super('RMSprop', params, options, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }, SPEC);
  }

  protected buffersFor(h: RmspropOptions): string[] {
    return ['squareAvg', ...(h.momentum > 0 ? ['momentumBuffer'] : []), ...(h.centered ? ['gradAvg'] : [])];
  }

  protected kernelParams(h: RmspropOptions): RmspropParams {
    return { lr: h.lr, alpha: h.alpha, eps: h.eps, weightDecay: h.weightDecay, momentum: h.momentum, centered: h.centered };
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, params: RmspropParams): void {
    const b = state.buffers;
    K.rmsprop(p, grad, b.squareAvg!, b.momentumBuffer ?? null, b.gradAvg ?? null, params);
  }
}
