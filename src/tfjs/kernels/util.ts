// What every tfjs kernel of the 'wasmgrad' backend shares: its config, the backend it runs on, scratch arrays
// freed on every path, and small constants.
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { DType } from '../../backend/types.js';
import { empty, fill, free, freeOnError, type NDArray } from '../../kernels/index.js';
import { inTfjsTerms, type WasmgradBackend } from '../backend.js';

/** The tfjs backend name: `tf.setBackend('wasmgrad')`. */
export const BACKEND_NAME = 'wasmgrad';

export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  attrs: NamedAttrMap;
  backend: WasmgradBackend;
}

/** A KernelConfig for the 'wasmgrad' backend. */
export function kernel(kernelName: string, fn: (args: KernelArgs) => TensorInfo | TensorInfo[]): KernelConfig {
  const kernelFunc = (args: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap; backend: KernelBackend }) => {
    try {
      return fn({ inputs: args.inputs, attrs: args.attrs ?? {}, backend: args.backend as WasmgradBackend });
    } catch (e) {
      throw inTfjsTerms(kernelName, e);
    }
  };
  return { kernelName, backendName: BACKEND_NAME, kernelFunc: kernelFunc as KernelFunc };
}

/**
 * Runs fn, handing it `tmp` to mark arrays as scratch: they are freed when fn returns or throws. Whatever else fn
 * allocated is freed too if it throws (freeOnError), so a kernel that fails part-way leaks nothing.
 */
export function withScratch<T>(fn: (tmp: <A extends NDArray>(x: A) => A) => T): T {
  const scratch: NDArray[] = [];
  try {
    return freeOnError(() => fn((x) => {
      scratch.push(x);
      return x;
    }));
  } finally {
    for (const x of scratch) if (x.buf.live) free(x);
  }
}

/** Whether any input is a string tensor (kept as JavaScript values: the numeric kernels cannot read it). */
export function anyString(inputs: NamedTensorInfoMap | TensorInfo[]): boolean {
  return Object.values(inputs).some((t) => t?.dtype === 'string');
}

/** A new array of `shape` (default a scalar) filled with value. */
export function constant(backend: WasmgradBackend, value: number, dtype: DType = 'float32', shape: readonly number[] = []): NDArray {
  return freeOnError(() => {
    const x = empty(backend.wasm, dtype, shape);
    if (x.buf.size > 0) fill(x, value);
    return x;
  });
}

/** The same storage seen with another shape (sizes must agree): no copy, not owned. */
export function view(x: NDArray, shape: readonly number[]): NDArray {
  return { buf: x.buf, shape: [...shape] };
}
