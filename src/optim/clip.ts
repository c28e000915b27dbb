// Gradient clipping, as torch.nn.utils: clipGradNorm scales all gradients together so their global norm is at
// most maxNorm (and returns the norm before clipping); clipGradValue clamps each gradient element. Every gradient
// is checked before any is read, and the temporary arrays are freed even when a kernel fails (out of memory).
import { noGrad } from '../autograd/scope.js';
import { gradProblem, type Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';

export function clipGradNorm(params: readonly Tensor[], maxNorm: number, normType = 2): number {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be ≥ 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  const grads = gradsOf('clipGradNorm', params);
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

export function clipGradValue(params: readonly Tensor[], clipValue: number): void {
  if (!(clipValue >= 0)) throw new Error(`clipGradValue: clipValue must be ≥ 0, got ${clipValue}`);
  for (const g of gradsOf('clipGradValue', params)) {
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
