// huberLoss: ½d² where |d| ≤ δ, δ·(|d| − ½δ) beyond (d = input − target), then reduced — quadratic near the
// target, linear for outliers. ∂/∂input = clamp(d, −δ, δ) (÷N for 'mean').
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt, sameShape } from '../kernels/shape.js';
import { maximum, minimum } from './maximum.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { number } from '../options.js';
import { checkLoss, reduceLoss, type Reduction } from './reduction.js';
import { sub } from './sub.js';

/**
 * Huber loss of input against target (same shape): ½d² where |d| ≤ delta (default 1), delta·(|d| − ½·delta) beyond,
 * with d = input − target (PyTorch's huber_loss), reduced by `reduction` ('mean' by default).
 */
export function huberLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction; delta?: number } = {}): Tensor {
  checkLoss('huberLoss', input, target, options, { delta: number({ gt: 0 }) });
  const { reduction = 'mean', delta = 1 } = options;
  if (!sameShape(input.shape, target.shape)) {
    throw new Error(`huberLoss: input ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  return apply({
    op: 'huberLoss',
    inputs: [input, target],
    forward: ([x, y]) => {
      // with a = |d| and q = min(a, δ): loss = ½q² + δ·(a − q), which is both branches at once
      const d = K.binary('sub', x!, y!);
      const a = K.unary('abs', d);
      K.free(d);
      const deltaArr = K.empty(a.buf.backend, a.buf.dtype, []);
      K.fill(deltaArr, delta);
      const q = K.binary('minimum', a, deltaArr);
      K.free(deltaArr);
      const lin = K.binary('sub', a, q);
      K.free(a);
      const quad = K.unary('square', q);
      K.free(q);
      const half = K.scale(quad, 0.5);
      K.free(quad);
      const linScaled = K.scale(lin, delta);
      K.free(lin);
      const losses = K.binary('add', half, linScaled);
      K.free(half);
      K.free(linScaled);
      return reduceLoss(losses, reduction, 1);
    },
    save: ([x, y]) => [x!, y!],
    backward: (g, [x, y], _, [needX, needY]) => {
      const n = reduction === 'mean' ? x!.size : 1;
      const dX = mul(mul(maximum(minimum(sub(x!, y!), delta), -delta), 1 / n), g);
      return [needX ? dX : null, needY ? neg(dX) : null];
    },
    attrs: { reduction, delta },
    local: ([x, y]) => [`clamp(${x} − ${y}, ±${delta})`, `−clamp(${x} − ${y}, ±${delta})`],
  });
}
