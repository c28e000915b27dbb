// Adagrad — torch.optim.Adagrad's update: g ← g + wd·p;  sum ← sum + g²;  p ← p − clr·g / (√sum + ε)
// with clr = lr / (1 + (t − 1)·lrDecay).
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { check, Optimizer, type ParamState, type ParamsInput } from './optimizer.js';

export interface AdagradOptions { lr: number; lrDecay: number; weightDecay: number; eps: number; initialAccumulatorValue: number }

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, eps: 1e-10, initialAccumulatorValue: 0, ...options });
  }

  protected validate(h: AdagradOptions): void {
    check(Number.isFinite(h.lr) && h.lr >= 0, 'Adagrad', `invalid learning rate ${h.lr} (must be ≥ 0)`);
    check(h.lrDecay >= 0, 'Adagrad', `invalid lrDecay ${h.lrDecay} (must be ≥ 0)`);
    check(h.weightDecay >= 0, 'Adagrad', `invalid weightDecay ${h.weightDecay} (must be ≥ 0)`);
    check(h.eps >= 0, 'Adagrad', `invalid eps ${h.eps} (must be ≥ 0)`);
    check(h.initialAccumulatorValue >= 0, 'Adagrad', `invalid initialAccumulatorValue ${h.initialAccumulatorValue} (must be ≥ 0)`);
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

  protected update(p: Tensor, grad: Tensor, h: AdagradOptions, state: ParamState): void {
    K.adagrad(p, grad, state.buffers.sum!, {
      clr: h.lr / (1 + (state.step - 1) * h.lrDecay), eps: h.eps, weightDecay: h.weightDecay,
    });
  }
}
