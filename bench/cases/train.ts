// One training step of an MLP 784-128-10 (forward, softmax cross-entropy, backward, plain SGD update) through the
// public API, in samples/s and ms/step; for wasmgrad also the memory a step needs. Every contender starts from the
// same weights and batch, and its first step is checked against a float64 step (loss and every parameter update).
import { memory, nn, optim, resetPeak, tensor, tidy } from '../../dist/index.js';
import type { Tensor } from '../../dist/index.js';
import { tf } from '../contenders.js';
import { assertClose, labels, oneHot, transpose, uniform } from '../data.js';
import type { Case, Prepared } from '../harness.js';

const [IN, HID, OUT] = [784, 128, 10];
const LR = 0.05;

export const trainBatches = (quick: boolean) => (quick ? [64] : [64, 256]);

interface Weights { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array }

/** PyTorch's Linear initialisation, U(−1/√in, 1/√in), weights [out, in]. */
function initWeights(): Weights {
  const u1 = 1 / Math.sqrt(IN);
  const u2 = 1 / Math.sqrt(HID);
  return {
    w1: uniform(HID * IN, 31, -u1, u1), b1: uniform(HID, 32, -u1, u1),
    w2: uniform(OUT * HID, 33, -u2, u2), b2: uniform(OUT, 34, -u2, u2),
  };
}

/**
 * The first step in float64: the loss, each parameter's update −lr·grad, and a tolerance per element
 * (1e-4 of the sum of |terms| behind it, times lr, plus float32 rounding of the parameter itself). Rows of W1 / b1
 * whose hidden unit sits within 1e-5 of the relu kink for some sample are excused (float32 may take the other side).
 */
function expectedStep(x: Float32Array, y: Int32Array, b: number, w: Weights) {
  const z1 = new Float64Array(b * HID);
  const h = new Float64Array(b * HID);
  const kink = new Set<number>();
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < HID; j++) {
      let s = w.b1[j]!;
      for (let k = 0; k < IN; k++) s += x[i * IN + k]! * w.w1[j * IN + k]!;
      z1[i * HID + j] = s;
      h[i * HID + j] = Math.max(s, 0);
      if (Math.abs(s) < 1e-5) kink.add(j);
    }
  }
  const g2 = new Float64Array(b * OUT);
  let loss = 0;
  for (let i = 0; i < b; i++) {
    const z = Array.from({ length: OUT }, (_, o) => {
      let s = w.b2[o]!;
      for (let j = 0; j < HID; j++) s += h[i * HID + j]! * w.w2[o * HID + j]!;
      return s;
    });
    const max = Math.max(...z);
    const sum = z.reduce((acc, v) => acc + Math.exp(v - max), 0);
    loss += Math.log(sum) + max - z[y[i]!]!;
    z.forEach((v, o) => (g2[i * OUT + o] = (Math.exp(v - max) / sum - (o === y[i] ? 1 : 0)) / b));
  }
  const dz1 = new Float64Array(b * HID);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < HID; j++) {
      if (z1[i * HID + j]! <= 0) continue;
      let s = 0;
      for (let o = 0; o < OUT; o++) s += g2[i * OUT + o]! * w.w2[o * HID + j]!;
      dz1[i * HID + j] = s;
    }
  }
  // dW = Gᵀ·A over the batch, with Σ|terms| for the tolerance; db = column sums of G.
  const outer = (g: Float64Array, a: ArrayLike<number>, rows: number, cols: number) => {
    const d = new Float64Array(rows * cols);
    const abs = new Float64Array(rows * cols);
    for (let i = 0; i < b; i++) {
      for (let r = 0; r < rows; r++) {
        const gv = g[i * rows + r]!;
        if (gv === 0) continue;
        for (let c = 0; c < cols; c++) {
          const t = gv * a[i * cols + c]!;
          d[r * cols + c] += t;
          abs[r * cols + c] += Math.abs(t);
        }
      }
    }
    return { d, abs };
  };
  const colSums = (g: Float64Array, cols: number) => {
    const d = new Float64Array(cols);
    const abs = new Float64Array(cols);
    for (let i = 0; i < b; i++) for (let c = 0; c < cols; c++) (d[c] += g[i * cols + c]!), (abs[c] += Math.abs(g[i * cols + c]!));
    return { d, abs };
  };
  return {
    loss: loss / b, kink,
    grads: { w1: outer(dz1, x, HID, IN), b1: colSums(dz1, HID), w2: outer(g2, h, OUT, HID), b2: colSums(g2, OUT) },
  };
}

/**
 * The memory figures of a wasmgrad training step: `step` counts the steps and notes the heap extent after the 10th;
 * `first()` notes it after the checked first step; `after()` runs to step 12 if timing has not, then one more step
 * after resetPeak(), and reports that step's peak and the heap extent against the live data the step needs.
 */
export function memoryFigures(oneStep: () => void, liveBytes: number) {
  let steps = 0;
  const heapAt: Record<number, number> = {};
  const step = () => {
    oneStep();
    if (++steps === 10) heapAt[10] = memory().heapBytes;
  };
  return {
    step,
    first: () => {
      steps++;
      heapAt[1] = memory().heapBytes;
    },
    after: () => {
      while (steps < 12) step();
      resetPeak();
      step();
      const m = memory();
      return {
        liveBytes, peakBytes: m.peakBytes, heapBytes: m.heapBytes,
        peakToLive: m.peakBytes / liveBytes, heapToLive: m.heapBytes / liveBytes,
        heapAfterStep1: heapAt[1]!, heapAfterStep10: heapAt[10]!, stepN: steps, heapAfterStepN: m.heapBytes,
        flat: m.heapBytes === heapAt[10],
      };
    },
  };
}

/**
 * A wasmgrad training step on the current backend, built outside the timed function: the training cases time and
 * check it, the contention section runs it under several thread settings.
 */
export interface TrainStep<Name extends string = string> {
  /** One step (zeroGrad, forward, backward, update, in a tidy); returns the loss only when `read` (reading waits for it). */
  step: (read: boolean) => number;
  /** The parameters (and buffers) now, by the names the float64 check uses. */
  state: () => Record<Name, Float32Array>;
  dispose: () => void;
}

/** Seeded weights and batch of the MLP case at batch b, the same for every contender. */
function mlpInputs(b: number) {
  return { w: initWeights(), x: uniform(b * IN, 35 + b), y: labels(b, OUT, 36 + b) };
}

/** The MLP 784-128-10 step with SGD on the current backend, from the case's weights and batch. */
export function mlpStep(b: number, { w, x, y } = mlpInputs(b)): TrainStep<keyof Weights> {
  const l1 = new nn.Linear(IN, HID);
  const l2 = new nn.Linear(HID, OUT);
  const model = new nn.Sequential(l1, new nn.ReLU(), l2);
  model.loadStateDict({
    '0.weight': { shape: [HID, IN], data: w.w1 }, '0.bias': { shape: [HID], data: w.b1 },
    '2.weight': { shape: [OUT, HID], data: w.w2 }, '2.bias': { shape: [OUT], data: w.b2 },
  });
  const opt = new optim.SGD(model.parameters(), { lr: LR });
  const X = tensor(x, { shape: [b, IN] });
  const Y = tensor(y);
  const data = (t: Tensor | null) => t!.data() as Float32Array;
  return {
    step: (read) => tidy(() => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model(X), Y);
      loss.backward();
      opt.step();
      return read ? loss.item() : NaN;
    }),
    state: () => ({ w1: data(l1.weight), b1: data(l1.bias), w2: data(l2.weight), b2: data(l2.bias) }),
    dispose: () => {
      opt.zeroGrad();
      model.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}

export function trainCase(b: number): Case {
  const inputs = mlpInputs(b);
  const { w, x, y } = inputs;
  let want: ReturnType<typeof expectedStep> | null = null;
  const expect = () => (want ??= expectedStep(x, y, b, w));
  const compare = (who: string, loss: number, after: Weights) => {
    const e = expect();
    assertClose(`train b${b} first-step loss on ${who}`, [loss], [e.loss], { rtol: 1e-5 });
    for (const k of ['w1', 'b1', 'w2', 'b2'] as const) {
      const cols = k === 'w1' ? IN : k === 'w2' ? HID : 1;
      const g = e.grads[k];
      const delta = Float64Array.from(after[k], (v, i) => v - w[k][i]!);
      const excused = (i: number) => (k === 'w1' || k === 'b1') && e.kink.has(Math.floor(i / cols));
      assertClose(`train b${b} first-step update of ${k} on ${who}`, delta, g.d.map((v) => -LR * v), {
        at: (i) => (excused(i) ? Infinity : LR * (1e-4 * g.abs[i]! + 1e-7) + 2 * Math.abs(w[k][i]!) * 2 ** -23),
      });
    }
    return { loss: [loss], ...after };
  };
  // Live data a step needs (float32/int32, 4 bytes each): parameters, their gradients, optimizer state (none for
  // plain SGD), the batch (x and int32 labels), and the activations kept for backward: Z1 and H [b,128], the
  // logits and the softmax kept by crossEntropy [b,10], and the scalar loss.
  const params = HID * IN + HID + OUT * HID + OUT;
  const liveBytes = 4 * (2 * params + b * IN + b + b * (2 * HID + 2 * OUT) + 1);
  return {
    group: 'train',
    expect,
    name: `MLP 784-128-10 b${b}`,
    unit: 'samples/s',
    higherIsBetter: true,
    value: (ms) => b / (ms / 1000),
    extra: { unit: 'ms/step', value: (ms) => ms },
    ratioTargets: Object.fromEntries(['wasm-relaxed', 'wasm-simd', 'wasm-simd-threads'].map((n) => [n, { 'tfjs-wasm': 12, ref: 30 }])),
    prepare: (c): Prepared => {
      if (c.lib === 'tfjs') {
        // tfjs's layout: W [in, out], logits = relu(X·W1 + b1)·W2 + b2.
        const W1 = tf.variable(tf.tensor2d(transpose(w.w1, HID, IN), [IN, HID]));
        const B1 = tf.variable(tf.tensor1d(w.b1));
        const W2 = tf.variable(tf.tensor2d(transpose(w.w2, OUT, HID), [HID, OUT]));
        const B2 = tf.variable(tf.tensor1d(w.b2));
        const X = tf.tensor2d(x, [b, IN]);
        const Y = tf.tensor2d(oneHot(y, OUT), [b, OUT]);
        const opt = tf.train.sgd(LR);
        const loss = () => tf.losses.softmaxCrossEntropy(Y, tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(X, W1), B1)), W2), B2)) as tf.Scalar;
        return {
          fn: () => tf.tidy(() => void opt.minimize(loss)),
          check: () => {
            const l = tf.tidy(() => opt.minimize(loss, true)!.dataSync()[0]!);
            return compare(c.name, l, {
              w1: transpose(W1.dataSync(), IN, HID), b1: B1.dataSync() as Float32Array,
              w2: transpose(W2.dataSync(), HID, OUT), b2: B2.dataSync() as Float32Array,
            });
          },
          dispose: () => {
            tf.dispose([W1, B1, W2, B2, X, Y]);
            opt.dispose();
          },
        };
      }
      const s = mlpStep(b, inputs);
      const mem = memoryFigures(() => void s.step(false), liveBytes);
      return {
        fn: mem.step,
        check: () => {
          const loss = s.step(true);
          mem.first();
          return compare(c.name, loss, s.state());
        },
        after: mem.after,
        dispose: s.dispose,
      };
    },
  };
}
