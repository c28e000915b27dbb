// SGD with momentum, dampening, Nesterov and weight decay — torch.optim.SGD's update:
//   g ← g + wd·p;  buf ← g (first step) or μ·buf + (1 − dampening)·g;  g ← g + μ·buf (Nesterov) or buf;  p ← p − lr·g
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { check, Optimizer, type ParamState, type ParamsInput } from './optimizer.js';

export interface SgdOptions { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

export class SGD extends Optimizer<SgdOptions> {
  constructor(params: ParamsInput<SgdOptions>, options: Partial<SgdOptions> & { lr: number }) {
    super('SGD', params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected validate(h: SgdOptions): void {
    check(Number.isFinite(h.lr) && h.lr >= 0, 'SGD', `invalid learning rate ${h.lr} (must be ≥ 0)`);
    check(h.momentum >= 0, 'SGD', `invalid momentum ${h.momentum} (must be ≥ 0)`);
    check(h.dampening >= 0 && h.dampening <= 1, 'SGD', `invalid dampening ${h.dampening} (must be in [0, 1])`);
    check(h.weightDecay >= 0, 'SGD', `invalid weightDecay ${h.weightDecay} (must be ≥ 0)`);
    check(!h.nesterov || (h.momentum > 0 && h.dampening === 0), 'SGD', 'Nesterov momentum requires momentum > 0 and dampening = 0');
  }

  protected buffersFor(h: SgdOptions): string[] {
    return h.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected update(p: Tensor, grad: Tensor, h: SgdOptions, state: ParamState): void {
    K.sgd(p, grad, state.buffers.momentumBuffer ?? null, {
      lr: h.lr, momentum: h.momentum, dampening: h.dampening, weightDecay: h.weightDecay, nesterov: h.nesterov,
      firstStep: state.step === 1,
    });
  }
}
