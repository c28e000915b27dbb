// Fused attention, forward and forward + backward, at B = 8, 4 heads, head dim 32, T = 64, 128, 256, causal and
// not, in GFLOP/s and tokens/s (B·T per call). FLOPs are the nominal ones of the products attention is made of:
// forward 4·B·H·T²·d (q·kᵀ and ·v), backward 8·B·H·T²·d (dv, dP, dq, dk; the scores it recomputes are not
// counted), half of each when causal (the masked half is not work). wasmgrad: the kernels the op runs
// (kernels.attention, and kernels.attentionGrad from its saved log-sum-exp); the op adds only graph bookkeeping.
// tfjs: the same attention from ops, q·kᵀ by tf.matMul, the scale, a causal mask as tf.add of a [T, T] band of
// -Infinity, tf.softmax, ·v; forward + backward by tf.grads with the same output gradient.
//
// Each case on each SIMD build is also compared with a square 256³ product timed in the case's own rounds
// (harness.ts): the target is forward + backward ≥ 50% of that build's matmul GFLOP/s at T = 128.
import { kernels as K, tensor, type Tensor } from '../../dist/index.js';
import { tf, type Contender } from '../contenders.js';
import { assertClose, normal } from '../data.js';
import type { Case, Prepared } from '../harness.js';
import { matmulCase } from './matmul.js';

export interface AttentionShape { batch: number; heads: number; T: number; d: number; causal: boolean }
export type AttentionPass = 'forward' | 'fwd+bwd';

export const attentionShapes = (quick: boolean): AttentionShape[] => (quick ? [16, 32] : [64, 128, 256]).flatMap((T) =>
  [false, true].map((causal) => (quick ? { batch: 2, heads: 2, T, d: 16, causal } : { batch: 8, heads: 4, T, d: 32, causal })));

/** Nominal FLOPs of a forward and of a backward (see the top of this file). */
export function attentionFlops(s: AttentionShape): { forward: number; backward: number } {
  const square = s.batch * s.heads * s.T * s.T * s.d * (s.causal ? 0.5 : 1);
  return { forward: 4 * square, backward: 8 * square };
}

const TARGETED = ['wasm-relaxed', 'wasm-simd', 'wasm-simd-threads'];
/** The length the ≥ 50% target is set at (the --quick shapes' longest: the check still prints). */
const targetT = (quick: boolean) => (quick ? 32 : 128);
const shapeName = (s: AttentionShape) => `${s.batch}×${s.heads}×${s.T}×${s.d}${s.causal ? ' causal' : ''}`;
const caseName = (s: AttentionShape, pass: AttentionPass) => `${shapeName(s)} ${pass}`;

/** The square product each build's attention is compared with (the --quick one: 128³). */
const squareSize = (quick: boolean) => (quick ? 128 : 256);

/** The same build's square product, for the attention cases' ratio (wasmgrad's wasm builds only). */
export function attentionMatmulCase(quick: boolean): Case {
  const n = squareSize(quick);
  const base = matmulCase({ name: `${n}³ NN`, m: n, k: n, n, transA: false, transB: false }, quick);
  return { ...base, targets: undefined,
    skip: (c) => (c.build && c.build !== 'scalar' ? undefined : 'skipped: measured for the SIMD builds') };
}

/** Float64 attention of one (batch, head) slice, [T, d] each: the output and, given dout, dq, dk and dv. */
function attention64(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dout: ArrayLike<number>, at: number, s: AttentionShape) {
  const { T, d } = s;
  const scale = 1 / Math.sqrt(d);
  const P = new Float64Array(T * T);
  const out = new Float64Array(T * d);
  for (let i = 0; i < T; i++) {
    let max = -Infinity;
    const end = s.causal ? i + 1 : T;
    for (let j = 0; j < end; j++) {
      let dot = 0;
      for (let e = 0; e < d; e++) dot += q[at + i * d + e]! * k[at + j * d + e]!;
      P[i * T + j] = dot * scale;
      max = Math.max(max, P[i * T + j]!);
    }
    let sum = 0;
    for (let j = 0; j < end; j++) sum += (P[i * T + j] = Math.exp(P[i * T + j]! - max));
    for (let j = 0; j < end; j++) {
      P[i * T + j]! /= sum;
      for (let e = 0; e < d; e++) out[i * d + e] += P[i * T + j]! * v[at + j * d + e]!;
    }
  }
  const dq = new Float64Array(T * d);
  const dk = new Float64Array(T * d);
  const dv = new Float64Array(T * d);
  for (let i = 0; i < T; i++) {
    const end = s.causal ? i + 1 : T;
    const dP = new Float64Array(end);
    let rowDot = 0;
    for (let j = 0; j < end; j++) {
      for (let e = 0; e < d; e++) {
        dP[j] += dout[at + i * d + e]! * v[at + j * d + e]!;
        dv[j * d + e] += P[i * T + j]! * dout[at + i * d + e]!;
      }
      rowDot += dP[j]! * P[i * T + j]!;
    }
    for (let j = 0; j < end; j++) {
      const dS = P[i * T + j]! * (dP[j]! - rowDot) * scale;
      for (let e = 0; e < d; e++) {
        dq[i * d + e] += dS * k[at + j * d + e]!;
        dk[j * d + e] += dS * q[at + i * d + e]!;
      }
    }
  }
  return { out, dq, dk, dv };
}

/** A kernel result's values (a copy). */
const read = (a: K.NDArray) => Float32Array.from(a.buf.backend.read(a.buf));

/** A pass at a shape; `square` is the product it is compared with (one case object for every attention case). */
export function attentionCase(s: AttentionShape, pass: AttentionPass, quick: boolean, square: Case = attentionMatmulCase(quick)): Case {
  const { batch, heads, T, d } = s;
  const shape = [batch, heads, T, d];
  const size = batch * heads * T * d;
  const [q, k, v, dout] = [61, 62, 63, 64].map((seed) => normal(size, seed + T)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const f = attentionFlops(s);
  const flops = pass === 'forward' ? f.forward : f.forward + f.backward;
  // Checked in float64 on two (batch, head) slices, the first and the last: every value of their outputs.
  const slices = [0, batch * heads - 1].map((bh) => bh * T * d);
  let want: ReturnType<typeof attention64>[] | null = null;
  const expect = () => (want ??= slices.map((at) => attention64(q, k, v, dout, at, s)));
  const compare = (c: Contender, got: Record<string, ArrayLike<number>>) => {
    expect()!.forEach((w, n) => {
      for (const [name, values] of Object.entries(got)) {
        const slice = Array.from({ length: T * d }, (_, i) => values[slices[n]! + i]!);
        assertClose(`attention ${caseName(s, pass)} on ${c.name}: ${name} of (batch, head) slice ${n ? 'last' : 'first'}`, slice,
          w[name as keyof typeof w], { atol: 1e-5, rtol: 1e-4 });
      }
    });
    return got;
  };
  // ref runs ≈ 0.2 GFLOP/s here, tfjs-cpu ≈ 0.2 too (its masked half is work as well): calls of seconds sit out,
  // and the scalar build, as in the conv section (it is the fallback for engines without SIMD).
  const skip = (c: Contender) => {
    if (c.build === 'scalar') return 'skipped: the attention section measures the SIMD builds';
    if (quick) return undefined;
    if ((c.slow && flops > 1e8) || (c.name === 'tfjs-cpu' && flops > 3e8)) return 'skipped: one call takes seconds';
    return undefined;
  };
  return {
    group: 'attention',
    name: caseName(s, pass),
    expect,
    unit: 'GFLOP/s',
    higherIsBetter: true,
    value: (ms) => flops / (ms * 1e6),
    extra: { unit: 'tokens/s', value: (ms) => (batch * T) / (ms / 1000) },
    versus: pass === 'fwd+bwd'
      ? [{ label: `the ${squareSize(quick)}³ product`, reference: square, who: TARGETED,
        ...(T === targetT(quick) ? { min: 0.5, summary: `attention fwd+bwd at T = ${T}` } : {}) }]
      : [{ label: `the ${squareSize(quick)}³ product`, reference: square }],
    skip,
    prepare: (c): Prepared => {
      if (c.lib === 'tfjs') {
        const [Q, Kt, V, D] = [q, k, v, dout].map((a) => tf.tensor4d(a, shape as [number, number, number, number]));
        // A [T, T] band of -Infinity above the diagonal, added to the scores.
        const band = s.causal ? tf.tidy(() => tf.where(tf.greater(tf.range(0, T).reshape([1, T]), tf.range(0, T).reshape([T, 1])),
          tf.fill([T, T], -Infinity), tf.zeros([T, T]))) : null;
        const attend = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => {
          let scores = tf.mul(tf.matMul(qq, kk, false, true), 1 / Math.sqrt(d));
          if (band) scores = tf.add(scores, band);
          return tf.matMul(tf.softmax(scores), vv);
        };
        const grads = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => attend(qq, kk, vv));
        const run = () => (pass === 'forward' ? [attend(Q!, Kt!, V!)] : grads([Q!, Kt!, V!], D!));
        return {
          fn: () => tf.tidy(() => void run()),
          check: () => {
            const r = tf.tidy(() => run()).map((t) => {
              const data = t.dataSync() as Float32Array;
              t.dispose();
              return data;
            });
            return compare(c, pass === 'forward' ? { out: r[0]! } : { dq: r[0]!, dk: r[1]!, dv: r[2]! });
          },
          dispose: () => tf.dispose([Q!, Kt!, V!, D!, ...(band ? [band] : [])]),
        };
      }
      const [Q, Kt, V, D] = [q, k, v, dout].map((a) => tensor(a, { shape })) as [Tensor, Tensor, Tensor, Tensor];
      const settings = { causal: s.causal };
      const run = (keep: boolean): Record<string, Float32Array> => {
        const { out, lse } = K.attention(Q, Kt, V, settings);
        if (pass === 'forward') {
          K.free(lse);
          const r = keep ? { out: read(out) } : {};
          K.free(out);
          return r as Record<string, Float32Array>;
        }
        const g = K.attentionGrad(Q, Kt, V, out, lse, D, settings, { q: true, k: true, v: true });
        const r = keep ? { dq: read(g.dq!), dk: read(g.dk!), dv: read(g.dv!) } : {};
        for (const a of [out, lse, g.dq!, g.dk!, g.dv!]) K.free(a);
        return r as Record<string, Float32Array>;
      };
      return {
        fn: () => void run(false),
        check: () => compare(c, run(true)),
        dispose: () => [Q, Kt, V, D].forEach((t) => t.dispose()),
      };
    },
  };
}

export function attentionCases(quick: boolean): Case[] {
  const square = attentionMatmulCase(quick);
  return attentionShapes(quick).flatMap((s) => (['forward', 'fwd+bwd'] as const).map((pass) => attentionCase(s, pass, quick, square)));
}
