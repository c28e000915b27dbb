// The 'wasmgrad' TensorFlow.js backend's storage: dtypes, reference counts shared by Reshape/Identity, reads,
// moves from another backend, and memory accounting in tfjs and in wasmgrad's linear memory.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_NAME, type WasmgradBackend } from '../../src/tfjs/index.js';

let backend: WasmgradBackend;

beforeAll(async () => {
  expect(await tf.setBackend(BACKEND_NAME)).toBe(true);
  backend = tf.backend() as WasmgradBackend;
});

/** Runs fn and checks that tfjs's tensors and wasmgrad's bytes are back where they started. */
async function noLeaks(fn: () => Promise<void> | void): Promise<void> {
  const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds(), bytes: backend.wasm.memory().bytesInUse };
  await fn();
  expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds(), bytes: backend.wasm.memory().bytesInUse }).toEqual(before);
}

describe("tfjs backend 'wasmgrad': storage", () => {
  it('is registered under its name and stores float32, int32, bool and string tensors in their tfjs types', async () => {
    expect(tf.getBackend()).toBe('wasmgrad');
    await noLeaks(async () => {
      const f = tf.tensor([1.5, -2, 3e-8], [3], 'float32');
      const i = tf.tensor([1, -2, 2147483647], [3], 'int32');
      const b = tf.tensor([true, false, true], [3], 'bool');
      const s = tf.tensor(['a', 'bé', ''], [3], 'string');
      expect(f.dataSync()).toEqual(new Float32Array([1.5, -2, 3e-8]));
      expect(i.dataSync()).toEqual(new Int32Array([1, -2, 2147483647]));
      expect(b.dataSync()).toEqual(new Uint8Array([1, 0, 1]));
      expect(await s.data()).toEqual(['a', 'bé', '']);
      expect(await f.array()).toEqual([1.5, -2, Math.fround(3e-8)]);
      tf.dispose([f, i, b, s]);
    });
  });

  it('Reshape and Identity share storage: one Buf, freed when the last tensor viewing it is disposed', async () => {
    await noLeaks(() => {
      const bytes = backend.wasm.memory().bytesInUse;
      const x = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const y = x.reshape([3, 2]);
      const z = tf.clone(y); // Identity
      expect(y.dataId).toBe(x.dataId);
      expect(z.dataId).toBe(x.dataId);
      expect(backend.refCount(x.dataId)).toBe(3);
      expect(backend.wasm.memory().bytesInUse - bytes).toBe(24);
      x.dispose();
      y.dispose();
      expect(backend.refCount(z.dataId)).toBe(1);
      expect(Array.from(z.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      z.dispose();
      expect(backend.refCount(z.dataId)).toBe(0);
    });
  });

  it('numDataIds counts live data ids, and a tensor made on another backend is moved in when first used', async () => {
    await noLeaks(async () => {
      await tf.setBackend('cpu');
      const x = tf.tensor([1, 2, 3]);
      await tf.setBackend(BACKEND_NAME);
      const ids = backend.numDataIds();
      const y = x.mul(2);
      expect(backend.numDataIds()).toBe(ids + 2); // x moved in, and y
      expect(Array.from(y.dataSync())).toEqual([2, 4, 6]);
      tf.dispose([x, y]);
    });
  });

  it('reports its memory and its float precision', () => {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInWasmgrad: number };
    expect(m.unreliable).toBe(false);
    expect(m.numBytesInWasmgrad).toBe(backend.wasm.memory().bytesInUse);
    expect(backend.floatPrecision()).toBe(32);
    expect(backend.epsilon()).toBe(1e-7);
  });
});
