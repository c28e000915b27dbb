// Elementwise binary kernels with NumPy broadcasting: arithmetic on float32 (int32 arithmetic is listed in
// src/tfjs/fallback.ts), comparisons on every dtype (bool out), and the logical ops on bool.
import { Add, AddN, Equal, FloorDiv, Greater, GreaterEqual, Less, LessEqual, LogicalAnd, LogicalNot, LogicalOr, Maximum, Minimum,
  Multiply, NotEqual, Pow, Prelu, RealDiv, SquaredDifference, Sub, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BinaryOp, CompareOp } from '../../backend/types.js';
import { binary, cast, unary, where, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { runOnCpu } from '../fallback.js';
import { share } from './Reshape.js';
import { anyString, constant, kernel, withScratch, type KernelArgs } from './util.js';

/** a op b for float32 a and b, or the cpu fallback for int32 (exact integer arithmetic has no wasm kernel yet). */
function arithmetic(kernelName: string, f: (a: NDArray, b: NDArray) => NDArray) {
  return kernel(kernelName, (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return runOnCpu(kernelName, args);
    return args.backend.output(f(args.backend.nd(a), args.backend.nd(b)), 'float32');
  });
}

const op = (name: BinaryOp) => (a: NDArray, b: NDArray) => binary(name, a, b);

export const addConfig = arithmetic(Add, op('add'));
export const subConfig = arithmetic(Sub, op('sub'));
export const multiplyConfig = arithmetic(Multiply, op('mul'));
export const realDivConfig = arithmetic(RealDiv, op('div'));
export const maximumConfig = arithmetic(Maximum, op('maximum'));
export const minimumConfig = arithmetic(Minimum, op('minimum'));
export const powConfig = arithmetic(Pow, op('pow'));
/**
 * ⌊a / b⌋ as int32, tfjs's dtype for FloorDiv (tf.floorDiv; tf.div of int32 operands, listed in src/tfjs/fallback.ts).
 * A quotient that is not finite (x/0, NaN) is 0, as tfjs-backend-cpu's Int32Array stores it.
 */
export const floorDivConfig = kernel(FloorDiv, (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return runOnCpu(FloorDiv, args);
  const { backend } = args;
  return backend.output(withScratch((tmp) => {
    const q = tmp(unary('floor', tmp(binary('div', backend.nd(a), backend.nd(b)))));
    const finite = tmp(binary('less', tmp(unary('abs', q)), tmp(constant(backend, Infinity))));
    return cast(tmp(where(finite, q, tmp(constant(backend, 0)))), 'int32');
  }), 'int32');
});
export const squaredDifferenceConfig = arithmetic(SquaredDifference, (a, b) => withScratch((tmp) =>
  unary('square', tmp(binary('sub', a, b)))));

/** x < 0 ? alpha·x : x, alpha broadcast against x (tf.prelu). */
export const preluConfig = kernel(Prelu, (args) => {
  const { x, alpha } = args.inputs as { x: TensorInfo; alpha: TensorInfo };
  if (x.dtype !== 'float32' || alpha.dtype !== 'float32') return runOnCpu(Prelu, args);
  const { backend } = args;
  return backend.output(withScratch((tmp) => {
    const xs = backend.nd(x);
    const negative = tmp(binary('less', xs, tmp(constant(backend, 0))));
    return where(negative, tmp(binary('mul', backend.nd(alpha), xs)), xs);
  }), 'float32');
});

/** The sum of any number of same-shape float32 tensors, added left to right (int32 is listed in src/tfjs/fallback.ts). */
export const addNConfig = kernel(AddN, (args) => {
  const xs = args.inputs as unknown as TensorInfo[];
  if (xs.some((x) => x.dtype !== 'float32')) return runOnCpu(AddN, args);
  const { backend } = args;
  if (xs.length === 1) return share(xs[0]!, xs[0]!.shape, args);
  return backend.output(withScratch((tmp) => {
    let sum = binary('add', backend.nd(xs[0]!), backend.nd(xs[1]!));
    for (const x of xs.slice(2)) sum = binary('add', tmp(sum), backend.nd(x));
    return sum;
  }), 'float32');
});

/** a op b as int32 1/0 (bool storage): int32 and bool compare as they are, float32 compares and is cast. */
export function compare(backend: WasmgradBackend, name: CompareOp, a: TensorInfo, b: TensorInfo): NDArray {
  const x = backend.nd(a);
  const y = backend.nd(b);
  if (a.dtype !== 'float32' && b.dtype !== 'float32') return binary(name, x, y);
  return withScratch((tmp) => {
    const xf = a.dtype === 'float32' ? x : tmp(cast(x, 'float32'));
    const yf = b.dtype === 'float32' ? y : tmp(cast(y, 'float32'));
    return cast(tmp(binary(name, xf, yf)), 'int32');
  });
}

/** 1 − x for int32 0/1 (a bool), through float32 (exact on 0 and 1). */
export function not(backend: WasmgradBackend, x: NDArray): NDArray {
  return withScratch((tmp) => cast(tmp(binary('sub', tmp(constant(backend, 1)), tmp(cast(x, 'float32')))), 'int32'));
}

/** A comparison; strings compare on tfjs-backend-cpu (listed in src/tfjs/fallback.ts). */
function comparison(kernelName: string, name: CompareOp, negate = false) {
  return kernel(kernelName, (args: KernelArgs) => {
    const { inputs, backend } = args;
    if (anyString(inputs)) return runOnCpu(kernelName, args);
    const r = compare(backend, name, inputs.a!, inputs.b!);
    return backend.output(negate ? withScratch((tmp) => not(backend, tmp(r))) : r, 'bool');
  });
}

export const equalConfig = comparison(Equal, 'equal');
export const notEqualConfig = comparison(NotEqual, 'equal', true);
export const greaterConfig = comparison(Greater, 'greater');
export const greaterEqualConfig = comparison(GreaterEqual, 'greaterEqual');
export const lessConfig = comparison(Less, 'less');
export const lessEqualConfig = comparison(LessEqual, 'lessEqual');

/** A logical op on bools (int32 0/1) as float32 arithmetic: and = a·b, or = max(a, b); exact on 0 and 1. */
function logical(kernelName: string, name: 'mul' | 'maximum') {
  return kernel(kernelName, ({ inputs, backend }: KernelArgs) => backend.output(withScratch((tmp) => {
    const a = tmp(cast(backend.nd(inputs.a!), 'float32'));
    const b = tmp(cast(backend.nd(inputs.b!), 'float32'));
    return cast(tmp(binary(name, a, b)), 'int32');
  }), 'bool'));
}

export const logicalAndConfig = logical(LogicalAnd, 'mul');
export const logicalOrConfig = logical(LogicalOr, 'maximum');
export const logicalNotConfig = kernel(LogicalNot, ({ inputs, backend }) => backend.output(not(backend, backend.nd(inputs.x!)), 'bool'));
