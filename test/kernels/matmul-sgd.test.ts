// matmulSgd (the fused weight gradient + SGD update compile() replays) on every backend, table-driven: the
// product and the updated parameter must have the bits of matmul then sgd on the same backend, for products the
// wasm kernel fuses (blocked path, one depth block: transposes, row and column tails, the swapped orientation
// n = 10, a batch, a bias, k = 256) and those it leaves to the two calls (k = 257, the skinny and dot paths, k = 0,
// momentum, weight decay). The twin on the ref backend is the two calls themselves.
import { describe, expect, it } from 'vitest';
import type { Backend, Buf, MatmulPlan, SgdParams } from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();

interface Row { m: number; n: number; k: number; transA?: boolean; transB?: boolean; batch?: number; bias?: boolean; h?: Partial<SgdParams> }

const ROWS: Row[] = [
  { m: 128, n: 784, k: 64, transA: true }, // the MLP's first weight gradient
  { m: 64, n: 10, k: 64 }, // Cᵀ computed, tiles stored transposed
  { m: 13, n: 13, k: 5 }, // row tail, 5-wide column tail
  { m: 17, n: 12, k: 3, transA: true, transB: true }, // 4-wide column tail
  { m: 9, n: 127, k: 256, transB: true }, // the deepest fused product
  { m: 20, n: 33, k: 257 }, // two depth blocks: not fused
  { m: 12, n: 40, k: 7, batch: 3, bias: true },
  { m: 3, n: 50, k: 20 }, // skinny path
  { m: 30, n: 10, k: 50, transB: true }, // dot path
  { m: 10, n: 11, k: 0, bias: true },
  { m: 0, n: 5, k: 4 },
  { m: 24, n: 24, k: 24, h: { momentum: 0.9 } },
  { m: 24, n: 24, k: 24, h: { weightDecay: 0.01 } },
];

function filled(b: Backend, n: number, seed: number): Buf {
  const buf = b.alloc('float32', n);
  const r = mulberry32(seed);
  b.write(buf, Float32Array.from({ length: n }, () => r() * 2 - 1));
  return buf;
}

/** The product's output and the parameter after one update, fused or as two calls. */
function run(b: Backend, row: Row, fused: boolean): { c: Float32Array; p: Float32Array } {
  const { m, n, k, batch = 1 } = row;
  const a = filled(b, batch * m * k, 1), bb = filled(b, batch * k * n, 2), c = filled(b, batch * m * n, 3);
  const p = filled(b, batch * m * n, 4), bias = row.bias ? filled(b, n, 5) : null;
  const momentum = row.h?.momentum ? filled(b, batch * m * n, 6) : null;
  const plan: MatmulPlan = {
    m, n, k, transA: row.transA ?? false, transB: row.transB ?? false, batch, strideA: m * k, strideB: k * n, bias,
  };
  const h: SgdParams = { lr: 0.037, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false, ...row.h };
  try {
    if (fused) b.matmulSgd(a, bb, c, plan, p, momentum, batch * m * n, h);
    else {
      b.matmul(a, bb, c, plan);
      b.sgd(p, c, momentum, batch * m * n, h);
    }
    return { c: b.read(c) as Float32Array, p: b.read(p) as Float32Array };
  } finally {
    for (const x of [a, bb, c, p, bias, momentum]) if (x) b.free(x);
  }
}

/** The first index where the bits differ, or -1 (a diff of two 100k-element arrays would take minutes to print). */
function firstDifference(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length), b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((v, i) => v !== b[i]);
}

describe.each(backends)('matmulSgd on $label', ({ backend }) => {
  it.each(ROWS.map((row) => ({ row, name: JSON.stringify(row) })))('$name', ({ row }) => {
    const want = run(backend, row, false), got = run(backend, row, true);
    expect(firstDifference(got.c, want.c)).toBe(-1);
    expect(firstDifference(got.p, want.p)).toBe(-1);
  });
});
