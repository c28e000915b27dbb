// Shared by the tfjs convolution tests: the leak check on the 'wasmgrad' tfjs backend.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** wasmgrad's live bytes under the 'wasmgrad' tfjs backend (its memory(), which tf.memory() includes). */
const wasmgradBytes = () => (tf.findBackend('wasmgrad')!.memory() as unknown as { numBytesInWasmgrad: number }).numBytesInWasmgrad;

/** Runs fn on the 'wasmgrad' backend and checks that tfjs's tensors and wasmgrad's bytes are back where they started. */
export async function expectTfNoLeaks<T>(fn: () => Promise<T>): Promise<T> {
  await tf.setBackend('wasmgrad');
  const before = { tensors: tf.memory().numTensors, bytes: wasmgradBytes() };
  const result = await fn();
  expect({ tensors: tf.memory().numTensors, bytes: wasmgradBytes() }).toEqual(before);
  return result;
}
