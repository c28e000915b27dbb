// SGD with momentum, dampening, Nesterov and weight decay — torch.optim.SGD's update:
//   g ← g + wd·p;  buf ← g (first step) or μ·buf + (1 − dampening)·g;  g ← g + μ·buf (Nesterov) or buf;  p ← p − lr·g
import type { Tensor } from '../autograd/tensor.js';
import type { SgdParams } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { boolean, number } from '../options.js';
import { check, Optimizer, pytorchOnly, type ParamState, type ParamsInput } from './optimizer.js';

/** Hyperparameters of SGD (torch.optim.SGD's, in camelCase); each may be set per parameter group. */
export interface SgdOptions {
  /** Learning rate (required: no default, as in PyTorch). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Dampening of the momentum, in [0, 1] (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient, g + weightDecay·p (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false). */
  nesterov: boolean;
}

const SPEC = {
  hyper: { lr: number({ ge: 0 }), momentum: number({ ge: 0 }), dampening: number({ ge: 0, le: 1 }), weightDecay: number({ ge: 0 }), nesterov: boolean },
  unsupported: pytorchOnly('maximize', 'foreach', 'differentiable', 'fused'),
};

export class SGD extends Optimizer<SgdOptions, SgdParams> {
  /** lr has no default: give it here or in every parameter group. */
  constructor(params: ParamsInput<SgdOptions>, options: Partial<SgdOptions> & { lr: number }) {
    super('SGD', params, options, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, SPEC);
  }

  protected override validate(h: SgdOptions): void {
    super.validate(h);
    check(!h.nesterov || (h.momentum > 0 && h.dampening === 0), 'SGD', 'Nesterov momentum requires momentum > 0 and dampening = 0');
  }

  protected buffersFor(h: SgdOptions): string[] {
    return h.momentum !== 0 ? ['momentumBuffer'] : [];
  }

  protected kernelParams(h: SgdOptions, state: ParamState): SgdParams {
    return {
      lr: h.lr, momentum: h.momentum, dampening: h.dampening, weightDecay: h.weightDecay, nesterov: h.nesterov,
      firstStep: state.step === 1,
    };
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState, params: SgdParams): void {
    K.sgd(p, grad, state.buffers.momentumBuffer ?? null, params);
  }
}
