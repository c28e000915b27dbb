// Reference optimizer updates, in place, per element: PyTorch's single-tensor formulas (torch/optim/*.py with
// foreach=False, maximize=False), in float64 and rounded on store. ATen's in-place helpers, written out:
//   grad.add(param, alpha=wd) = g + wd·p;  x.lerp_(y, w) = x + w·(y − x) for w < ½, y − (y − x)·(1 − w) otherwise;
//   x.mul_(a).addcmul_(t, t, value=v) = x·a + v·t·t;  p.addcdiv_(t1, t2, value=v) = p + v·t1/t2.
import type { AdagradParams, AdamParams, RmspropParams, SgdParams, TypedArray } from '../types.js';

function lerp(x: number, y: number, w: number): number {
  return w < 0.5 ? x + w * (y - x) : y - (y - x) * (1 - w);
}

/**
 * SGD: g' = g + wd·p; with momentum, buf = firstStep ? g' : momentum·buf + (1 − dampening)·g' and
 * g' = nesterov ? g' + momentum·buf : buf; p −= lr·g'. buf is null when momentum = 0.
 */
export function sgd(p: TypedArray, g: TypedArray, buf: TypedArray | null, n: number, h: SgdParams): void {
  for (let i = 0; i < n; i++) {
    let d = g[i];
    if (h.weightDecay !== 0) d = d + h.weightDecay * p[i];
    if (h.momentum !== 0 && buf) {
      buf[i] = h.firstStep ? d : buf[i] * h.momentum + (1 - h.dampening) * d;
      d = h.nesterov ? d + h.momentum * buf[i] : buf[i];
    }
    p[i] = p[i] - h.lr * d;
  }
}

/**
 * Adam (AdamW when decoupled): AdamW p ·= 1 − lr·wd, Adam g' = g + wd·p; m = lerp(m, g', 1 − β1);
 * v = β2·v + (1 − β2)·g'²; p −= (lr/bc1)·m / (√v/√bc2 + eps).
 */
export function adam(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, n: number, h: AdamParams): void {
  const stepSize = h.lr / h.bc1;
  const sqrtBc2 = Math.sqrt(h.bc2);
  for (let i = 0; i < n; i++) {
    let d = g[i];
    if (h.weightDecay !== 0) {
      if (h.decoupled) p[i] = p[i] * (1 - h.lr * h.weightDecay);
      else d = d + h.weightDecay * p[i];
    }
    m[i] = lerp(m[i], d, 1 - h.beta1);
    v[i] = v[i] * h.beta2 + (1 - h.beta2) * d * d;
    const denom = Math.sqrt(v[i]) / sqrtBc2 + h.eps;
    p[i] = p[i] - (stepSize * m[i]) / denom;
  }
}

/**
 * RMSprop: g' = g + wd·p; sq = α·sq + (1 − α)·g'²; centered: gavg = lerp(gavg, g', 1 − α),
 * avg = √(sq − gavg²) + eps, else avg = √sq + eps; momentum > 0: buf = momentum·buf + g'/avg, p −= lr·buf;
 * else p −= lr·g'/avg. buf / gavg are null when unused.
 */
export function rmsprop(p: TypedArray, g: TypedArray, sq: TypedArray, buf: TypedArray | null, gavg: TypedArray | null,
  n: number, h: RmspropParams): void {
  for (let i = 0; i < n; i++) {
    let d = g[i];
    if (h.weightDecay !== 0) d = d + h.weightDecay * p[i];
    sq[i] = sq[i] * h.alpha + (1 - h.alpha) * d * d;
    let avg: number;
    if (h.centered && gavg) {
      gavg[i] = lerp(gavg[i], d, 1 - h.alpha);
      avg = Math.sqrt(sq[i] - gavg[i] * gavg[i]) + h.eps;
    } else {
      avg = Math.sqrt(sq[i]) + h.eps;
    }
    if (h.momentum > 0 && buf) {
      buf[i] = buf[i] * h.momentum + d / avg;
      p[i] = p[i] - h.lr * buf[i];
    } else {
      p[i] = p[i] - (h.lr * d) / avg;
    }
  }
}

/** Adagrad: g' = g + wd·p; sum += g'²; p −= clr·g'/(√sum + eps) (clr already includes the lr decay). */
export function adagrad(p: TypedArray, g: TypedArray, sum: TypedArray, n: number, h: AdagradParams): void {
  for (let i = 0; i < n; i++) {
    let d = g[i];
    if (h.weightDecay !== 0) d = d + h.weightDecay * p[i];
    sum[i] = sum[i] + d * d;
    p[i] = p[i] - (h.clr * d) / (Math.sqrt(sum[i]) + h.eps);
  }
}
