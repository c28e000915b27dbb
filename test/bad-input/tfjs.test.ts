// Bad input to the 'wasmgrad' TensorFlow.js backend: complex64 and other dtypes it does not store, kernels it does
// not implement, data used after tf.dispose, and its memory limit. Each fails with a message as clear as wasmgrad's
// own, leaves tfjs's tensors and wasmgrad's bytes where they were, and the backend keeps working.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setWasmgradOptions, type WasmgradBackend } from '../../src/tfjs/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

let backend: WasmgradBackend;
const LIMIT_MB = 64;

beforeAll(async () => {
  setWasmgradOptions({ maxMemoryMB: LIMIT_MB }); // this file's worker creates the backend
  backend = await useWasmgrad();
});

/** The backend still computes, with the numbers tfjs-backend-cpu gives. */
function stillUsable(): void {
  tf.tidy(() => {
    const y = tf.tensor2d([[1, 2], [3, 4]]).matMul(tf.tensor2d([[1], [1]])).relu();
    expect(Array.from(y.dataSync())).toEqual([3, 7]);
  });
}

const NOT_IMPLEMENTED = "this kernel is not implemented by the 'wasmgrad' TensorFlow.js backend";
const POLICY = "it is not on the list of kernels allowed to fall back to tfjs-backend-cpu (src/tfjs/fallback.ts); " +
  "run this model on another backend (tf.setBackend('cpu')) or ask for the kernel";

const CASES: [string, () => tf.TensorContainer, string | RegExp][] = [
  ['complex64 from tf.complex', () => tf.complex([1], [2]),
    `Complex: ${NOT_IMPLEMENTED} (it stores no complex64 tensors: use the 'cpu' backend), and ${POLICY}`],
  ['a kernel neither native nor on the fallback list', () => tf.erf([0.5]), `Erf: ${NOT_IMPLEMENTED}, and ${POLICY}`],
  ['an index out of range', () => tf.gather(tf.tensor([1, 2, 3]), tf.tensor1d([5], 'int32')),
    'GatherV2: the index value 5 is not in [0, 2]'], // tfjs-backend-cpu's words, which tfjs's own tests check
  ['a tensor over the memory limit', () => tf.fill([50_000_000], 1),
    new RegExp(`^Fill: wasm backend: out of memory allocating 200000000 bytes: .* over the limit of ${LIMIT_MB}\\.0 MB.*` +
      "setWasmgradOptions\\(\\{ maxMemoryMB \\}\\) from 'wasmgrad/tfjs' before it starts")],
  ['a kernel output over the memory limit', () => tf.ones([6000, 10]).matMul(tf.ones([10, 6000])),
    /^BatchMatMul: wasm backend: out of memory allocating 144000000 bytes: .*setWasmgradOptions\(\{ maxMemoryMB \}\)/],
  ['tf.tensor over the memory limit', () => tf.tensor(new Float32Array(20_000_000)),
    /^wasmgrad: write: wasm backend: out of memory allocating 80000000 bytes: .*setWasmgradOptions/],
];

describe("bad input to the tfjs backend 'wasmgrad'", () => {
  for (const [name, call, message] of CASES) {
    it(`${name}: a clear error, memory unchanged, the backend still works`, async () => {
      await expectNoTfLeaks(() => {
        expect(() => tf.tidy(call)).toThrow(message);
      });
      stillUsable();
    });
  }

  it('a tensor used after tf.dispose: tfjs says so, and so does the backend for its data id', async () => {
    const x = tf.tensor([1, 2]);
    tf.dispose(x);
    await expectNoTfLeaks(() => {
      expect(() => x.add(1)).toThrow('Tensor is disposed');
      expect(() => backend.readSync(x.dataId)).toThrow("wasmgrad: readSync: this tensor's data was disposed " +
        '(by tf.dispose, tidy or dispose()); keep the tensors you still need (tf.keep, or return them from tidy)');
    });
    stillUsable();
  });

  it('a complex64 tensor from the cpu backend is refused before it is moved, so it stays usable there', async () => {
    await tf.setBackend('cpu');
    const c = tf.complex([1, 2], [3, 4]);
    await tf.setBackend('wasmgrad');
    await expectNoTfLeaks(() => {
      expect(() => tf.add(c, c)).toThrow("the 'wasmgrad' backend does not store complex64 tensors (it stores float32, " +
        "int32, bool and string); run complex arithmetic on the 'cpu' backend (tf.setBackend('cpu'))");
    });
    await tf.setBackend('cpu');
    expect(Array.from(tf.real(c).dataSync())).toEqual([1, 2]);
    tf.dispose(c);
    await tf.setBackend('wasmgrad');
    stillUsable();
  });

  it('setWasmgradOptions checks its options as createWasmBackend does', () => {
    expect(() => setWasmgradOptions({ maxMemoryMB: -1 })).toThrow(/^setWasmgradOptions: maxMemoryMB/);
    expect(() => setWasmgradOptions({ threads: 'many' as never })).toThrow(/^setWasmgradOptions: threads/);
    setWasmgradOptions({ maxMemoryMB: LIMIT_MB });
  });
});
