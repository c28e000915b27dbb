// Elementwise relu / add / exp / log / sigmoid / tanh / gelu in GB/s: bytes read + written per call over the time (4 bytes
// a float).
import { add, exp, gelu, log, relu, sigmoid, tanh, tensor, tidy } from '../../dist/index.js';
import { gelu as gelu64 } from '../../dist/backend/ref/math.js';
import type { Tensor } from '../../dist/index.js';
import { tf } from '../contenders.js';
import { assertClose, normal } from '../data.js';
import type { Case, Prepared } from '../harness.js';

type Op = 'relu' | 'add' | 'exp' | 'log' | 'sigmoid' | 'tanh' | 'gelu';

const WG: Record<Op, (x: Tensor, y: Tensor) => Tensor> = {
  relu: (x) => relu(x), add: (x, y) => add(x, y), exp: (x) => exp(x), log: (x) => log(x), sigmoid: (x) => sigmoid(x),
  tanh: (x) => tanh(x), gelu: (x) => gelu(x),
};
const TF: Record<Op, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor> = {
  relu: (x) => tf.relu(x), add: (x, y) => tf.add(x, y), exp: (x) => tf.exp(x), log: (x) => tf.log(x),
  sigmoid: (x) => tf.sigmoid(x), tanh: (x) => tf.tanh(x),
  // tfjs has no gelu op: the erf form from its ops (tf.erf is a rational approximation, ≈ 1e-7 absolute)
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
};
/**
 * Float64 results, and the tolerance: relu and add are exact in float32; exp, log, sigmoid, tanh and gelu within a few
 * float32 ulps (gelu's atol for tfjs's erf).
 */
const F64: Record<Op, { f: (x: number, y: number) => number; rtol: number; atol?: number }> = {
  relu: { f: (x) => Math.max(x, 0), rtol: 0 },
  add: { f: (x, y) => Math.fround(x + y), rtol: 0 },
  exp: { f: (x) => Math.exp(x), rtol: 1e-6 },
  log: { f: (x) => Math.log(x), rtol: 1e-6 },
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), rtol: 1e-6 },
  tanh: { f: (x) => Math.tanh(x), rtol: 1e-6 },
  gelu: { f: (x) => gelu64(x), rtol: 1e-6, atol: 1e-6 },
};

export const elementwiseSizes = (quick: boolean) => (quick ? [65536] : [65536, 1048576]);
export const elementwiseOps: Op[] = ['relu', 'add', 'exp', 'log', 'sigmoid', 'tanh', 'gelu'];

export function elementwiseCase(op: Op, n: number): Case {
  const bytes = 4 * n * (op === 'add' ? 3 : 2);
  const x = op === 'log' ? normal(n, 11).map(Math.abs) : normal(n, 11); // log of |x|: no NaN to compare
  const y = normal(n, 12);
  let want: Float64Array | null = null;
  const expect = () => (want ??= Float64Array.from(x, (v, i) => F64[op].f(v, y[i]!)));
  const compare = (who: string, got: ArrayLike<number>) => {
    assertClose(`${op} ${n} on ${who}`, got, expect(), { rtol: F64[op].rtol, atol: F64[op].atol ?? 0 });
    return { out: got };
  };
  const label = n >= 1048576 ? `${n / 1048576}M` : `${n / 1024}K`;
  return {
    group: 'elementwise',
    expect,
    name: `${op} ${label}`,
    unit: 'GB/s',
    higherIsBetter: true,
    value: (ms) => bytes / (ms * 1e6),
    targets: n >= 1048576 ? { 'wasm-simd': 22, 'wasm-relaxed': 22 } : undefined,
    prepare: (c): Prepared => {
      if (c.lib === 'tfjs') {
        const X = tf.tensor1d(x);
        const Y = tf.tensor1d(y);
        return {
          fn: () => tf.tidy(() => void TF[op](X, Y)),
          check: () => compare(c.name, tf.tidy(() => TF[op](X, Y).dataSync() as Float32Array)),
          dispose: () => tf.dispose([X, Y]),
        };
      }
      const X = tensor(x);
      const Y = tensor(y);
      return {
        fn: () => tidy(() => void WG[op](X, Y)),
        check: () => compare(c.name, tidy(() => WG[op](X, Y).data())),
        dispose: () => [X, Y].forEach((t) => t.dispose()),
      };
    },
  };
}
