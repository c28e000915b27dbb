// Gradient clipping, as torch.nn.utils: clipGradNorm scales all gradients together so their global norm is at
// most maxNorm (and returns the norm before clipping); clipGradValue clamps each gradient element. Every gradient
// is checked before any is read, and the temporary arrays are freed even when a kernel fails (out of memory).
import { tensorList } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import { gradProblem, type Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkValue, number } from '../options.js';

/** params: a tensor or an array of them (model.parameters()). */
export function clipGradNorm(params: Tensor | readonly Tensor[], maxNorm: number, normType = 2): number {
  const list = tensorList('clipGradNorm', 'params', params);
  checkValue('clipGradNorm', 'maxNorm', maxNorm, number({ ge: 0, le: Infinity }));
  checkValue('clipGradNorm', 'normType', normType, number({ gt: 0, le: Infinity }));
  const grads = gradsOf('clipGradNorm', list);
  if (!grads.length) return 0;
  const total = noGrad(() => K.freeOnError(() => {
    let acc = 0;
    for (const g of grads) {
      const a = K.unary('abs', g);
      if (normType === Infinity) {
        const { out, argmax } = K.reduce('max', a);
        acc = Math.max(acc, out.buf.backend.read(out.buf)[0]!);
        K.free(out);
        K.free(argmax!);
      } else {
        const exponent = scalar(g, normType);
        const powered = K.binary('pow', a, exponent);
        const s = K.reduce('sum', powered).out;
        acc += s.buf.backend.read(s.buf)[0]!;
        for (const t of [exponent, powered, s]) K.free(t);
      }
      K.free(a);
    }
    return normType === Infinity ? acc : acc ** (1 / normType);
  }));
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) for (const g of grads) K.scale(g, coef, g);
  return total;
}

/** Clamps every gradient of `params` to [−clipValue, clipValue] in place (torch.nn.utils.clip_grad_value_). */
export function clipGradValue(params: Tensor | readonly Tensor[], clipValue: number): void {
  const list = tensorList('clipGradValue', 'params', params);
  checkValue('clipGradValue', 'clipValue', clipValue, number({ ge: 0, le: Infinity }));
  for (const g of gradsOf('clipGradValue', list)) {
    K.freeOnError(() => {
      const hi = scalar(g, clipValue);
      const lo = scalar(g, -clipValue);
      const upper = K.binary('minimum', g, hi);
      const clamped = K.binary('maximum', upper, lo);
      K.copyInto(g, clamped, g.shape.map(() => 0));
      for (const t of [hi, lo, upper, clamped]) K.free(t);
    });
  }
}

/** The parameters' gradients (those that have one), each checked as optimizer.step() checks them. */
function gradsOf(api: string, params: readonly Tensor[]): Tensor[] {
  const grads: Tensor[] = [];
  for (const p of params) {
    if (!p.grad) continue;
    const problem = gradProblem(p, p.grad);
    if (problem) throw new Error(`${api}: ${problem}`);
    grads.push(p.grad);
  }
  return grads;
}

function scalar(like: Tensor, value: number): K.NDArray {
  const s = K.empty(like.backend, like.dtype, []);
  K.fill(s, value);
  return s;
}
