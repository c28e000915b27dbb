// Elementwise unary ops and their fused backward kernels (f32, dense, n elements; out may alias x).
// As in binary.ts, each op code inlines one generic loop with a constant op, so the switch folds away.
import {
  NEG, ABS, EXP, LOG, SQRT, SQUARE, RELU, LEAKY_RELU, SIGMOID, TANH, GELU, SOFTPLUS, SIGN, RECIPROCAL, SIN, COS, FLOOR,
} from './codes';
import {
  exp_v, exp_s, expPair_v, expQuad_v, log_v, log_s, sigmoid_v, sigmoid_s, sigmoidPair_v, tanh_v, tanh_s, gelu_s, geluGrad_s,
  geluInner_v, geluTail_v, geluGradInner_v, geluGradTail_v, GELU_TAIL_FROM32, softplus64,
} from './math';
import { loadTail, storeTail } from './tail';

/**
 * Ops evaluated one element at a time in f64 (no SIMD form). sin and cos use the standard library's f64 functions
 * (musl's, with exact argument reduction for every |x|): < 1 f64 ulp, so within 1 f32 ulp after the rounding.
 */
// @ts-ignore: decorator
@inline function scalarOnly(op: i32): bool {
  return op == SOFTPLUS || op == SIN || op == COS;
}

// @ts-ignore: decorator
@inline function unaryS(op: i32, x: f32, alpha: f32, alpha64: f64): f32 {
  switch (op) {
    case NEG: return -x;
    case ABS: return abs<f32>(x);
    case EXP: return exp_s(x);
    case LOG: return log_s(x);
    case SQRT: return sqrt<f32>(x);
    case SQUARE: return x * x;
    case RELU: return x < 0 ? 0 : x; // as f32x4.pmax(x, 0): NaN and −0 pass through
    case LEAKY_RELU: return x > 0 ? x : x * alpha;
    case SIGMOID: return sigmoid_s(x);
    case TANH: return tanh_s(x);
    case GELU: return gelu_s(x);
    case SOFTPLUS: return <f32>softplus64(<f64>x, alpha64);
    case SIGN: return x > 0 ? 1.0 : x < 0 ? -1.0 : x == x ? 0.0 : x; // sign(±0) = +0, NaN stays NaN
    case SIN: return <f32>Math.sin(<f64>x);
    case COS: return <f32>Math.cos(<f64>x);
    case FLOOR: return floor<f32>(x);
    default: return 1.0 / x; // RECIPROCAL
  }
}

// @ts-ignore: decorator
@inline function unaryV(op: i32, x: v128, alpha: f32): v128 {
  const zero = f32x4.splat(0.0);
  const one = f32x4.splat(1.0);
  switch (op) {
    case NEG: return f32x4.neg(x);
    case ABS: return f32x4.abs(x);
    case EXP: return exp_v(x);
    case LOG: return log_v(x);
    case SQRT: return f32x4.sqrt(x);
    case SQUARE: return f32x4.mul(x, x);
    case RELU: return f32x4.pmax(x, zero);
    case LEAKY_RELU: return v128.bitselect(x, f32x4.mul(x, f32x4.splat(alpha)), f32x4.gt(x, zero));
    case SIGMOID: return sigmoid_v(x);
    case TANH: return tanh_v(x);
    case SIGN: {
      const s = f32x4.sub(v128.and(f32x4.gt(x, zero), one), v128.and(f32x4.lt(x, zero), one));
      return v128.bitselect(s, x, f32x4.eq(x, x));
    }
    case FLOOR: return f32x4.floor(x);
    default: return f32x4.div(one, x); // RECIPROCAL (SOFTPLUS, SIN, COS, GELU never come here)
  }
}

// ---- gelu ----------------------------------------------------------------------------------------------------
// Blocks of up to 64 elements, in two passes. The first computes the inner form (math.ts) for every lane without a
// branch and keeps a bit per lane that needs the tail form; those lanes of out get the input back instead, so the
// second pass finds it there even when out aliases the input. The second pass walks the set bits two at a time
// (one f64x2 of two gathered elements) and overwrites them with the tail form. With activations of unit scale
// about one element in ten is in the tail, unpredictably: a branch per vector on it would mispredict often, and
// each misprediction throws away the overlap of neighbouring vectors' long polynomial chains. Every element goes
// through the same IEEE operations as in a single-pass form, so its bits do not depend on its neighbours.

// @ts-ignore: decorator
@inline const GELU_BLOCK = 64; // one bit per element in a u64

/** The lanes of a float32 vector that need the tail form. */
// @ts-ignore: decorator
@inline function geluTailLanes(x: v128): v128 {
  return f32x4.ge(f32x4.abs(x), f32x4.splat(GELU_TAIL_FROM32));
}

/** The lowest two set bits of mask as element indices i | j << 8 (j = i when only one is set). */
// @ts-ignore: decorator
@inline function nextPair(mask: u64): u64 {
  const i = ctz(mask);
  const rest = mask & (mask - 1);
  const j = select<u64>(ctz(rest), i, rest != 0);
  return i | (j << 8); // both < 64
}

// The tail forms, called rather than inlined (size; they run for about one element pair in ten).
function geluTail(x: v128): v128 {
  return geluTail_v(x);
}

function geluGradTail(x: v128, dy: v128): v128 {
  return geluGradTail_v(x, dy);
}

// @ts-ignore: decorator
@inline function geluLoop(x: usize, out: usize, n: i32): void {
  for (let b = 0; b < n; b += GELU_BLOCK) {
    const m = min(n - b, GELU_BLOCK);
    const xb = x + (<usize>b << 2);
    const ob = out + (<usize>b << 2);
    let mask: u64 = 0;
    for (let i = 0; i < m; i += 4) {
      const o = <usize>i << 2;
      const k = m - i;
      const v = k >= 4 ? v128.load(xb + o) : loadTail(xb + o, k);
      const tail = geluTailLanes(v);
      mask |= <u64>i32x4.bitmask(tail) << <u64>i;
      const y = v128.bitselect(v, geluInner_v(v), tail);
      if (k >= 4) v128.store(ob + o, y);
      else storeTail(ob + o, y, k);
    }
    while (mask != 0) {
      const ij = nextPair(mask);
      mask &= mask - 1;
      mask &= mask - 1;
      const pi = ob + (<usize>(ij & 63) << 2);
      const pj = ob + (<usize>(ij >> 8) << 2);
      const y = geluTail(v128.load32_lane(pj, v128.load32_zero(pi), 1));
      v128.store32_lane(pi, y, 0);
      v128.store32_lane(pj, y, 1);
    }
  }
}

/**
 * As geluLoop. The tail lanes of dx keep dy, or x where dx aliases saved, so both survive the first pass when dx
 * aliases either input.
 */
// @ts-ignore: decorator
@inline function geluGradLoop(saved: usize, dy: usize, dx: usize, n: i32): void {
  const keepX = dx == saved;
  const keepXMask = i32x4.splat(keepX ? -1 : 0);
  const dySrc = keepX ? dy : dx; // where the second pass finds dy (saved still holds x)
  for (let b = 0; b < n; b += GELU_BLOCK) {
    const m = min(n - b, GELU_BLOCK);
    const o0 = <usize>b << 2;
    let mask: u64 = 0;
    for (let i = 0; i < m; i += 4) {
      const o = o0 + (<usize>i << 2);
      const k = m - i;
      const full = k >= 4;
      const x = full ? v128.load(saved + o) : loadTail(saved + o, k);
      const d = full ? v128.load(dy + o) : loadTail(dy + o, k);
      const tail = geluTailLanes(x);
      mask |= <u64>i32x4.bitmask(tail) << <u64>i;
      const y = v128.bitselect(v128.bitselect(x, d, keepXMask), geluGradInner_v(x, d), tail);
      if (full) v128.store(dx + o, y);
      else storeTail(dx + o, y, k);
    }
    while (mask != 0) {
      const ij = nextPair(mask);
      mask &= mask - 1;
      mask &= mask - 1;
      const oi = o0 + (<usize>(ij & 63) << 2);
      const oj = o0 + (<usize>(ij >> 8) << 2);
      const x = v128.load32_lane(saved + oj, v128.load32_zero(saved + oi), 1);
      const d = v128.load32_lane(dySrc + oj, v128.load32_zero(dySrc + oi), 1);
      const y = geluGradTail(x, d);
      v128.store32_lane(dx + oi, y, 0);
      v128.store32_lane(dx + oj, y, 1);
    }
  }
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32, alpha64: f64): void {
  const alpha = <f32>alpha64;
  let i = 0;
  if (ASC_FEATURE_SIMD && op == GELU) {
    geluLoop(x, out, n);
    return;
  }
  if (ASC_FEATURE_SIMD && !scalarOnly(op)) {
    // exp, the op most often latency-bound alone: four vectors an iteration (expQuad_v), then pairs
    if (op == EXP) for (; i + 16 <= n; i += 16) expQuad_v(x + (<usize>i << 2), out + (<usize>i << 2));
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const v0 = v128.load(x + o);
      const v1 = v128.load(x + o, 16);
      // exp and sigmoid test both vectors' range at once, then run two straight-line chains (see expPair_v)
      if (op == EXP) expPair_v(v0, v1, out + o);
      else if (op == SIGMOID) sigmoidPair_v(v0, v1, out + o);
      else {
        v128.store(out + o, unaryV(op, v0, alpha));
        v128.store(out + o, unaryV(op, v1, alpha), 16);
      }
    }
    // the last 1–7 elements, a partial vector last (one inlined copy of the op serves both)
    for (; i < n; i += 4) {
      const o = <usize>i << 2;
      const k = n - i;
      const y = unaryV(op, k >= 4 ? v128.load(x + o) : loadTail(x + o, k), alpha);
      if (k >= 4) v128.store(out + o, y);
      else storeTail(out + o, y, k);
    }
    return;
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, unaryS(op, load<f32>(x + o), alpha, alpha64));
  }
}

/**
 * out[i] = f(x[i]) for i < n (f32, out may alias x). f by op: NEG ABS EXP LOG SQRT SQUARE RELU LEAKY_RELU(alpha =
 * slope) SIGMOID TANH GELU(erf form) SOFTPLUS(alpha = beta, x where beta·x > 20) SIGN(±0 → 0) RECIPROCAL SIN COS FLOOR.
 */
export function unary_f32(op: i32, x: usize, out: usize, n: i32, alpha: f64): void {
  switch (op) {
    case NEG: unaryLoop(NEG, x, out, n, alpha); break;
    case ABS: unaryLoop(ABS, x, out, n, alpha); break;
    case EXP: unaryLoop(EXP, x, out, n, alpha); break;
    case LOG: unaryLoop(LOG, x, out, n, alpha); break;
    case SQRT: unaryLoop(SQRT, x, out, n, alpha); break;
    case SQUARE: unaryLoop(SQUARE, x, out, n, alpha); break;
    case RELU: unaryLoop(RELU, x, out, n, alpha); break;
    case LEAKY_RELU: unaryLoop(LEAKY_RELU, x, out, n, alpha); break;
    case SIGMOID: unaryLoop(SIGMOID, x, out, n, alpha); break;
    case TANH: unaryLoop(TANH, x, out, n, alpha); break;
    case GELU: unaryLoop(GELU, x, out, n, alpha); break;
    case SOFTPLUS: unaryLoop(SOFTPLUS, x, out, n, alpha); break;
    case SIGN: unaryLoop(SIGN, x, out, n, alpha); break;
    case RECIPROCAL: unaryLoop(RECIPROCAL, x, out, n, alpha); break;
    case SIN: unaryLoop(SIN, x, out, n, alpha); break;
    case COS: unaryLoop(COS, x, out, n, alpha); break;
    case FLOOR: unaryLoop(FLOOR, x, out, n, alpha); break;
  }
}

// ---- backward --------------------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function gradS(op: i32, s: f32, dy: f32, alpha: f32, alpha64: f64): f32 {
  switch (op) {
    case RELU: return s > 0 ? dy : 0;
    case LEAKY_RELU: return s > 0 ? dy : dy * alpha;
    case SIGMOID: return dy * s * (1.0 - s);
    case TANH: return dy * (1.0 - s * s);
    case GELU: return geluGrad_s(s, dy);
    default: { // SOFTPLUS
      const bx = s * alpha;
      return bx > 20 ? dy : dy * sigmoid_s(bx);
    }
  }
}

// @ts-ignore: decorator
@inline function gradV(op: i32, s: v128, dy: v128, alpha: f32): v128 {
  const zero = f32x4.splat(0.0);
  const one = f32x4.splat(1.0);
  switch (op) {
    case RELU: return v128.and(dy, f32x4.gt(s, zero));
    case LEAKY_RELU: return v128.bitselect(dy, f32x4.mul(dy, f32x4.splat(alpha)), f32x4.gt(s, zero));
    case SIGMOID: return f32x4.mul(f32x4.mul(dy, s), f32x4.sub(one, s));
    case TANH: return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(s, s)));
    default: { // SOFTPLUS (GELU never comes here)
      const bx = f32x4.mul(s, f32x4.splat(alpha));
      const g = f32x4.mul(dy, sigmoid_v(bx));
      return v128.bitselect(dy, g, f32x4.gt(bx, f32x4.splat(20.0)));
    }
  }
}

// @ts-ignore: decorator
@inline function gradLoop(op: i32, saved: usize, dy: usize, dx: usize, n: i32, alpha64: f64): void {
  const alpha = <f32>alpha64;
  let i = 0;
  if (ASC_FEATURE_SIMD && op == GELU) {
    geluGradLoop(saved, dy, dx, n);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const g0 = gradV(op, v128.load(saved + o), v128.load(dy + o), alpha);
      const g1 = gradV(op, v128.load(saved + o, 16), v128.load(dy + o, 16), alpha);
      v128.store(dx + o, g0);
      v128.store(dx + o, g1, 16);
    }
    for (; i < n; i += 4) { // the last 1–7 elements, a partial vector last, as in unaryLoop
      const o = <usize>i << 2;
      const k = n - i;
      const full = k >= 4;
      const g = gradV(op, full ? v128.load(saved + o) : loadTail(saved + o, k), full ? v128.load(dy + o) : loadTail(dy + o, k), alpha);
      if (full) v128.store(dx + o, g);
      else storeTail(dx + o, g, k);
    }
    return;
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, gradS(op, load<f32>(saved + o), load<f32>(dy + o), alpha, alpha64));
  }
}

/**
 * dx[i] = dy[i]·f′ (f32, n elements; dx may alias dy) with f′ from saved: RELU x>0 ? 1 : 0, LEAKY_RELU x>0 ? 1 :
 * alpha (saved x); SIGMOID y(1−y), TANH 1−y² (saved y); GELU Φ(x)+xφ(x), SOFTPLUS σ(βx), 1 where βx>20 (saved x).
 */
export function unary_grad_f32(op: i32, saved: usize, dy: usize, dx: usize, n: i32, alpha: f64): void {
  switch (op) {
    case RELU: gradLoop(RELU, saved, dy, dx, n, alpha); break;
    case LEAKY_RELU: gradLoop(LEAKY_RELU, saved, dy, dx, n, alpha); break;
    case SIGMOID: gradLoop(SIGMOID, saved, dy, dx, n, alpha); break;
    case TANH: gradLoop(TANH, saved, dy, dx, n, alpha); break;
    case GELU: gradLoop(GELU, saved, dy, dx, n, alpha); break;
    case SOFTPLUS: gradLoop(SOFTPLUS, saved, dy, dx, n, alpha); break;
  }
}
