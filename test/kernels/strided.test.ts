// stridedSlice: a dense copy of x[begin + i·step] on every backend (float32 and int32 words alike), against the
// index formula evaluated here; steps of any sign and size, reversed axes, empty results, and the bad input it refuses.
import { describe, expect, it } from 'vitest';
import * as K from '../../src/kernels/index.js';
import { loadBackends } from '../helpers/backends.js';

const backends = await loadBackends();

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** x[begin + i·step] read from x's values by the row-major index formula. */
function expected(values: number[], shape: number[], begin: number[], sizes: number[], step: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, i) => size(shape.slice(i + 1)));
  for (let k = 0; k < size(sizes); k++) {
    let at = 0;
    let rest = k;
    for (let d = shape.length - 1; d >= 0; d--) {
      at += (begin[d]! + (rest % sizes[d]!) * step[d]!) * strides[d]!;
      rest = Math.floor(rest / sizes[d]!);
    }
    out.push(values[at]!);
  }
  return out;
}

const CASES: [string, number[], number[], number[], number[]][] = [
  // name, shape, begin, size, step
  ['steps of 1 (a slice)', [4, 5], [1, 2], [2, 3], [1, 1]],
  ['step 2 along both axes', [5, 7], [0, 1], [3, 3], [2, 2]],
  ['a reversed axis', [3, 6], [0, 5], [3, 6], [1, -1]],
  ['every axis reversed (contiguous backwards)', [2, 3, 4], [1, 2, 3], [2, 3, 4], [-1, -1, -1]],
  ['step −3 from the middle, rank 4', [2, 3, 8, 5], [1, 0, 7, 4], [1, 3, 3, 2], [1, 1, -3, -2]],
  ['empty along one axis', [3, 4], [0, 0], [0, 4], [1, 1]],
  ['a scalar', [], [], [], []],
  ['long rows, stride 1 and 3', [2, 600], [0, 1], [2, 199], [1, 3]],
];

describe('stridedSlice', () => {
  it.each(backends)('$label: the values at begin + i·step, float32 and int32', ({ backend }) => {
    for (const dtype of ['float32', 'int32'] as const) {
      for (const [name, shape, begin, sizes, step] of CASES) {
        const values = Array.from({ length: size(shape) }, (_, i) => i * 3 - 7);
        const x = K.empty(backend, dtype, shape);
        backend.write(x.buf, values);
        const out = K.stridedSlice(x, begin, sizes, step);
        expect(out.shape, name).toEqual(sizes);
        expect(out.buf.dtype).toBe(dtype);
        expect(Array.from(backend.read(out.buf)), `${name} ${dtype}`).toEqual(expected(values, shape, begin, sizes, step));
        K.free(out);
        K.free(x);
      }
    }
  });

  it.each(backends)('$label: refuses positions outside x, zero or fractional steps, wrong lengths', ({ backend }) => {
    const x = K.empty(backend, 'float32', [4, 4]);
    const bytes = backend.memory().bytesInUse;
    for (const [begin, sizes, step] of [
      [[0, 0], [3, 4], [2, 1]], // reads row 4
      [[3, 0], [5, 4], [-1, 1]], // reads row −1
      [[0, 4], [1, 1], [1, 1]], // begins past the end
      [[0, 0], [2, 2], [0, 1]],
      [[0, 0], [2, 2], [1.5, 1]],
      [[0], [2], [1]],
    ]) {
      expect(() => K.stridedSlice(x, begin!, sizes!, step!)).toThrow(
        `stridedSlice: begin [${begin!.join(',')}], size [${sizes!.join(',')}] and step [${step!.join(',')}] do not fit in [4,4]`);
    }
    expect(backend.memory().bytesInUse).toBe(bytes);
    K.free(x);
  });
});

// slicePermute and copyIntoPermuted: one copy each for what slice + permute (and its inverse) do in two.
const PERMUTED: [string, number[], number[], number[], number[]][] = [
  // name, shape, begin, size, perm
  ['a packed q, k, v part to heads first', [3, 5, 3, 2, 7], [0, 0, 1, 0, 0], [3, 5, 1, 2, 7], [0, 3, 1, 2, 4]],
  ['an inner block transposed', [4, 6, 5], [1, 2, 0], [3, 3, 5], [2, 0, 1]],
  ['identity permutation (a slice)', [9, 17], [2, 1], [5, 13], [0, 1]],
  ['long rows', [2, 3, 301], [0, 1, 0], [2, 2, 301], [1, 0, 2]],
  ['empty', [3, 4], [0, 0], [0, 4], [1, 0]],
];

describe('slicePermute and copyIntoPermuted', () => {
  it.each(backends)('$label: equal permute(slice(x)), and the inverse writes it back in place', ({ backend }) => {
    for (const dtype of ['float32', 'int32'] as const) {
      for (const [name, shape, begin, sizes, perm] of PERMUTED) {
        const values = Array.from({ length: size(shape) }, (_, i) => i * 3 - 7);
        const x = K.empty(backend, dtype, shape);
        backend.write(x.buf, values);
        const want = K.permute(K.slice(x, begin, sizes), perm);
        const got = K.slicePermute(x, begin, sizes, perm);
        expect(got.shape, name).toEqual(want.shape);
        expect(Array.from(backend.read(got.buf)), `${name} ${dtype}`).toEqual(Array.from(backend.read(want.buf)));
        // Written into a copy of x whose block was zeroed, it restores x.
        const y = K.empty(backend, dtype, shape);
        backend.write(y.buf, values);
        const zeros = K.empty(backend, dtype, sizes);
        backend.write(zeros.buf, new Array(size(sizes)).fill(0));
        K.copyInto(y, zeros, begin);
        K.copyIntoPermuted(y, got, begin, perm);
        expect(Array.from(backend.read(y.buf)), `${name} ${dtype} written back`).toEqual(values);
        [x, y, zeros, got, want].forEach(K.free);
      }
    }
  });

  it.each(backends)('$label: refuses a block outside x and a wrong permutation', ({ backend }) => {
    const x = K.empty(backend, 'float32', [4, 4]);
    const bytes = backend.memory().bytesInUse;
    expect(() => K.slicePermute(x, [1, 0], [4, 4], [1, 0])).toThrow('slicePermute: begin [1,0] and size [4,4] do not fit in [4,4]');
    expect(() => K.slicePermute(x, [0, 0], [2, 2], [0, 0])).toThrow('slicePermute: [0,0] is not a permutation of 2 axes');
    const src = K.empty(backend, 'float32', [2, 5]);
    expect(() => K.copyIntoPermuted(x, src, [0, 0], [1, 0])).toThrow('copyIntoPermuted: begin [0,0] and size [5,2] do not fit in [4,4]');
    K.free(src);
    expect(backend.memory().bytesInUse).toBe(bytes);
    K.free(x);
  });
});
