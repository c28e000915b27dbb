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
