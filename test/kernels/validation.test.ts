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

describe('kernel layer: optimizer updates', () => {
  const sgd = { lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, firstStep: true };
  const adam = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, bc1: 0.1, bc2: 0.001 };
  const rms = { lr: 0.1, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0.5, centered: true };

  it('check every buffer before the update: alive, one backend, float, exactly the parameter\'s shape', () => {
    const [ref, wasm] = backends as [Labelled, Labelled];
    for (const l of backends) {
      const p = arr(l, [4], 'float32', [1, 2, 3, 4]), g = arr(l, [4], 'float32', [2, 2, 2, 2]);
      const made = [p, g];
      const a = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => {
        const x = arr(l, shape, dtype);
        made.push(x);
        return x;
      };
      expect(() => K.sgd(p, a([5]), null, sgd), l.label).toThrow('sgd: the gradient has shape [5], the parameter [4]');
      expect(() => K.sgd(p, a([2, 2]), null, sgd)).toThrow('sgd: the gradient has shape [2,2], the parameter [4]');
      expect(() => K.adam(p, g, a([4]), a([3]), adam)).toThrow('adam: a state buffer has shape [3], the parameter [4]');
      expect(() => K.rmsprop(p, g, a([4]), a([4]), a([8]), rms)).toThrow('rmsprop: a state buffer has shape [8], the parameter [4]');
      expect(() => K.adagrad(p, a([4], 'int32'), a([4]), { clr: 0.1, eps: 1e-10, weightDecay: 0 }))
        .toThrow('adagrad: expects float32 or float64 data, got int32');
      // A shape that claims more elements than its buffer holds is caught too.
      expect(() => K.sgd(p, { buf: g.buf, shape: [5] }, null, sgd)).toThrow('sgd: shape [5] does not match a buffer of 4');
      const freed = arr(l, [4]);
      K.free(freed);
      expect(() => K.sgd(p, freed, null, sgd)).toThrow('sgd: input was used after it was freed');
      expect(Array.from(l.backend.read(p.buf))).toEqual([1, 2, 3, 4]); // nothing ran
      K.sgd(p, g, null, sgd);
      expect(Array.from(l.backend.read(p.buf))).toEqual([0, 1, 2, 3]);
      for (const x of made) K.free(x);
    }
    const p = arr(ref, [2]), g = arr(wasm, [2]);
    expect(() => K.sgd(p, g, null, sgd)).toThrow('sgd: inputs live on different backends (ref, wasm)');
    K.free(p);
    K.free(g);
  });

  it('scale into out checks out like an input, and scales in place', () => {
    for (const l of backends) {
      const x = arr(l, [3], 'float32', [1, 2, 3]), wrong = arr(l, [4]);
      expect(() => K.scale(x, 2, wrong), l.label).toThrow('scale: out has shape [4], x [3]');
      expect(K.scale(x, 2, x)).toBe(x);
      expect(Array.from(l.backend.read(x.buf))).toEqual([2, 4, 6]);
      K.free(x);
      K.free(wrong);
    }
  });
});

describe('kernel layer: a failure part-way frees what was allocated', () => {
  it('freeOnError frees the arrays allocated inside it, nested kernels included, once', () => {
    for (const l of backends) {
      const x = arr(l, [2, 3], 'float32', [1, 2, 3, 4, 5, 6]);
      const start = l.backend.memory();
      expect(() => K.freeOnError(() => {
        const e = K.unary('exp', x); // kept until the failure
        K.free(K.unary('neg', e)); // freed already: not freed twice
        K.reduce('sum', x, [0, 1]); // an inner kernel's outputs
        K.binary('add', e, arr(l, [4])); // fails after all that
      }), l.label).toThrow('add: shapes [2,3] and [4] are not broadcastable');
      // Everything made inside is freed: exp's output, sum's, and the [4] array made for the failing add.
      expect(l.backend.memory()).toMatchObject({ buffers: start.buffers, bytesInUse: start.bytesInUse });
      // On success the caller owns everything, and an enclosing scope frees it on a later failure.
      let kept: NDArray | null = null;
      expect(() => K.freeOnError(() => {
        kept = K.freeOnError(() => K.unary('exp', x));
        throw new Error('later');
      })).toThrow('later');
      expect(kept!.buf.live).toBe(false);
      // An inner failure caught inside an outer scope frees only the inner's arrays; the outer's are returned.
      let inner: NDArray | null = null;
      const [before, after] = K.freeOnError(() => {
        const made = K.unary('exp', x);
        expect(() => K.freeOnError(() => {
          inner = K.unary('neg', x);
          throw new Error('inner');
        })).toThrow('inner');
        return [made, K.unary('neg', x)];
      });
      expect([inner!.buf.live, before.buf.live, after.buf.live], l.label).toEqual([false, true, true]);
      K.free(before);
      K.free(after);
      const out = K.freeOnError(() => K.unary('exp', x));
      expect(out.buf.live).toBe(true);
      K.free(out);
      K.free(x);
    }
  });
});
