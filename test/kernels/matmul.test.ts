// Matrix multiply on every backend (ref and each wasm build), table-driven, against a float64 product computed
// here. Shapes cover every path of the wasm kernel: the blocked path (several row / column / depth blocks, column
// tails of ≤ 4 and of 5..7, row tails, the swapped orientation used when n is small), the skinny path (m or n ≤ 8,
// in its axpy and dot forms), the dot path (A·Bᵀ with 9..16 columns, up to depth 16384) and the edge cases (0 in any dimension, k = 0, 1×1, huge k), in all four transpose
// combinations, with and without bias, batched with both strides set and each one 0 (broadcast).
//
// Tolerance. Most tables use small integers (|a|, |b| ≤ 3, |bias| ≤ 3): every product and partial sum is then an
// integer below 2^24, exact in float32 whatever the summation order and whether a multiply-add is fused, so the
// result must equal the float64 product bit for bit; any indexing or blocking error shows as a wrong integer.
// The random-float table uses the worst-case bound of float32 summation instead: |C − exact| ≤ γ·(Σp |a||b| + |bias|)
// with γ = (k + 2)·2^-24 (k rounded products and additions, one bias addition, any order; fused ones only err
// less). It is rigorous, so it cannot flake, and for k ≤ 300 it is still ~1/k of a single term, so a lost or
// doubled term fails it.
//
// A second harness instantiates each build directly to check what the Backend interface cannot show: nothing
// outside C and ws is written (guard words on both sides, inputs unchanged), and nothing past the end of A, B or
// bias is read (each in turn is placed flush against the end of linear memory, where an over-read traps).
import { describe, expect, it } from 'vitest';
import type { Backend, MatmulPlan } from '../../src/backend/types.js';
import { compileBuild, supportedBuilds } from '../../src/backend/wasm/loader.js';
import type { KernelExports } from '../../src/backend/wasm/exports.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();

type Trans = [boolean, boolean];
const TRANS: Trans[] = [[false, false], [true, false], [false, true], [true, true]];
const tname = ([ta, tb]: Trans) => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;

interface Case { m: number; n: number; k: number; trans: Trans; bias: boolean; batch: number; strideA: number; strideB: number }

/** Elements an operand occupies: the last batch item ends at (batch − 1)·stride + size. */
const extent = (size: number, stride: number, batch: number) => (batch > 0 ? (batch - 1) * stride + size : 0);

function makeCase(m: number, n: number, k: number, trans: Trans, bias: boolean,
  batch = 1, strideA = m * k, strideB = k * n): Case {
  return { m, n, k, trans, bias, batch, strideA, strideB };
}

const label = (c: Case) => `${c.m}×${c.n}×${c.k} ${tname(c.trans)}${c.bias ? ' +bias' : ''}` +
  (c.batch !== 1 ? ` batch ${c.batch} strides ${c.strideA}/${c.strideB}` : '');

/** Inputs for a case: small integers (exact) or uniform floats in [-1, 1). */
function inputs(c: Case, seed: number, integers: boolean) {
  const rand = mulberry32(seed);
  const gen = integers ? () => Math.floor(rand() * 7) - 3 : () => Math.fround(rand() * 2 - 1);
  const fill = (len: number) => Float32Array.from({ length: len }, gen);
  return {
    a: fill(extent(c.m * c.k, c.strideA, c.batch)),
    b: fill(extent(c.k * c.n, c.strideB, c.batch)),
    bias: c.bias ? fill(c.n) : null,
  };
}

/** The float64 product and, per element, Σp |a||b| + |bias| (the scale of the rounding bound). */
function oracle(c: Case, a: Float32Array, b: Float32Array, bias: Float32Array | null) {
  const { m, n, k, batch, strideA, strideB } = c;
  const [ta, tb] = c.trans;
  const out = new Float64Array(batch * m * n);
  const scale = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = bias ? bias[j]! : 0;
        let abs = bias ? Math.abs(bias[j]!) : 0;
        for (let p = 0; p < k; p++) {
          const x = a[t * strideA + (ta ? p * m + i : i * k + p)]!;
          const y = b[t * strideB + (tb ? j * k + p : p * n + j)]!;
          s += x * y;
          abs += Math.abs(x * y);
        }
        out[(t * m + i) * n + j] = s;
        scale[(t * m + i) * n + j] = abs;
      }
    }
  }
  return { out, scale };
}

function runOn(backend: Backend, c: Case, a: Float32Array, b: Float32Array, bias: Float32Array | null): Float32Array {
  const A = backend.alloc('float32', a.length);
  const B = backend.alloc('float32', b.length);
  const C = backend.alloc('float32', c.batch * c.m * c.n);
  const bufs = [A, B, C];
  try {
    backend.write(A, a);
    backend.write(B, b);
    backend.fill(C, NaN, 0, C.size); // the kernel must write every element, not accumulate into C
    let biasBuf = null;
    if (bias) {
      biasBuf = backend.alloc('float32', bias.length);
      bufs.push(biasBuf);
      backend.write(biasBuf, bias);
    }
    const plan: MatmulPlan = {
      m: c.m, n: c.n, k: c.k, transA: c.trans[0], transB: c.trans[1],
      batch: c.batch, strideA: c.strideA, strideB: c.strideB, bias: biasBuf,
    };
    backend.matmul(A, B, C, plan);
    return Float32Array.from(backend.read(C));
  } finally {
    for (const buf of bufs) backend.free(buf);
  }
}

/** First element outside tolerance, or null. exact: bit-for-bit equality with the float64 product. */
function mismatch(c: Case, got: Float32Array, out: Float64Array, scale: Float64Array, exact: boolean): string | null {
  if (got.length !== out.length) return `length ${got.length}, expected ${out.length}`;
  const gamma = (c.k + 2) * 2 ** -24;
  for (let e = 0; e < out.length; e++) {
    const tol = exact ? 0 : gamma * scale[e]! + 1e-30;
    if (!(Math.abs(got[e]! - out[e]!) <= tol)) {
      const t = Math.floor(e / (c.m * c.n)), i = Math.floor(e / c.n) % c.m, j = e % c.n;
      return `C[${t}][${i}][${j}] = ${got[e]}, expected ${out[e]} (tolerance ${tol.toPrecision(3)})`;
    }
  }
  return null;
}

function check(cases: Case[], integers: boolean, seed0: number): void {
  cases.forEach((c, idx) => {
    const { a, b, bias } = inputs(c, seed0 + idx, integers);
    const { out, scale } = oracle(c, a, b, bias);
    for (const { label: name, backend } of backends) {
      const got = runOn(backend, c, a, b, bias);
      expect(mismatch(c, got, out, scale, integers), `${name}: ${label(c)}`).toBeNull();
    }
  });
}

// ---- tables ----------------------------------------------------------------------------------------------------

const SMALL = [0, 1, 3, 5, 17];

/** Sizes around every block and tile boundary of the wasm kernel (MR 4–6, NR 8, tails ≤ 4, MC 120, NC 256, KC 256). */
const LARGER: [number, number, number][] = [
  [64, 64, 64], [127, 127, 127], [300, 17, 127], [17, 300, 127], [127, 5, 300], [5, 127, 300],
  [300, 300, 17], [64, 127, 300], [300, 64, 5], [127, 300, 300], [121, 257, 3], [241, 12, 9],
  // skinny path: one row / column (axpy and dot forms), up to 8 rows or columns, depth blocks in the dot form
  [1, 300, 300], [300, 1, 300], [2, 127, 64], [300, 3, 64], [8, 300, 17], [300, 7, 513], [4, 4, 600], [6, 9, 1],
  // swapped orientation (n = 10 on 64 rows) and its neighbours
  [64, 10, 128], [64, 10, 10], [10, 128, 64], [64, 128, 10], [300, 12, 64], [10, 10, 10],
  // dot path (A·Bᵀ, 9..16 columns): an odd last row, column groups of 5 with tails of 1..4, depth tails 1..3
  [7, 16, 13], [9, 11, 4], [3, 14, 130], [1, 9, 2], [17, 13, 7],
  // ≤ 16 rows read op(B) in place (8- and 4-column panels; tails of 1..3 and 5..7 packed; two column blocks)
  [9, 300, 3], [11, 259, 5], [14, 262, 300], [16, 36, 7], [10, 520, 17], [13, 12, 33],
  // row tails of 1..4 rows after full MR-row panels (MR 4, 5 or 6), 8- and 4-column panels
  [22, 64, 5], [61, 40, 9], [63, 44, 13], [23, 20, 11], [19, 12, 3],
  // dot path, groups of 4 columns: tails of 0..3 columns and 0..3 depths, odd and even rows
  [9, 12, 5], [16, 14, 8], [17, 9, 130], [33, 15, 6], [10, 10, 128],
];

const BATCHED: [number, number, number][] = [[5, 17, 3], [64, 10, 128], [17, 64, 127], [3, 300, 5], [127, 127, 64], [1, 9, 300]];

describe('matmul: every backend against a float64 product', () => {
  it('small shapes 0/1/3/5/17 in every dimension, all transposes, ± bias (exact)', () => {
    const cases: Case[] = [];
    for (const m of SMALL) for (const n of SMALL) for (const k of SMALL) {
      TRANS.forEach((tr, ti) => cases.push(makeCase(m, n, k, tr, ((m + n + k + ti) & 1) === 1)));
    }
    check(cases, true, 1000);
  });

  it('shapes around block and tile boundaries, all transposes, with and without bias (exact)', () => {
    const cases: Case[] = [];
    for (const [m, n, k] of LARGER) for (const tr of TRANS) for (const bias of [false, true]) {
      cases.push(makeCase(m, n, k, tr, bias));
    }
    check(cases, true, 2000);
  });

  it('op(A) over 1 MiB: B blocks of up to 1024 columns (two here, with a 5..7-column tail), + bias (exact)', () => {
    check([makeCase(260, 1030, 1010, [false, false], true)], true, 2500);
  });

  it('batched: both strides, A broadcast, B broadcast, both broadcast, gaps between items (exact)', () => {
    const cases: Case[] = [];
    for (const [m, n, k] of BATCHED) {
      TRANS.forEach((tr, ti) => {
        const bias = (ti & 1) === 0;
        cases.push(makeCase(m, n, k, tr, bias, 3, m * k, k * n));
        cases.push(makeCase(m, n, k, tr, !bias, 3, 0, k * n));
        cases.push(makeCase(m, n, k, tr, bias, 3, m * k, 0));
        cases.push(makeCase(m, n, k, tr, !bias, 2, 0, 0));
        cases.push(makeCase(m, n, k, tr, bias, 2, m * k + 5, k * n + 3));
      });
      cases.push(makeCase(m, n, k, [false, false], true, 0)); // batch 0: nothing to do
    }
    check(cases, true, 3000);
  });

  it('huge k: many depth blocks, skinny and blocked (exact)', () => {
    const cases = [
      makeCase(3, 5, 100003, [false, true], true), makeCase(1, 1, 100003, [true, false], false),
      makeCase(17, 9, 5000, [false, false], true), makeCase(9, 17, 5000, [true, true], false),
      // A·Bᵀ with ≤ 16 columns: the dot path up to depth 16384, the blocked path past it
      makeCase(9, 16, 16384, [false, true], true), makeCase(10, 13, 16385, [false, true], false),
    ];
    check(cases, true, 4000);
  });

  it('ref backend in float64: rounded once, so within a few float64 ulps of the product', () => {
    const ref = backends.find((b) => b.backend.name === 'ref')!.backend;
    for (const [m, n, k] of [[3, 5, 7], [17, 10, 33], [1, 64, 300]] as const) {
      TRANS.forEach((tr, ti) => {
        const c = makeCase(m, n, k, tr, ti % 2 === 1, 2, 0, k * n);
        const { a, b, bias } = inputs(c, 6000 + ti, false);
        const { out, scale } = oracle(c, a, b, bias);
        const buf = (x: ArrayLike<number>) => {
          const d = ref.alloc('float64', x.length);
          ref.write(d, x);
          return d;
        };
        const A = buf(a), B = buf(b), Bias = bias ? buf(bias) : null, C = ref.alloc('float64', out.length);
        ref.matmul(A, B, C, { m, n, k, transA: tr[0], transB: tr[1], batch: 2, strideA: 0, strideB: k * n, bias: Bias });
        const got = ref.read(C);
        expect(got).toBeInstanceOf(Float64Array);
        // Both sum in float64 in the same order; allow for any order anyway: (k + 2)·2^-53 relative to Σ|a||b|.
        for (let e = 0; e < out.length; e++) {
          expect(Math.abs(got[e]! - out[e]!), `${label(c)} element ${e}`).toBeLessThanOrEqual((k + 2) * 2 ** -53 * scale[e]!);
        }
        for (const d of [A, B, C, Bias]) if (d) ref.free(d);
      });
    }
  });

  it('random floats within the float32 summation bound', () => {
    const cases: Case[] = [];
    for (const [m, n, k] of [[17, 17, 17], [64, 64, 300], [127, 300, 64], [1, 300, 300], [300, 3, 300], [64, 10, 128]] as const) {
      TRANS.forEach((tr, ti) => cases.push(makeCase(m, n, k, tr, ti % 2 === 0)));
    }
    cases.push(makeCase(17, 64, 127, [true, false], true, 3, 0, 64 * 127));
    check(cases, false, 5000);
  });
});

// ---- direct harness: writes and reads stay inside the operands ---------------------------------------------------

const BUILDS = [...supportedBuilds(), 'debug' as const];
const GUARD = 64; // floats of guard on each side of C and ws
const SENTINEL = 1234.5;

interface Layout { a: number; b: number; bias: number; c: number; ws: number; wsBytes: number }

/**
 * Lays out ws and C (each between guard words) above heap_base, and A, B, bias with `last` flush against the end
 * of memory. C starts 4 bytes past a 16-byte boundary: the ABI promises no alignment for A, B, C or bias.
 */
function layout(ex: KernelExports, c: Case, lens: { a: number; b: number; bias: number }, last: 'a' | 'b' | 'bias'): Layout {
  const [ta, tb] = c.trans;
  const wsBytes = ex.matmul_ws_bytes(c.m, c.n, c.k, +ta, +tb);
  const align = (x: number, to: number) => Math.ceil(x / to) * to;
  let top = align(ex.heap_base(), 64);
  const ws = align(top + GUARD * 4, 64);
  top = ws + wsBytes + GUARD * 4;
  const cPtr = align(top + GUARD * 4, 16) + 4;
  top = cPtr + c.batch * c.m * c.n * 4 + GUARD * 4;
  const order = (['a', 'b', 'bias'] as const).filter((x) => x !== last).concat(last);
  const sizes = { a: lens.a * 4, b: lens.b * 4, bias: lens.bias * 4 };
  const total = top + sizes.a + sizes.b + sizes.bias + 64;
  const mem = ex.memory;
  const pages = Math.ceil(total / 65536) - mem.buffer.byteLength / 65536;
  if (pages > 0) mem.grow(pages);
  // Place from the end of memory downwards, `last` at the very end.
  let end = mem.buffer.byteLength;
  const ptrs = { a: 0, b: 0, bias: 0 };
  for (const x of [...order].reverse()) {
    end -= sizes[x];
    ptrs[x] = end;
  }
  return { a: ptrs.a, b: ptrs.b, bias: ptrs.bias, c: cPtr, ws, wsBytes };
}

const modules = await Promise.all(BUILDS.map(async (build) => ({ build, module: await compileBuild(build) })));

describe('matmul_f32 (direct): no access outside A, B, bias, C and ws', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [17, 10, 33], [64, 10, 128], [5, 300, 17], [127, 129, 300], [300, 1, 64], [1, 257, 300],
    [8, 131, 19], [131, 6, 260], [12, 12, 12], [0, 5, 5], [5, 5, 0], [11, 14, 9], [10, 10, 128],
  ];
  for (const { build, module } of modules) {
    it(`${build}: guards around C and ws stay intact, inputs unchanged, no over-read`, () => {
      const ex = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
      let idx = 0;
      for (const [m, n, k] of shapes) {
        for (const trans of TRANS) {
          const batched = idx % 3 === 2;
          const c = makeCase(m, n, k, trans, idx % 2 === 0, batched ? 2 : 1, batched ? 0 : m * k, k * n);
          const { a, b, bias } = inputs(c, 7000 + idx, true);
          const last = (['a', 'b', 'bias'] as const)[idx % 3]!;
          idx++;
          const L = layout(ex, c, { a: a.length, b: b.length, bias: bias ? bias.length : 0 }, last);
          const f32 = new Float32Array(ex.memory.buffer);
          f32.set(a, L.a / 4);
          f32.set(b, L.b / 4);
          if (bias) f32.set(bias, L.bias / 4);
          const cLen = c.batch * m * n;
          f32.fill(SENTINEL, L.c / 4 - GUARD, L.c / 4 + cLen + GUARD);
          f32.fill(SENTINEL, L.ws / 4 - GUARD, L.ws / 4 + L.wsBytes / 4 + GUARD);
          const name = `${build}: ${label(c)}, ${last} at the end of memory`;

          expect(() => ex.matmul_f32(L.a, L.b, L.c, bias ? L.bias : 0, m, n, k, +trans[0], +trans[1],
            c.batch, c.strideA, c.strideB, L.ws), name).not.toThrow();

          const mem = new Float32Array(ex.memory.buffer);
          const guardsOk = (p: number, len: number) => {
            for (let g = 1; g <= GUARD; g++) {
              if (mem[p / 4 - g] !== SENTINEL || mem[p / 4 + len + g - 1] !== SENTINEL) return false;
            }
            return true;
          };
          expect(guardsOk(L.c, cLen), `${name}: C guards`).toBe(true);
          expect(guardsOk(L.ws, L.wsBytes / 4), `${name}: ws guards`).toBe(true);
          const unchanged = (p: number, x: Float32Array) => x.every((v, i) => Object.is(mem[p / 4 + i], v));
          expect(unchanged(L.a, a), `${name}: A unchanged`).toBe(true);
          expect(unchanged(L.b, b), `${name}: B unchanged`).toBe(true);
          if (bias) expect(unchanged(L.bias, bias), `${name}: bias unchanged`).toBe(true);
          const { out, scale } = oracle(c, a, b, bias);
          expect(mismatch(c, mem.slice(L.c / 4, L.c / 4 + cLen), out, scale, true), `${name}: values`).toBeNull();
        }
      }
    });
  }

  it('rows 9..17 of a product (op(B) in place, 4-row tails) are bit-identical to the same rows of a 64-row product', () => {
    // Each element of the blocked path sums its depths in order whatever its tile, so a few-row product must give
    // the bits of the same rows computed among many (random floats: another summation order would show).
    for (const { build, module } of modules.filter((x) => x.build !== 'scalar' && x.build !== 'debug')) {
      const ex = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
      for (const [n, k] of [[36, 7], [259, 300], [64, 520], [12, 33]] as const) {
        for (const [ta, tb] of TRANS) {
          const big = makeCase(64, n, k, [ta, tb], true);
          const { a, b, bias } = inputs(big, 8000 + n + k, false);
          const run = (m: number, aRows: Float32Array) => {
            const c = makeCase(m, n, k, [ta, tb], true);
            const L = layout(ex, c, { a: aRows.length, b: b.length, bias: n }, 'b');
            const f32 = new Float32Array(ex.memory.buffer);
            f32.set(aRows, L.a / 4);
            f32.set(b, L.b / 4);
            f32.set(bias!, L.bias / 4);
            ex.matmul_f32(L.a, L.b, L.c, L.bias, m, n, k, +ta, +tb, 1, 0, 0, L.ws);
            return new Uint32Array(ex.memory.buffer, L.c, m * n).slice();
          };
          const all = run(64, a);
          for (const m of [9, 10, 13, 16, 17]) {
            // The first m rows of op(A): rows of A, or its first m columns when transA.
            const rows = ta ? Float32Array.from({ length: k * m }, (_, e) => a[Math.floor(e / m) * 64 + (e % m)]!)
              : a.slice(0, m * k);
            expect(Array.from(run(m, rows)), `${build}: ${m}×${n}×${k} ${tname([ta, tb])}`)
              .toEqual(Array.from(all.slice(0, m * n)));
          }
        }
      }
    }
  });

  it('dot path (A·Bᵀ, 9..16 columns): the first n columns are bit-identical to those of the 16-column product', () => {
    // Each element is its own dot product, whatever the column group or row pair around it.
    for (const { build, module } of modules.filter((x) => x.build !== 'scalar' && x.build !== 'debug')) {
      const ex = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
      for (const [m, k] of [[17, 130], [10, 7], [64, 128]] as const) {
        const { a, b, bias } = inputs(makeCase(m, 16, k, [false, true], true), 9000 + m + k, false);
        const run = (n: number) => {
          const c = makeCase(m, n, k, [false, true], true);
          const L = layout(ex, c, { a: a.length, b: n * k, bias: n }, 'b');
          const f32 = new Float32Array(ex.memory.buffer);
          f32.set(a, L.a / 4);
          f32.set(b.subarray(0, n * k), L.b / 4);
          f32.set(bias!.subarray(0, n), L.bias / 4);
          ex.matmul_f32(L.a, L.b, L.c, L.bias, m, n, k, 0, 1, 1, 0, 0, L.ws);
          return Array.from(new Uint32Array(ex.memory.buffer, L.c, m * n));
        };
        const all = run(16);
        for (const n of [9, 10, 11, 13, 14, 15]) {
          const cols = all.filter((_, e) => e % 16 < n);
          expect(run(n), `${build}: ${m}×${n}×${k} NT`).toEqual(cols);
        }
      }
    }
  });

  // Packed blocks of 120×256 floats of op(A) and 256×256 of op(B), or 256×1024 when op(A) is over 1 MiB, and a tile.
  it('ws stays bounded (≤ 376 KiB, ≤ 1.12 MiB when op(A) is over 1 MiB) and is 0 for empty products', () => {
    const ex = new WebAssembly.Instance(modules[0]!.module, {}).exports as unknown as KernelExports;
    for (const [m, n, k] of [[4096, 4096, 4096], [100000, 3, 100000], [1, 1, 1e6], [1e5, 1e5, 1], [1e5, 16, 16384],
      [1e5, 16, 16385]]) {
      for (const [ta, tb] of TRANS) expect(ex.matmul_ws_bytes(m!, n!, k!, +ta, +tb)).toBeLessThanOrEqual(1171648);
    }
    // op(A) of 1 MiB and less (an MLP's products, 512³), in either orientation: the narrower B block.
    for (const [m, n, k] of [[512, 512, 512], [128, 784, 64], [4096, 4096, 64], [64, 4096, 4096]]) {
      for (const [ta, tb] of TRANS) expect(ex.matmul_ws_bytes(m!, n!, k!, +ta, +tb)).toBeLessThanOrEqual(385216);
    }
    expect(ex.matmul_ws_bytes(0, 5, 5, 0, 0)).toBe(0);
    expect(ex.matmul_ws_bytes(5, 5, 0, 0, 0)).toBe(0);
  });
});
