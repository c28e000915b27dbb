// wasmgrad/tfjs: a TensorFlow.js backend named 'wasmgrad' whose kernels are wasmgrad's WebAssembly kernels.
//   import * as tf from '@tensorflow/tfjs';
//   import 'wasmgrad/tfjs';
//   await tf.setBackend('wasmgrad');
// Importing registers the backend and its kernels (tfjs keeps its registries on a global, so the CommonJS and ES
// module copies of @tensorflow/tfjs-core see the same ones). The backend is created on first use, with a wasmgrad
// wasm backend of its own (see backend.ts); setWasmgradOptions() chooses its build, threads and memory limit.
import { registerBackend, registerKernel } from '@tensorflow/tfjs-core';
import { createWasmBackend, WASM_OPTIONS, type WasmOptions } from '../backend/wasm/index.js';
import { checkOptions } from '../options.js';
import { WasmgradBackend } from './backend.js';
import { FALLBACK_CONFIGS, registerNotImplemented } from './fallback.js';
import { KERNELS } from './kernels/index.js';
import { BACKEND_NAME } from './kernels/util.js';

export { WasmgradBackend } from './backend.js';
export { FALLBACK_KERNELS, PARTIAL_FALLBACKS } from './fallback.js';
export { BACKEND_NAME };

/**
 * Below tfjs-backend-cpu (1): the backend runs where it is asked for (tf.setBackend('wasmgrad')), never by
 * surprise, and its asynchronous start never stands in the way of code that does not await tf.ready().
 */
export const PRIORITY = 0;

let options: WasmOptions = {};

/**
 * The options of the wasmgrad backend the 'wasmgrad' tfjs backend creates (createWasmBackend's: build, threads,
 * maxMemoryMB). They apply when the backend is created: call this before the first tf.setBackend('wasmgrad'), or
 * tf.removeBackend('wasmgrad') and register it again with registerWasmgrad().
 */
export function setWasmgradOptions(next: WasmOptions): void {
  checkOptions('setWasmgradOptions', next, WASM_OPTIONS);
  options = { ...next };
}

/** Registers the backend and its kernels (importing this module already did). */
export function registerWasmgrad(): void {
  registerBackend(BACKEND_NAME, async () => {
    registerNotImplemented();
    return new WasmgradBackend(await createWasmBackend(options));
  }, PRIORITY);
}

for (const config of [...KERNELS, ...FALLBACK_CONFIGS]) registerKernel(config);
registerWasmgrad();
