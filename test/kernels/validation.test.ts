// The kernel layer rejects bad input with an Error that names the kernel and the shapes, on every backend,
// before any kernel runs; the backend stays usable afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import * as K from '../../src/kernels/index.js';
import type { NDArray } from '../../src/kernels/index.js';
import { loadBackends, type Labelled } from '../helpers/backends.js';

let backends: Labelled[];
beforeAll(async () => {
  backends = await loadBackends();
});

function arr(l: Labelled, shape: number[], dtype: 'float32' | 'int32' = 'float32', values?: number[]): NDArray {
  const x = K.empty(l.backend, dtype, shape);
  l.backend.fill(x.buf, 0, 0, x.buf.size);
  if (values) l.backend.write(x.buf, values);
  return x;
}

describe('kernel layer: bad input', () => {
  it('names the kernel and both shapes for non-broadcastable operands', () => {
    for (const l of backends) {
      const a = arr(l, [2, 3]), b = arr(l, [4]);
      for (const op of ['add', 'mul', 'maximum'] as const) {
        expect(() => K.binary(op, a, b), l.label).toThrow(`${op}: shapes [2,3] and [4] are not broadcastable`);
      }
      const sum = K.binary('add', a, arr(l, [3])); // still usable
      expect(sum.shape).toEqual([2, 3]);
    }
  });

  it('names matmul and the shapes for an inner-dimension mismatch, also with transposes and batches', () => {
    for (const l of backends) {
      expect(() => K.matmul(arr(l, [2, 3]), arr(l, [4, 5]))).toThrow('matmul: inner dimensions differ: [2,3]·[4,5] (3 ≠ 4)');
      expect(() => K.matmul(arr(l, [3, 2]), arr(l, [4, 5]), { transA: true })).toThrow('[3,2]ᵀ·[4,5] (3 ≠ 4)');
      expect(() => K.matmul(arr(l, [2, 2, 3]), arr(l, [3, 3, 4]))).toThrow('matmul: batch dimensions differ');
      expect(() => K.matmul(arr(l, [2, 3]), arr(l, [3, 4]), { bias: arr(l, [3]) })).toThrow('matmul: bias must have shape [4], got [3]');
    }
  });

  it('rejects wrong dtypes', () => {
    for (const l of backends) {
      expect(() => K.unary('exp', arr(l, [3], 'int32'))).toThrow('exp: expects float32 or float64 data, got int32');
      expect(() => K.crossEntropy(arr(l, [2, 3]), arr(l, [2]))).toThrow('crossEntropy: labels must be int32, got float32');
      expect(() => K.gather(arr(l, [4, 2]), arr(l, [1]))).toThrow('gather: indices must be int32');
    }
    const ref = backends[0]!;
    const f64 = K.empty(ref.backend, 'float64', [3]);
    expect(() => K.binary('add', arr(ref, [3]), f64)).toThrow('add: dtypes differ (float32 and float64)');
  });

  it('rejects negative or fractional sizes', () => {
    for (const l of backends) {
      expect(() => K.empty(l.backend, 'float32', [2, -1])).toThrow('alloc: invalid shape [2,-1]');
      expect(() => K.empty(l.backend, 'float32', [1.5])).toThrow('alloc: invalid shape [1.5]');
    }
  });

  it('rejects out-of-range labels, indices, axes and slices instead of touching memory out of bounds', () => {
    for (const l of backends) {
      expect(() => K.crossEntropy(arr(l, [2, 3]), arr(l, [2], 'int32', [0, 3]))).toThrow('crossEntropy: label 3 at row 1 is out of range [0, 3)');
      expect(() => K.gather(arr(l, [4, 2]), arr(l, [2], 'int32', [1, -1]))).toThrow('gather: index -1 at position 1 is out of range [0, 4)');
      expect(() => K.reduce('sum', arr(l, [2, 3]), 2)).toThrow('sum: axis 2 is out of range for shape [2,3]');
      expect(() => K.reduce('sum', arr(l, [2, 3]), [1, -1])).toThrow('sum: repeated axis');
      expect(() => K.slice(arr(l, [4, 4]), [2, 0], [3, 4])).toThrow('slice: begin [2,0] and size [3,4] do not fit in [4,4]');
      expect(() => K.permute(arr(l, [2, 3]), [0, 0])).toThrow('permute: [0,0] is not a permutation');
      expect(() => K.broadcastTo(arr(l, [3]), [2, 4])).toThrow('broadcastTo: shapes [3] and [2,4] are not broadcastable');
      expect(() => K.reduce('max', arr(l, [2, 0]), 1)).toThrow('max: cannot reduce over an empty axis');
    }
  });

  it('rejects buffers used after free and buffers of another backend', () => {
    const [a, b] = backends;
    const x = arr(a!, [3]);
    K.free(x);
    expect(() => K.unary('exp', x)).toThrow('exp: input was used after it was freed');
    expect(() => K.binary('add', arr(a!, [3]), arr(b!, [3]))).toThrow(`add: inputs live on different backends (ref, wasm)`);
  });
});
