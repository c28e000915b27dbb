// Reductions over any axes (keepDims or not): Sum, Mean, Max, Min on float32, Max and ArgMax/ArgMin on int32 too;
// the int32 sums are listed in src/tfjs/fallback.ts.
import { All, Any, ArgMax, ArgMin, Max, Mean, Min, Sum, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { ReduceOp } from '../../backend/types.js';
import { binary, cast, empty, free, reduce, unary, where, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { runOnCpu } from '../fallback.js';
import { kernel, view, withScratch, type KernelArgs } from './util.js';

/** The axes attr (a number, a list, or null for all) as a list of non-negative axes. */
const axesOf = (x: TensorInfo, axis: unknown): number[] => util.parseAxisParam((axis ?? null) as number | number[], x.shape);

function reduction(kernelName: string, op: ReduceOp, axisAttr: string, dtypes: readonly string[]) {
  return kernel(kernelName, (args: KernelArgs) => {
    const x = args.inputs.x!;
    if (!dtypes.includes(x.dtype)) return runOnCpu(kernelName, args);
    const { out, argmax } = reduce(op, args.backend.nd(x), axesOf(x, args.attrs[axisAttr]), !!args.attrs.keepDims);
    if (argmax) free(argmax);
    return args.backend.output(out, x.dtype);
  });
}

export const sumConfig = reduction(Sum, 'sum', 'axis', ['float32']);
export const maxConfig = reduction(Max, 'max', 'reductionIndices', ['float32', 'int32']);

/** The mean in float32 of any numeric dtype, as tfjs-backend-cpu computes it (an accuracy is the mean of a bool). */
export const meanConfig = kernel(Mean, ({ inputs, attrs, backend }) => {
  const x = inputs.x!;
  return backend.output(withScratch((tmp) => {
    const xf = x.dtype === 'float32' ? backend.nd(x) : tmp(cast(backend.nd(x), 'float32'));
    const { out } = reduce('mean', xf, axesOf(x, attrs.axis), !!attrs.keepDims);
    return out;
  }), 'float32');
});
/** min(x) = −max(−x). */
export const minConfig = kernel(Min, (args) => {
  const x = args.inputs.x!;
  if (x.dtype !== 'float32') return runOnCpu(Min, args);
  return args.backend.output(withScratch((tmp) => {
    const { out, argmax } = reduce('max', tmp(unary('neg', args.backend.nd(x))), axesOf(x, args.attrs.axis), !!args.attrs.keepDims);
    tmp(argmax!);
    return unary('neg', tmp(out));
  }), 'float32');
});

/**
 * x (float32) with tfjs-backend-cpu's NaN rule for ArgMax turned into plain values: it starts from the first value
 * along the axis and moves to each later one that is greater, so a NaN after the first is never taken (−∞ here)
 * and a NaN first is never left (+∞ here, which wins as the first maximum). wasmgrad's max lets NaN win instead.
 */
function withoutNaN(backend: WasmgradBackend, x: NDArray, axis: number, tmp: <A extends NDArray>(a: A) => A): NDArray {
  const r = x.shape[axis]!;
  const fills = tmp(empty(backend.wasm, 'float32', [r]));
  backend.wasm.write(fills.buf, Float32Array.from({ length: r }, (_, j) => (j === 0 ? Infinity : -Infinity)));
  const along = x.shape.map((d, i) => (i === axis ? d : 1));
  return tmp(where(tmp(binary('equal', x, x)), x, view(fills, along))); // x ≠ x only for NaN
}

/** The index of the first maximum (ArgMin: of −x) along one axis, int32, NaNs as tfjs-backend-cpu treats them. */
function argReduce(kernelName: string, negate: boolean) {
  return kernel(kernelName, (args) => {
    const x = args.inputs.x!;
    if (x.dtype !== 'float32' && !(x.dtype === 'int32' && !negate)) return runOnCpu(kernelName, args);
    const axes = axesOf(x, args.attrs.axis);
    if (axes.length !== 1) throw new Error(`${kernelName}: expects one axis, got [${axes.join(',')}]`);
    return args.backend.output(withScratch((tmp) => {
      const nd = args.backend.nd(x);
      const signed = negate ? tmp(unary('neg', nd)) : nd;
      const { out, argmax } = reduce('max', x.dtype === 'float32' ? withoutNaN(args.backend, signed, axes[0]!, tmp) : signed, axes);
      tmp(out);
      return argmax!;
    }), 'int32');
  });
}

export const argMaxConfig = argReduce(ArgMax, false);
export const argMinConfig = argReduce(ArgMin, true);

/** Any = the max of the bools, All = the min (−max of the negated), over float32 copies of the 0/1 values. */
function logicalReduction(kernelName: string, all: boolean) {
  return kernel(kernelName, ({ inputs, attrs, backend }) => {
    const x = inputs.x!;
    return backend.output(withScratch((tmp) => {
      const xf = tmp(cast(backend.nd(x), 'float32'));
      const { out, argmax } = reduce('max', all ? tmp(unary('neg', xf)) : xf, axesOf(x, attrs.axis), !!attrs.keepDims);
      tmp(argmax!);
      return cast(tmp(all ? unary('neg', tmp(out)) : out), 'int32');
    }), 'bool');
  });
}

export const allConfig = logicalReduction(All, true);
export const anyConfig = logicalReduction(Any, false);
