// The listed fallback to tfjs-backend-cpu: listed kernels (and listed cases of native ones) run there on copies
// and give tfjs-backend-cpu's results, leaving no data behind on either backend; nothing else ever does.
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { FALLBACK_KERNELS, PARTIAL_FALLBACKS } from '../../src/tfjs/index.js';
import { runOnCpu } from '../../src/tfjs/fallback.js';
import { KERNELS } from '../../src/tfjs/kernels/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

let cpu: tf.KernelBackend;
beforeAll(async () => {
  await useWasmgrad();
  cpu = tf.findBackend('cpu')!;
});

/** fn on wasmgrad, with no tensor, data id or byte left behind here and no data id left on the cpu backend. */
async function clean<T>(fn: () => T): Promise<T> {
  const cpuIds = cpu.numDataIds();
  const result = await expectNoTfLeaks(fn);
  expect(cpu.numDataIds()).toBe(cpuIds);
  return result;
}

describe('the fallback to tfjs-backend-cpu', () => {
  it('lists only kernels that tfjs-backend-cpu has, and partial cases only of native kernels', () => {
    const native = new Set(KERNELS.map((k) => k.kernelName));
    for (const name of Object.keys(FALLBACK_KERNELS)) {
      expect(tf.getKernel(name, 'cpu'), name).toBeDefined();
      expect(native.has(name), name).toBe(false);
    }
    for (const name of Object.keys(PARTIAL_FALLBACKS)) expect(native.has(name), name).toBe(true);
  });

  it('runs a listed kernel (TopK) on copies and gives its results', async () => {
    await clean(() => tf.tidy(() => {
      const { values, indices } = tf.topk(tf.tensor([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]]), 2);
      expect(tf.backend().constructor.name).toBe('WasmgradBackend');
      expect(Array.from(values.dataSync())).toEqual([5, 4, 9, 6]);
      expect(Array.from(indices.dataSync())).toEqual([4, 2, 0, 2]);
    }));
  });

  it('runs the listed int32 cases of native kernels there, exactly (no float32 rounding)', async () => {
    await clean(() => tf.tidy(() => {
      const big = tf.tensor([2 ** 30 + 1, -7], [2], 'int32');
      expect(Array.from(big.add(tf.tensor([2, 3], [2], 'int32')).dataSync())).toEqual([2 ** 30 + 3, -4]);
      expect(Array.from(big.mul(tf.scalar(2, 'int32')).dataSync())).toEqual([2 ** 31 + 2 | 0, -14]);
      expect(Array.from(tf.sum(tf.tensor([2 ** 25, 1], [2], 'int32')).dataSync())).toEqual([2 ** 25 + 1]);
    }));
  });

  it('refuses a kernel that is not listed, naming it and the policy', () => {
    expect(() => runOnCpu('Erf', { inputs: {}, attrs: {}, backend: tf.backend() as never }))
      .toThrow("Erf: this kernel is not implemented by the 'wasmgrad' TensorFlow.js backend");
  });

  it("says what to import when the 'cpu' backend is not registered", async () => {
    tf.removeBackend('cpu');
    try {
      await clean(() => {
        expect(() => tf.tidy(() => tf.topk(tf.tensor([1, 2]), 1))).toThrow("TopK: runs on tfjs-backend-cpu under the 'wasmgrad' " +
          "backend's fallback policy (src/tfjs/fallback.ts), but the 'cpu' backend is not registered: " +
          "import '@tensorflow/tfjs' or '@tensorflow/tfjs-backend-cpu'");
      });
    } finally {
      tf.registerBackend('cpu', () => new MathBackendCPU(), 1);
      cpu = tf.findBackend('cpu')!;
    }
  });
});
