// Tests of the 'wasmgrad' TensorFlow.js backend: make it current, and check that tfjs's tensors and wasmgrad's
// bytes come back to where they started.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { BACKEND_NAME, type WasmgradBackend } from '../../src/tfjs/index.js';

export async function useWasmgrad(): Promise<WasmgradBackend> {
  expect(await tf.setBackend(BACKEND_NAME)).toBe(true);
  return tf.backend() as WasmgradBackend;
}

function counts() {
  const backend = tf.findBackend(BACKEND_NAME) as WasmgradBackend;
  return { tensors: tf.memory().numTensors, dataIds: backend.numDataIds(), bytes: backend.wasm.memory().bytesInUse };
}

/** Runs fn and asserts that tf.memory().numTensors, the backend's data ids and wasmgrad's bytes in use are unchanged. */
export async function expectNoTfLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = counts();
  const result = await fn();
  expect(counts()).toEqual(before);
  return result;
}

/** The largest |a − b| / |b| over two equal-length lists. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-30));
  return worst;
}
