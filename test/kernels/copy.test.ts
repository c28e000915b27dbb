// Data movement and BLAS-1 kernels on every backend, table-driven: strided copy (permute, expand, slice, concat,
// flip; float32 and int32), fill, scale, axpy, gather, scatterAdd. Oracle: the ref backend in float64.
// Tolerances: copy, fill, gather exact to the bit (words are moved, never computed: NaN payloads survive);
// scatterAdd exact (one float32 addition per step, in the same order); scale exact for a float32 alpha, 1 ulp
// otherwise; axpy 2^-24·(|y| + |αx|) + 1 ulp (float32 rounds the product before the sum).
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { CopyPlan, TypedArray } from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';
import { withBufs } from '../helpers/bufs.js';

const backends = await loadBackends();
const oracle = new RefBackend();
const SIZES = [0, 1, 3, 5, 17, 64, 127, 300, 100003];

function random(n: number, seed: number, lo = -3, hi = 3): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** Bitwise equality of two float32 / int32 arrays (so −0 ≠ +0 and NaN payloads count). */
function sameBits(a: TypedArray, e: TypedArray): string | null {
  if (a.length !== e.length) return `length ${a.length}, expected ${e.length}`;
  const ai = new Int32Array(Float32Array.from(a as Float32Array).buffer);
  const ei = new Int32Array(Float32Array.from(e as Float32Array).buffer);
  if (a instanceof Int32Array) return Array.from(a).findIndex((v, i) => v !== e[i]) < 0 ? null : 'int32 mismatch';
  for (let i = 0; i < ai.length; i++) if (ai[i] !== ei[i]) return `element ${i}: got ${a[i]}, expected ${e[i]}`;
  return null;
}

function dense(dims: number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

interface CopyCase { name: string; plan: CopyPlan; xSize: number; outSize: number }

function copyCases(): CopyCase[] {
  const list: CopyCase[] = [];
  for (const n of SIZES) {
    list.push({ name: `contiguous [${n}]`, plan: { dims: [n], xStrides: [1], xOffset: 0, outStrides: [1], outOffset: 0 }, xSize: n, outSize: n });
  }
  for (const [r, c] of [[3, 5], [17, 64], [64, 127], [300, 33], [2, 50001], [1000, 3]] as const) {
    const n = r * c;
    list.push({ name: `transpose [${r},${c}]`, plan: { dims: [c, r], xStrides: [1, c], xOffset: 0, outStrides: [r, 1], outOffset: 0 }, xSize: n, outSize: n });
    list.push({ name: `expand row [${c}]→[${r},${c}]`, plan: { dims: [r, c], xStrides: [0, 1], xOffset: 0, outStrides: [c, 1], outOffset: 0 }, xSize: c, outSize: n });
    list.push({ name: `expand column [${r},1]→[${r},${c}]`, plan: { dims: [r, c], xStrides: [1, 0], xOffset: 0, outStrides: [c, 1], outOffset: 0 }, xSize: r, outSize: n });
    // slice x[1:, 1:c-1] of [r, c] (offset, row stride c), and concat: write into columns [2, c+2) of [r, c+5]
    list.push({ name: `slice [${r},${c}][1:,1:-1]`, plan: { dims: [r - 1, c - 2], xStrides: [c, 1], xOffset: c + 1, outStrides: [c - 2, 1], outOffset: 0 }, xSize: n, outSize: (r - 1) * (c - 2) });
    list.push({ name: `concat into [${r},${c + 5}] at column 2`, plan: { dims: [r, c], xStrides: [c, 1], xOffset: 0, outStrides: [c + 5, 1], outOffset: 2 }, xSize: n, outSize: r * (c + 5) });
    list.push({ name: `flip columns [${r},${c}]`, plan: { dims: [r, c], xStrides: [c, -1], xOffset: c - 1, outStrides: [c, 1], outOffset: 0 }, xSize: n, outSize: n });
  }
  // batched transposes of the two inner dims (4×4 SIMD tiles in 16×16 blocks, with ragged edges)
  list.push({ name: 'batched transpose [3,37,45]→[3,45,37]', plan: { dims: [3, 45, 37], xStrides: [37 * 45, 1, 45], xOffset: 0, outStrides: dense([3, 45, 37]), outOffset: 0 }, xSize: 3 * 37 * 45, outSize: 3 * 37 * 45 });
  list.push({ name: 'transpose [1024,1024]', plan: { dims: [1024, 1024], xStrides: [1, 1024], xOffset: 0, outStrides: [1024, 1], outOffset: 0 }, xSize: 1 << 20, outSize: 1 << 20 });
  list.push({ name: 'transpose into a strided output', plan: { dims: [20, 9], xStrides: [1, 20], xOffset: 0, outStrides: [12, 1], outOffset: 1 }, xSize: 180, outSize: 20 * 12 });
  const d = [2, 3, 4, 5];
  list.push({ name: 'permute [2,3,4,5]→(0,2,3,1)', plan: { dims: [2, 4, 5, 3], xStrides: [60, 5, 1, 20], xOffset: 0, outStrides: dense([2, 4, 5, 3]), outOffset: 0 }, xSize: 120, outSize: 120 });
  list.push({ name: 'strided output [2,3,4,5] → out strides (1,2,6,24)', plan: { dims: d, xStrides: dense(d), xOffset: 0, outStrides: [1, 2, 6, 24], outOffset: 0 }, xSize: 120, outSize: 120 });
  const d6 = [2, 1, 3, 2, 2, 5];
  list.push({ name: '6-d permute', plan: { dims: d6, xStrides: [60, 60, 1, 30, 15, 3], xOffset: 0, outStrides: dense(d6), outOffset: 0 }, xSize: 120, outSize: 120 });
  list.push({ name: '0-d', plan: { dims: [], xStrides: [], xOffset: 3, outStrides: [], outOffset: 1 }, xSize: 5, outSize: 2 });
  return list;
}

describe.each(['float32', 'int32'] as const)('copy (%s)', (dtype) => {
  const cases = copyCases().map((cs, k) => {
    const x = dtype === 'int32'
      ? Int32Array.from(random(cs.xSize, 100 + k), (v) => Math.round(v * 1e6))
      : random(cs.xSize, 100 + k);
    if (dtype === 'float32' && x.length > 4) {
      x[0] = NaN;
      x[1] = -0;
      new Int32Array(x.buffer)[2] = 0x7fa00001; // a NaN with a payload: must move bit-exactly
    }
    // The expected words: the ref copy run on the bit patterns as int32 (so payloads and −0 are kept).
    const bits = new Int32Array(x.buffer, x.byteOffset, x.length);
    const want = withBufs(oracle, [{ dtype: 'int32', data: bits }, { dtype: 'int32', size: cs.outSize }],
      ([bx, bo]) => oracle.copy(bx!, bo!, cs.plan))[1] as Int32Array;
    return { cs, x, want };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { cs, x, want } of cases) {
      const bufs = [backend.alloc(dtype, x.length), backend.alloc(dtype, cs.outSize)];
      try {
        backend.write(bufs[0]!, x); // a Float32Array source keeps NaN payloads
        backend.fill(bufs[1]!, 0, 0, cs.outSize);
        backend.copy(bufs[0]!, bufs[1]!, cs.plan);
        const got = backend.read(bufs[1]!);
        const gotBits = new Int32Array(got.buffer, got.byteOffset, got.length);
        // JS numbers need not keep a NaN's payload, so the ref backend is only held to "some NaN" there
        let firstBad = -1;
        for (let i = 0; i < want.length && firstBad < 0; i++) {
          const w = want[i]!;
          const payloadOnly = backend.name === 'ref' && dtype === 'float32' && Number.isNaN(got[i]) && (w & 0x7f800000) === 0x7f800000;
          if (gotBits[i] !== w && !payloadOnly) firstBad = i;
        }
        expect(firstBad, `${dtype} ${cs.name}: word ${firstBad} is ${gotBits[firstBad]}, expected ${want[firstBad]}`).toBe(-1);
      } finally {
        for (const b of bufs) backend.free(b);
      }
    }
  });
});

describe('fill', () => {
  it.each(backends)('$label', ({ backend }) => {
    for (const n of SIZES) {
      for (const [dtype, value] of [['float32', 1.5], ['float32', -0], ['float32', NaN], ['float32', 0.1], ['int32', -7], ['int32', 0]] as const) {
        const buf = backend.alloc(dtype, n + 8);
        try {
          backend.write(buf, new Array(n + 8).fill(3));
          backend.fill(buf, value, 5, n);
          const got = Array.from(backend.read(buf));
          const want = [...new Array(5).fill(3), ...new Array(n).fill(dtype === 'float32' ? Math.fround(value) : value), 3, 3, 3];
          expect(got.every((v, i) => Object.is(v, want[i]) || (Number.isNaN(v) && Number.isNaN(want[i]))), `${dtype} fill ${value} n=${n}`).toBe(true);
        } finally {
          backend.free(buf);
        }
      }
    }
  });
});

describe.each([0.5, -3, 0.1])('scale (alpha %s) and axpy', (alpha) => {
  const cases = SIZES.map((n, k) => ({ n, x: random(n, 200 + k), y: random(n, 300 + k) }));
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, x, y } of cases) {
      const [, out] = withBufs(backend, [{ dtype: 'float32', data: x }, { dtype: 'float32', size: n }], ([bx, bo]) => backend.scale(bx!, bo!, n, alpha));
      const [inPlace] = withBufs(backend, [{ dtype: 'float32', data: x }], ([bx]) => backend.scale(bx!, bx!, n, alpha));
      const exactAlpha = Math.fround(alpha) === alpha;
      for (let i = 0; i < n; i++) {
        const want = Math.fround(alpha * x[i]!);
        const err = Math.abs(out![i]! - want);
        if (exactAlpha ? err !== 0 : err > Math.abs(want) * 2 ** -23) expect(out![i], `scale n=${n} [${i}]`).toBe(want);
        if (!Object.is(inPlace![i], out![i])) expect(inPlace![i], `scale in place n=${n} [${i}]`).toBe(out![i]);
      }
      const [, yy] = withBufs(backend, [{ dtype: 'float32', data: x }, { dtype: 'float32', data: y }], ([bx, by]) => backend.axpy(alpha, bx!, by!, n));
      for (let i = 0; i < n; i++) {
        const want = Math.fround(y[i]! + alpha * x[i]!);
        const tol = 2 ** -24 * (Math.abs(y[i]!) + Math.abs(alpha * x[i]!)) + 2 ** -23 * Math.abs(want);
        if (Math.abs(yy![i]! - want) > tol) expect(yy![i], `axpy n=${n} [${i}]`).toBe(want);
      }
    }
  });
});

// [outer, r, inner] with nIdx indices (repeats included)
const GATHER_SHAPES: [number, number, number, number][] = [
  [1, 5, 1, 3], [1, 10, 1, 17], [3, 7, 3, 5], [2, 64, 16, 100], [4, 5, 17, 9], [1, 1000, 64, 300], [2, 3, 1, 0],
  [1, 100003, 1, 64], [1, 50, 1000, 7],
];

describe('gather and scatterAdd', () => {
  const cases = GATHER_SHAPES.map(([outer, r, inner, nIdx], k) => {
    const rand = mulberry32(400 + k);
    const idx = Int32Array.from({ length: nIdx }, (_, j) => (j % 4 === 3 ? 0 : Math.floor(rand() * r))); // repeats of 0
    const x = random(outer * r * inner, 500 + k);
    const dy = random(outer * nIdx * inner, 600 + k);
    const dx0 = random(outer * r * inner, 700 + k);
    const wantG = Float32Array.from(withBufs(oracle, [{ dtype: 'float64', data: x }, { dtype: 'int32', data: idx }, { dtype: 'float64', size: outer * nIdx * inner }],
      ([bx, bi, bo]) => oracle.gather(bx!, bi!, bo!, outer, r, inner, nIdx))[2]!);
    const wantS = withBufs(oracle, [{ dtype: 'float32', data: dy }, { dtype: 'int32', data: idx }, { dtype: 'float32', data: dx0 }],
      ([bd, bi, bx]) => oracle.scatterAdd(bd!, bi!, bx!, outer, r, inner, nIdx))[2]!;
    return { outer, r, inner, nIdx, idx, x, dy, dx0, wantG, wantS };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { outer, r, inner, nIdx, idx, x, dy, dx0, wantG, wantS } of cases) {
      const what = `[${outer},${r},${inner}] nIdx ${nIdx}`;
      const [, , g] = withBufs(backend, [{ dtype: 'float32', data: x }, { dtype: 'int32', data: idx }, { dtype: 'float32', size: outer * nIdx * inner }],
        ([bx, bi, bo]) => backend.gather(bx!, bi!, bo!, outer, r, inner, nIdx));
      expect(sameBits(g!, wantG), `gather ${what}`).toBeNull();
      const [, , s] = withBufs(backend, [{ dtype: 'float32', data: dy }, { dtype: 'int32', data: idx }, { dtype: 'float32', data: dx0 }],
        ([bd, bi, bx]) => backend.scatterAdd(bd!, bi!, bx!, outer, r, inner, nIdx));
      expect(sameBits(s!, wantS), `scatterAdd ${what}`).toBeNull();
      // gather on int32 words (e.g. labels)
      const xi = Int32Array.from(x, (v) => Math.round(v * 1000));
      const [, , gi] = withBufs(backend, [{ dtype: 'int32', data: xi }, { dtype: 'int32', data: idx }, { dtype: 'int32', size: outer * nIdx * inner }],
        ([bx, bi, bo]) => backend.gather(bx!, bi!, bo!, outer, r, inner, nIdx));
      expect(Array.from(gi!), `gather int32 ${what}`).toEqual(Array.from(wantG, (_, k) => {
        const o = Math.floor(k / (nIdx * inner)), j = Math.floor(k / inner) % nIdx, i = k % inner;
        return xi[(o * r + idx[j]!) * inner + i]!;
      }));
    }
  });
});
