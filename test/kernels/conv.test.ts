// Convolution kernels (forward, input gradient, weight gradient, through the validated entry points) on every
// backend: ref and each wasm build, debug included (whose guard words catch any write outside a block, and whose
// poisoned fresh blocks turn any read of memory nobody wrote into NaN), against a float64 convolution computed here.
// The table covers the awkward geometries: 1×1 kernels, a kernel as large as the input, stride larger than the
// kernel, odd and asymmetric padding, dilation, depthwise and intermediate groups, batch 1 and 0, channel counts
// that are not multiples of 4, conv1d, and images large enough that the wasm kernels cut im2col into chunks.
//
// Tolerance, as in the matmul tests: small-integer inputs make every partial sum an exact integer in float32, so
// results must equal the float64 ones bit for bit whatever the summation order; random floats must stay within
// the rigorous float32 summation bound (terms + 2)·2⁻²⁴·Σ|terms|.
//
// A second harness calls each build's exports directly: nothing outside the output and the scratch is written,
// no input changes, nothing past an input is read (each placed flush against the end of linear memory, where an
// over-read traps), and a call split into shares (batch items, or weight columns) gives the same bits as one call.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/types.js';
import type { ConvArgs, KernelExports } from '../../src/backend/wasm/exports.js';
import { compileBuild, supportedBuilds } from '../../src/backend/wasm/loader.js';
import * as K from '../../src/kernels/index.js';
import { loadBackends } from '../helpers/backends.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();

interface Case {
  x: number[];
  w: number[];
  stride?: number[];
  padding?: [number, number][];
  dilation?: number[];
  groups?: number;
  bias?: boolean;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const rankOf = (c: Case) => c.x.length - 2;

function geometry(c: Case): K.ConvGeometry {
  const r = rankOf(c);
  return {
    stride: c.stride ?? Array<number>(r).fill(1),
    padding: c.padding ?? Array.from({ length: r }, () => [0, 0] as [number, number]),
    dilation: c.dilation ?? Array<number>(r).fill(1),
    groups: c.groups ?? 1,
  };
}

const label = (c: Case) => {
  const g = geometry(c);
  return `x [${c.x}] w [${c.w}] stride [${g.stride}] padding ${JSON.stringify(g.padding)} dilation [${g.dilation}] ` +
    `groups ${g.groups}${c.bias ? ' +bias' : ''}`;
};

/** A sum in float64 and the scale of its float32 rounding bound: Σ|terms| and the number of terms. */
interface Sums { value: Float64Array; abs: Float64Array; terms: Float64Array }
const sums = (n: number): Sums => ({ value: new Float64Array(n), abs: new Float64Array(n), terms: new Float64Array(n) });
function addTo(s: Sums, at: number, v: number): void {
  s.value[at] += v;
  s.abs[at] += Math.abs(v);
  s.terms[at]! += 1;
}

/** A case as conv2d (conv1d is height 1): sizes, kernel, stride, dilation, padding before/after per dim. */
function as2d(c: Case) {
  const g = geometry(c);
  const two = <T>(v: readonly T[], one: T) => (rankOf(c) === 1 ? [one, v[0]!] : [...v]);
  const hw = two(c.x.slice(2), 1), k = two(c.w.slice(2), 1);
  const st = two(g.stride, 1), dl = two(g.dilation, 1), pd = two<readonly [number, number]>(g.padding, [0, 0]);
  const out = [0, 1].map((i) => Math.floor((hw[i]! + pd[i]![0] + pd[i]![1] - dl[i]! * (k[i]! - 1) - 1) / st[i]!) + 1);
  return { hw, k, st, dl, pd, out, groups: g.groups };
}

const outShapeOf = (c: Case) => [c.x[0]!, c.w[0]!, ...(rankOf(c) === 1 ? [as2d(c).out[1]!] : as2d(c).out)];

/** Every (x, w, out) index triple of the convolution's products (taps inside the image). */
function visit(c: Case, fn: (xAt: number, wAt: number, outAt: number) => void): void {
  const { hw, k, st, dl, pd, out, groups } = as2d(c);
  const [n, ch] = c.x;
  const [o, cg] = c.w;
  const og = o! / groups;
  for (let b = 0; b < n!; b++) {
    for (let oc = 0; oc < o!; oc++) {
      const group = Math.floor(oc / og);
      for (let y = 0; y < out[0]!; y++) {
        for (let x = 0; x < out[1]!; x++) {
          const outAt = ((b * o! + oc) * out[0]! + y) * out[1]! + x;
          for (let ic = 0; ic < cg!; ic++) {
            for (let i = 0; i < k[0]!; i++) {
              for (let j = 0; j < k[1]!; j++) {
                const iy = y * st[0]! - pd[0]![0] + i * dl[0]!;
                const ix = x * st[1]! - pd[1]![0] + j * dl[1]!;
                if (iy < 0 || iy >= hw[0]! || ix < 0 || ix >= hw[1]!) continue;
                const xAt = (((b * ch! + group * cg! + ic) * hw[0]! + iy) * hw[1]!) + ix;
                fn(xAt, ((oc * cg! + ic) * k[0]! + i) * k[1]! + j, outAt);
              }
            }
          }
        }
      }
    }
  }
}

interface Data { x: Float32Array; w: Float32Array; bias: Float32Array | null; dy: Float32Array; outShape: number[] }

function data(c: Case, seed: number, integers: boolean): Data {
  const rand = mulberry32(seed);
  const gen = integers ? () => Math.floor(rand() * 7) - 3 : () => Math.fround(rand() * 2 - 1);
  const fill = (n: number) => Float32Array.from({ length: n }, gen);
  const outShape = outShapeOf(c);
  return { x: fill(size(c.x)), w: fill(size(c.w)), bias: c.bias ? fill(c.w[0]!) : null, dy: fill(size(outShape)), outShape };
}

function oracle(c: Case, d: Data) {
  const out = sums(size(d.outShape)), dx = sums(d.x.length), dw = sums(d.w.length);
  visit(c, (xAt, wAt, outAt) => {
    addTo(out, outAt, d.x[xAt]! * d.w[wAt]!);
    addTo(dx, xAt, d.dy[outAt]! * d.w[wAt]!);
    addTo(dw, wAt, d.x[xAt]! * d.dy[outAt]!);
  });
  if (d.bias) {
    const plane = size(d.outShape.slice(2));
    for (let e = 0; e < out.value.length; e++) addTo(out, e, d.bias[Math.floor(e / plane) % c.w[0]!]!);
  }
  return { out, dx, dw };
}

function mismatch(what: string, got: ArrayLike<number>, want: Sums, exact: boolean): string | null {
  if (got.length !== want.value.length) return `${what}: ${got.length} values, expected ${want.value.length}`;
  for (let e = 0; e < got.length; e++) {
    const tol = exact ? 0 : (want.terms[e]! + 2) * 2 ** -24 * want.abs[e]! + 1e-30;
    if (!(Math.abs(got[e]! - want.value[e]!) <= tol)) {
      return `${what}[${e}] = ${got[e]}, expected ${want.value[e]} (tolerance ${tol.toPrecision(3)})`;
    }
  }
  return null;
}

/** Runs the three kernels on a backend through the validated entry points; returns out, dx, dw. */
function runOn(backend: Backend, c: Case, d: Data, dtype: 'float32' | 'float64' = 'float32') {
  const made: K.NDArray[] = [];
  const arr = (values: Float32Array, shape: number[]) => {
    const a = { buf: backend.alloc(dtype, values.length), shape };
    backend.write(a.buf, values);
    made.push(a);
    return a;
  };
  try {
    const g = geometry(c);
    const x = arr(d.x, c.x), w = arr(d.w, c.w), dy = arr(d.dy, d.outShape);
    const bias = d.bias ? arr(d.bias, [c.w[0]!]) : null;
    const results = [K.conv(x, w, bias, g), K.convInputGrad(dy, w, c.x, g), K.convWeightGrad(x, dy, c.w, g)];
    made.push(...results);
    expect(results.map((r) => r.shape)).toEqual([d.outShape, c.x, c.w]);
    return results.map((r) => backend.read(r.buf));
  } finally {
    for (const a of made) K.free(a);
  }
}

function check(cases: Case[], integers: boolean, seed0: number): void {
  cases.forEach((c, idx) => {
    const d = data(c, seed0 + idx, integers);
    const want = oracle(c, d);
    for (const { label: name, backend } of backends) {
      const [out, dx, dw] = runOn(backend, c, d);
      const at = `${name}: ${label(c)}`;
      expect(mismatch('out', out!, want.out, integers), at).toBeNull();
      expect(mismatch('dx', dx!, want.dx, integers), at).toBeNull();
      expect(mismatch('dw', dw!, want.dw, integers), at).toBeNull();
    }
  });
}

// ---- tables ----------------------------------------------------------------------------------------------------

const p = (h: number, w: number): [number, number][] => [[h, h], [w, w]];

const AWKWARD: Case[] = [
  { x: [2, 3, 7, 6], w: [4, 3, 3, 3], bias: true }, // PyTorch fixture's first case
  { x: [2, 5, 7, 6], w: [3, 5, 1, 1] }, // 1×1 kernel
  { x: [3, 5, 6, 9], w: [7, 5, 1, 1], stride: [2, 3], bias: true }, // 1×1, strided
  { x: [2, 3, 5, 4], w: [4, 3, 5, 4], bias: true }, // kernel = input: a 1×1 output
  { x: [1, 2, 3, 3], w: [5, 2, 5, 5], padding: p(1, 1) }, // kernel = padded input
  { x: [2, 3, 11, 10], w: [4, 3, 2, 2], stride: [3, 3] }, // stride > kernel: inputs never read
  { x: [1, 2, 9, 8], w: [3, 2, 3, 2], stride: [4, 5], padding: p(2, 1), bias: true },
  { x: [2, 3, 6, 7], w: [2, 3, 3, 3], padding: [[1, 2], [0, 3]] }, // asymmetric padding
  { x: [1, 2, 5, 6], w: [3, 2, 4, 2], padding: [[1, 2], [0, 1]], bias: true }, // 'same' for an even kernel
  { x: [2, 3, 7, 7], w: [2, 3, 3, 3], padding: p(3, 3) }, // padding wider than half the kernel
  { x: [1, 3, 9, 9], w: [2, 3, 3, 3], padding: p(2, 2), dilation: [2, 2], bias: true }, // fixture: dilation
  { x: [2, 2, 10, 11], w: [3, 2, 3, 2], dilation: [3, 4], stride: [2, 1], padding: p(1, 2) },
  { x: [2, 6, 9, 9], w: [6, 1, 3, 3], groups: 6, padding: p(1, 1), bias: true }, // depthwise
  { x: [2, 5, 7, 8], w: [10, 1, 3, 3], groups: 5, stride: [2, 2] }, // depthwise, multiplier 2
  { x: [2, 6, 8, 8], w: [9, 2, 3, 3], groups: 3, padding: p(1, 1) }, // groups between
  { x: [2, 4, 8, 7], w: [6, 2, 3, 2], groups: 2, stride: [2, 1], padding: p(1, 0) }, // fixture: groups 2
  { x: [1, 7, 5, 6], w: [9, 7, 3, 3], padding: p(1, 1), bias: true }, // batch 1, channels not multiples of 4
  { x: [3, 4, 10, 10], w: [20, 4, 3, 3], padding: p(1, 1) }, // O > 8: blocked products
  { x: [3, 1, 6, 6], w: [8, 1, 5, 5], padding: p(2, 2), bias: true }, // fixture: 5×5, one input channel
  // Stride 1 takes the gathering input gradient: rows narrower than a vector, no column inside every tap, columns
  // on both sides of the vector run, and dilation
  { x: [2, 3, 5, 3], w: [4, 3, 3, 3], padding: p(1, 1) },
  { x: [1, 2, 6, 5], w: [3, 2, 3, 3], padding: p(2, 3), dilation: [2, 2] },
  { x: [2, 3, 5, 13], w: [2, 3, 2, 4], padding: [[0, 1], [2, 1]], bias: true },
  { x: [1, 2, 7, 14], w: [3, 2, 3, 3], padding: p(1, 3), dilation: [2, 3] },
  // Stride 2 copies and adds rows by vectors: rows of 9 and 10 outputs, and rows of 8 whose last tap reads the
  // image's last column (an over-read past it traps when x is placed flush against the end of memory)
  { x: [1, 2, 7, 19], w: [3, 2, 3, 3], stride: [2, 2], padding: p(1, 1), bias: true },
  { x: [2, 3, 9, 17], w: [4, 3, 3, 3], stride: [2, 2] },
  { x: [0, 3, 5, 5], w: [4, 3, 3, 3], bias: true }, // batch 0
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1], bias: true }, // one of everything
  // conv1d
  { x: [2, 3, 11], w: [5, 3, 3], padding: [[1, 1]], bias: true },
  { x: [1, 4, 10], w: [2, 4, 4], stride: [2] },
  { x: [2, 6, 13], w: [6, 2, 4], groups: 3, dilation: [2], padding: [[3, 2]] },
  { x: [3, 5, 7], w: [5, 1, 7], groups: 5, bias: true },
  { x: [0, 2, 4], w: [3, 2, 2] },
];

/** Large enough that the wasm kernels cut im2col into chunks of output rows (more than 2¹⁸ floats per item). */
const CHUNKED: Case[] = [
  { x: [2, 64, 24, 24], w: [3, 64, 3, 3], padding: p(1, 1), bias: true }, // 2 chunks: 18 + 6 rows
  { x: [1, 32, 40, 41], w: [10, 32, 5, 5], padding: p(2, 2), stride: [1, 2] }, // 5 chunks
  { x: [2, 16, 30, 30], w: [12, 8, 3, 3], groups: 2, padding: p(1, 1), dilation: [1, 2] },
  { x: [1, 16, 70, 70], w: [2, 16, 3, 3], padding: p(3, 1), dilation: [3, 1] }, // chunks of 26 rows: taps span chunks
];

describe('convolution kernels: every backend against a float64 convolution', () => {
  it('awkward geometries, small integers (exact)', () => check(AWKWARD, true, 100));

  it('chunked im2col, small integers (exact)', () => check(CHUNKED, true, 200));

  it('random floats within the float32 summation bound', () => check([...AWKWARD.slice(0, 8), CHUNKED[0]!], false, 300));

  it('ref backend in float64: within a few float64 ulps', () => {
    const ref = backends.find((b) => b.backend.name === 'ref')!.backend;
    for (const c of [AWKWARD[6]!, AWKWARD[13]!, AWKWARD[23]!]) {
      const d = data(c, 400, false);
      const want = oracle(c, d);
      const results = runOn(ref, c, d, 'float64');
      results.forEach((got, i) => {
        expect(got).toBeInstanceOf(Float64Array);
        const s = [want.out, want.dx, want.dw][i]!;
        for (let e = 0; e < got.length; e++) {
          expect(Math.abs(got[e]! - s.value[e]!), `${label(c)} result ${i}[${e}]`).toBeLessThanOrEqual((s.terms[e]! + 2) * 2 ** -53 * s.abs[e]!);
        }
      });
    }
  });
});

// ---- direct harness --------------------------------------------------------------------------------------------

const BUILDS = [...supportedBuilds(), 'debug' as const];
const modules = await Promise.all(BUILDS.map(async (build) => ({ build, module: await compileBuild(build) })));
const SENTINEL = 1234.5;
const GUARD = 64; // floats of guard on each side of the output and ws

/** The kernels' geometry arguments for a case (conv1d as height 1), as in src/backend/wasm/index.ts. */
function args(c: Case): ConvArgs {
  const { hw, k, st, dl, pd, out, groups } = as2d(c);
  return [c.x[0]!, c.x[1]!, hw[0]!, hw[1]!, c.w[0]!, k[0]!, k[1]!, out[0]!, out[1]!, st[0]!, st[1]!, pd[0]![0], pd[1]![0],
    dl[0]!, dl[1]!, groups];
}

type Kind = 0 | 1 | 2;
const KINDS: [Kind, string][] = [[0, 'forward'], [1, 'input gradient'], [2, 'weight gradient']];

/**
 * One kernel call on a fresh instance: the output and ws between guards above heap_base, the inputs placed from
 * the end of memory downwards with `last` flush against it. `shares` splits the call's range. Returns the output,
 * whether the guards held and whether the inputs are unchanged.
 */
function direct(module: WebAssembly.Module, c: Case, d: Data, kind: Kind, last: number, shares: [number, number][]) {
  const ex = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
  const a = args(c);
  const outLen = [size(d.outShape), d.x.length, d.w.length][kind]!;
  const inputs = [[d.x, d.w, d.bias], [d.dy, d.w], [d.x, d.dy]][kind]!.filter((v): v is Float32Array => v !== null);
  const wsBytes = Math.max(...shares.map(([r0, r1]) => ex.conv2d_ws_bytes(kind, ...a, r0, r1)));
  const align = (v: number, to: number) => Math.ceil(v / to) * to;
  const ws = align(ex.heap_base() + GUARD * 4, 64);
  const out = align(ws + wsBytes + 2 * GUARD * 4, 16) + 4; // the ABI promises no alignment for tensors
  const top = out + outLen * 4 + GUARD * 4;
  const inputBytes = inputs.reduce((s, v) => s + v.length * 4, 0);
  const pages = Math.ceil((top + inputBytes + 64) / 65536) - ex.memory.buffer.byteLength / 65536;
  if (pages > 0) ex.memory.grow(pages);
  const order = inputs.map((_, i) => i).filter((i) => i !== last % inputs.length).concat(last % inputs.length);
  const at: number[] = [];
  let end = ex.memory.buffer.byteLength;
  for (const i of [...order].reverse()) {
    end -= inputs[i]!.length * 4;
    at[i] = end;
  }
  const f32 = new Float32Array(ex.memory.buffer);
  inputs.forEach((v, i) => f32.set(v, at[i]! / 4));
  f32.fill(SENTINEL, ws / 4 - GUARD, ws / 4 + wsBytes / 4 + GUARD);
  f32.fill(SENTINEL, out / 4 - GUARD, out / 4 + outLen + GUARD);
  for (const [r0, r1] of shares) {
    if (kind === 0) ex.conv2d_f32(at[0]!, at[1]!, d.bias ? at[2]! : 0, out, ...a, ws, r0, r1);
    else if (kind === 1) ex.conv2d_input_grad_f32(at[0]!, at[1]!, out, ...a, ws, r0, r1);
    else ex.conv2d_weight_grad_f32(at[0]!, at[1]!, out, ...a, ws, r0, r1);
  }
  const mem = new Float32Array(ex.memory.buffer);
  const guarded = (ptr: number, len: number) => {
    for (let g = 1; g <= GUARD; g++) if (mem[ptr / 4 - g] !== SENTINEL || mem[ptr / 4 + len + g - 1] !== SENTINEL) return false;
    return true;
  };
  return {
    out: mem.slice(out / 4, out / 4 + outLen),
    guards: guarded(out, outLen) && guarded(ws, wsBytes / 4),
    unchanged: inputs.every((v, i) => v.every((x, e) => Object.is(mem[at[i]! / 4 + e], x))),
  };
}

describe('conv2d kernels (direct): no access outside their blocks, and split calls give the same bits', () => {
  const cases = [...AWKWARD.filter((c) => c.x[0]! > 0), CHUNKED[0]!];
  for (const { build, module } of modules) {
    it(`${build}: guards intact, inputs unchanged, no over-read, exact values`, () => {
      cases.forEach((c, idx) => {
        const d = data(c, 500 + idx, true);
        const want = oracle(c, d);
        for (const [kind, what] of KINDS) {
          const whole: [number, number] = [0, kind === 2 ? d.w.length / c.w[0]! : c.x[0]!];
          const r = direct(module, c, d, kind, idx + kind, [whole]);
          const name = `${build} ${what}: ${label(c)}`;
          expect(r.guards, `${name}: guards`).toBe(true);
          expect(r.unchanged, `${name}: inputs unchanged`).toBe(true);
          expect(mismatch(what, r.out, [want.out, want.dx, want.dw][kind]!, true), name).toBeNull();
        }
      });
    });

    it(`${build}: shares of batch items and of weight columns (multiples of 8, wider than 8) match one call bit for bit`, () => {
      const split: Case[] = [
        { x: [5, 4, 9, 9], w: [12, 4, 3, 3], padding: p(1, 1), bias: true }, // 36 columns, blocked products
        { x: [3, 6, 8, 7], w: [4, 3, 3, 3], groups: 2, stride: [2, 1] }, // Og = 2: skinny products, 27 columns
        { x: [2, 5, 11, 6], w: [6, 5, 2, 3], dilation: [2, 1] }, // 30 columns
        CHUNKED[0]!, // chunked, 576 columns
      ];
      split.forEach((c, idx) => {
        const d = data(c, 600 + idx, false);
        for (const [kind, what] of KINDS) {
          const total = kind === 2 ? d.w.length / c.w[0]! : c.x[0]!;
          const cuts = kind === 2 ? [[0, 16], [16, total]] : [[0, 1], [1, Math.ceil(total / 2)], [Math.ceil(total / 2), total]];
          const one = direct(module, c, d, kind, 0, [[0, total]]).out;
          const parts = direct(module, c, d, kind, 0, cuts as [number, number][]);
          expect(parts.guards, `${build} ${what} shares: guards`).toBe(true);
          expect(new Uint32Array(parts.out.buffer), `${build} ${what}: ${label(c)}`).toEqual(new Uint32Array(one.buffer));
        }
      });
    });
  }

  it('scratch stays bounded: the im2col block is cut into chunks of output rows', () => {
    const ex = new WebAssembly.Instance(modules[0]!.module, {}).exports as unknown as KernelExports;
    // A 64-channel 3×3 convolution of 512×512 images: im2col of one item would take 576 MB.
    const big: Case = { x: [1, 64, 512, 512], w: [64, 64, 3, 3], padding: p(1, 1) };
    for (const [kind] of KINDS) {
      const bytes = ex.conv2d_ws_bytes(kind, ...args(big), 0, kind === 2 ? 576 : 1);
      expect(bytes).toBeLessThan(3 << 20);
    }
  });
});
