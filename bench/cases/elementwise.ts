// Elementwise relu / add / exp in GB/s: bytes read + written per call over the time (4 bytes a float).
import { add, exp, relu, tensor, tidy } from '../../dist/index.js';
import type { Tensor } from '../../dist/index.js';
import { tf } from '../contenders.js';
import { assertClose, normal } from '../data.js';
import type { Case, Prepared } from '../harness.js';

type Op = 'relu' | 'add' | 'exp';

const WG: Record<Op, (x: Tensor, y: Tensor) => Tensor> = { relu: (x) => relu(x), add: (x, y) => add(x, y), exp: (x) => exp(x) };
const TF: Record<Op, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor> = { relu: (x) => tf.relu(x), add: (x, y) => tf.add(x, y), exp: (x) => tf.exp(x) };
/** Float64 results, and the tolerance: relu and add are exact in float32; exp within a few float32 ulps. */
const F64: Record<Op, { f: (x: number, y: number) => number; rtol: number }> = {
  relu: { f: (x) => Math.max(x, 0), rtol: 0 },
  add: { f: (x, y) => Math.fround(x + y), rtol: 0 },
  exp: { f: (x) => Math.exp(x), rtol: 1e-6 },
};

export const elementwiseSizes = (quick: boolean) => (quick ? [65536] : [65536, 1048576]);
export const elementwiseOps: Op[] = ['relu', 'add', 'exp'];

export function elementwiseCase(op: Op, n: number): Case {
  const bytes = 4 * n * (op === 'add' ? 3 : 2);
  const x = normal(n, 11);
  const y = normal(n, 12);
  let want: Float64Array | null = null;
  const expect = () => (want ??= Float64Array.from(x, (v, i) => F64[op].f(v, y[i]!)));
  const compare = (who: string, got: ArrayLike<number>) => {
    assertClose(`${op} ${n} on ${who}`, got, expect(), { rtol: F64[op].rtol });
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
