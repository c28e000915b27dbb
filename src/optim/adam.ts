// Adam and AdamW — torch.optim.Adam / AdamW's update with bias correction:
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε)
// Adam adds weight decay to the gradient (g ← g + wd·p); AdamW decays the weights directly (p ← p·(1 − lr·wd)).
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { check, Optimizer, type ParamState, type ParamsInput } from './optimizer.js';

export interface AdamOptions { lr: number; betas: [number, number]; eps: number; weightDecay: number }

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected validate(h: AdamOptions): void {
    const n = this.name;
    check(Number.isFinite(h.lr) && h.lr >= 0, n, `invalid learning rate ${h.lr} (must be ≥ 0)`);
    check(Array.isArray(h.betas) && h.betas.length === 2, n, `betas must be a pair [β1, β2], got ${JSON.stringify(h.betas)}`);
    check(h.betas[0] >= 0 && h.betas[0] < 1, n, `invalid β1 ${h.betas[0]} (must be in [0, 1))`);
    check(h.betas[1] >= 0 && h.betas[1] < 1, n, `invalid β2 ${h.betas[1]} (must be in [0, 1))`);
    check(h.eps >= 0, n, `invalid eps ${h.eps} (must be ≥ 0)`);
    check(h.weightDecay >= 0, n, `invalid weightDecay ${h.weightDecay} (must be ≥ 0)`);
  }

  protected buffersFor(): string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected update(p: Tensor, grad: Tensor, h: AdamOptions, state: ParamState): void {
    const [beta1, beta2] = h.betas;
    K.adam(p, grad, state.buffers.expAvg!, state.buffers.expAvgSq!, {
      lr: h.lr, beta1, beta2, eps: h.eps, weightDecay: h.weightDecay, decoupled: this.decoupled,
      bc1: 1 - beta1 ** state.step, bc2: 1 - beta2 ** state.step,
    });
  }
}

export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...options });
  }
}

export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...options });
  }
}
