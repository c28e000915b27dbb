// matmul C = op(A)·op(B) in GFLOP/s (2mnk / time): square sizes, the transposed combinations, and the six
// products of an MLP 784-128-10 training step (forward, and the backward products that use the transposes).
import { matmul, tensor, tidy } from '../../dist/index.js';
import { tf, type Contender } from '../contenders.js';
import { assertClose, normal, stream } from '../data.js';
import type { Case, Prepared } from '../harness.js';
import { peakCase } from './peak.js';

export interface MatmulShape {
  name: string;
  m: number; k: number; n: number;
  transA: boolean; transB: boolean;
}

const cube = (s: number, transA = false, transB = false): MatmulShape => ({
  name: `${s}³ ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`, m: s, k: s, n: s, transA, transB,
});

/** The products of one MLP 784-128-10 step at batch b, with the layouts wasmgrad and PyTorch use (W [out, in]). */
export function mlpShapes(b: number): MatmulShape[] {
  return [
    { name: `b${b} fwd X·W1ᵀ`, m: b, k: 784, n: 128, transA: false, transB: true },
    { name: `b${b} fwd H·W2ᵀ`, m: b, k: 128, n: 10, transA: false, transB: true },
    { name: `b${b} bwd dW1=dZ1ᵀ·X`, m: 128, k: b, n: 784, transA: true, transB: false },
    { name: `b${b} bwd dH=dZ2·W2`, m: b, k: 10, n: 128, transA: false, transB: false },
    { name: `b${b} bwd dW2=dZ2ᵀ·H`, m: 10, k: b, n: 128, transA: true, transB: false },
  ];
}

export function matmulShapes(quick: boolean): MatmulShape[] {
  if (quick) return [cube(64), cube(128), cube(128, true), cube(128, false, true), ...mlpShapes(64)];
  return [cube(64), cube(128), cube(256), cube(256, true), cube(256, false, true), cube(512), cube(1024),
    ...mlpShapes(64), ...mlpShapes(256)];
}

/** Sides of the square products compared with the relaxed build's FMA peak, and the sides the target covers (issue 16). */
const PEAK_SIDES = [128, 256, 512, 1024];
const PEAK_TARGET_SIDES = [256, 512, 1024];

/**
 * Every product of the section. The square NN products are also timed against the FMA loop of cases/peak.ts on the
 * relaxed build, in their own rounds; the target, ≥ 90% of it, is the at 256³–1024³.
 */
export function matmulCases(quick: boolean): Case[] {
  const peak = peakCase();
  return matmulShapes(quick).map((s) => {
    const kase = matmulCase(s, quick);
    if (s.transA || s.transB || s.m !== s.k || s.k !== s.n || !PEAK_SIDES.includes(s.m)) return kase;
    const targeted = PEAK_TARGET_SIDES.includes(s.m);
    return {
      ...kase,
      versus: [{ label: peak.name, reference: peak, ...(targeted ? { min: 0.9, who: ['wasm-relaxed'], summary: 'matmul 256³–1024³ NN' } : {}) }],
    };
  });
}

/** Targets: simd ≥ 25 and relaxed ≥ 36 GFLOP/s from 128³ up, and on every MLP product with a transposed operand. */
function targetsFor(s: MatmulShape): Record<string, number> | undefined {
  const square = s.m === s.k && s.k === s.n;
  if (square ? s.m >= 128 : s.transA || s.transB) return { 'wasm-simd': 25, 'wasm-relaxed': 36 };
  return undefined;
}

/** Checks op(A)·op(B) in float64 at every position (small C) or at 4096 sampled ones, within float32 rounding. */
function expected(s: MatmulShape, a: Float32Array, b: Float32Array) {
  const total = s.m * s.n;
  const u = stream(s.m * 7 + s.n * 13 + s.k);
  const at = total <= 65536 ? Array.from({ length: total }, (_, i) => i)
    : Array.from({ length: 4096 }, () => Math.floor(u() * total));
  const want = new Float64Array(at.length);
  const tol = new Float64Array(at.length);
  at.forEach((pos, t) => {
    const i = Math.floor(pos / s.n);
    const j = pos % s.n;
    let sum = 0;
    let abs = 0;
    for (let p = 0; p < s.k; p++) {
      const x = a[s.transA ? p * s.m + i : i * s.k + p]! * b[s.transB ? j * s.k + p : p * s.n + j]!;
      sum += x;
      abs += Math.abs(x);
    }
    want[t] = sum;
    tol[t] = 1e-5 * abs + 1e-6; // float32 accumulation in any order stays far inside this
  });
  return { at, want, tol };
}

export function matmulCase(s: MatmulShape, quick: boolean): Case {
  const flops = 2 * s.m * s.n * s.k;
  const aShape = s.transA ? [s.k, s.m] : [s.m, s.k];
  const bShape = s.transB ? [s.n, s.k] : [s.k, s.n];
  const a = normal(s.m * s.k, 1 + s.m + s.k);
  const b = normal(s.k * s.n, 2 + s.k + s.n);
  let exp: ReturnType<typeof expected> | null = null;
  const expect = () => (exp ??= expected(s, a, b));
  const compare = (c: Contender, out: ArrayLike<number>) => {
    const e = expect();
    assertClose(`matmul ${s.name} on ${c.name}: C[flat]`, e.at.map((p) => out[p]!), e.want, { at: (t) => e.tol[t]! });
    return { C: out };
  };
  return {
    group: 'matmul',
    expect,
    name: s.name,
    unit: 'GFLOP/s',
    higherIsBetter: true,
    value: (ms) => flops / (ms * 1e6),
    targets: targetsFor(s),
    skip: (c) => (c.slow && flops > 1e9 && !quick ? 'skipped: one call takes seconds' : undefined),
    prepare: (c): Prepared => {
      const opts = { transA: s.transA, transB: s.transB };
      if (c.lib === 'tfjs') {
        const A = tf.tensor(a, aShape);
        const B = tf.tensor(b, bShape);
        return {
          fn: () => tf.tidy(() => void tf.matMul(A, B, s.transA, s.transB)),
          check: () => compare(c, tf.tidy(() => tf.matMul(A, B, s.transA, s.transB).dataSync() as Float32Array)),
          dispose: () => tf.dispose([A, B]),
        };
      }
      const A = tensor(a, { shape: aShape });
      const B = tensor(b, { shape: bShape });
      return {
        fn: () => tidy(() => void matmul(A, B, opts)),
        check: () => compare(c, tidy(() => matmul(A, B, opts).data())),
        dispose: () => [A, B].forEach((t) => t.dispose()),
      };
    },
  };
}
