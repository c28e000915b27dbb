// Attention kernels (forward and backward, through the validated entry points) on every backend: ref and each wasm
// build, debug included (guard words around every block, poisoned fresh memory), against an oracle computed here
// in float64 the plain way: the whole [L, S] matrix of scores, its softmax, and the gradients from it
// (dS = P ∘ (dP − rowsum(dP ∘ P))), which shares nothing with the kernels' blockwise recomputation from lse.
// Sizes are the awkward ones: a single row, 7 and 33 rows, head dims that are not multiples of 4, S ≠ L (causal
// too, where PyTorch's mask is the top-left-aligned lower triangle), sequences long enough to be cut into several
// blocks of rows (causal and not), masks of every broadcast shape (float, added; int32, kept where nonzero), rows
// that attend to nothing, and no item or no key at all.
//
// Tolerance: float32 results against the float64 oracle within 2⁻¹⁹ of each output's scale (its largest
// magnitude, and that of the terms summed into it), i.e. a few float32 roundings of the products and the exp;
// the float64 ref run within 1e-12.
//
// A second harness calls each build's exports directly: a call over items [0, heads) split into shares of items
// gives the same bits, and nothing outside the outputs is written.
import { describe, expect, it } from 'vitest';
import type { Backend, DType } from '../../src/backend/types.js';
import type { KernelExports } from '../../src/backend/wasm/exports.js';
import { compileBuild, supportedBuilds } from '../../src/backend/wasm/loader.js';
import * as K from '../../src/kernels/index.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32, randomArray } from '../helpers/random.js';

const backends = await loadBackends();

interface Case {
  /** Leading dims (items). */
  lead: number[];
  L: number; S: number; E: number; Ev: number;
  causal?: boolean;
  scale?: number;
  /** A mask of this shape: 'add' (float), 'keep' (int32); `blank` rows attend to nothing. */
  mask?: { shape: number[]; kind: 'add' | 'keep'; blank?: boolean };
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const CASES: Case[] = [
  { lead: [2], L: 1, S: 1, E: 1, Ev: 1 },
  { lead: [3], L: 7, S: 7, E: 5, Ev: 3 },
  { lead: [2, 3], L: 7, S: 7, E: 6, Ev: 6, causal: true },
  { lead: [1], L: 33, S: 33, E: 9, Ev: 13, causal: true },
  { lead: [2], L: 7, S: 12, E: 7, Ev: 5 },
  { lead: [2], L: 7, S: 12, E: 7, Ev: 5, causal: true },
  { lead: [2], L: 12, S: 7, E: 3, Ev: 4, causal: true }, // rows past S attend to every key
  { lead: [3, 2], L: 33, S: 17, E: 32, Ev: 32, scale: 0.3 },
  { lead: [1], L: 1, S: 33, E: 4, Ev: 8, causal: true },
  { lead: [2], L: 130, S: 130, E: 12, Ev: 10, causal: true }, // causal blocks of about 30 rows
  { lead: [1], L: 300, S: 257, E: 16, Ev: 9 }, // blocks of about 8192 scores, S not a multiple of 4
  { lead: [1], L: 40, S: 1100, E: 8, Ev: 4 }, // long keys: the fewest rows per block
  { lead: [1], L: 40, S: 1100, E: 8, Ev: 4, causal: true },
  { lead: [2, 2], L: 7, S: 9, E: 5, Ev: 3, mask: { shape: [7, 9], kind: 'add' } },
  { lead: [2, 3], L: 7, S: 9, E: 5, Ev: 3, mask: { shape: [2, 1, 7, 9], kind: 'keep' } },
  { lead: [2, 3], L: 7, S: 9, E: 5, Ev: 3, mask: { shape: [3, 1, 9], kind: 'keep' } }, // a key-padding mask per head
  { lead: [2], L: 6, S: 5, E: 4, Ev: 4, mask: { shape: [6, 1], kind: 'add' } }, // one value per row: a column stride 0
  { lead: [2], L: 9, S: 9, E: 4, Ev: 4, mask: { shape: [2, 9, 9], kind: 'add', blank: true } }, // −∞ rows
  { lead: [2], L: 9, S: 9, E: 4, Ev: 4, causal: true, mask: { shape: [9, 9], kind: 'keep', blank: true } },
  { lead: [2], L: 33, S: 20, E: 7, Ev: 7, causal: true, mask: { shape: [20], kind: 'keep' } },
  { lead: [0], L: 4, S: 4, E: 4, Ev: 4 },
  { lead: [2], L: 3, S: 0, E: 4, Ev: 2 },
  { lead: [2], L: 0, S: 3, E: 4, Ev: 2 },
];

const label = (c: Case) => `[${c.lead}] L ${c.L} S ${c.S} E ${c.E} Ev ${c.Ev}${c.causal ? ' causal' : ''}` +
  `${c.scale !== undefined ? ` scale ${c.scale}` : ''}${c.mask ? ` mask ${c.mask.kind} [${c.mask.shape}]${c.mask.blank ? ' with blank rows' : ''}` : ''}`;

interface Data { q: Float32Array; k: Float32Array; v: Float32Array; dout: Float32Array; mask: Float32Array | Int32Array | null }

function data(c: Case, seed: number): Data {
  const heads = size(c.lead);
  const rand = mulberry32(seed + 99);
  let mask: Float32Array | Int32Array | null = null;
  if (c.mask) {
    const n = size(c.mask.shape);
    const rows = c.mask.shape.length >= 2 ? c.mask.shape[c.mask.shape.length - 2]! : 1;
    const perRow = n / rows / size(c.mask.shape.slice(0, -2));
    // Blank rows: every third row of the mask says no to every key.
    const blank = (i: number) => c.mask!.blank === true && Math.floor(i / perRow) % rows % 3 === 1;
    mask = c.mask.kind === 'keep'
      ? Int32Array.from({ length: n }, (_, i) => (blank(i) ? 0 : rand() < 0.7 ? 1 : 0))
      : Float32Array.from({ length: n }, (_, i) => (blank(i) ? -Infinity : rand() < 0.2 ? -Infinity : Math.fround(rand() * 2 - 1)));
  }
  return {
    q: randomArray(heads * c.L * c.E, seed, -1.5, 1.5),
    k: randomArray(heads * c.S * c.E, seed + 1, -1.5, 1.5),
    v: randomArray(heads * c.S * c.Ev, seed + 2),
    dout: randomArray(heads * c.L * c.Ev, seed + 3),
    mask,
  };
}

/** Strides of `shape` broadcast to `to` (0 along broadcast dims). */
function broadcastStrides(shape: number[], to: number[]): number[] {
  const out = new Array<number>(to.length).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const at = to.length - shape.length + i;
    out[at] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i]!;
  }
  return out;
}

/** The float64 oracle: whole matrices of scores and probabilities, gradients from them. */
function oracle(c: Case, d: Data) {
  const { L, S, E, Ev } = c;
  const heads = size(c.lead);
  const scale = c.scale ?? 1 / Math.sqrt(E);
  const strides = c.mask ? broadcastStrides(c.mask.shape, [...c.lead, L, S]) : [];
  const out = new Float64Array(heads * L * Ev), outScale = new Float64Array(heads * L * Ev);
  const dq = new Float64Array(heads * L * E), dk = new Float64Array(heads * S * E), dv = new Float64Array(heads * S * Ev);
  const gScale = { q: new Float64Array(dq.length), k: new Float64Array(dk.length), v: new Float64Array(dv.length) };
  const lse = new Float64Array(heads * L);
  for (let h = 0; h < heads; h++) {
    const idx = c.lead.map((_, a) => Math.floor(h / size(c.lead.slice(a + 1))) % c.lead[a]!);
    const base = idx.reduce((acc, i, a) => acc + i * strides[a]!, 0);
    const P: number[][] = [];
    for (let i = 0; i < L; i++) {
      const s = Array.from({ length: S }, (_, j) => {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += d.q[(h * L + i) * E + e]! * d.k[(h * S + j) * E + e]!;
        let x = dot * scale;
        if (d.mask) {
          const mv = d.mask[base + i * strides[strides.length - 2]! + j * strides[strides.length - 1]!]!;
          x = c.mask!.kind === 'add' ? x + mv : mv === 0 ? -Infinity : x;
        }
        return c.causal && j > i ? -Infinity : x;
      });
      const m = Math.max(...s);
      const e = s.map((x) => (m === -Infinity ? 0 : Math.exp(x - m)));
      const sum = e.reduce((a, b) => a + b, 0);
      P.push(e.map((x) => (sum === 0 ? 0 : x / sum)));
      lse[h * L + i] = m === -Infinity ? -Infinity : m + Math.log(sum);
      for (let cc = 0; cc < Ev; cc++) {
        for (let j = 0; j < S; j++) {
          out[(h * L + i) * Ev + cc] += P[i]![j]! * d.v[(h * S + j) * Ev + cc]!;
          outScale[(h * L + i) * Ev + cc] += Math.abs(d.v[(h * S + j) * Ev + cc]!) * P[i]![j]!;
        }
      }
    }
    for (let i = 0; i < L; i++) {
      const dP = Array.from({ length: S }, (_, j) => {
        let x = 0;
        for (let cc = 0; cc < Ev; cc++) x += d.dout[(h * L + i) * Ev + cc]! * d.v[(h * S + j) * Ev + cc]!;
        return x;
      });
      const rowDot = dP.reduce((a, x, j) => a + x * P[i]![j]!, 0);
      for (let j = 0; j < S; j++) {
        const p = P[i]![j]!;
        const ds = p * (dP[j]! - rowDot) * scale;
        for (let cc = 0; cc < Ev; cc++) {
          dv[(h * S + j) * Ev + cc] += p * d.dout[(h * L + i) * Ev + cc]!;
          gScale.v[(h * S + j) * Ev + cc] += Math.abs(p * d.dout[(h * L + i) * Ev + cc]!);
        }
        for (let e = 0; e < E; e++) {
          dq[(h * L + i) * E + e] += ds * d.k[(h * S + j) * E + e]!;
          dk[(h * S + j) * E + e] += ds * d.q[(h * L + i) * E + e]!;
          const mag = p * (Math.abs(dP[j]!) + Math.abs(rowDot) + 1) * scale;
          gScale.q[(h * L + i) * E + e] += mag * Math.abs(d.k[(h * S + j) * E + e]!);
          gScale.k[(h * S + j) * E + e] += mag * Math.abs(d.q[(h * L + i) * E + e]!);
        }
      }
    }
  }
  return { out, outScale, lse, dq, dk, dv, gScale };
}

function mismatch(what: string, got: ArrayLike<number>, want: Float64Array, scale: Float64Array | null, tol: number): string | null {
  if (got.length !== want.length) return `${what}: ${got.length} values, expected ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    if (Object.is(got[i], want[i])) continue; // −∞ and exact zeros
    const bound = tol * (1 + Math.abs(want[i]!) + (scale ? scale[i]! : 0));
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) return `${what}[${i}] = ${got[i]}, expected ${want[i]} (tolerance ${bound.toPrecision(3)})`;
  }
  return null;
}

function runOn(backend: Backend, c: Case, d: Data, dtype: DType) {
  const made: K.NDArray[] = [];
  const arr = (values: ArrayLike<number>, shape: number[], type: DType = dtype) => {
    const a = { buf: backend.alloc(type, values.length), shape };
    backend.write(a.buf, values);
    made.push(a);
    return a;
  };
  try {
    const q = arr(d.q, [...c.lead, c.L, c.E]), k = arr(d.k, [...c.lead, c.S, c.E]), v = arr(d.v, [...c.lead, c.S, c.Ev]);
    const dout = arr(d.dout, [...c.lead, c.L, c.Ev]);
    const mask = d.mask ? arr(d.mask, c.mask!.shape, d.mask instanceof Int32Array ? 'int32' : dtype) : null;
    const settings = { mask, causal: c.causal ?? false, ...(c.scale !== undefined ? { scale: c.scale } : {}) };
    const { out, lse } = K.attention(q, k, v, settings);
    made.push(out, lse);
    const g = K.attentionGrad(q, k, v, out, lse, dout, settings, { q: true, k: true, v: true });
    made.push(g.dq!, g.dk!, g.dv!);
    const read = (a: K.NDArray) => backend.read(a.buf);
    return { out: read(out), lse: read(lse), dq: read(g.dq!), dk: read(g.dk!), dv: read(g.dv!) };
  } finally {
    for (const a of made) backend.free(a.buf);
  }
}

const configs = backends.flatMap(({ label: name, backend }) =>
  (backend.name === 'ref' ? ['float32', 'float64'] as DType[] : ['float32' as DType]).map((dtype) => ({ name: `${name} ${dtype}`, backend, dtype })));

describe.each(configs)('attention kernels on $name', ({ backend, dtype }) => {
  it.each(CASES.map((c, i) => [label(c), c, i] as const))('%s', (_l, c, i) => {
    const d = data(c, 100 + i);
    const want = oracle(c, d);
    const before = backend.memory().bytesInUse;
    const got = runOn(backend, c, d, dtype);
    expect(backend.memory().bytesInUse).toBe(before);
    const tol = dtype === 'float64' ? 1e-12 : 2 ** -19;
    const problems = [
      mismatch('out', got.out, want.out, want.outScale, tol),
      mismatch('lse', got.lse, want.lse, null, tol),
      mismatch('dq', got.dq, want.dq, want.gScale.q, tol),
      mismatch('dk', got.dk, want.dk, want.gScale.k, tol),
      mismatch('dv', got.dv, want.dv, want.gScale.v, tol),
    ].filter((p) => p !== null);
    expect(problems).toEqual([]);
  });
});

describe('attention kernels: exact cases', () => {
  it.each(configs)('$name: a row that attends to nothing gives 0 and lse −∞, and passes no gradient', ({ backend, dtype }) => {
    const c = CASES.find((x) => x.mask?.blank && x.mask.kind === 'add')!;
    const d = data(c, 7);
    const got = runOn(backend, c, d, dtype);
    for (let h = 0; h < 2; h++) {
      for (const i of [1, 4, 7]) {
        expect(got.lse[h * c.L + i]).toBe(-Infinity);
        expect(Array.from(got.out.subarray((h * c.L + i) * c.Ev, (h * c.L + i + 1) * c.Ev))).toEqual([0, 0, 0, 0]);
        expect(Array.from(got.dq.subarray((h * c.L + i) * c.E, (h * c.L + i + 1) * c.E))).toEqual([0, 0, 0, 0]);
      }
    }
  });

  it.each(configs)('$name: a NaN score makes its row NaN (never a silent 0)', ({ backend, dtype }) => {
    const c: Case = { lead: [1], L: 3, S: 5, E: 4, Ev: 4, mask: { shape: [3, 5], kind: 'add' } };
    const d = data(c, 3);
    d.mask!.fill(-Infinity);
    d.mask![1 * 5 + 2] = NaN; // row 1: every score −∞ but one NaN
    d.q[0] = NaN; // row 0: NaN scores
    const got = runOn(backend, c, d, dtype);
    expect(Number.isNaN(got.out[0]) && Number.isNaN(got.out[4])).toBe(true);
    expect(Array.from(got.out.subarray(8, 12))).toEqual([0, 0, 0, 0]);
  });
});

// ---- The raw exports --------------------------------------------------------------------------------------------

const BUILDS = [...supportedBuilds(), 'debug' as const];
const modules = await Promise.all(BUILDS.map(async (build) => ({ build, module: await compileBuild(build) })));

describe.each(modules)('raw attention exports ($build)', ({ module }) => {
  it.each([false, true])('items split into shares give the same bits, and nothing else is written (causal %s)', (causal) => {
    const ex = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    ex.memory.grow(64); // 4 MB above what the build starts with
    const mem = () => new Float32Array(ex.memory.buffer);
    const [heads, L, S, E, Ev] = [5, 37, 29, 11, 6];
    let at = Math.ceil(ex.heap_base() / 64) * 64;
    /** A block of `floats` 4 bytes past a 64-byte boundary (the ABI promises tensors no alignment), 64 bytes apart. */
    const place = (floats: number, aligned = false) => {
      const p = at + (aligned ? 0 : 4);
      at = Math.ceil((p + floats * 4) / 64) * 64 + 64;
      return p;
    };
    const sizes = [L * E, S * E, S * Ev, L * Ev, L, L * Ev, L * E, S * E, S * Ev];
    const [q, k, v, out, lse, dout, dq, dk, dv] = sizes.map((n) => place(heads * n)) as number[];
    const offsets = place(heads), mask = place(L * S);
    const wsBytes = Math.max(ex.attention_ws_bytes(L, S, E, Ev, +causal, 0), ex.attention_ws_bytes(L, S, E, Ev, +causal, 1));
    const ws = place(wsBytes / 4, true);
    const end = at;
    mem().set(randomArray(heads * L * E, 1), q! / 4);
    mem().set(randomArray(heads * S * E, 2), k! / 4);
    mem().set(randomArray(heads * S * Ev, 3), v! / 4);
    mem().set(randomArray(heads * L * Ev, 4), dout! / 4);
    mem().set(Float32Array.from(randomArray(L * S, 5), (x) => (x < -0.8 ? -Infinity : x)), mask / 4);
    new Int32Array(ex.memory.buffer, offsets, heads).fill(0);
    const outputs = [out, lse, dq, dk, dv] as number[];
    const outSizes = [L * Ev, L, L * E, S * E, S * Ev];
    const run = (h0: number, h1: number) => {
      const item = (p: number, per: number) => p + 4 * h0 * per;
      const [qi, ki, vi, oi, li, doi, dqi, dki, dvi] = [q, k, v, out, lse, dout, dq, dk, dv].map((p, i) => item(p!, sizes[i]!));
      ex.attention_f32(qi!, ki!, vi!, oi!, li!, mask, offsets + 4 * h0, 1, S, 1, h1 - h0, L, S, E, Ev, 0.37, +causal, ws);
      ex.attention_grad_f32(qi!, ki!, vi!, oi!, li!, doi!, dqi!, dki!, dvi!, mask, offsets + 4 * h0, 1, S, 1, h1 - h0,
        L, S, E, Ev, 0.37, +causal, ws);
    };
    const read = () => outputs.map((p, i) => Array.from(mem().subarray(p / 4, p / 4 + heads * outSizes[i]!)));
    const poisonOutputs = () => outputs.forEach((p, i) => mem().fill(NaN, p / 4, p / 4 + heads * outSizes[i]!));
    // Every word that is not an output or the scratch: it must be the same after the calls.
    const untouched = () => {
      const words = new Uint32Array(ex.memory.buffer);
      const skip = outputs.map((p, i) => [p / 4, p / 4 + heads * outSizes[i]!]).concat([[ws / 4, ws / 4 + wsBytes / 4]]);
      return Array.from(words.subarray(q! / 4, end / 4 + 256)).filter((_, w) =>
        !skip.some(([a, b]) => q! / 4 + w >= a! && q! / 4 + w < b!));
    };
    mem().fill(1234.5, end / 4, end / 4 + 256);
    poisonOutputs();
    const before = untouched();
    run(0, heads);
    const whole = read();
    expect(untouched()).toEqual(before);
    expect(whole.flat().some((x) => Number.isNaN(x))).toBe(false); // every output element was written
    poisonOutputs();
    run(0, 2);
    run(2, 3);
    run(3, heads);
    expect(read()).toEqual(whole);
  });
});
