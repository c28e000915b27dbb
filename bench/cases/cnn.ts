// One training step of the digits CNN that `wasmgrad train --model cnn` trains — conv5×5(16)-BN-ReLU-maxpool2,
// conv5×5(32)-BN-ReLU-maxpool2, linear to 10 classes, on 28×28 images (bias-free convolutions: batch norm's shift
// takes the bias's place); wasmgrad builds it with the trainer's own builder — with softmax cross-entropy and plain
// SGD (the trainer's Adam and schedule cost a few elementwise passes over the parameters), in samples/s and
// ms/step; for wasmgrad also the memory a step needs. The batch is seeded uniform noise in [0, 1), not digits:
// no kernel's speed depends on the values. Batch norm runs in training mode (batch statistics, running statistics updated as PyTorch
// does). Every contender starts from the same weights and batch, and its first step is checked against a float64
// step: the loss, every parameter's update and the running statistics.
//
// tfjs-wasm cannot train it: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (a convolution's weight
// gradient). tfjs-cpu builds the same net from ops (NHWC, filters [kh, kw, in, out], tf.moments + tf.batchNorm) and
// steps it with optimizer.minimize.
import { Generator, nn, optim, tensor, tidy } from '../../dist/index.js';
import { buildCnn, CNN_BLOCKS } from '../../dist/train/model.js';
import { tf } from '../contenders.js';
import { convDims, forwardAt, fromFilter, inputGradAt, nhwc, toFilter, weightGradAt, type ConvDims } from '../conv64.js';
import { assertClose, labels, oneHot, uniform } from '../data.js';
import type { Case, Prepared } from '../harness.js';
import { memoryFigures, type TrainStep } from './train.js';

const SIZE = 28;
/** The trainer's blocks: the float64 step below is written for two of them, with 'same' padding. */
const [C1, C2, ...more] = CNN_BLOCKS.channels;
if (C1 === undefined || C2 === undefined || more.length) throw new Error(`bench: the CNN case expects two conv blocks, the trainer has ${CNN_BLOCKS.channels.length}`);
const K = CNN_BLOCKS.kernelSize;
const PAD = (K - 1) / 2;
const CLASSES = 10;
const EPS = 1e-5;
const MOMENTUM = 0.1;
const LR = 0.05;
/** A relu input or a max-pool runner-up within this of its threshold may fall on the other side in float32. */
const MARGIN = 2e-5;

export interface CnnConfig { b: number; c1: number; c2: number }

/** The trainer's net at batch 64; --quick: the same net, narrower, at batch 8. */
export const cnnConfigs = (quick: boolean): CnnConfig[] => (quick ? [{ b: 8, c1: 4, c2: 8 }] : [{ b: 64, c1: C1, c2: C2 }]);

const cnnName = ({ b, c1, c2 }: CnnConfig) => `digits CNN ${c1}-${c2} b${b}`;

/** Parameters in PyTorch's layouts. */
interface Weights {
  w1: Float32Array; g1: Float32Array; b1: Float32Array;
  w2: Float32Array; g2: Float32Array; b2: Float32Array;
  lw: Float32Array; lb: Float32Array;
}
const PARAMS = ['w1', 'g1', 'b1', 'w2', 'g2', 'b2', 'lw', 'lb'] as const;
type Param = (typeof PARAMS)[number];

/** Running statistics after the step: mean and variance per channel of each batch norm. */
interface Running { m1: Float32Array; v1: Float32Array; m2: Float32Array; v2: Float32Array }

/** PyTorch's default init for the convolutions and the linear layer, U(±1/√fanIn); batch norm's weight and bias away from 1 and 0, so that the check sees them. */
function initWeights({ c1, c2 }: CnnConfig): Weights {
  const f = c2 * (SIZE / 4) ** 2;
  const u = (n: number, seed: number, fanIn: number) => uniform(n, seed, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
  return {
    w1: u(c1 * K * K, 51, K * K), g1: uniform(c1, 52, 0.5, 1.5), b1: uniform(c1, 53, -0.5, 0.5),
    w2: u(c2 * c1 * K * K, 54, c1 * K * K), g2: uniform(c2, 55, 0.5, 1.5), b2: uniform(c2, 56, -0.5, 0.5),
    lw: u(CLASSES * f, 57, f), lb: u(CLASSES, 58, f),
  };
}

// ---- The float64 step -----------------------------------------------------------------------------------------

/** One conv-BN-ReLU-maxpool block's forward in float64, with what its backward needs. */
interface Block {
  d: ConvDims;
  input: ArrayLike<number>;
  w: ArrayLike<number>; gamma: ArrayLike<number>;
  /** Per channel: batch mean, biased variance, 1/√(variance + eps). */
  mean: Float64Array; variance: Float64Array; inv: Float64Array;
  xh: Float64Array; a: Float64Array;
  pooled: Float64Array;
  /** Position in `a` of each window's first maximum. */
  argmax: Int32Array;
  /** Decisions float32 may take the other way: relu inputs near 0, windows whose two largest values are near. */
  kinks: number[];
  ties: { window: number; first: number; second: number }[];
}

function blockForward(input: ArrayLike<number>, d: ConvDims, w: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>): Block {
  const plane = d.oh * d.ow;
  const m = d.n * plane;
  const z = new Float64Array(d.n * d.o * plane);
  for (let n = 0; n < d.n; n++) for (let o = 0; o < d.o; o++) for (let p = 0; p < plane; p++) {
    z[(n * d.o + o) * plane + p] = forwardAt(d, input, w, n, o, Math.floor(p / d.ow), p % d.ow).sum;
  }
  const mean = new Float64Array(d.o);
  const variance = new Float64Array(d.o);
  const inv = new Float64Array(d.o);
  const xh = new Float64Array(z.length);
  const a = new Float64Array(z.length);
  const kinks: number[] = [];
  for (let o = 0; o < d.o; o++) {
    let s = 0;
    for (let n = 0; n < d.n; n++) for (let p = 0; p < plane; p++) s += z[(n * d.o + o) * plane + p]!;
    mean[o] = s / m;
    let v = 0;
    for (let n = 0; n < d.n; n++) for (let p = 0; p < plane; p++) v += (z[(n * d.o + o) * plane + p]! - mean[o]!) ** 2;
    variance[o] = v / m;
    inv[o] = 1 / Math.sqrt(variance[o]! + EPS);
    for (let n = 0; n < d.n; n++) for (let p = 0; p < plane; p++) {
      const i = (n * d.o + o) * plane + p;
      xh[i] = (z[i]! - mean[o]!) * inv[o]!;
      a[i] = gamma[o]! * xh[i]! + beta[o]!;
      if (Math.abs(a[i]!) < MARGIN) kinks.push(i);
    }
  }
  const [ph, pw] = [d.oh / 2, d.ow / 2];
  const pooled = new Float64Array(d.n * d.o * ph * pw);
  const argmax = new Int32Array(pooled.length);
  const ties: Block['ties'] = [];
  for (let q = 0; q < d.n * d.o; q++) for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) {
    const window = [0, 1, 2, 3].map((t) => q * plane + (2 * y + (t >> 1)) * d.ow + 2 * x + (t & 1));
    const r = window.map((i) => Math.max(a[i]!, 0));
    let first = 0;
    for (let t = 1; t < 4; t++) if (r[t]! > r[first]!) first = t;
    let second = first === 0 ? 1 : 0;
    for (let t = 0; t < 4; t++) if (t !== first && r[t]! > r[second]!) second = t;
    const out = (q * ph + y) * pw + x;
    pooled[out] = r[first]!;
    argmax[out] = window[first]!;
    if (r[first]! > 0 && r[first]! - r[second]! < MARGIN) ties.push({ window: out, first: window[first]!, second: window[second]! });
  }
  return { d, input, w, gamma, mean, variance, inv, xh, a, pooled, argmax, kinks, ties };
}

/** ∂loss/∂a from ∂loss/∂pooled: into each window's maximum, through the relu. */
function toA(blk: Block, dPooled: ArrayLike<number>): Float64Array {
  const da = new Float64Array(blk.a.length);
  for (let i = 0; i < blk.argmax.length; i++) {
    const at = blk.argmax[i]!;
    if (blk.a[at]! > 0) da[at] += dPooled[i]!;
  }
  return da;
}

interface BlockGrads {
  w: Float64Array; wAbs: Float64Array;
  gamma: Float64Array; gammaAbs: Float64Array;
  beta: Float64Array; betaAbs: Float64Array;
  /** ∂loss/∂input, when asked for. */
  input: Float64Array | null;
}

/**
 * A block's backward from ∂loss/∂a (batch norm, then the convolution's weight and, if asked, input gradients).
 * Channels whose ∂loss/∂a is all zero are skipped (the decisions' effects below start in one channel).
 */
function blockBackward(blk: Block, da: Float64Array, wantInput: boolean): BlockGrads {
  const { d } = blk;
  const plane = d.oh * d.ow;
  const m = d.n * plane;
  const dz = new Float64Array(da.length);
  const g: BlockGrads = {
    w: new Float64Array(d.o * d.c * d.k * d.k), wAbs: new Float64Array(d.o * d.c * d.k * d.k),
    gamma: new Float64Array(d.o), gammaAbs: new Float64Array(d.o), beta: new Float64Array(d.o), betaAbs: new Float64Array(d.o),
    input: wantInput ? new Float64Array(d.n * d.c * d.h * d.w) : null,
  };
  const live: number[] = [];
  for (let o = 0; o < d.o; o++) {
    let sum = 0, sumXh = 0, abs = 0, absXh = 0;
    for (let n = 0; n < d.n; n++) for (let p = 0; p < plane; p++) {
      const i = (n * d.o + o) * plane + p;
      sum += da[i]!;
      sumXh += da[i]! * blk.xh[i]!;
      abs += Math.abs(da[i]!);
      absXh += Math.abs(da[i]! * blk.xh[i]!);
    }
    if (abs === 0) continue;
    live.push(o);
    [g.beta[o], g.betaAbs[o], g.gamma[o], g.gammaAbs[o]] = [sum, abs, sumXh, absXh];
    const scale = blk.gamma[o]! * blk.inv[o]!;
    for (let n = 0; n < d.n; n++) for (let p = 0; p < plane; p++) {
      const i = (n * d.o + o) * plane + p;
      dz[i] = scale * (da[i]! - sum / m - blk.xh[i]! * sumXh / m);
    }
    for (let c = 0; c < d.c; c++) for (let t = 0; t < d.k * d.k; t++) {
      const r = weightGradAt(d, blk.input, dz, o, c, Math.floor(t / d.k), t % d.k);
      g.w[(o * d.c + c) * d.k * d.k + t] = r.sum;
      g.wAbs[(o * d.c + c) * d.k * d.k + t] = r.abs;
    }
  }
  if (g.input) {
    const only = live.length === 1 ? live[0] : undefined;
    for (let n = 0; n < d.n; n++) for (let c = 0; c < d.c; c++) for (let p = 0; p < d.h * d.w; p++) {
      g.input[(n * d.c + c) * d.h * d.w + p] = inputGradAt(d, dz, blk.w, n, c, Math.floor(p / d.w), p % d.w, only).sum;
    }
  }
  return g;
}

/** ∂loss/∂a when one decision goes the other way, minus the float64 one: at a kink the relu passes or blocks, at a tie the gradient moves to the runner-up. */
function flips(blk: Block, dPooled: ArrayLike<number>): Float64Array[] {
  const dr = new Float64Array(blk.a.length);
  for (let i = 0; i < blk.argmax.length; i++) dr[blk.argmax[i]!] += dPooled[i]!;
  const out: Float64Array[] = [];
  for (const i of blk.kinks) {
    if (dr[i] === 0) continue;
    const delta = new Float64Array(blk.a.length);
    delta[i] = dr[i]!;
    out.push(delta);
  }
  for (const { window, first, second } of blk.ties) {
    const delta = new Float64Array(blk.a.length);
    delta[first] = -dPooled[window]!;
    if (blk.a[second]! > 0) delta[second] = dPooled[window]!;
    out.push(delta);
  }
  return out;
}

/**
 * The first step in float64: the loss, each parameter's gradient with a tolerance per element, and the running
 * statistics after it. The tolerance is 1e-4 of the sum of |terms| behind the gradient plus, for every relu or
 * max-pool decision float32 may take the other way, the size of that decision's effect on the gradient.
 */
function expectedStep(cfg: CnnConfig, x: Float32Array, y: Int32Array, w: Weights) {
  const { b, c1, c2 } = cfg;
  const d1 = convDims(b, 1, SIZE, c1, K, 1, PAD);
  const d2 = convDims(b, c1, SIZE / 2, c2, K, 1, PAD);
  const blk1 = blockForward(x, d1, w.w1, w.g1, w.b1);
  const blk2 = blockForward(blk1.pooled, d2, w.w2, w.g2, w.b2);
  const f = c2 * (SIZE / 4) ** 2;
  const feats = blk2.pooled; // [b, c2, 7, 7] is [b, f] in PyTorch's flatten order
  let loss = 0;
  const dLogits = new Float64Array(b * CLASSES);
  for (let n = 0; n < b; n++) {
    const z = Array.from({ length: CLASSES }, (_, o) => {
      let s = w.lb[o]!;
      for (let j = 0; j < f; j++) s += feats[n * f + j]! * w.lw[o * f + j]!;
      return s;
    });
    const max = Math.max(...z);
    const sum = z.reduce((acc, v) => acc + Math.exp(v - max), 0);
    loss += Math.log(sum) + max - z[y[n]!]!;
    z.forEach((v, o) => (dLogits[n * CLASSES + o] = (Math.exp(v - max) / sum - (o === y[n] ? 1 : 0)) / b));
  }
  const grad = {} as Record<Param, { d: Float64Array; tol: Float64Array }>;
  const lw = { d: new Float64Array(CLASSES * f), tol: new Float64Array(CLASSES * f) };
  const lb = { d: new Float64Array(CLASSES), tol: new Float64Array(CLASSES) };
  const dFeats = new Float64Array(b * f);
  for (let n = 0; n < b; n++) {
    for (let o = 0; o < CLASSES; o++) {
      const g = dLogits[n * CLASSES + o]!;
      lb.d[o] += g;
      lb.tol[o] += Math.abs(g);
      for (let j = 0; j < f; j++) {
        lw.d[o * f + j] += g * feats[n * f + j]!;
        lw.tol[o * f + j] += Math.abs(g * feats[n * f + j]!);
        dFeats[n * f + j] += g * w.lw[o * f + j]!;
      }
    }
  }
  const g2 = blockBackward(blk2, toA(blk2, dFeats), true);
  const g1 = blockBackward(blk1, toA(blk1, g2.input!), false);
  const withTol = (d: Float64Array, abs: Float64Array) => ({ d, tol: abs.map((v) => 1e-4 * v) });
  Object.assign(grad, {
    lw: withTol(lw.d, lw.tol), lb: withTol(lb.d, lb.tol),
    w2: withTol(g2.w, g2.wAbs), g2: withTol(g2.gamma, g2.gammaAbs), b2: withTol(g2.beta, g2.betaAbs),
    w1: withTol(g1.w, g1.wAbs), g1: withTol(g1.gamma, g1.gammaAbs), b1: withTol(g1.beta, g1.betaAbs),
  });
  const widen = (gs: BlockGrads, names: [Param, Param, Param]) => {
    names.forEach((k, i) => grad[k].tol.forEach((_, j, tol) => (tol[j] += Math.abs([gs.w, gs.gamma, gs.beta][i]![j]!))));
  };
  for (const delta of flips(blk2, dFeats)) {
    const e2 = blockBackward(blk2, delta, true);
    widen(e2, ['w2', 'g2', 'b2']);
    widen(blockBackward(blk1, toA(blk1, e2.input!), false), ['w1', 'g1', 'b1']);
  }
  for (const delta of flips(blk1, g2.input!)) widen(blockBackward(blk1, delta, false), ['w1', 'g1', 'b1']);
  const running = (blk: Block) => {
    const m = blk.d.n * blk.d.oh * blk.d.ow;
    return { mean: blk.mean.map((v) => MOMENTUM * v), variance: blk.variance.map((v) => 1 - MOMENTUM + MOMENTUM * v * m / (m - 1)) };
  };
  return { loss: loss / b, grad, running: [running(blk1), running(blk2)] };
}

// ---- The wasmgrad step -------------------------------------------------------------------------------------------

/** Seeded weights and batch of the case, the same for every contender. */
function cnnInputs(cfg: CnnConfig) {
  return { w: initWeights(cfg), x: uniform(cfg.b * SIZE * SIZE, 59 + cfg.b), y: labels(cfg.b, CLASSES, 60 + cfg.b) };
}

/**
 * The CNN step with SGD on the current backend, the net built by the trainer's own builder (the one `wasmgrad
 * train --model cnn` trains) and loaded with the case's weights under its state-dict names.
 */
export function cnnStep(cfg: CnnConfig, { w, x, y } = cnnInputs(cfg)): TrainStep<keyof (Weights & Running)> {
  const { b, c1, c2 } = cfg;
  const f = c2 * (SIZE / 4) ** 2;
  const init = new Generator(0); // every weight is loaded below
  const model = buildCnn({ inputShape: [1, SIZE, SIZE], channels: [c1, c2], kernelSize: K, hidden: [], outputDim: CLASSES, activation: 'relu', dropout: 0 },
    init, init);
  const fresh = (c: number) => ({ mean: { shape: [c], data: new Float32Array(c) }, var: { shape: [c], data: new Float32Array(c).fill(1) } });
  const [r1, r2] = [fresh(c1), fresh(c2)];
  // 0 conv, 1 batch norm, 2 relu, 3 pool; 4–7 the same; 8 flatten, 9 linear.
  model.loadStateDict({
    '0.weight': { shape: [c1, 1, K, K], data: w.w1 },
    '1.weight': { shape: [c1], data: w.g1 }, '1.bias': { shape: [c1], data: w.b1 },
    '1.running_mean': r1.mean, '1.running_var': r1.var, '1.num_batches_tracked': { shape: [], data: [0] },
    '4.weight': { shape: [c2, c1, K, K], data: w.w2 },
    '5.weight': { shape: [c2], data: w.g2 }, '5.bias': { shape: [c2], data: w.b2 },
    '5.running_mean': r2.mean, '5.running_var': r2.var, '5.num_batches_tracked': { shape: [], data: [0] },
    '9.weight': { shape: [CLASSES, f], data: w.lw }, '9.bias': { shape: [CLASSES], data: w.lb },
  });
  const opt = new optim.SGD(model.parameters(), { lr: LR });
  const X = tensor(x, { shape: [b, 1, SIZE, SIZE] });
  const Y = tensor(y);
  return {
    step: (read) => tidy(() => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(model(X), Y);
      loss.backward();
      opt.step();
      return read ? loss.item() : NaN;
    }),
    state: () => {
      const sd = model.stateDict();
      const at = (k: string) => sd[k]!.data() as Float32Array;
      return {
        w1: at('0.weight'), g1: at('1.weight'), b1: at('1.bias'), w2: at('4.weight'), g2: at('5.weight'), b2: at('5.bias'),
        lw: at('9.weight'), lb: at('9.bias'),
        m1: at('1.running_mean'), v1: at('1.running_var'), m2: at('5.running_mean'), v2: at('5.running_var'),
      };
    },
    dispose: () => {
      opt.zeroGrad();
      model.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}

// ---- The case -------------------------------------------------------------------------------------------------

/** PyTorch's flatten order of [b, c, h, w] features (c·h·w + …) to tfjs's NHWC one ((h·w)·c + …), for the linear weight [10, f] ↔ [f, 10]. */
function linearToTfjs(lw: ArrayLike<number>, c: number, hw: number): Float32Array {
  const out = new Float32Array(lw.length);
  for (let o = 0; o < CLASSES; o++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[(p * c + ch) * CLASSES + o] = lw[o * c * hw + ch * hw + p]!;
  return out;
}

function linearFromTfjs(t: ArrayLike<number>, c: number, hw: number): Float32Array {
  const out = new Float32Array(t.length);
  for (let o = 0; o < CLASSES; o++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[o * c * hw + ch * hw + p] = t[(p * c + ch) * CLASSES + o]!;
  return out;
}

export function cnnCase(cfg: CnnConfig): Case {
  const { b, c1, c2 } = cfg;
  const name = cnnName(cfg);
  const inputs = cnnInputs(cfg);
  const { w, x, y } = inputs;
  const hw = (SIZE / 4) ** 2;
  const f = c2 * hw;
  let want: ReturnType<typeof expectedStep> | null = null;
  const expect = () => (want ??= expectedStep(cfg, x, y, w));
  const compare = (who: string, loss: number, after: Weights & Running) => {
    const e = expect();
    assertClose(`${name} first-step loss on ${who}`, [loss], [e.loss], { rtol: 1e-5 });
    for (const k of PARAMS) {
      const g = e.grad[k];
      const delta = Float64Array.from(after[k], (v, i) => v - w[k][i]!);
      assertClose(`${name} first-step update of ${k} on ${who}`, delta, g.d.map((v) => -LR * v), {
        at: (i) => LR * (g.tol[i]! + 1e-7) + 2 * Math.abs(w[k][i]!) * 2 ** -23,
      });
    }
    e.running.forEach((r, i) => {
      assertClose(`${name} running_mean of batch norm ${i + 1} on ${who}`, i ? after.m2 : after.m1, r.mean, { atol: 1e-6, rtol: 1e-4 });
      assertClose(`${name} running_var of batch norm ${i + 1} on ${who}`, i ? after.v2 : after.v1, r.variance, { atol: 1e-6, rtol: 1e-4 });
    });
    return { loss: [loss], ...after };
  };
  // Live data a step needs (4 bytes a value): parameters and their gradients (no optimizer state: plain SGD), the
  // running statistics (2 floats a channel, an int32 counter a layer), the batch (images and int32 labels), and what
  // the step holds until it ends: per block the convolution's output, batch norm's output and its mean and variance,
  // the relu's output, the pooled output and its int32 argmax positions; the logits, the softmax and the loss.
  const params = c1 * K * K + 2 * c1 + c2 * c1 * K * K + 2 * c2 + CLASSES * f + CLASSES;
  const block = (c: number, size: number) => 3 * b * c * size * size + 2 * b * c * (size / 2) ** 2 + 2 * c;
  const liveBytes = 4 * (2 * params + 2 * (c1 + c2) + 2 + b * SIZE * SIZE + b + block(c1, SIZE) + block(c2, SIZE / 2) + 2 * b * CLASSES + 1);
  return {
    group: 'cnn',
    name,
    expect,
    unit: 'samples/s',
    higherIsBetter: true,
    value: (ms) => b / (ms / 1000),
    extra: { unit: 'ms/step', value: (ms) => ms },
    ratioTargets: Object.fromEntries(['wasm-relaxed', 'wasm-simd', 'wasm-simd-threads'].map((n) => [n, { 'tfjs-cpu': 20, ref: 30 }])),
    skip: (c) => (c.name === 'tfjs-wasm' && !tf.getKernel('Conv2DBackpropFilter', 'wasm')
      ? 'cannot train it: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (a convolution\'s weight gradient)' : undefined),
    prepare: (c): Prepared => {
      if (c.lib === 'tfjs') {
        const F1 = tf.variable(tf.tensor4d(toFilter(w.w1, [c1, 1, K, K]), [K, K, 1, c1]));
        const G1 = tf.variable(tf.tensor1d(w.g1));
        const B1 = tf.variable(tf.tensor1d(w.b1));
        const F2 = tf.variable(tf.tensor4d(toFilter(w.w2, [c2, c1, K, K]), [K, K, c1, c2]));
        const G2 = tf.variable(tf.tensor1d(w.g2));
        const B2 = tf.variable(tf.tensor1d(w.b2));
        const LW = tf.variable(tf.tensor2d(linearToTfjs(w.lw, c2, hw), [f, CLASSES]));
        const LB = tf.variable(tf.tensor1d(w.lb));
        const stats = [c1, c1, c2, c2].map((n, i) => tf.variable(tf.fill([n], i % 2 ? 1 : 0), false));
        const X = tf.tensor4d(nhwc(x, [b, 1, SIZE, SIZE]), [b, SIZE, SIZE, 1]);
        const Y = tf.tensor2d(oneHot(y, CLASSES), [b, CLASSES]);
        const opt = tf.train.sgd(LR);
        /** conv-BN-ReLU-pool; the batch's mean and variance go to `moments` (kept past minimize's tidy). */
        const blockTf = (input: tf.Tensor4D, filter: tf.Variable, gamma: tf.Variable, beta: tf.Variable, moments: tf.Tensor[]) => {
          const z = tf.conv2d(input, filter as tf.Tensor4D, 1, PAD);
          const { mean, variance } = tf.moments(z, [0, 1, 2]);
          moments.push(tf.keep(mean), tf.keep(variance));
          return tf.maxPool(tf.relu(tf.batchNorm(z, mean, variance, beta, gamma, EPS)) as tf.Tensor4D, 2, 2, 'valid') as tf.Tensor4D;
        };
        const step = (returnCost: boolean) => {
          const moments: tf.Tensor[] = [];
          const loss = opt.minimize(() => {
            const p1 = blockTf(X, F1, G1, B1, moments);
            const p2 = blockTf(p1, F2, G2, B2, moments);
            return tf.losses.softmaxCrossEntropy(Y, tf.add(tf.matMul(tf.reshape(p2, [b, f]), LW), LB)) as tf.Scalar;
          }, returnCost);
          // The running statistics, as PyTorch updates them (the variance unbiased).
          moments.forEach((s, i) => {
            const m = i < 2 ? b * SIZE * SIZE : b * (SIZE / 2) ** 2;
            const batch = i % 2 ? tf.mul(s, m / (m - 1)) : s;
            stats[i]!.assign(tf.add(tf.mul(stats[i]!, 1 - MOMENTUM), tf.mul(batch, MOMENTUM)));
          });
          tf.dispose(moments);
          return loss;
        };
        return {
          fn: () => tf.tidy(() => void step(false)),
          check: () => {
            const loss = tf.tidy(() => step(true)!.dataSync()[0]!);
            const data = (v: tf.Variable) => v.dataSync() as Float32Array;
            return compare(c.name, loss, {
              w1: fromFilter(data(F1), [c1, 1, K, K]), g1: data(G1), b1: data(B1),
              w2: fromFilter(data(F2), [c2, c1, K, K]), g2: data(G2), b2: data(B2),
              lw: linearFromTfjs(data(LW), c2, hw), lb: data(LB),
              m1: data(stats[0]!), v1: data(stats[1]!), m2: data(stats[2]!), v2: data(stats[3]!),
            });
          },
          dispose: () => {
            tf.dispose([F1, G1, B1, F2, G2, B2, LW, LB, ...stats, X, Y]);
            opt.dispose();
          },
        };
      }
      const s = cnnStep(cfg, inputs);
      const mem = memoryFigures(() => void s.step(false), liveBytes);
      return {
        fn: mem.step,
        check: () => {
          const loss = s.step(true);
          mem.first();
          return compare(c.name, loss, s.state());
        },
        // One step takes seconds on ref: its memory figures would take minutes.
        after: c.slow ? undefined : mem.after,
        dispose: s.dispose,
      };
    },
  };
}
