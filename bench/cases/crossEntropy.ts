// Softmax cross-entropy, forward and backward (the loss and ∂loss/∂logits), mean over the batch, in µs per call
// and rows per second. wasmgrad: nn.crossEntropy + gradients(); tfjs: tf.losses.softmaxCrossEntropy under
// tf.valueAndGrad (one-hot labels built outside the timed call).
import { gradients, nn, tensor, tidy } from '../../dist/index.js';
import { tf } from '../contenders.js';
import { assertClose, labels, normal, oneHot } from '../data.js';
import type { Case, Prepared } from '../harness.js';

export const crossEntropyShapes = (quick: boolean): [number, number][] =>
  quick ? [[64, 10], [256, 10]] : [[64, 10], [256, 10], [1024, 1000]];

function expected(logits: Float32Array, y: Int32Array, n: number, c: number) {
  const grad = new Float64Array(n * c);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * c, (i + 1) * c);
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    loss += Math.log(sum) + max - row[y[i]!]!;
    for (let j = 0; j < c; j++) grad[i * c + j] = (Math.exp(row[j]! - max) / sum - (j === y[i] ? 1 : 0)) / n;
  }
  return { loss: loss / n, grad };
}

export function crossEntropyCase(n: number, c: number): Case {
  const logits = normal(n * c, 21 + c, 2);
  const y = labels(n, c, 22 + c);
  let want: ReturnType<typeof expected> | null = null;
  const expect = () => (want ??= expected(logits, y, n, c));
  const compare = (who: string, loss: number, grad: ArrayLike<number>) => {
    const e = expect();
    assertClose(`crossEntropy [${n},${c}] loss on ${who}`, [loss], [e.loss], { rtol: 1e-5 });
    assertClose(`crossEntropy [${n},${c}] ∂loss/∂logits on ${who}`, grad, e.grad, { atol: 1e-6 / n, rtol: 1e-4 });
    return { loss: [loss], grad };
  };
  return {
    group: 'crossEntropy',
    expect,
    name: `[${n},${c}]`,
    unit: 'µs',
    higherIsBetter: false,
    value: (ms) => ms * 1000,
    extra: { unit: 'rows/s', value: (ms) => n / (ms / 1000) },
    prepare: (ct): Prepared => {
      if (ct.lib === 'tfjs') {
        const L = tf.tensor2d(logits, [n, c]);
        const Y = tf.tensor2d(oneHot(y, c), [n, c]);
        const f = tf.valueAndGrad((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(Y, l) as tf.Scalar);
        return {
          fn: () => tf.tidy(() => void f(L)),
          check: () => {
            const [loss, grad] = tf.tidy(() => {
              const r = f(L);
              return [r.value.dataSync()[0]!, r.grad.dataSync() as Float32Array] as const;
            });
            return compare(ct.name, loss, grad);
          },
          dispose: () => tf.dispose([L, Y]),
        };
      }
      const L = tensor(logits, { shape: [n, c], requiresGrad: true });
      const Y = tensor(y);
      const run = () => {
        const loss = nn.crossEntropy(L, Y);
        return [loss, gradients(loss, [L])[0]!] as const;
      };
      return {
        fn: () => tidy(() => void run()),
        check: () => {
          const [loss, grad] = tidy(() => {
            const [l, g] = run();
            return [l.item(), g.data()] as const;
          });
          return compare(ct.name, loss, grad);
        },
        dispose: () => [L, Y].forEach((t) => t.dispose()),
      };
    },
  };
}
