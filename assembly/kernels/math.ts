// Elementary functions for the kernels. Not exported from the module (assembly/index.ts does not re-export this
// file): only the kernels call them.
//
// f32 exp, log, sigmoid, tanh come in two forms that perform the same IEEE operations in the same order: a v128 form
// (four lanes) and a scalar twin for the scalar build, so an element's value does not depend on the build (except
// in the relaxed build, whose v128 form may fuse multiply-adds: see madd). In the SIMD builds the kernels compute
// tails (n not a multiple of 4) with the v128 form on a partial vector (tail.ts), so an element's value does not
// depend on its position either.
// Maximum error against the exact value (f64 exp / log / tanh, rounding error of the reference < 1e-16), measured
// over every 13th float32 bit pattern (330M inputs, every binade, subnormal outputs, ±Inf and NaN included): exp
// 0.989 ulp, log 0.814 (0.824 over every 3rd), sigmoid 1.93, tanh 1.43 (simd and scalar builds, bit-identical to
// each other); relaxed build with fused multiply-adds: exp 1.007, log 0.814 (0.824), sigmoid 1.93, tanh 1.45, and
// at most 1 ulp (exp, log) / 3 ulp (sigmoid) / 2 ulp (tanh) from the simd build's result.
//
// GELU (through Φ, the normal CDF; see its section) and softplus are computed in f64 and rounded once to f32.

// ---- exp (f32) -------------------------------------------------------------------------------------------------
// x = n·ln2 + r with n = round(x·log2 e), |r| ≤ ln2/2 (Cody–Waite: ln2 = LN2_HI + LN2_LO, n·LN2_HI exact);
// e^r = 1 + r + r²·q(r), q a degree-4 polynomial fitted here for relative error ≤ 0.07 ulp on that interval
// (weighted least squares at Chebyshev nodes against 40-digit e^r), evaluated by Estrin's scheme (exp is
// latency-bound: three multiply-adds deep after r² instead of four). For |x| ≤ 86.5 (the common case) 2^n is added
// to the result's exponent field; beyond, 2^n is applied as 2^(n>>1)·2^(n−(n>>1)) so a subnormal result is rounded
// once, with inputs clamped to [−104, 88.8]: e^−104 rounds to 0, e^88.8 overflows. The kernels take two or four
// vectors at a time (expPair_v, expQuad_v): one range test for all, then independent chains the CPU overlaps.

// @ts-ignore: decorator
@inline const EXP_LO: f32 = -104.0;
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.8;
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const Q0: f32 = 0.49999988079071045;
// @ts-ignore: decorator
@inline const Q1: f32 = 0.166665181517601;
// @ts-ignore: decorator
@inline const Q2: f32 = 0.041669540107250214;
// @ts-ignore: decorator
@inline const Q3: f32 = 0.008368952199816704;
// @ts-ignore: decorator
@inline const Q4: f32 = 0.0013751279329881072;

// tanh constants (see the tanh section below).
// @ts-ignore: decorator
@inline const TANH_SPLIT: f32 = 0.5493;
// @ts-ignore: decorator
@inline const TANH_CLAMP: f32 = 20.0;
// @ts-ignore: decorator
@inline const T0: f32 = -0.33333316445350647;
// @ts-ignore: decorator
@inline const T1: f32 = 0.13332560658454895;
// @ts-ignore: decorator
@inline const T2: f32 = -0.053849827498197556;
// @ts-ignore: decorator
@inline const T3: f32 = 0.021062083542346954;
// @ts-ignore: decorator
@inline const T4: f32 = -0.006261299829930067;

// log constants (see the log section below).
// @ts-ignore: decorator
@inline const LOG_OFF: i32 = 0x3f3504f3; // the bits of √½ (rounded down)
// @ts-ignore: decorator
@inline const L1: f32 = 0.6666666865348816;
// @ts-ignore: decorator
@inline const L2: f32 = 0.4000012278556824;
// @ts-ignore: decorator
@inline const L3: f32 = 0.28550833463668823;
// @ts-ignore: decorator
@inline const L4: f32 = 0.23330208659172058;
// @ts-ignore: decorator
@inline const MIN_NORMAL: f32 = 1.1754943508222875e-38; // 2^−126
// @ts-ignore: decorator
@inline const TWO23: f32 = 8388608.0;

// The rounding n = round(x·log2 e) uses the 1.5·2^23 trick: t = x·log2 e + 1.5·2^23 rounds to an integer (ties
// to even, as f32.nearest), t − 1.5·2^23 is that integer exactly, and the low bits of t's encoding minus those of
// 1.5·2^23 are n as an i32 — cheaper than nearest + trunc_sat and bit-identical.
// @ts-ignore: decorator
@inline const ROUNDER: f32 = 12582912.0;
// @ts-ignore: decorator
@inline const EXP_FAST: f32 = 86.5;

// V8 rematerializes every v128.const inside the loop that uses it (3 instructions each); the vector constants are
// loaded from this table instead (one load each, off the arithmetic ports). Order: see the K_* indices.
// @ts-ignore: decorator
@lazy const VCONST = memory.data<f32>([
  EXP_HI, EXP_HI, EXP_HI, EXP_HI, EXP_LO, EXP_LO, EXP_LO, EXP_LO,
  LOG2E, LOG2E, LOG2E, LOG2E, ROUNDER, ROUNDER, ROUNDER, ROUNDER,
  -LN2_HI, -LN2_HI, -LN2_HI, -LN2_HI, -LN2_LO, -LN2_LO, -LN2_LO, -LN2_LO,
  Q4, Q4, Q4, Q4, Q3, Q3, Q3, Q3, Q2, Q2, Q2, Q2, Q1, Q1, Q1, Q1, Q0, Q0, Q0, Q0,
  1.0, 1.0, 1.0, 1.0,
  T4, T4, T4, T4, T3, T3, T3, T3, T2, T2, T2, T2, T1, T1, T1, T1, T0, T0, T0, T0,
  TANH_SPLIT, TANH_SPLIT, TANH_SPLIT, TANH_SPLIT, 2.0, 2.0, 2.0, 2.0,
  ROUNDER + 254, ROUNDER + 254, ROUNDER + 254, ROUNDER + 254,
  EXP_FAST, EXP_FAST, EXP_FAST, EXP_FAST,
  TANH_CLAMP, TANH_CLAMP, TANH_CLAMP, TANH_CLAMP,
  L1, L1, L1, L1, L2, L2, L2, L2, L3, L3, L3, L3, L4, L4, L4, L4, 0.5, 0.5, 0.5, 0.5,
  LN2_HI, LN2_HI, LN2_HI, LN2_HI, LN2_LO, LN2_LO, LN2_LO, LN2_LO, MIN_NORMAL, MIN_NORMAL, MIN_NORMAL, MIN_NORMAL,
  Infinity, Infinity, Infinity, Infinity, TWO23, TWO23, TWO23, TWO23,
], 16);
// @ts-ignore: decorator
@inline const K_ROUNDER_254 = 19;
// @ts-ignore: decorator
@inline const K_EXP_FAST = 20;
// @ts-ignore: decorator
@inline const K_TANH_CLAMP = 21;
// @ts-ignore: decorator
@inline const K_L1 = 22; // L1 L2 L3 L4 at 22..25
// @ts-ignore: decorator
@inline const K_HALF = 26;
// @ts-ignore: decorator
@inline const K_LN2_HI = 27;
// @ts-ignore: decorator
@inline const K_LN2_LO = 28;
// @ts-ignore: decorator
@inline const K_MIN_NORMAL = 29;
// @ts-ignore: decorator
@inline const K_INF = 30;
// @ts-ignore: decorator
@inline const K_TWO23 = 31;
/** log's integer constants in four lanes: LOG_OFF, then the exponent-and-sign mask 0xff800000. */
// @ts-ignore: decorator
@lazy const LOG_ICONST = memory.data<i32>([
  LOG_OFF, LOG_OFF, LOG_OFF, LOG_OFF, 0xff800000, 0xff800000, 0xff800000, 0xff800000,
], 16);
/** 0x7fffffff in four lanes: AND with it is abs (V8 rebuilds f32x4.abs's mask at every use). */
// @ts-ignore: decorator
@lazy const ABS_MASK = memory.data<i32>([0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff], 16);
// @ts-ignore: decorator
@inline const K_EXP_HI = 0;
// @ts-ignore: decorator
@inline const K_EXP_LO = 1;
// @ts-ignore: decorator
@inline const K_LOG2E = 2;
// @ts-ignore: decorator
@inline const K_ROUNDER = 3;
// @ts-ignore: decorator
@inline const K_NEG_LN2_HI = 4;
// @ts-ignore: decorator
@inline const K_NEG_LN2_LO = 5;
// @ts-ignore: decorator
@inline const K_Q4 = 6; // Q4 Q3 Q2 Q1 Q0 at 6..10
// @ts-ignore: decorator
@inline const K_ONE = 11;
// @ts-ignore: decorator
@inline const K_T4 = 12; // T4 T3 T2 T1 T0 at 12..16
// @ts-ignore: decorator
@inline const K_TANH_SPLIT = 17;
// @ts-ignore: decorator
@inline const K_TWO = 18;

/** The vector constant at index i of VCONST. */
// @ts-ignore: decorator
@inline export function vconst(i: i32): v128 {
  return v128.load(VCONST + (<usize>i << 4));
}

/**
 * a·b + c. In the relaxed build this is f32x4.relaxed_madd (one fused rounding where the engine has FMA, V8 on x64
 * does); elsewhere, and on engines that do not fuse, the same two roundings as the scalar twins. Every use below
 * stays within its ulp bound either way (the fused form only removes roundings).
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * e^r for the reduced argument of x, given t = x·log2(e) + rounder (n = t − rounder, r = x − n·ln 2 in two parts):
 * the part exp_v and its wide form share; each then scales by 2^n its own way.
 */
// @ts-ignore: decorator
@inline function expReduced_v(x: v128, t: v128, rounder: v128): v128 {
  const nf = f32x4.sub(t, rounder);
  const r = madd(nf, vconst(K_NEG_LN2_LO), madd(nf, vconst(K_NEG_LN2_HI), x));
  // q by Estrin's scheme: three multiply-adds deep after r² instead of Horner's four (exp is latency-bound).
  const r2 = f32x4.mul(r, r);
  const lo = madd(vconst(K_Q4 + 3), r, vconst(K_Q4 + 4));
  const hi = madd(vconst(K_Q4 + 1), r, vconst(K_Q4 + 2));
  const q = madd(madd(vconst(K_Q4), r2, hi), r2, lo);
  return f32x4.add(vconst(K_ONE), madd(r2, q, r));
}

/** Whether some lane of x needs exp's wide form: |x| > 86.5, ±Infinity or NaN (the bits compared as integers). */
// @ts-ignore: decorator
@inline function expNeedsWide(x: v128): v128 {
  return i32x4.gt_s(v128.and(x, v128.load(ABS_MASK)), vconst(K_EXP_FAST));
}

/**
 * e^x for |x| ≤ 86.5: n ∈ [−125, 125], so p·2^n is normal and the scaling is an integer add of n (t's low bits)
 * to p's exponent field — exactly the product, but off the floating-point multiply ports.
 */
// @ts-ignore: decorator
@inline function expFast_v(x: v128): v128 {
  const rounder = vconst(K_ROUNDER);
  const t = madd(x, vconst(K_LOG2E), rounder);
  return i32x4.add(expReduced_v(x, t, rounder), i32x4.shl(t, 23));
}

/** e^x in four f32 lanes (≤ 1 ulp). */
// @ts-ignore: decorator
@inline export function exp_v(x: v128): v128 {
  return v128.any_true(expNeedsWide(x)) ? expWide_v(x) : expFast_v(x);
}

/**
 * e^x of two vectors, stored at dst and dst + 16: one test for both, then two independent chains in straight-line
 * code the CPU overlaps (exp is latency-bound). Same bits as exp_v on each.
 */
// @ts-ignore: decorator
@inline export function expPair_v(x0: v128, x1: v128, dst: usize): void {
  let e0: v128, e1: v128;
  if (v128.any_true(v128.or(expNeedsWide(x0), expNeedsWide(x1)))) {
    e0 = expWide_v(x0);
    e1 = expWide_v(x1);
  } else {
    e0 = expFast_v(x0);
    e1 = expFast_v(x1);
  }
  v128.store(dst, e0);
  v128.store(dst, e1, 16);
}

/** e^x of four vectors at src (64 bytes) into dst: expPair_v's scheme with four chains (fewer loads and tests). */
// @ts-ignore: decorator
@inline export function expQuad_v(src: usize, dst: usize): void {
  const x0 = v128.load(src);
  const x1 = v128.load(src, 16);
  const x2 = v128.load(src, 32);
  const x3 = v128.load(src, 48);
  let e0: v128, e1: v128, e2: v128, e3: v128;
  if (v128.any_true(v128.or(v128.or(expNeedsWide(x0), expNeedsWide(x1)), v128.or(expNeedsWide(x2), expNeedsWide(x3))))) {
    e0 = expWide_v(x0);
    e1 = expWide_v(x1);
    e2 = expWide_v(x2);
    e3 = expWide_v(x3);
  } else {
    e0 = expFast_v(x0);
    e1 = expFast_v(x1);
    e2 = expFast_v(x2);
    e3 = expFast_v(x3);
  }
  v128.store(dst, e0);
  v128.store(dst, e1, 16);
  v128.store(dst, e2, 32);
  v128.store(dst, e3, 48);
}

/**
 * e^x for every x: the scale 2^n applied in two halves, so that subnormal results are rounded once. Not inlined:
 * it is the rare path of every exp_v, which is inlined in many kernels.
 */
function expWide_v(x: v128): v128 {
  x = f32x4.pmax(f32x4.pmin(x, vconst(K_EXP_HI)), vconst(K_EXP_LO)); // pmin/pmax keep NaN
  const rounder = vconst(K_ROUNDER_254);
  const t = madd(x, vconst(K_LOG2E), rounder);
  const p = expReduced_v(x, t, rounder);
  // t's low bits hold n + 254 (n ≥ −150): shifted into the exponent field, (n + 254) >> 1 is 2^(n>>1) and the
  // rest 2^(n − (n>>1)), each normal (NaN lanes: garbage scales, but p is NaN, so the product stays NaN).
  const s1 = i32x4.shl(i32x4.shr_u(t, 1), 23);
  const s2 = i32x4.sub(i32x4.shl(t, 23), s1);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** e^x (f32), the scalar twin of exp_v (bit-identical results). */
// @ts-ignore: decorator
@inline export function exp_s(x: f32): f32 {
  if (x != x) return x;
  x = x > EXP_HI ? EXP_HI : x;
  x = x < EXP_LO ? EXP_LO : x;
  const t = x * LOG2E + ROUNDER;
  const nf = t - ROUNDER;
  const r = (x + nf * -LN2_HI) + nf * -LN2_LO;
  const r2 = r * r;
  const lo = Q1 * r + Q0;
  const hi = Q3 * r + Q2;
  const q = (Q4 * r2 + hi) * r2 + lo;
  const p: f32 = 1.0 + (r2 * q + r);
  const n = reinterpret<i32>(t) - reinterpret<i32>(ROUNDER);
  const n1 = n >> 1;
  const n2 = n - n1;
  return (p * reinterpret<f32>((n1 + 127) << 23)) * reinterpret<f32>((n2 + 127) << 23);
}

// ---- sigmoid (f32) ---------------------------------------------------------------------------------------------
// z = e^{−|x|} ∈ (0, 1]; σ(x) = 1/(1+z) for x ≥ 0 and z/(1+z) for x < 0: never overflows, and keeps full
// relative accuracy in the left tail (subnormal results included).

/** σ(x) from z = e^{−|x|} in four lanes. */
// @ts-ignore: decorator
@inline function sigmoidFrom_v(x: v128, z: v128): v128 {
  const one = vconst(K_ONE);
  const num = v128.bitselect(one, z, f32x4.ge(x, f32x4.splat(0.0)));
  // 1 + z = s + t exactly (Fast2Sum, 1 ≥ z); num/(s + t) ≈ q − q·t/s removes the rounding of 1 + z.
  const s = f32x4.add(one, z);
  const t = f32x4.add(f32x4.sub(one, s), z);
  const q = f32x4.div(num, s);
  return f32x4.sub(q, f32x4.div(f32x4.mul(q, t), s));
}

/** −|x| in four lanes (OR-ing the sign bit). */
// @ts-ignore: decorator
@inline function negAbs_v(x: v128): v128 {
  return v128.or(x, i32x4.splat(0x80000000));
}

/** σ(x) = 1/(1+e^{−x}) in four f32 lanes (≤ 2 ulp). */
// @ts-ignore: decorator
@inline export function sigmoid_v(x: v128): v128 {
  return sigmoidFrom_v(x, exp_v(negAbs_v(x)));
}

/** σ of two vectors, stored at dst and dst + 16, their exps overlapped as in expPair_v. Same bits as sigmoid_v. */
// @ts-ignore: decorator
@inline export function sigmoidPair_v(x0: v128, x1: v128, dst: usize): void {
  const n0 = negAbs_v(x0);
  const n1 = negAbs_v(x1);
  let z0: v128, z1: v128;
  if (v128.any_true(v128.or(expNeedsWide(n0), expNeedsWide(n1)))) {
    z0 = expWide_v(n0);
    z1 = expWide_v(n1);
  } else {
    z0 = expFast_v(n0);
    z1 = expFast_v(n1);
  }
  v128.store(dst, sigmoidFrom_v(x0, z0));
  v128.store(dst, sigmoidFrom_v(x1, z1), 16);
}

/** σ(x) (f32), the scalar twin of sigmoid_v. */
// @ts-ignore: decorator
@inline export function sigmoid_s(x: f32): f32 {
  const z = exp_s(-abs<f32>(x));
  const num: f32 = x >= 0 ? 1.0 : z;
  const s: f32 = 1.0 + z;
  const t: f32 = (1.0 - s) + z;
  const q: f32 = num / s;
  return q - (q * t) / s;
}

// ---- tanh (f32) ------------------------------------------------------------------------------------------------
// |x| < atanh(½): tanh x = x + x³·P(x²), P of degree 4 fitted here (relative error ≤ 0.04 ulp);
// otherwise tanh|x| = 1 − 2/(e^{2|x|} + 1) (≥ ½, so the subtraction loses nothing), with 2|x| clamped at 20:
// tanh rounds to 1 from |x| ≈ 9.01 on, and e^20 keeps exp on its fast form, so tanh_v has no branch and the
// kernel's two vectors per iteration run as two overlapping chains. Both on |x|, then x's sign is copied onto the
// result (so tanh(−0) = −0).

/** tanh(x) in four f32 lanes (≤ 2 ulp). */
// @ts-ignore: decorator
@inline export function tanh_v(x: v128): v128 {
  const a = f32x4.abs(x);
  const s = f32x4.mul(a, a);
  let p = madd(vconst(K_T4), s, vconst(K_T4 + 1));
  p = madd(p, s, vconst(K_T4 + 2));
  p = madd(p, s, vconst(K_T4 + 3));
  p = madd(p, s, vconst(K_T4 + 4));
  const small = madd(f32x4.mul(a, s), p, a);
  const e = expFast_v(f32x4.pmin(f32x4.add(a, a), vconst(K_TANH_CLAMP))); // pmin keeps NaN
  const one = vconst(K_ONE);
  const large = f32x4.sub(one, f32x4.div(vconst(K_TWO), f32x4.add(e, one)));
  const t = v128.bitselect(large, small, f32x4.ge(a, vconst(K_TANH_SPLIT))); // NaN takes small: large is not NaN
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000))); // t ≥ 0 (or NaN): OR-ing x's sign bit is copysign
}

/** tanh(x) (f32), the scalar twin of tanh_v. */
// @ts-ignore: decorator
@inline export function tanh_s(x: f32): f32 {
  const a = abs<f32>(x);
  let t: f32;
  if (a < TANH_SPLIT) {
    const s = a * a;
    let p = T4 * s + T3;
    p = p * s + T2;
    p = p * s + T1;
    p = p * s + T0;
    t = a + (a * s) * p;
  } else {
    const a2 = a + a;
    const e = exp_s(a2 > TANH_CLAMP ? TANH_CLAMP : a2);
    t = 1.0 - 2.0 / (e + 1.0);
  }
  return reinterpret<f32>(reinterpret<u32>(t) | (reinterpret<u32>(x) & 0x80000000));
}

// ---- log (f32) ------------------------------------------------------------------------------------------------
// x = 2^k·z with z ∈ [√½, √2): subtracting the bits of √½ (LOG_OFF) from x's bits leaves k in the exponent field
// (arithmetic shift), and x's bits minus k's exponent field are z. With f = z − 1 (exact), s = f/(2 + f) ∈
// [−0.172, 0.172] and w = s²: log(1 + f) = 2·atanh(s) = f − (hfsq − s·(hfsq + R(w))), hfsq = f²/2, R(w) = w·P(w),
// P of degree 3 fitted here (relative error 3.3e-8 with f32 coefficients; R is under 1% of the result). Then
// log x = k·LN2_HI − ((hfsq − (s·(hfsq + R) + k·LN2_LO)) − f), k·LN2_HI exact (LN2_HI has 15 trailing zero bits),
// so the large terms are added last. Subnormal x are scaled by 2^23 first (k − 23); x ≤ 0, +Infinity and NaN are
// set apart (−Infinity at ±0, NaN below 0, x itself at +Infinity and NaN). This is the reduction of the atanh form
// used by the classic libm logf, written here in four lanes without its tables.

/** log x for x = 2^(k + kAdj)·z, given x's bits (positive, normal) and kAdj (0, or −23 for scaled subnormals). */
// @ts-ignore: decorator
@inline function logCore_v(x: v128, kAdj: v128): v128 {
  const tmp = i32x4.sub(x, v128.load(LOG_ICONST));
  const kf = f32x4.convert_i32x4_s(i32x4.add(i32x4.shr_s(tmp, 23), kAdj));
  const f = f32x4.sub(i32x4.sub(x, v128.and(tmp, v128.load(LOG_ICONST, 16))), vconst(K_ONE));
  const s = f32x4.div(f, f32x4.add(vconst(K_TWO), f));
  const w = f32x4.mul(s, s);
  const p = madd(madd(vconst(K_L1 + 3), w, vconst(K_L1 + 2)), f32x4.mul(w, w), madd(vconst(K_L1 + 1), w, vconst(K_L1)));
  const r = f32x4.mul(w, p);
  const hfsq = f32x4.mul(f32x4.mul(vconst(K_HALF), f), f);
  const inner = madd(s, f32x4.add(hfsq, r), f32x4.mul(kf, vconst(K_LN2_LO)));
  return f32x4.sub(f32x4.mul(kf, vconst(K_LN2_HI)), f32x4.sub(f32x4.sub(hfsq, inner), f));
}

/** log x in four f32 lanes (≤ 1 ulp). */
// @ts-ignore: decorator
@inline export function log_v(x: v128): v128 {
  const normal = v128.and(f32x4.ge(x, vconst(K_MIN_NORMAL)), f32x4.lt(x, vconst(K_INF)));
  return i32x4.all_true(normal) ? logCore_v(x, i32x4.splat(0)) : logWide_v(x);
}

/** log x for every x: subnormals scaled by 2^23, then x ≤ 0, +Infinity and NaN set apart. Not inlined (rare). */
function logWide_v(x: v128): v128 {
  const sub = f32x4.lt(x, vconst(K_MIN_NORMAL));
  const y = logCore_v(v128.bitselect(f32x4.mul(x, vconst(K_TWO23)), x, sub), v128.and(sub, i32x4.splat(-23)));
  const special = v128.bitselect(
    f32x4.splat(-Infinity), v128.bitselect(f32x4.splat(NaN), x, f32x4.lt(x, f32x4.splat(0.0))), f32x4.eq(x, f32x4.splat(0.0)));
  return v128.bitselect(y, special, v128.and(f32x4.gt(x, f32x4.splat(0.0)), f32x4.lt(x, vconst(K_INF))));
}

/** log x (f32), the scalar twin of log_v (bit-identical results). */
// @ts-ignore: decorator
@inline export function log_s(x: f32): f32 {
  let kAdj = 0;
  if (!(x >= MIN_NORMAL && x < Infinity)) {
    if (!(x > 0 && x < Infinity)) return x == 0 ? -Infinity : x < 0 ? <f32>NaN : x;
    x *= TWO23;
    kAdj = -23;
  }
  const ix = reinterpret<i32>(x);
  const tmp = ix - LOG_OFF;
  const kf = <f32>((tmp >> 23) + kAdj);
  const f = reinterpret<f32>(ix - (tmp & 0xff800000)) - <f32>1.0;
  const s = f / (<f32>2.0 + f);
  const w = s * s;
  const p = (L4 * w + L3) * (w * w) + (L2 * w + L1);
  const r = w * p;
  const hfsq = (<f32>0.5 * f) * f;
  const inner = s * (hfsq + r) + kf * LN2_LO;
  return kf * LN2_HI - ((hfsq - inner) - f);
}

// ---- Φ and GELU (f64 lanes, for float32 results) ----------------------------------------------------------------
// x is a float32, so s = x² is exact in f64. With z = |x|/√2 and t = s − 1 = 2z² − 1:
//   s < 2 (z < 1):       Φ(x) = ½ + x·A(t), A(t) = (√½/2)·erf(z)/z (degree 7, relative error 3.7e-11: gelu's
//                        relative error ≤ 5× that, at x = −√2 where Φ = 0.079), and gelu′'s Φ(x) + x·φ(x) =
//                        ½ + x·G(t), G(t) = A(t) + e^{−(t+1)/2}/√(2π) (degree 10, relative error 6.6e-15: one
//                        polynomial instead of A and e^{−s/2});
//   2 ≤ s < 220.5:       ½·erfc(z) = ½·e^{−s/2}·R(u), u = √2/|x| = 1/z ∈ (1/10.5, 1], R(u) = erfc(1/u)·e^{1/u²} one
//                        polynomial of degree 14 in t = (u − mid)/half (relative error 1.3e-10), Φ = ½erfc(z) for
//                        x < 0, 1 − ½erfc(z) otherwise;
//   s ≥ 220.5 (z ≥ 10.5): Φ is 0 or 1 as far as float32 can tell (x·Φ(x) < 1e-47), and x·φ(x) is 0.
// e^{−s/2} by exp64 below (relative error 1.4e-12; s exact, so nothing is lost forming the exponent). A and G are
// Chebyshev interpolants converted to powers of t (mpmath, 50 digits); R and exp64's q were fitted here by
// iteratively reweighted least squares at Chebyshev nodes against 50-digit values. Every error before the final
// rounding to float32 is below 1e-9 relative, so gelu and gelu′·dy round within 0.5 ulp + a hair of the exact value
// (0.503 ulp over every fifth float32 with |x| < √2), and gelu′'s ½ + x·G, which cancels near its root x ≈ −0.75,
// keeps an absolute error ≈ 3e-15 there (of every float32 in ±[0.74, 0.76], 5–6 next to the root exceed 0.53
// ulp in the simd and relaxed builds; with A and e^{−s/2} summed, 504 did).
// The f64x2 forms (two lanes; a float32 vector is two of them) and the scalar twins perform the same IEEE
// operations in the same order (in the relaxed build the f64x2 forms fuse multiply-adds, see madd64).

// @ts-ignore: decorator
@inline const LOG2E64: f64 = 1.4426950408889634;
// @ts-ignore: decorator
@inline const ROUNDER64: f64 = 6755399441055744.0; // 1.5·2^52: t = y·log2 e + ROUNDER64 rounds to an integer
// @ts-ignore: decorator
@inline const LN2_HI64: f64 = 6.93147180369123816490e-01; // low 32 bits 0: n·LN2_HI64 is exact (|n| < 2^11)
// @ts-ignore: decorator
@inline const LN2_LO64: f64 = 1.90821492927058770002e-10;
// @ts-ignore: decorator
@inline const EXP64_MIN: f64 = -120.0;
// @ts-ignore: decorator
@inline const INV_SQRT_2PI: f64 = 0.3989422804014327;
// @ts-ignore: decorator
@inline const R_SCALE: f64 = 2.2105263157894735; // 1/half, u ∈ [1/10.5, 1]
// @ts-ignore: decorator
@inline const R_SHIFT: f64 = -1.210526315789474; // −mid/half
// @ts-ignore: decorator
@inline const TAIL_FROM: f64 = 2.0; // s = x² at z = 1
// @ts-ignore: decorator
@inline const FAR_FROM: f64 = 220.5; // s at z = 10.5

// e^r = 1 + r + r²·q(r) on |r| ≤ ln2/2, q of degree 6.
// @ts-ignore: decorator
@lazy const EXP64_Q = memory.data<f64>([
  2.4640941304119972e-05, 2.4640941304119972e-05, 0.00019909245509308572, 0.00019909245509308572,
  0.0013889364838136024, 0.0013889364838136024, 0.008333281230439162, 0.008333281230439162,
  0.041666663102572, 0.041666663102572, 0.16666666787037127, 0.16666666787037127,
  0.5000000000732772, 0.5000000000732772,
], 16);
// A(t)·√½/2, highest power first.
// @ts-ignore: decorator
@lazy const POLY_A = memory.data<f64>([
  -2.6701690509886945e-08, -2.6701690509886945e-08, 4.354503557726838e-07, 4.354503557726838e-07,
  -6.200235469165315e-06, -6.200235469165315e-06, 7.690210177870798e-05, 7.690210177870798e-05,
  -0.0008080411873497822, -0.0008080411873497822, 0.0070189178815194975, 0.0070189178815194975, -0.04968701077413554,
  -0.04968701077413554, 0.3413447460571238, 0.3413447460571238,
], 16);
// G(t), highest power first.
// @ts-ignore: decorator
@lazy const POLY_G = memory.data<f64>([
  6.871317238315688e-11, 6.871317238315688e-11, -1.3828453497625495e-09, -1.3828453497625495e-09,
  2.4897215129322466e-08, 2.4897215129322466e-08, -4.0162749578262085e-07, -4.0162749578262085e-07,
  5.683632062747906e-06, 5.683632062747906e-06, -6.921353896530333e-05, -6.921353896530333e-05, 0.0007070360231049499,
  0.0007070360231049499, -0.005849097929442366, -0.005849097929442366, 0.03726525808102624, 0.03726525808102624,
  -0.17067237303430485, -0.17067237303430485, 0.5833154705876863, 0.5833154705876863,
], 16);
// R(t), highest power first.
// @ts-ignore: decorator
@lazy const POLY_R = memory.data<f64>([
  1.7531305045309642e-06, 1.7531305045309642e-06, -3.094437644311776e-06, -3.094437644311776e-06,
  -2.643414821985879e-06, -2.643414821985879e-06, 1.133896608417062e-05, 1.133896608417062e-05,
  -1.9970931421128824e-05, -1.9970931421128824e-05, 3.445533663427869e-05, 3.445533663427869e-05,
  -2.9330006238184603e-05, -2.9330006238184603e-05, -8.637108968901491e-05, -8.637108968901491e-05,
  0.0004871340004636432, 0.0004871340004636432, -0.0013327274726709012, -0.0013327274726709012,
  0.0019193713781934865, 0.0019193713781934865, 0.003082795645856229, 0.003082795645856229,
  -0.037138516572533614, -0.037138516572533614, 0.18533944128252092, 0.18533944128252092,
  0.2753199403909774, 0.2753199403909774,
], 16);

// The other f64 constants of the vector forms, each twice (see hstep64_v), at the C64_* indices.
// @ts-ignore: decorator
@lazy const C64 = memory.data<f64>([
  ROUNDER64, ROUNDER64, LOG2E64, LOG2E64, -LN2_HI64, -LN2_HI64, -LN2_LO64, -LN2_LO64, 1.0, 1.0, 0.5, 0.5,
  Math.SQRT2, Math.SQRT2, R_SCALE, R_SCALE, R_SHIFT, R_SHIFT, 0.0, 0.0,
  FAR_FROM, FAR_FROM, -0.5, -0.5, EXP64_MIN, EXP64_MIN, INV_SQRT_2PI, INV_SQRT_2PI, -0.0, -0.0,
], 16);
// @ts-ignore: decorator
@inline const C64_ROUNDER = 0;
// @ts-ignore: decorator
@inline const C64_LOG2E = 1;
// @ts-ignore: decorator
@inline const C64_NEG_LN2_HI = 2;
// @ts-ignore: decorator
@inline const C64_NEG_LN2_LO = 3;
// @ts-ignore: decorator
@inline const C64_ONE = 4;
// @ts-ignore: decorator
@inline const C64_HALF = 5;
// @ts-ignore: decorator
@inline const C64_SQRT2 = 6;
// @ts-ignore: decorator
@inline const C64_R_SCALE = 7;
// @ts-ignore: decorator
@inline const C64_R_SHIFT = 8;
// @ts-ignore: decorator
@inline const C64_ZERO = 9;
// @ts-ignore: decorator
@inline const C64_FAR_FROM = 10;
// @ts-ignore: decorator
@inline const C64_NEG_HALF = 11;
// @ts-ignore: decorator
@inline const C64_EXP_MIN = 12;
// @ts-ignore: decorator
@inline const C64_INV_SQRT_2PI = 13;
// @ts-ignore: decorator
@inline const C64_NEG_ZERO = 14;

/** The f64 constant at index i of C64, in both lanes. */
// @ts-ignore: decorator
@inline function c64(i: i32): v128 {
  return v128.load(C64 + (<usize>i << 4));
}

/** a·b + c in two f64 lanes: fused in the relaxed build (f64x2.relaxed_madd), mul then add elsewhere. */
// @ts-ignore: decorator
@inline function madd64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

/**
 * One step of Horner's rule in two lanes: p·t + c[k], where c is a table of coefficients, highest power first, each
 * stored twice (one v128 load each: V8 would rebuild a splat of a constant at every use).
 */
// @ts-ignore: decorator
@inline function hstep64_v(p: v128, t: v128, c: usize, k: i32): v128 {
  return madd64(p, t, v128.load(c + (<usize>k << 4)));
}

// Σ c[k]·t^(len−1−k) by Horner's rule in two lanes for the tail's tables, written out step by step: binaryen does not
// unroll loops, and a loop's counter, compare and branch around each multiply-add fill the CPU's reorder window,
// so fewer of the long chains of neighbouring vectors overlap.
// @ts-ignore: decorator
@inline function hornerQ_v(t: v128): v128 { // EXP64_Q, 7 coefficients
  const c = EXP64_Q;
  let p = v128.load(c);
  p = hstep64_v(p, t, c, 1); p = hstep64_v(p, t, c, 2); p = hstep64_v(p, t, c, 3);
  p = hstep64_v(p, t, c, 4); p = hstep64_v(p, t, c, 5); return hstep64_v(p, t, c, 6);
}

// @ts-ignore: decorator
@inline function hornerR_v(t: v128): v128 { // POLY_R, 15 coefficients
  const c = POLY_R;
  let p = v128.load(c);
  p = hstep64_v(p, t, c, 1); p = hstep64_v(p, t, c, 2); p = hstep64_v(p, t, c, 3);
  p = hstep64_v(p, t, c, 4); p = hstep64_v(p, t, c, 5); p = hstep64_v(p, t, c, 6);
  p = hstep64_v(p, t, c, 7); p = hstep64_v(p, t, c, 8); p = hstep64_v(p, t, c, 9);
  p = hstep64_v(p, t, c, 10); p = hstep64_v(p, t, c, 11); p = hstep64_v(p, t, c, 12);
  p = hstep64_v(p, t, c, 13); return hstep64_v(p, t, c, 14);
}

// A and G (the inner forms, on every lane) by Estrin's scheme: pairs of coefficients combined with t, t² and t⁴,
// so the longest chain is 3–4 multiply-adds instead of 7–10. Without FMA (the simd build) a Horner step is a
// multiply then an add, and the chains of the few vectors the CPU's schedulers hold at once were the bottleneck.
// c(k) is the coefficient of t^k: the tables hold the highest power first.

// @ts-ignore: decorator
@inline function coef64(c: usize, len: i32, k: i32): v128 {
  return v128.load(c + (<usize>(len - 1 - k) << 4));
}

/** Σ c(k)·t^k, k < 8, by Estrin's scheme in two lanes (the table POLY_A). */
// @ts-ignore: decorator
@inline function estrin8_v(c: usize, t: v128): v128 {
  const t2 = f64x2.mul(t, t);
  const q0 = madd64(madd64(coef64(c, 8, 3), t, coef64(c, 8, 2)), t2, madd64(coef64(c, 8, 1), t, coef64(c, 8, 0)));
  const q1 = madd64(madd64(coef64(c, 8, 7), t, coef64(c, 8, 6)), t2, madd64(coef64(c, 8, 5), t, coef64(c, 8, 4)));
  return madd64(q1, f64x2.mul(t2, t2), q0);
}

/** Σ c(k)·t^k, k < 11, by Estrin's scheme in two lanes (the table POLY_G). */
// @ts-ignore: decorator
@inline function estrin11_v(c: usize, t: v128): v128 {
  const t2 = f64x2.mul(t, t);
  const t4 = f64x2.mul(t2, t2);
  const q0 = madd64(madd64(coef64(c, 11, 3), t, coef64(c, 11, 2)), t2, madd64(coef64(c, 11, 1), t, coef64(c, 11, 0)));
  const q1 = madd64(madd64(coef64(c, 11, 7), t, coef64(c, 11, 6)), t2, madd64(coef64(c, 11, 5), t, coef64(c, 11, 4)));
  const q2 = madd64(coef64(c, 11, 10), t2, madd64(coef64(c, 11, 9), t, coef64(c, 11, 8)));
  return madd64(q2, f64x2.mul(t4, t4), madd64(q1, t4, q0));
}

// @ts-ignore: decorator
@inline function coef64_s(c: usize, len: i32, k: i32): f64 {
  return load<f64>(c + (<usize>(len - 1 - k) << 4));
}

/** The scalar twin of estrin8_v. */
// @ts-ignore: decorator
@inline function estrin8_s(c: usize, t: f64): f64 {
  const t2 = t * t;
  const q0 = (coef64_s(c, 8, 3) * t + coef64_s(c, 8, 2)) * t2 + (coef64_s(c, 8, 1) * t + coef64_s(c, 8, 0));
  const q1 = (coef64_s(c, 8, 7) * t + coef64_s(c, 8, 6)) * t2 + (coef64_s(c, 8, 5) * t + coef64_s(c, 8, 4));
  return q1 * (t2 * t2) + q0;
}

/** The scalar twin of estrin11_v. */
// @ts-ignore: decorator
@inline function estrin11_s(c: usize, t: f64): f64 {
  const t2 = t * t;
  const t4 = t2 * t2;
  const q0 = (coef64_s(c, 11, 3) * t + coef64_s(c, 11, 2)) * t2 + (coef64_s(c, 11, 1) * t + coef64_s(c, 11, 0));
  const q1 = (coef64_s(c, 11, 7) * t + coef64_s(c, 11, 6)) * t2 + (coef64_s(c, 11, 5) * t + coef64_s(c, 11, 4));
  const q2 = coef64_s(c, 11, 10) * t2 + (coef64_s(c, 11, 9) * t + coef64_s(c, 11, 8));
  return q2 * (t4 * t4) + (q1 * t4 + q0);
}

/** Horner's rule in f64: the scalar twin of hornerQ_v and hornerR_v (same table, same order). */
// @ts-ignore: decorator
@inline function horner64_s(c: usize, len: i32, t: f64): f64 {
  let p = load<f64>(c);
  for (let k = 1; k < len; k++) p = p * t + load<f64>(c + (<usize>k << 4));
  return p;
}

/** e^y for y ∈ [−120, 0] (and NaN) in two f64 lanes: 2^n·e^r, the scale added to the exponent field. */
// @ts-ignore: decorator
@inline function exp64_v(y: v128): v128 {
  const rounder = c64(C64_ROUNDER);
  const t = madd64(y, c64(C64_LOG2E), rounder);
  const nf = f64x2.sub(t, rounder);
  const r = madd64(nf, c64(C64_NEG_LN2_LO), madd64(nf, c64(C64_NEG_LN2_HI), y));
  const p = f64x2.add(c64(C64_ONE), madd64(f64x2.mul(r, r), hornerQ_v(r), r));
  return i64x2.add(p, i64x2.shl(t, 52)); // t's low bits hold n
}

/** The scalar twin of exp64_v. */
// @ts-ignore: decorator
@inline function exp64_s(y: f64): f64 {
  const t = y * LOG2E64 + ROUNDER64;
  const nf = t - ROUNDER64;
  const r = (y + nf * -LN2_HI64) + nf * -LN2_LO64;
  const p = 1.0 + (r + (r * r) * horner64_s(EXP64_Q, 7, r));
  return reinterpret<f64>(reinterpret<i64>(p) + (reinterpret<i64>(t) << 52));
}

/** Φ(x) for |x| < √2 (s = x² < 2) in two f64 lanes (NaN in, NaN out). */
// @ts-ignore: decorator
@inline function normalCdfInner_v(x: v128, s: v128): v128 {
  return madd64(x, estrin8_v(POLY_A, f64x2.sub(s, c64(C64_ONE))), c64(C64_HALF));
}

/** Φ(x) in two f64 lanes where s = x² ≥ 2, from e = e^{−s/2}: the erfc form, 0 or 1 from s = 220.5 on. */
// @ts-ignore: decorator
@inline function normalCdfTail_v(x: v128, s: v128, e: v128): v128 {
  const one = c64(C64_ONE);
  const u = f64x2.div(c64(C64_SQRT2), f64x2.abs(x));
  const c = f64x2.mul(f64x2.mul(c64(C64_HALF), e), hornerR_v(madd64(u, c64(C64_R_SCALE), c64(C64_R_SHIFT))));
  const neg = f64x2.lt(x, c64(C64_ZERO));
  const tail = v128.bitselect(c, f64x2.sub(one, c), neg);
  const far = v128.andnot(one, neg); // 0 for x < 0, 1 otherwise
  return v128.bitselect(far, tail, f64x2.ge(s, c64(C64_FAR_FROM)));
}

/** The scalar twin of normalCdfInner_v and normalCdfTail_v. */
// @ts-ignore: decorator
@inline function normalCdf_s(x: f64, s: f64, e: f64): f64 {
  if (s < TAIL_FROM) return x * estrin8_s(POLY_A, s - 1.0) + 0.5;
  if (s >= FAR_FROM) return x < 0 ? 0.0 : 1.0;
  const c = (0.5 * e) * horner64_s(POLY_R, 15, (Math.SQRT2 / abs(x)) * R_SCALE + R_SHIFT);
  return x < 0 ? c : 1.0 - c;
}

/** e^{−s/2} for s = x² ≥ 0, clamped at e^−120 (where Φ no longer uses it). */
// @ts-ignore: decorator
@inline function expNegHalf_v(s: v128): v128 {
  return exp64_v(f64x2.pmax(f64x2.mul(s, c64(C64_NEG_HALF)), c64(C64_EXP_MIN)));
}

// @ts-ignore: decorator
@inline function expNegHalf_s(s: f64): f64 {
  const y = s * -0.5;
  return exp64_s(y < EXP64_MIN ? EXP64_MIN : y);
}

// The vector forms come in two parts, so that a loop runs without a data-dependent branch: the inner form for
// every lane (|x| ≤ √2 is the common case for activations), and the tail form for the lanes with |x| > √2 only,
// gathered two at a time (see unary.ts). A lane needs the tail form exactly where x² ≥ 2 in f64, i.e. where
// |x| ≥ GELU_TAIL_FROM32 (√2 is irrational: no float32 squares to exactly 2).

/** The smallest float32 above √2. */
// @ts-ignore: decorator
@inline export const GELU_TAIL_FROM32: f32 = 1.4142136573791504;

/** The low and high halves of a float32 vector as two f64x2, f applied to each, and the results as float32. */
// @ts-ignore: decorator
@inline function demote2(lo: v128, hi: v128): v128 {
  return v128.shuffle<i64>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

// @ts-ignore: decorator
@inline function highHalf(x: v128): v128 {
  return v128.shuffle<i64>(x, x, 1, 0);
}

/** gelu(x) = x·Φ(x) in two f64 lanes with |x| ≤ √2 (or NaN): Φ > 0.07 there, so no −∞·0 case. */
// @ts-ignore: decorator
@inline function geluInner64_v(x: v128): v128 {
  return f64x2.mul(x, normalCdfInner_v(x, f64x2.mul(x, x)));
}

/** gelu(x) (erf form) in four f32 lanes with |x| < GELU_TAIL_FROM32 (or NaN), evaluated in f64, rounded once. */
// @ts-ignore: decorator
@inline export function geluInner_v(x: v128): v128 {
  return demote2(geluInner64_v(f64x2.promote_low_f32x4(x)), geluInner64_v(f64x2.promote_low_f32x4(highHalf(x))));
}

/**
 * gelu(x) for two float32 x with |x| ≥ GELU_TAIL_FROM32 (±∞ included) in the low lanes of x32, as float32 in the
 * low lanes of the result (−0 where Φ is 0: the limit, rather than −∞·0).
 */
// @ts-ignore: decorator
@inline export function geluTail_v(x32: v128): v128 {
  const x = f64x2.promote_low_f32x4(x32);
  const s = f64x2.mul(x, x);
  const p = normalCdfTail_v(x, s, expNegHalf_v(s));
  return f32x4.demote_f64x2_zero(v128.bitselect(c64(C64_NEG_ZERO), f64x2.mul(x, p), f64x2.eq(p, c64(C64_ZERO))));
}

/**
 * dy·gelu′(x) = dy·(Φ(x) + x·φ(x)), φ(x) = e^{−x²/2}/√(2π), in two f64 lanes with |x| ≤ √2 (or NaN): Φ(x) + x·φ(x)
 * = ½ + x·G(x² − 1), one polynomial for both terms.
 */
// @ts-ignore: decorator
@inline function geluGradInner64_v(x: v128, dy: v128): v128 {
  const g = estrin11_v(POLY_G, f64x2.sub(f64x2.mul(x, x), c64(C64_ONE)));
  return f64x2.mul(dy, madd64(x, g, c64(C64_HALF)));
}

/** dy·gelu′(x) in four f32 lanes with |x| < GELU_TAIL_FROM32 (or NaN), evaluated in f64 and rounded once. */
// @ts-ignore: decorator
@inline export function geluGradInner_v(x: v128, dy: v128): v128 {
  const lo = geluGradInner64_v(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(dy));
  const hi = geluGradInner64_v(f64x2.promote_low_f32x4(highHalf(x)), f64x2.promote_low_f32x4(highHalf(dy)));
  return demote2(lo, hi);
}

/**
 * dy·gelu′(x) for two float32 x with |x| ≥ GELU_TAIL_FROM32 and their dy in the low lanes of x32 and dy32, as
 * float32 in the low lanes of the result (x·φ is 0 where Φ is 0 or 1).
 */
// @ts-ignore: decorator
@inline export function geluGradTail_v(x32: v128, dy32: v128): v128 {
  const x = f64x2.promote_low_f32x4(x32);
  const s = f64x2.mul(x, x);
  const e = expNegHalf_v(s);
  const p = normalCdfTail_v(x, s, e);
  const xd = v128.andnot(f64x2.mul(x, f64x2.mul(c64(C64_INV_SQRT_2PI), e)), f64x2.ge(s, c64(C64_FAR_FROM)));
  return f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(dy32), f64x2.add(p, xd)));
}

/** gelu(x) (f32), the scalar twin of geluInner_v and geluTail_v. */
// @ts-ignore: decorator
@inline export function gelu_s(x32: f32): f32 {
  const x = <f64>x32;
  const s = x * x;
  const p = normalCdf_s(x, s, expNegHalf_s(s));
  return p == 0 ? -0.0 : <f32>(x * p);
}

/** dy·gelu′(x) (f32), the scalar twin of geluGradInner_v and geluGradTail_v. */
// @ts-ignore: decorator
@inline export function geluGrad_s(x32: f32, dy: f32): f32 {
  const x = <f64>x32;
  const s = x * x;
  if (s < TAIL_FROM) return <f32>(<f64>dy * (x * estrin11_s(POLY_G, s - 1.0) + 0.5));
  const e = expNegHalf_s(s);
  const xd = s >= FAR_FROM ? 0.0 : x * (INV_SQRT_2PI * e);
  return <f32>(<f64>dy * (normalCdf_s(x, s, e) + xd));
}

/** PyTorch's Softplus(beta, threshold 20) in f64: x where βx > 20, else log1p(e^{βx})/β. */
// @ts-ignore: decorator
@inline export function softplus64(x: f64, beta: f64): f64 {
  const bx = beta * x;
  return bx > 20 ? x : Math.log1p(Math.exp(bx)) / beta;
}
