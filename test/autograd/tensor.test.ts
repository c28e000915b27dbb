// Creating tensors and reading them back: shapes and dtypes inferred from the data, constants, ranges, copies,
// printing, and the errors for data that cannot make a tensor.
import { describe, expect, it } from 'vitest';
import {
  arange, full, fullLike, ones, onesLike, rand, randn, tensor, tidy, zeros, zerosLike, type Tensor,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';

const summary = (t: Tensor) => ({ shape: t.shape, dtype: t.dtype, values: t.array() });

describe.each(BACKENDS)('tensors on %s', (name) => {
  it('infer shape and dtype from numbers, nested arrays and typed arrays', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      expect(summary(tensor(5))).toEqual({ shape: [], dtype: 'float32', values: 5 });
      expect(summary(tensor([]))).toEqual({ shape: [0], dtype: 'float32', values: [] });
      expect(summary(tensor([[1, 2, 3], [4, 5, 6]]))).toEqual({ shape: [2, 3], dtype: 'float32', values: [[1, 2, 3], [4, 5, 6]] });
      expect(summary(tensor(new Int32Array([7, -8])))).toEqual({ shape: [2], dtype: 'int32', values: [7, -8] });
      expect(summary(tensor(new Float32Array([0.5, 1.5]), { shape: [2, 1] })))
        .toEqual({ shape: [2, 1], dtype: 'float32', values: [[0.5], [1.5]] });
      expect(summary(tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'int32' })))
        .toEqual({ shape: [2, 2], dtype: 'int32', values: [[1, 2], [3, 4]] });
      // float32 storage rounds: 0.1 comes back as the nearest float32
      expect(tensor([0.1]).data()[0]).toBe(Math.fround(0.1));
      expect(tensor([[3]]).item()).toBe(3);
    }));
  });

  it('constants, ranges and *Like keep shape, dtype and backend', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      expect(summary(zeros([2, 2]))).toEqual({ shape: [2, 2], dtype: 'float32', values: [[0, 0], [0, 0]] });
      expect(summary(ones([3]))).toEqual({ shape: [3], dtype: 'float32', values: [1, 1, 1] });
      expect(summary(full([2], 7, { dtype: 'int32' }))).toEqual({ shape: [2], dtype: 'int32', values: [7, 7] });
      expect(summary(zeros([0, 4]))).toEqual({ shape: [0, 4], dtype: 'float32', values: [] });
      expect(arange(4).array()).toEqual([0, 1, 2, 3]);
      expect(arange(1, 2, 0.25).array()).toEqual([1, 1.25, 1.5, 1.75]);
      expect(arange(3, 0, -1).array()).toEqual([3, 2, 1]);
      expect(arange(2, 2).shape).toEqual([0]);
      const x = tensor([[1, 2]], { dtype: 'int32' });
      for (const [made, value] of [[zerosLike(x), 0], [onesLike(x), 1], [fullLike(x, 9), 9]] as const) {
        expect(summary(made)).toEqual({ shape: [1, 2], dtype: 'int32', values: [[value, value]] });
        expect(made.backend).toBe(x.backend);
      }
    }));
  });

  it('seeded random tensors repeat with the same seed and stay in range', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      expect(randn([5], { seed: 3 }).array()).toEqual(randn([5], { seed: 3 }).array());
      expect(randn([5], { seed: 3 }).array()).not.toEqual(randn([5], { seed: 4 }).array());
      const u = rand([1000], { seed: 1, low: -2, high: 2 }).data();
      expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
      expect(Math.max(...u)).toBeLessThan(2);
    }));
  });

  it('detach and clone copy nothing they should not: detach shares values, clone owns a copy', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const w = tensor([1, 2], { requiresGrad: true });
      const y = w.mul(3);
      const d = y.detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.isLeaf).toBe(true);
      expect(d.array()).toEqual([3, 6]);
      const c = w.clone();
      expect(c.array()).toEqual([1, 2]);
      c.sum().backward();
      expect(w.grad!.array()).toEqual([1, 1]); // clone is differentiable, like torch.clone
    }));
  });

  it('prints shape, dtype, name, gradient state and values (toString and Node inspect)', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const w = tensor([[1, 2], [3, 4]], { requiresGrad: true, name: 'W1' });
      expect(String(w)).toBe("Tensor([2,2], float32, 'W1', requiresGrad): [[1,2],[3,4]]");
      // what Node's util.inspect (console.log, the REPL) calls; this file also runs in Chromium, without node:util
      const inspect = (w as unknown as Record<symbol, () => string>)[Symbol.for('nodejs.util.inspect.custom')]!;
      expect(inspect.call(w)).toBe(String(w));
      expect(String(w.mul(2))).toBe('Tensor([2,2], float32, op mul): [[2,4],[6,8]]');
      expect(String(tensor([NaN, Infinity, -Infinity, -2.5]))).toBe('Tensor([4], float32): [NaN,Infinity,-Infinity,-2.5]');
      expect(String(arange(100))).toBe('Tensor([100], float32): [0,1,2,3,4,5,6,7,…] (100 values)');
      const gone = tensor([1]);
      gone.dispose();
      expect(String(gone)).toBe('Tensor([1], disposed)');
    }));
  });

  it.each([
    ['a negative dimension', () => zeros([-1]), 'zeros: invalid shape [-1] (dimensions must be integers ≥ 0)'],
    ['a fractional dimension', () => randn([2.5]), 'randn: invalid shape [2.5] (dimensions must be integers ≥ 0)'],
    ['a shape the data does not fill', () => tensor([1, 2, 3], { shape: [2, 2] }), 'tensor: 3 values do not fill shape [2,2] (4 elements)'],
    ['an unknown dtype', () => tensor([1], { dtype: 'bool' as 'int32' }), "tensor: dtype must be 'float32', 'float64' or 'int32', got the string 'bool'"],
    ['a string among numbers', () => tensor([1, 'a' as unknown as number]), "tensor: expected a number at [1], got the string 'a'"],
    ['an infinite range', () => arange(0, Infinity), 'arange: start and stop must be finite numbers, got 0 and Infinity'],
    ['a zero step', () => arange(0, 1, 0), 'arange: step must be a nonzero finite number, got 0'],
    ['item() of several values', () => tensor([1, 2]).item(), 'item: the tensor has 2 elements (shape [2]), not 1'],
  ])('refuses %s with a clear error', async (_what, make, message) => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => { expect(make).toThrow(message); }));
  });
});
