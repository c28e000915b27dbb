// Elementwise unary kernels on float32 (int32 cases are listed in src/tfjs/fallback.ts), and the few that are a
// composition: Rsqrt, Relu6, Step (tfjs's Relu gradient), ClipByValue, Sign.
import { Abs, Ceil, ClipByValue, Cos, Cosh, Elu, EluGrad, Exp, Expm1, Floor, IsFinite, IsInf, IsNan, LeakyRelu, Log, Log1p, Neg, Reciprocal, Relu, Relu6, Round, Rsqrt, Selu, Sigmoid, Sign, Sin, Sinh,
  Softplus, Sqrt, Square, Step, Tanh, backend_util } from '@tensorflow/tfjs-core';
import type { UnaryOp } from '../../backend/types.js';
import { binary, cast, scale, unary, where, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { runOnCpu } from '../fallback.js';
import { share } from './Reshape.js';
import { constant, kernel, withScratch, type KernelArgs } from './util.js';

function float(kernelName: string, f: (x: NDArray, args: KernelArgs) => NDArray) {
  return kernel(kernelName, (args) => {
    const x = args.inputs.x!;
    if (x.dtype !== 'float32') return runOnCpu(kernelName, args);
    return args.backend.output(f(args.backend.nd(x), args), 'float32');
  });
}

const op = (name: UnaryOp) => (x: NDArray) => unary(name, x);

export const negConfig = float(Neg, op('neg'));
export const absConfig = float(Abs, op('abs'));
/** e^x in float32 for every dtype: tfjs-backend-cpu's Exp gives float32 for int32 and bool input too. */
export const expConfig = kernel(Exp, ({ inputs, backend }) => {
  const x = inputs.x!;
  return backend.output(withScratch((tmp) =>
    unary('exp', x.dtype === 'float32' ? backend.nd(x) : tmp(cast(backend.nd(x), 'float32')))), 'float32');
});
export const logConfig = float(Log, op('log'));
export const sqrtConfig = float(Sqrt, op('sqrt'));
export const squareConfig = float(Square, op('square'));
export const reluConfig = float(Relu, op('relu'));
export const sigmoidConfig = float(Sigmoid, op('sigmoid'));
export const tanhConfig = float(Tanh, op('tanh'));
/** (x > 0) − (x < 0): tfjs's sign, 0 for NaN (wasmgrad's unary sign keeps NaN, as PyTorch's does). */
export const signConfig = float(Sign, (x, { backend }) => withScratch((tmp) => {
  const zero = tmp(constant(backend, 0));
  return binary('sub', tmp(binary('greater', x, zero)), tmp(binary('less', x, zero)));
}));
export const floorConfig = float(Floor, op('floor')); // tf.floor takes float32 only
/** ⌈x⌉ = −⌊−x⌋. */
export const ceilConfig = float(Ceil, (x) => withScratch((tmp) => unary('neg', tmp(unary('floor', tmp(unary('neg', x)))))));

/** A float32 test of x as a bool tensor (int32 0/1). */
function predicate(kernelName: string, test: (x: NDArray, backend: WasmgradBackend, tmp: <A extends NDArray>(a: A) => A) => NDArray) {
  return kernel(kernelName, (args) => {
    const x = args.inputs.x!;
    if (x.dtype !== 'float32') return runOnCpu(kernelName, args);
    return args.backend.output(withScratch((tmp) => cast(tmp(test(args.backend.nd(x), args.backend, tmp)), 'int32')), 'bool');
  });
}

export const isNanConfig = predicate(IsNan, (x, b, tmp) => binary('equal', tmp(binary('equal', x, x)), tmp(constant(b, 0))));
export const isInfConfig = predicate(IsInf, (x, b, tmp) => binary('equal', tmp(unary('abs', x)), tmp(constant(b, Infinity))));
export const isFiniteConfig = predicate(IsFinite, (x, b, tmp) => binary('less', tmp(unary('abs', x)), tmp(constant(b, Infinity))));
export const reciprocalConfig = float(Reciprocal, op('reciprocal'));
export const sinConfig = float(Sin, op('sin'));
export const cosConfig = float(Cos, op('cos'));
export const softplusConfig = float(Softplus, (x) => unary('softplus', x, 1));
export const leakyReluConfig = float(LeakyRelu, (x, { attrs }) => unary('leakyRelu', x, attrs.alpha as number));
export const rsqrtConfig = float(Rsqrt, (x) => withScratch((tmp) => unary('reciprocal', tmp(unary('sqrt', x)))));

/** min(max(x, lo), hi) (NaN stays NaN: the wasm maximum and minimum propagate it). */
export function clip(backend: WasmgradBackend, x: NDArray, lo: number, hi: number): NDArray {
  return withScratch((tmp) => binary('minimum', tmp(binary('maximum', x, tmp(constant(backend, lo)))), tmp(constant(backend, hi))));
}

export const clipByValueConfig = float(ClipByValue, (x, { attrs, backend }) =>
  clip(backend, x, attrs.clipValueMin as number, attrs.clipValueMax as number));
export const relu6Config = float(Relu6, (x, { backend }) => clip(backend, x, 0, 6));

/** x > 0 ? 1 : alpha, NaN for NaN (tfjs's Step, which its Relu gradient multiplies by). */
export const stepConfig = float(Step, (x, { attrs, backend }) => withScratch((tmp) => {
  const positive = tmp(binary('greater', x, tmp(constant(backend, 0))));
  const stepped = tmp(where(positive, tmp(constant(backend, 1)), tmp(constant(backend, (attrs.alpha as number) ?? 0))));
  return where(tmp(binary('equal', x, x)), stepped, x); // x ≠ x only for NaN
}));

/**
 * x ≥ 0 ? x : eˣ − 1 (tfjs's elu, alpha 1), with expm1 below: near 0, eˣ − 1 in float32 would keep only a few bits
 * (tfjs-backend-cpu subtracts in float64).
 */
export function elu(backend: WasmgradBackend, x: NDArray): NDArray {
  return withScratch((tmp) => where(tmp(binary('greaterEqual', x, tmp(constant(backend, 0)))), x, tmp(expm1(backend, x))));
}

/** eˣ − 1 as tanh(x/2)·(eˣ + 1): no cancellation near 0. */
function expm1(backend: WasmgradBackend, x: NDArray): NDArray {
  return withScratch((tmp) => {
    const tanhHalf = tmp(unary('tanh', tmp(scale(x, 0.5))));
    return binary('mul', tanhHalf, tmp(binary('add', tmp(unary('exp', x)), tmp(constant(backend, 1)))));
  });
}

export const expm1Config = float(Expm1, (x, { backend }) => expm1(backend, x));

export const eluConfig = float(Elu, (x, { backend }) => elu(backend, x));

/** dy where y ≥ 0, else dy·(y + 1) (= dy·eˣ): the gradient of Elu from its output, as tfjs-backend-cpu's EluGrad. */
export const eluGradConfig = kernel(EluGrad, ({ inputs, backend }) => {
  const dy = backend.nd(inputs.dy!);
  const y = backend.nd(inputs.y!);
  return backend.output(withScratch((tmp) => {
    const scaled = tmp(binary('mul', dy, tmp(binary('add', y, tmp(constant(backend, 1))))));
    return where(tmp(binary('greaterEqual', y, tmp(constant(backend, 0)))), dy, scaled);
  }), 'float32');
});

/** tfjs's selu: scale·x for x ≥ 0, scale·alpha·(eˣ − 1) below (Elu's accurate eˣ − 1). */
export const seluConfig = float(Selu, (x, { backend }) => withScratch((tmp) => {
  const positive = tmp(binary('greaterEqual', x, tmp(constant(backend, 0))));
  const factor = tmp(where(positive, tmp(constant(backend, backend_util.SELU_SCALE)), tmp(constant(backend, backend_util.SELU_SCALEALPHA))));
  return binary('mul', tmp(elu(backend, x)), factor);
}));

/** (e^|x| + e^−|x|) / 2 (overflows to ∞ past |x| ≈ 88.7, where e^|x| leaves float32; float64 goes to 89.4). */
function cosh(backend: WasmgradBackend, x: NDArray): NDArray {
  return withScratch((tmp) => {
    const e = tmp(unary('exp', tmp(unary('abs', x))));
    return scale(tmp(binary('add', e, tmp(unary('reciprocal', e)))), 0.5);
  });
}

export const coshConfig = float(Cosh, (x, { backend }) => cosh(backend, x));
/** sinh = tanh·cosh, free of the cancellation of (eˣ − e⁻ˣ)/2 near 0. */
export const sinhConfig = float(Sinh, (x, { backend }) => withScratch((tmp) => binary('mul', tmp(unary('tanh', x)), tmp(cosh(backend, x)))));

/**
 * log(1 + x) accurate near 0: with u = 1 + x rounded, log(u)·x/(u − 1) corrects for the rounding (Goldberg), and
 * is x itself where u rounds to 1; where u − 1 is x exactly (also ±∞, −1) log(u) needs no correction.
 */
export const log1pConfig = float(Log1p, (x, { backend }) => withScratch((tmp) => {
  const one = tmp(constant(backend, 1));
  const u = tmp(binary('add', x, one));
  const um1 = tmp(binary('sub', u, one));
  const factor = tmp(where(tmp(binary('equal', um1, x)), one, tmp(binary('div', x, um1))));
  return where(tmp(binary('equal', u, one)), x, tmp(binary('mul', tmp(unary('log', u)), factor)));
}));

/**
 * Round half to even, as tfjs's round: ⌊x⌋ below a half, ⌊x⌋ + 1 above it, the even one of the two at a half. An
 * int32 tensor is its own rounding (the same storage, as Identity).
 */
export const roundConfig = kernel(Round, (args) => {
  const x = args.inputs.x!;
  if (x.dtype === 'int32') return share(x, x.shape, args);
  if (x.dtype !== 'float32') return runOnCpu(Round, args);
  return args.backend.output(round(args.backend, args.backend.nd(x)), 'float32');
});

function round(backend: WasmgradBackend, x: NDArray): NDArray {
  return withScratch((tmp) => {
    const c = (v: number) => tmp(constant(backend, v));
    const base = tmp(unary('floor', x));
    const up = tmp(binary('add', base, c(1)));
    const frac = tmp(binary('sub', x, base)); // exact in float32
    const even = tmp(binary('equal', tmp(scale(tmp(unary('floor', tmp(scale(base, 0.5)))), 2)), base));
    const atHalf = tmp(where(even, base, up));
    return where(tmp(binary('less', frac, c(0.5))), base, tmp(where(tmp(binary('greater', frac, c(0.5))), up, atHalf)));
  });
}
