// Constants, ranges and random values go to typed memory in chunks (src/creation.ts): the numbers must be the
// very ones the generator and the formulas give when computed in one piece, bit for bit, across chunk boundaries,
// on every backend.
import { afterAll, describe, expect, it } from 'vitest';
import {
  arange, full, fullLike, Generator, manualSeed, ones, rand, randn, refBackend, tensor, tidy, zeros, type Tensor,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';

/** What creation writes in chunks of (see CHUNK in src/creation.ts). */
const CHUNK = 1 << 16;
/** Sizes below, at and across chunk boundaries, odd and even (normals come in pairs). */
const SIZES = [3, CHUNK, CHUNK + 1, 2 * CHUNK + 3];

/**
 * Where t's values first differ bit for bit (so -0 and NaN payloads count too) from `values` stored in t's dtype,
 * as text for the failure message, or null where every bit agrees. (A plain toEqual of 10⁵ values is slow.)
 */
function firstDifference(t: Tensor, values: ArrayLike<number>): string | null {
  const got = t.data();
  const want = t.dtype === 'float64' ? Float64Array.from(values) : t.dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  const a = new Uint32Array(got.buffer, got.byteOffset, got.byteLength / 4);
  const b = new Uint32Array(want.buffer);
  for (let i = 0; i < a.length; i++) {
    const e = Math.floor((i * got.length) / a.length);
    if (a[i] !== b[i]) return `element ${e}: ${got[e]} instead of ${want[e]}`;
  }
  return null;
}

afterAll(() => manualSeed(0));

describe.each(BACKENDS)('creation on %s', (name) => {
  it.each(SIZES)('randn and rand of %i values are the generator\'s own values, rounded to float32', async (n) => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      expect(firstDifference(randn([n], { seed: 7, mean: 1, std: 3 }), new Generator(7).normal(n, 1, 3))).toBeNull();
      expect(firstDifference(rand([n], { seed: 8, low: -2, high: 5 }), new Generator(8).uniform(n, -2, 5))).toBeNull();
    }));
  });

  it('the global generator advances as if every value had been drawn at once', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      manualSeed(3);
      const a = randn([CHUNK + 1]); // odd: the last pair's second normal is dropped, as normal(n) drops it
      const b = rand([CHUNK + 5]);
      const c = randn([4]);
      const g = new Generator(3);
      expect(firstDifference(a, g.normal(CHUNK + 1))).toBeNull();
      expect(firstDifference(b, g.uniform(CHUNK + 5))).toBeNull();
      expect(firstDifference(c, g.normal(4))).toBeNull();
    }));
  });

  it('arange computes start + i·step for every i, across chunks, in float32 and int32', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const n = 2 * CHUNK + 3;
      const want = Array.from({ length: n }, (_, i) => -3 + i * 0.1);
      expect(firstDifference(arange(-3, -3 + n * 0.1 - 0.05, 0.1), want)).toBeNull();
      const ints = arange(5, 5 - 3 * n, -3, { dtype: 'int32' });
      expect(ints.dtype).toBe('int32');
      expect(firstDifference(ints, Array.from({ length: n }, (_, i) => 5 - 3 * i))).toBeNull();
    }));
  });

  it('full, zeros and ones write their value everywhere, -0, NaN and the int32 extremes included', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const n = CHUNK + 1;
      for (const v of [0, 1, -0, 0.1, NaN, -Infinity, 3e38]) {
        expect(firstDifference(full([n], v), new Array<number>(n).fill(v))).toBeNull();
      }
      expect(firstDifference(zeros([3, 5]), new Array<number>(15).fill(0))).toBeNull();
      expect(firstDifference(ones([2, 2]), [1, 1, 1, 1])).toBeNull();
      for (const v of [-2147483648, 2147483647, -7]) {
        expect(firstDifference(full([n], v, { dtype: 'int32' }), new Array<number>(n).fill(v))).toBeNull();
      }
      expect(Array.from(fullLike(tensor([1, 2], { dtype: 'int32' }), 4).data())).toEqual([4, 4]);
    }));
  });

  it.each([
    ['a fractional int32 fill value', () => full([2], 1.5, { dtype: 'int32' }),
      'full: int32 values must be integers in [-2147483648, 2147483647], got 1.5'],
    ['an int32 fill value out of range', () => full([2], 2 ** 31, { dtype: 'int32' }),
      'full: int32 values must be integers in [-2147483648, 2147483647], got 2147483648'],
    ['a fractional int32 range', () => arange(0, 2, 0.5, { dtype: 'int32' }),
      'arange: int32 values must be integers in [-2147483648, 2147483647], got 0.5 at index 1'],
    ['random values of dtype int32', () => randn([2], { dtype: 'int32' }),
      'randn: random values need a floating-point dtype (float32 or float64), not int32'],
    ['an unknown dtype', () => zeros([2], { dtype: 'bool' as 'int32' }), "zeros: dtype must be 'float32', 'float64' or 'int32', got the string 'bool'"],
  ])('refuses %s, and the memory is unchanged', async (_what, make, message) => {
    await useBackend(name);
    expectNoLeaks(() => expect(make).toThrow(message));
  });
});

describe('float64 on the ref backend', () => {
  it('randn, rand and arange write the generator\'s and the formula\'s float64 values unrounded', () => {
    const backend = refBackend();
    expectNoLeaks(() => tidy(() => {
      const n = CHUNK + 3;
      expect(firstDifference(randn([n], { seed: 4, dtype: 'float64', backend }), new Generator(4).normal(n))).toBeNull();
      expect(firstDifference(rand([n], { seed: 4, dtype: 'float64', backend }), new Generator(4).uniform(n))).toBeNull();
      expect(firstDifference(arange(0, n / 10 - 0.05, 0.1, { dtype: 'float64', backend }), Array.from({ length: n }, (_, i) => i * 0.1))).toBeNull();
    }));
  });
});
