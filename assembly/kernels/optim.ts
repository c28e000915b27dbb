// Optimizer updates, in place, per element, in f32 (hyperparameters converted once). The order of operations is
// PyTorch's single-tensor path (torch/optim/*.py, foreach=False, maximize=False), one f32 rounding per tensor op:
//   grad.add(param, alpha=wd) = g + wd·p;  x.lerp_(y, w) = x + w·(y − x) for w < ½, y − (y − x)·(1 − w) otherwise;
//   x.mul_(a).addcmul_(t, t, value=v) = x·a + (v·t)·t;  p.addcdiv_(t1, t2, value=v) = p + (v·t1)/t2.

/** x.lerp_(y, w), ATen's formula (branch on w chosen once by the caller via wBig). */
// @ts-ignore: decorator
@inline function lerpS(x: f32, y: f32, w: f32, wBig: bool): f32 {
  return wBig ? y - (y - x) * (1 - w) : x + w * (y - x);
}

// @ts-ignore: decorator
@inline function lerpV(x: v128, y: v128, w: v128, wBig: bool): v128 {
  return wBig
    ? f32x4.sub(y, f32x4.mul(f32x4.sub(y, x), f32x4.sub(f32x4.splat(1), w)))
    : f32x4.add(x, f32x4.mul(w, f32x4.sub(y, x)));
}

/**
 * SGD (p, g, buf f32 [n]; buf = 0 when momentum = 0): g' = g + wd·p; buf = firstStep ? g' : momentum·buf +
 * (1−dampening)·g'; g' = nesterov ? g' + momentum·buf : buf; p −= lr·g'.
 */
export function sgd_f32(p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64, dampening: f64,
  weightDecay: f64, nesterov: i32, firstStep: i32): void {
  const negLr = <f32>-lr;
  const wd = <f32>weightDecay;
  const mom = <f32>momentum;
  const damp = <f32>(1 - dampening);
  const useWd = weightDecay != 0;
  const useMom = momentum != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const lrV = f32x4.splat(negLr);
    const wdV = f32x4.splat(wd);
    const momV = f32x4.splat(mom);
    const dampV = f32x4.splat(damp);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      let gv = v128.load(g + o);
      if (useWd) gv = f32x4.add(gv, f32x4.mul(pv, wdV));
      if (useMom) {
        let b = gv;
        if (!firstStep) b = f32x4.add(f32x4.mul(v128.load(buf + o), momV), f32x4.mul(gv, dampV));
        v128.store(buf + o, b);
        gv = nesterov ? f32x4.add(gv, f32x4.mul(b, momV)) : b;
      }
      v128.store(p + o, f32x4.add(pv, f32x4.mul(gv, lrV)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (useWd) gv = gv + pv * wd;
    if (useMom) {
      let b = gv;
      if (!firstStep) b = load<f32>(buf + o) * mom + gv * damp;
      store<f32>(buf + o, b);
      gv = nesterov ? gv + b * mom : b;
    }
    store<f32>(p + o, pv + gv * negLr);
  }
}

/**
 * Adam / AdamW (decoupled = 1) on p, g, m, v f32 [n]: AdamW p ·= 1 − lr·wd, Adam g' = g + wd·p; m = lerp(m, g',
 * 1−β1); v = β2·v + (1−β2)·g'²; p −= (lr/bc1)·m/(√v/√bc2 + eps), with bc1 = 1−β1^t, bc2 = 1−β2^t given.
 */
export function adam_f32(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64, beta2: f64, eps: f64,
  weightDecay: f64, decoupled: i32, bc1: f64, bc2: f64): void {
  const useWd = weightDecay != 0;
  const decay = <f32>(1 - lr * weightDecay);
  const wd = <f32>weightDecay;
  const w1 = <f32>(1 - beta1);
  const wBig = 1 - beta1 >= 0.5;
  const b2 = <f32>beta2;
  const c2 = <f32>(1 - beta2);
  const sqrtBc2 = <f32>Math.sqrt(bc2);
  const e = <f32>eps;
  const negStep = <f32>(-(lr / bc1));
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const decayV = f32x4.splat(decay);
    const wdV = f32x4.splat(wd);
    const w1V = f32x4.splat(w1);
    const b2V = f32x4.splat(b2);
    const c2V = f32x4.splat(c2);
    const sV = f32x4.splat(sqrtBc2);
    const eV = f32x4.splat(e);
    const stepV = f32x4.splat(negStep);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let pv = v128.load(p + o);
      let gv = v128.load(g + o);
      if (useWd) {
        if (decoupled) pv = f32x4.mul(pv, decayV);
        else gv = f32x4.add(gv, f32x4.mul(pv, wdV));
      }
      const mv = lerpV(v128.load(m + o), gv, w1V, wBig);
      const vv = f32x4.add(f32x4.mul(v128.load(v + o), b2V), f32x4.mul(f32x4.mul(gv, c2V), gv));
      v128.store(m + o, mv);
      v128.store(v + o, vv);
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), sV), eV);
      v128.store(p + o, f32x4.add(pv, f32x4.div(f32x4.mul(stepV, mv), denom)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (useWd) {
      if (decoupled) pv = pv * decay;
      else gv = gv + pv * wd;
    }
    const mv = lerpS(load<f32>(m + o), gv, w1, wBig);
    const vv = load<f32>(v + o) * b2 + (gv * c2) * gv;
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    const denom = sqrt<f32>(vv) / sqrtBc2 + e;
    store<f32>(p + o, pv + (negStep * mv) / denom);
  }
}

/**
 * RMSprop on p, g, sq f32 [n] (+ buf when momentum > 0, gavg when centered; 0 otherwise): g' = g + wd·p;
 * sq = α·sq + (1−α)·g'²; centered: gavg = lerp(gavg, g', 1−α), avg = √(sq − gavg²) + eps, else √sq + eps;
 * momentum > 0: buf = momentum·buf + g'/avg, p −= lr·buf; else p −= lr·g'/avg.
 */
export function rmsprop_f32(p: usize, g: usize, sq: usize, buf: usize, gavg: usize, n: i32, lr: f64, alpha: f64,
  eps: f64, weightDecay: f64, momentum: f64, centered: i32): void {
  const useWd = weightDecay != 0;
  const useMom = momentum > 0;
  const wd = <f32>weightDecay;
  const a = <f32>alpha;
  const c = <f32>(1 - alpha);
  const wBig = 1 - alpha >= 0.5;
  const e = <f32>eps;
  const mom = <f32>momentum;
  const negLr = <f32>-lr;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const wdV = f32x4.splat(wd);
    const aV = f32x4.splat(a);
    const cV = f32x4.splat(c);
    const eV = f32x4.splat(e);
    const momV = f32x4.splat(mom);
    const lrV = f32x4.splat(negLr);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      let gv = v128.load(g + o);
      if (useWd) gv = f32x4.add(gv, f32x4.mul(pv, wdV));
      const s = f32x4.add(f32x4.mul(v128.load(sq + o), aV), f32x4.mul(f32x4.mul(gv, cV), gv));
      v128.store(sq + o, s);
      let avg: v128;
      if (centered) {
        const ga = lerpV(v128.load(gavg + o), gv, cV, wBig);
        v128.store(gavg + o, ga);
        avg = f32x4.add(f32x4.sqrt(f32x4.sub(s, f32x4.mul(ga, ga))), eV);
      } else {
        avg = f32x4.add(f32x4.sqrt(s), eV);
      }
      if (useMom) {
        const b = f32x4.add(f32x4.mul(v128.load(buf + o), momV), f32x4.div(gv, avg));
        v128.store(buf + o, b);
        v128.store(p + o, f32x4.add(pv, f32x4.mul(b, lrV)));
      } else {
        v128.store(p + o, f32x4.add(pv, f32x4.div(f32x4.mul(lrV, gv), avg)));
      }
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (useWd) gv = gv + pv * wd;
    const s = load<f32>(sq + o) * a + (gv * c) * gv;
    store<f32>(sq + o, s);
    let avg: f32;
    if (centered) {
      const ga = lerpS(load<f32>(gavg + o), gv, c, wBig);
      store<f32>(gavg + o, ga);
      avg = sqrt<f32>(s - ga * ga) + e;
    } else {
      avg = sqrt<f32>(s) + e;
    }
    if (useMom) {
      const b = load<f32>(buf + o) * mom + gv / avg;
      store<f32>(buf + o, b);
      store<f32>(p + o, pv + b * negLr);
    } else {
      store<f32>(p + o, pv + (negLr * gv) / avg);
    }
  }
}

/** Adagrad on p, g, sum f32 [n]: g' = g + wd·p; sum += g'²; p −= clr·g'/(√sum + eps). */
export function adagrad_f32(p: usize, g: usize, sum: usize, n: i32, clr: f64, eps: f64, weightDecay: f64): void {
  const useWd = weightDecay != 0;
  const wd = <f32>weightDecay;
  const e = <f32>eps;
  const negLr = <f32>-clr;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const wdV = f32x4.splat(wd);
    const eV = f32x4.splat(e);
    const lrV = f32x4.splat(negLr);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      let gv = v128.load(g + o);
      if (useWd) gv = f32x4.add(gv, f32x4.mul(pv, wdV));
      const s = f32x4.add(v128.load(sum + o), f32x4.mul(gv, gv));
      v128.store(sum + o, s);
      v128.store(p + o, f32x4.add(pv, f32x4.div(f32x4.mul(lrV, gv), f32x4.add(f32x4.sqrt(s), eV))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (useWd) gv = gv + pv * wd;
    const s = load<f32>(sum + o) + gv * gv;
    store<f32>(sum + o, s);
    store<f32>(p + o, pv + (negLr * gv) / (sqrt<f32>(s) + e));
  }
}
