// The fallback policy of the 'wasmgrad' TensorFlow.js backend. A kernel runs natively (src/tfjs/kernels/, on
// wasmgrad's storage, never copied), or, only when it is listed here, on tfjs-backend-cpu: its inputs are copied
// out of linear memory into the 'cpu' backend, tfjs-backend-cpu's own kernel runs, and its outputs are copied
// back. Anything else fails with an error that names the kernel and this policy: never a silent copy.
import { findBackend, getKernel, getKernelsForBackend, registerKernel, type KernelConfig, type NamedTensorInfoMap,
  type TensorInfo } from '@tensorflow/tfjs-core';
import { BACKEND_NAME, kernel, type KernelArgs } from './kernels/util.js';

/** Kernels that run wholly on tfjs-backend-cpu, each with why it is not native (yet). */
export const FALLBACK_KERNELS: Readonly<Record<string, string>> = {
  TopK: 'a data-dependent sort, run on predictions',
  Unique: 'its output shape depends on the values',
  Multinomial: 'sampling from predictions',
};

/** Native kernels that leave some cases to tfjs-backend-cpu: the kernel and the case. */
export const PARTIAL_FALLBACKS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(['Add', 'AddN', 'Sub', 'Multiply', 'RealDiv', 'FloorDiv', 'Maximum', 'Minimum', 'Pow', 'SquaredDifference',
    'Prelu']
    .map((k) => [k, 'int32 operands: exact integer arithmetic has no wasm kernel yet'])),
  ...Object.fromEntries(['Neg', 'Abs', 'Square', 'Sign', 'Relu', 'Relu6', 'Step', 'ClipByValue', 'LeakyRelu', 'IsNan', 'IsInf',
    'IsFinite']
    .map((k) => [k, 'int32 input (the wasm unary kernels are float32)'])),
  ...Object.fromEntries(['Sum', 'Min', 'ArgMin']
    .map((k) => [k, 'int32 or bool input (the wasm reductions sum and negate float32)'])),
  Max: 'bool input',
  Cumsum: 'int32 input (wasmgrad accumulates float32 in float64)',
  ArgMax: 'bool input',
  BatchMatMul: 'int32 operands',
  _FusedMatMul: "int32 operands, and the 'prelu' activation",
  FusedConv2D: "the 'prelu' activation",
  FusedDepthwiseConv2D: "the 'prelu' activation",
  Select: 'int32 or bool values (the wasm where kernel selects float32)',
  GatherV2: 'batchDims > 0',
  ...Object.fromEntries(['Concat', 'Slice', 'StridedSlice', 'SplitV', 'Pack', 'Unpack', 'Tile', 'Reverse', 'Equal',
    'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual']
    .map((k) => [k, 'string tensors (stored as JavaScript values, not in linear memory)'])),
};

/** Kernels about complex numbers: wasmgrad stores no complex64 tensors, and the error says so. */
const COMPLEX_KERNELS = new Set(['Complex', 'ComplexAbs', 'Real', 'Imag', 'FFT', 'IFFT', 'RFFT', 'IRFFT']);

/** The error for a kernel that is neither native nor on the fallback list. */
export function notImplemented(kernelName: string): Error {
  const complex = COMPLEX_KERNELS.has(kernelName) ? ' (it stores no complex64 tensors: use the \'cpu\' backend)' : '';
  return new Error(`${kernelName}: this kernel is not implemented by the '${BACKEND_NAME}' TensorFlow.js backend${complex}, ` +
    'and it is not on the list of kernels allowed to fall back to tfjs-backend-cpu (src/tfjs/fallback.ts); ' +
    `run this model on another backend (tf.setBackend('cpu')) or ask for the kernel`);
}

/**
 * Runs kernelName's tfjs-backend-cpu kernel on copies of the inputs and copies its outputs back. Only for the kernels
 * and cases listed above.
 */
export function runOnCpu(kernelName: string, { inputs, attrs, backend }: KernelArgs): TensorInfo | TensorInfo[] {
  if (!(kernelName in FALLBACK_KERNELS) && !(kernelName in PARTIAL_FALLBACKS)) throw notImplemented(kernelName);
  const config = getKernel(kernelName, 'cpu');
  const cpu = config ? findBackend('cpu') : null;
  if (!config || !cpu) {
    throw new Error(`${kernelName}: runs on tfjs-backend-cpu under the '${BACKEND_NAME}' backend's fallback policy ` +
      "(src/tfjs/fallback.ts), but the 'cpu' backend is not registered: import '@tensorflow/tfjs' or '@tensorflow/tfjs-backend-cpu'");
  }
  const copies: TensorInfo[] = [];
  const cpuInputs = (Array.isArray(inputs) ? [] : {}) as NamedTensorInfoMap; // Concat's inputs are a list
  const outputs: TensorInfo[] = [];
  try {
    for (const [name, t] of Object.entries(inputs)) {
      if (!t) continue;
      const copy = { dataId: cpu.write(backend.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
      copies.push(copy);
      cpuInputs[name] = copy;
    }
    const result = config.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu });
    const results = Array.isArray(result) ? result : [result];
    copies.push(...results);
    for (const r of results) {
      outputs.push({ dataId: backend.write(cpu.readSync(r.dataId), r.shape, r.dtype), shape: r.shape, dtype: r.dtype });
    }
    return Array.isArray(result) ? outputs : outputs[0]!;
  } catch (e) {
    for (const o of outputs) backend.disposeData(o.dataId, true);
    throw e;
  } finally {
    for (const c of copies) cpu.disposeData(c.dataId);
  }
}

/** The configs of the whole-kernel fallbacks. */
export const FALLBACK_CONFIGS: KernelConfig[] = Object.keys(FALLBACK_KERNELS)
  .map((name) => kernel(name, (args) => runOnCpu(name, args)));

/**
 * Registers, for every kernel tfjs-backend-cpu has that 'wasmgrad' has not, one that throws notImplemented: tfjs's
 * own message ("Kernel 'X' not registered for backend 'wasmgrad'") would not say what the policy is.
 */
export function registerNotImplemented(): void {
  for (const { kernelName } of getKernelsForBackend('cpu')) {
    if (getKernel(kernelName, BACKEND_NAME)) continue;
    registerKernel(kernel(kernelName, () => {
      throw notImplemented(kernelName);
    }));
  }
}
