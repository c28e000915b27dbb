// Elementary functions for the kernels. Not exported from the module (assembly/index.ts does not re-export this
// file): only the kernels call them.
//
// f32 exp, sigmoid, tanh come in two forms that perform the same IEEE operations in the same order: a v128 form
// (four lanes) and a scalar twin for tails and for the scalar build, so an element's value does not depend on its
// position or on the build (except in the relaxed build, whose v128 form may fuse multiply-adds: see madd).
// Maximum error measured over all 2^32 float32 inputs against the exact value (f64 exp / tanh, rounding error
// of the reference < 1e-16), subnormal outputs, ±Inf and NaN included: exp 0.99 ulp, sigmoid 1.97 ulp,
// tanh 1.46 ulp (simd and scalar builds, bit-identical to each other); relaxed build with fused multiply-adds:
// exp 1.01, sigmoid 1.97, tanh 1.46 ulp.
//
// GELU (through Φ, the normal CDF) and softplus are computed in f64 and rounded once to f32.

// ---- exp (f32) -------------------------------------------------------------------------------------------------
// x = n·ln2 + r with n = round(x·log2 e), |r| ≤ ln2/2 (Cody–Waite: ln2 = LN2_HI + LN2_LO, n·LN2_HI exact);
// e^r = 1 + r + r²·q(r), q a degree-4 polynomial fitted here for relative error ≤ 0.07 ulp on that interval
// (weighted least squares at Chebyshev nodes against 40-digit e^r); 2^n is applied as 2^(n>>1)·2^(n−(n>>1)) so a
// subnormal result is rounded once. Inputs are clamped to [−104, 88.8]: e^−104 rounds to 0, e^88.8 overflows.

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
@inline const T0: f32 = -0.33333316445350647;
// @ts-ignore: decorator
@inline const T1: f32 = 0.13332560658454895;
// @ts-ignore: decorator
@inline const T2: f32 = -0.053849827498197556;
// @ts-ignore: decorator
@inline const T3: f32 = 0.021062083542346954;
// @ts-ignore: decorator
@inline const T4: f32 = -0.006261299829930067;

// The rounding n = round(x·log2 e) uses the 1.5·2^23 trick: t = x·log2 e + 1.5·2^23 rounds to an integer (ties
// to even, as f32.nearest), t − 1.5·2^23 is that integer exactly, and the low bits of t's encoding minus those of
// 1.5·2^23 are n as an i32 — cheaper than nearest + trunc_sat and bit-identical.
// @ts-ignore: decorator
@inline const ROUNDER: f32 = 12582912.0;

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
], 16);
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

/** e^x in four f32 lanes (≤ 1 ulp). */
// @ts-ignore: decorator
@inline export function exp_v(x: v128): v128 {
  x = f32x4.pmax(f32x4.pmin(x, vconst(K_EXP_HI)), vconst(K_EXP_LO)); // pmin/pmax keep NaN
  const rounder = vconst(K_ROUNDER);
  const t = madd(x, vconst(K_LOG2E), rounder);
  const nf = f32x4.sub(t, rounder);
  const r = madd(nf, vconst(K_NEG_LN2_LO), madd(nf, vconst(K_NEG_LN2_HI), x));
  let q = madd(vconst(K_Q4), r, vconst(K_Q4 + 1));
  q = madd(q, r, vconst(K_Q4 + 2));
  q = madd(q, r, vconst(K_Q4 + 3));
  q = madd(q, r, vconst(K_Q4 + 4));
  const p = f32x4.add(vconst(K_ONE), madd(f32x4.mul(r, r), q, r));
  const n = i32x4.sub(t, rounder); // NaN lanes: garbage n, but p is NaN, so the product stays NaN
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
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
  let q = Q4 * r + Q3;
  q = q * r + Q2;
  q = q * r + Q1;
  q = q * r + Q0;
  const p: f32 = 1.0 + (r + (r * r) * q);
  const n = reinterpret<i32>(t) - reinterpret<i32>(ROUNDER);
  const n1 = n >> 1;
  const n2 = n - n1;
  return (p * reinterpret<f32>((n1 + 127) << 23)) * reinterpret<f32>((n2 + 127) << 23);
}

// ---- sigmoid (f32) ---------------------------------------------------------------------------------------------
// z = e^{−|x|} ∈ (0, 1]; σ(x) = 1/(1+z) for x ≥ 0 and z/(1+z) for x < 0: never overflows, and keeps full
// relative accuracy in the left tail (subnormal results included).

/** σ(x) = 1/(1+e^{−x}) in four f32 lanes (≤ 2 ulp). */
// @ts-ignore: decorator
@inline export function sigmoid_v(x: v128): v128 {
  const z = exp_v(f32x4.neg(f32x4.abs(x)));
  const one = vconst(K_ONE);
  const num = v128.bitselect(one, z, f32x4.ge(x, f32x4.splat(0.0)));
  // 1 + z = s + t exactly (Fast2Sum, 1 ≥ z); num/(s + t) ≈ q − q·t/s removes the rounding of 1 + z.
  const s = f32x4.add(one, z);
  const t = f32x4.add(f32x4.sub(one, s), z);
  const q = f32x4.div(num, s);
  return f32x4.sub(q, f32x4.div(f32x4.mul(q, t), s));
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
// otherwise tanh|x| = 1 − 2/(e^{2|x|} + 1) (≥ ½, so the subtraction loses nothing); both on |x|, then x's sign
// is copied onto the result (so tanh(−0) = −0).

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
  const e = exp_v(f32x4.add(a, a));
  const one = vconst(K_ONE);
  const large = f32x4.sub(one, f32x4.div(vconst(K_TWO), f32x4.add(e, one)));
  const t = v128.bitselect(small, large, f32x4.lt(a, vconst(K_TANH_SPLIT)));
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
    const e = exp_s(a + a);
    t = 1.0 - 2.0 / (e + 1.0);
  }
  return reinterpret<f32>(reinterpret<u32>(t) | (reinterpret<u32>(x) & 0x80000000));
}

// ---- Φ and GELU (f64, for float32 results) ----------------------------------------------------------------------
// With z = |x|/√2:  z < 1:  erf(z) = z·A(2z² − 1);   1 ≤ z < 10.5:  erfc(z) = e^{−z²}·R(z), R(z) = erfc(z)·e^{z²}
// as B (z < 2.5) or C in t = (1/z − mid)/half;  z ≥ 10.5: Φ is 0 or 1 as far as float32 can tell (x·Φ(x) < 1e-47).
// Coefficients derived as in src/backend/ref/math.ts (Chebyshev interpolation of the 40-digit functions, here at
// lower degree and converted to powers of t for Horner's rule); relative error before the final rounding to f32:
// A 2.1e-14, B 1.3e-12, C 2.8e-12. e^{−z²} = e^{−x²/2} is formed from an exact split of x², so it does not inherit
// the rounding of x/√2. (The float64 ref keeps the longer tables for double precision.)

/** e^{−x²/2} with x² split exactly into hi + lo (Dekker); 0 past |x| = 40 (underflow; keeps ±Infinity out). */
// @ts-ignore: decorator
@inline function expNegHalfSquare(x: f64): f64 {
  if (abs(x) > 40) return 0;
  const c = 134217729.0 * x; // 2^27 + 1
  const xh = c - (c - x);
  const xl = x - xh;
  const hi = x * x;
  const lo = xh * xh - hi + 2 * xh * xl + xl * xl;
  return Math.exp(-0.5 * hi) * (1 - 0.5 * lo);
}

// @ts-ignore: decorator
@inline function polyA(t: f64): f64 {
  return 0.9654687386698853 + t * (-0.14053608902271786 + t * (0.01985249668808491 + t * (-0.00228548556110692
    + t * (0.0002175171632307876 + t * (-1.753716973862979e-05 + t * (1.2233626160180265e-06
    + t * (-7.511485988358766e-08 + t * (4.138778716473844e-09 + t * -2.0447481117482828e-10))))))));
}

// @ts-ignore: decorator
@inline function polyB(t: f64): f64 {
  return 0.3336736525414603 + t * (0.10715869843698417 + t * (-0.014574460696958233 + t * (0.0013084128833128037
    + t * (7.272850417621137e-05 + t * (-7.392467914389221e-05 + t * (2.254238917739852e-05
    + t * (-4.648911878618124e-06 + t * (5.713006013818931e-07 + t * (4.150818643054442e-08
    + t * (-5.7199897937416736e-08 + t * (2.6809600216244876e-08 + t * -6.730080362321146e-09)))))))))));
}

// @ts-ignore: decorator
@inline function polyC(t: f64): f64 {
  return 0.1357648868518719 + t * (0.07907088856488649 + t * (-0.0037286546007893576 + t * (-0.00040667942472681395
    + t * (0.00011517836201783995 + t * (-7.706740207297044e-06 + t * (-2.209620092639751e-06
    + t * (7.476473359591627e-07 + t * (-7.727016163110373e-08 + t * (-1.672023898474496e-08
    + t * (8.181095487430831e-09 + t * -1.169820903353734e-09))))))))));
}

/** Φ(x) from z = |x|/√2 and, when z ≥ 1, e = e^{−x²/2}. NaN in, NaN out. */
// @ts-ignore: decorator
@inline function normalCdfFrom(x: f64, z: f64, e: f64): f64 {
  if (z < 1) {
    const h = 0.5 * z * polyA(2 * z * z - 1);
    return x < 0 ? 0.5 - h : 0.5 + h;
  }
  if (z >= 10.5) return x < 0 ? 0 : 1;
  const u = 1 / z;
  const r = z < 2.5 ? polyB((u - 0.7) / 0.3) : polyC((u - 0.24761904761904763) / 0.1523809523809524);
  const c = 0.5 * e * r; // ½·erfc(z)
  return x < 0 ? c : 1 - c;
}

/** gelu(x) = x·Φ(x) in f64 (−0 in the far left tail rather than −∞·0). */
export function gelu64(x: f64): f64 {
  const z = abs(x) * Math.SQRT1_2;
  const p = normalCdfFrom(x, z, z >= 1 ? expNegHalfSquare(x) : 0);
  return p == 0 ? -0.0 : x * p;
}

/** gelu′(x) = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π), in f64. */
export function geluDerivative64(x: f64): f64 {
  const z = abs(x) * Math.SQRT1_2;
  const e = expNegHalfSquare(x);
  const d = 0.3989422804014327 * e;
  return normalCdfFrom(x, z, e) + (d == 0 ? 0 : x * d);
}

/** PyTorch's Softplus(beta, threshold 20) in f64: x where βx > 20, else log1p(e^{βx})/β. */
// @ts-ignore: decorator
@inline export function softplus64(x: f64, beta: f64): f64 {
  const bx = beta * x;
  return bx > 20 ? x : Math.log1p(Math.exp(bx)) / beta;
}
