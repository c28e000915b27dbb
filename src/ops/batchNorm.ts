// batchNorm: batch normalisation of an [N,C,…] input per channel, PyTorch's batch_norm:
//   y = (x − mean) / √(var + eps) · weight + bias   (weight and bias [C], optional).
// Training: mean and the biased var are the batch's (over N and every dim after C; more than one value per channel
// is needed), and the running buffers, when given, move towards them in place: running = (1 − momentum)·running +
// momentum·batch, with the unbiased variance for runningVar. Evaluation (the default, as in PyTorch's functional
// form): the running buffers normalise. They are not inputs of the graph: no gradient flows into them.
// Backward, with x̂ = (x − mean)/σ and dx̂ = dy·weight: training dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/σ, evaluation
// dx = dx̂/σ; dweight = Σ dy·x̂, dbias = Σ dy. One fused kernel computes it; while a graph of the backward is
// being recorded (higher-order gradients) the same formulas are composed from differentiable ops instead.
import { apply, checkAlive, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { boolean, checkOptions, checkValue, number, type Check } from '../options.js';
import { add } from './add.js';
import { div } from './div.js';
import { mean } from './mean.js';
import { mul } from './mul.js';
import { reshape } from './reshape.js';
import { sqrt } from './sqrt.js';
import { square } from './square.js';
import { sub } from './sub.js';
import { sum } from './sum.js';

/** Options of batchNorm (PyTorch's F.batch_norm). */
export interface BatchNormOptions {
  /** γ, one per channel (default: none, i.e. 1). */
  weight?: Tensor | null;
  /** β, one per channel (default: none, i.e. 0). */
  bias?: Tensor | null;
  /** Normalise with the batch's statistics and update the running ones (default false, as PyTorch's functional form). */
  training?: boolean;
  /** How far the running statistics move towards the batch's (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

const TENSOR_OR_NULL: Check = { what: 'a Tensor or null', ok: (v) => v === null || v instanceof Tensor };

/**
 * Batch normalisation of an [N, C, …] input per channel, PyTorch's F.batch_norm: y = (x − mean)/√(var + eps)·weight +
 * bias. In training the batch's mean and biased variance are used and runningMean/runningVar (each [C], or null) move
 * towards them in place (the unbiased variance); in evaluation the running statistics are used. Training with one
 * value per channel is an error, as in PyTorch.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  checkTensor('batchNorm', 'input', x);
  checkValue('batchNorm', 'runningMean', runningMean, TENSOR_OR_NULL);
  checkValue('batchNorm', 'runningVar', runningVar, TENSOR_OR_NULL);
  checkOptions('batchNorm', options, {
    weight: TENSOR_OR_NULL, bias: TENSOR_OR_NULL, training: boolean, momentum: number({ ge: 0, le: 1 }), eps: number({ ge: 0 }),
  }, { cudnnEnabled: 'there is no cuDNN here' });
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = options;
  checkAlive('batchNorm', [runningMean, runningVar].filter((t): t is Tensor => t !== null));
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  // The statistics the forward kernel used: arrays, wrapped in tensors only when the graph saves them (after the
  // forward succeeded; a failed forward frees them itself).
  let stats: { mean: K.NDArray; variance: K.NDArray } | null = null;
  let saved: Tensor[] = [];
  try {
    return apply({
      op: 'batchNorm',
      inputs,
      forward: ([t, ...wb]) => {
        const r = K.batchNorm(t!, { weight: weight && wb[0], bias: bias && wb[weight ? 1 : 0], runningMean, runningVar },
          { training, momentum, eps });
        stats = { mean: r.mean, variance: r.variance };
        return r.out;
      },
      save: ([t, ...wb]) => {
        saved = [fromKernel(stats!.mean), fromKernel(stats!.variance)];
        return [t!, ...saved, ...(weight ? [wb[0]!] : [])];
      },
      backward: (g, [t, mu, variance, w], _, [needX, ...needWB]) => {
        const need = { x: needX!, weight: weight ? needWB[0]! : false, bias: bias ? needWB[weight ? 1 : 0]! : false };
        const r = isGradEnabled()
          ? gradOps(g, t!, mu!, variance!, w ?? null, training, eps, need)
          : gradKernel(g, t!, mu!, variance!, w ?? null, training, eps, need);
        return [r.dx, ...(weight ? [r.dweight] : []), ...(bias ? [r.dbias] : [])];
      },
      attrs: { training, momentum, eps },
      local: () => [training ? '(1 − 1/m − x̂·x̂ᵀ/m)·γ/σ' : 'γ/σ', ...(weight ? ['x̂'] : []), ...(bias ? ['1'] : [])],
    });
  } finally {
    const arrays = stats as { mean: K.NDArray; variance: K.NDArray } | null;
    if (saved.length) for (const s of saved) s.dispose(); // the graph keeps its own handles
    else if (arrays) for (const a of [arrays.mean, arrays.variance]) if (a.buf.live) K.free(a); // no graph was recorded
  }
}

interface Grads { dx: Tensor | null; dweight: Tensor | null; dbias: Tensor | null }
type Needs = { x: boolean; weight: boolean; bias: boolean };

function gradKernel(g: Tensor, x: Tensor, mu: Tensor, variance: Tensor, w: Tensor | null, training: boolean, eps: number,
  need: Needs): Grads {
  const r = K.batchNormGrad(x, g, mu, variance, w, { training, eps }, need);
  const wrap = (a: K.NDArray | null) => (a ? fromKernel(a) : null);
  return { dx: wrap(r.dx), dweight: wrap(r.dweight), dbias: wrap(r.dbias) };
}

/** The same gradients from differentiable ops (for gradients of gradients; the statistics recomputed from x). */
function gradOps(g: Tensor, x: Tensor, mu: Tensor, variance: Tensor, w: Tensor | null, training: boolean, eps: number,
  need: Needs): Grads {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const perChannel = (t: Tensor) => reshape(t, x.shape.map((d, i) => (i === 1 ? d : 1)));
  const m = training ? mean(x, axes, true) : perChannel(mu);
  const xc = sub(x, m);
  const invstd = div(1, sqrt(add(training ? mean(square(xc), axes, true) : perChannel(variance), eps)));
  const xhat = mul(xc, invstd);
  const dxhat = w ? mul(g, perChannel(w)) : g;
  const dx = !need.x ? null : training
    ? mul(sub(sub(dxhat, mean(dxhat, axes, true)), mul(xhat, mean(mul(dxhat, xhat), axes, true))), invstd)
    : mul(dxhat, invstd);
  return { dx, dweight: need.weight ? sum(mul(g, xhat), axes) : null, dbias: need.bias ? sum(g, axes) : null };
}
