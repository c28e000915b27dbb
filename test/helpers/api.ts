// Running the same test on both backends through the public API, and checking that nothing leaks.
import { expect } from 'vitest';
import { init, memory, refBackend } from '../../src/index.js';

export const BACKENDS = ['ref', 'wasm'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Makes `name` the current backend (the wasm simd build, loaded once and reused). */
export async function useBackend(name: BackendName): Promise<void> {
  await init(name === 'wasm' ? { build: 'simd' } : { backend: 'ref' });
}

/** Runs fn and asserts that tensors, buffers and bytes in use are back where they started (both backends). */
export function expectNoLeaks<T>(fn: () => T): T {
  const before = memory();
  const refBefore = memory(refBackend());
  const result = fn();
  const after = memory();
  expect({ tensors: after.tensors, buffers: after.buffers, bytes: after.bytes })
    .toEqual({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
  expect(memory(refBackend()).bytes).toBe(refBefore.bytes);
  return result;
}

/** expectNoLeaks for async work. */
export async function expectNoLeaksAsync<T>(fn: () => Promise<T>): Promise<T> {
  const before = memory();
  const refBefore = memory(refBackend());
  const result = await fn();
  const after = memory();
  expect({ tensors: after.tensors, buffers: after.buffers, bytes: after.bytes })
    .toEqual({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
  expect(memory(refBackend()).bytes).toBe(refBefore.bytes);
  return result;
}
