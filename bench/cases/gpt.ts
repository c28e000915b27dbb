// One training step of the character GPT `wasmgrad train --model gpt` trains with its defaults — 2 pre-LN blocks of
// 4 heads, width 64, context 16, over the names corpus's characters, batch 32, Adam at 2e-3 — in tokens/s (batch ×
// context per step) and ms/step. wasmgrad builds it with the trainer's own builder (buildGpt) and steps it with
// optim.Adam on nn.crossEntropy over the logits as [B·T, V], as the trainer does. Dropout is 0 here (the trainer's default is 0.1): a
// peer's dropout draws other masks, so the steps could not be checked against each other; it costs a few
// elementwise passes. The batch is seeded random tokens: no kernel's speed depends on the values.
//
// tfjs builds the same model from ops: embeddings by tf.gather (tfjs-wasm cannot take gather's gradient, it has no
// UnsortedSegmentSum kernel, so there a one-hot tf.matMul by the table), layerNorm from tf.moments, causal attention
// from tf.matMul / tf.softmax with tf.add of a [T, T] band of -Infinity, GELU in the exact erf form (as wasmgrad's
// and PyTorch's default), the loss by tf.losses.softmaxCrossEntropy, and tf.train.adam(2e-3, 0.9, 0.999, 1e-8)
// with optimizer.minimize.
//
// Every contender starts from the same weights and batch. Its first-step loss is checked against a float64 forward
// of the model; the loss after that step (which the backward and Adam decide) against the first wasmgrad build's.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Generator, nn, optim, tensor, tidy } from '../../dist/index.js';
import { buildGpt } from '../../dist/train/gpt.js';
import { GPT_DEFAULTS } from '../../dist/train/trainer.js';
import { tf, type Contender } from '../contenders.js';
import { assertClose, labels, normal, oneHot, transpose, uniform } from '../data.js';
import type { Case, Prepared } from '../harness.js';

/** The names corpus's characters: the vocabulary the trainer builds from it. */
const VOCAB = new Set(gunzipSync(readFileSync(new URL('../../data/names.txt.gz', import.meta.url))).toString('utf8')).size;
const EPS = 1e-5;

export interface GptBenchConfig { batch: number; context: number; layers: number; heads: number; width: number; vocab: number; lr: number }

/** The trainer's defaults; --quick: one block at batch 4. */
export function gptConfigs(quick: boolean): GptBenchConfig[] {
  const { batchSize, context, layers, heads, width, lr } = GPT_DEFAULTS;
  const cfg = { batch: batchSize, context, layers, heads, width, vocab: VOCAB, lr };
  return [quick ? { ...cfg, batch: 4, layers: 1 } : cfg];
}

const gptName = (c: GptBenchConfig) => `GPT ${c.layers}×${c.heads} heads w${c.width} ctx${c.context} vocab ${c.vocab} b${c.batch}`;

/**
 * The weights by PyTorch state-dict name, with their shapes: matrices N(0, 0.1²) (wide enough that attention is
 * far from uniform and the loss far from ln V), LayerNorm gains and biases away from 1 and 0, so the check sees them.
 */
function initWeights(c: GptBenchConfig): Map<string, { shape: number[]; data: Float32Array }> {
  const W = c.width;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let seed = 70;
  const add = (name: string, shape: number[], kind: 'matrix' | 'gain' | 'bias') => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = kind === 'matrix' ? normal(n, seed++, 0.1) : kind === 'gain' ? uniform(n, seed++, 0.5, 1.5) : uniform(n, seed++, -0.1, 0.1);
    out.set(name, { shape, data });
  };
  add('tok.weight', [c.vocab, W], 'matrix');
  add('pos.weight', [c.context, W], 'matrix');
  for (let l = 0; l < c.layers; l++) {
    const p = `blocks.${l}.`;
    add(`${p}ln1.weight`, [W], 'gain');
    add(`${p}ln1.bias`, [W], 'bias');
    add(`${p}attn.in_proj_weight`, [3 * W, W], 'matrix');
    add(`${p}attn.in_proj_bias`, [3 * W], 'bias');
    add(`${p}attn.out_proj.weight`, [W, W], 'matrix');
    add(`${p}attn.out_proj.bias`, [W], 'bias');
    add(`${p}ln2.weight`, [W], 'gain');
    add(`${p}ln2.bias`, [W], 'bias');
    add(`${p}fc1.weight`, [4 * W, W], 'matrix');
    add(`${p}fc1.bias`, [4 * W], 'bias');
    add(`${p}fc2.weight`, [W, 4 * W], 'matrix');
    add(`${p}fc2.bias`, [W], 'bias');
  }
  add('ln.weight', [W], 'gain');
  add('ln.bias', [W], 'bias');
  add('head.weight', [c.vocab, W], 'matrix');
  add('head.bias', [c.vocab], 'bias');
  return out;
}

// ---- The float64 forward --------------------------------------------------------------------------------------

/** erf in float64: its Taylor series below 3, the continued fraction of erfc above. */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = a;
    for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

/** rows [n, k] · Wᵀ + b with W [m, k] (PyTorch's linear). */
function linear64(x: Float64Array, n: number, k: number, w: ArrayLike<number>, b: ArrayLike<number>, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let o = 0; o < m; o++) {
    let s = b[o]!;
    for (let j = 0; j < k; j++) s += x[i * k + j]! * w[o * k + j]!;
    out[i * m + o] = s;
  }
  return out;
}

function layerNorm64(x: Float64Array, n: number, W: number, g: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let j = 0; j < W; j++) mean += x[i * W + j]! / W;
    let v = 0;
    for (let j = 0; j < W; j++) v += (x[i * W + j]! - mean) ** 2 / W;
    for (let j = 0; j < W; j++) out[i * W + j] = ((x[i * W + j]! - mean) / Math.sqrt(v + EPS)) * g[j]! + b[j]!;
  }
  return out;
}

/** The mean cross-entropy of next-token logits in float64. */
function gptLoss64(c: GptBenchConfig, w: ReturnType<typeof initWeights>, idx: Int32Array, y: Int32Array): number {
  const { batch: B, context: T, width: W, heads: H, vocab: V } = c;
  const d = W / H;
  const at = (name: string) => w.get(name)!.data;
  const n = B * T;
  let x = new Float64Array(n * W);
  for (let r = 0; r < n; r++) for (let j = 0; j < W; j++) x[r * W + j] = at('tok.weight')[idx[r]! * W + j]! + at('pos.weight')[(r % T) * W + j]!;
  for (let l = 0; l < c.layers; l++) {
    const p = (s: string) => at(`blocks.${l}.${s}`);
    const qkv = linear64(layerNorm64(x, n, W, p('ln1.weight'), p('ln1.bias')), n, W, p('attn.in_proj_weight'), p('attn.in_proj_bias'), 3 * W);
    const joined = new Float64Array(n * W);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
      const qi = (b * T + i) * 3 * W + h * d;
      const s = Array.from({ length: i + 1 }, (_, j) => {
        let dot = 0;
        for (let e = 0; e < d; e++) dot += qkv[qi + e]! * qkv[(b * T + j) * 3 * W + W + h * d + e]!;
        return dot / Math.sqrt(d);
      });
      const max = Math.max(...s);
      const ex = s.map((v) => Math.exp(v - max));
      const sum = ex.reduce((a, v) => a + v, 0);
      ex.forEach((pj, j) => {
        for (let e = 0; e < d; e++) joined[(b * T + i) * W + h * d + e] += (pj / sum) * qkv[(b * T + j) * 3 * W + 2 * W + h * d + e]!;
      });
    }
    const attn = linear64(joined, n, W, p('attn.out_proj.weight'), p('attn.out_proj.bias'), W);
    x = x.map((v, i) => v + attn[i]!);
    const hidden = linear64(layerNorm64(x, n, W, p('ln2.weight'), p('ln2.bias')), n, W, p('fc1.weight'), p('fc1.bias'), 4 * W)
      .map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    const mlp = linear64(hidden, n, 4 * W, p('fc2.weight'), p('fc2.bias'), W);
    x = x.map((v, i) => v + mlp[i]!);
  }
  const logits = linear64(layerNorm64(x, n, W, at('ln.weight'), at('ln.bias')), n, W, at('head.weight'), at('head.bias'), V);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    const max = Math.max(...row);
    loss += Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)) + max - row[y[r]!]!;
  }
  return loss / n;
}

// ---- The steps ------------------------------------------------------------------------------------------------

interface Step { step: (read: boolean) => number; dispose: () => void }

/** The trainer's GPT (buildGpt) with the case's weights, Adam, one step of nn.crossEntropy on the current backend. */
function wasmgradStep(c: GptBenchConfig, w: ReturnType<typeof initWeights>, idx: Int32Array, y: Int32Array): Step {
  const init = new Generator(0); // every weight is loaded below
  const model = buildGpt({ vocabSize: c.vocab, context: c.context, layers: c.layers, heads: c.heads, width: c.width, dropout: 0 }, init, init);
  model.loadStateDict(Object.fromEntries(w));
  const opt = new optim.Adam(model.parameters(), { lr: c.lr });
  const X = tensor(idx, { shape: [c.batch, c.context], dtype: 'int32' });
  const Y = tensor(y, { shape: [c.batch * c.context], dtype: 'int32' });
  return {
    step: (read) => tidy(() => {
      opt.zeroGrad();
      // As the trainer does: logits [B·T, V] against labels [B·T].
      const loss = nn.crossEntropy(model(X).reshape([-1, c.vocab]), Y);
      loss.backward();
      opt.step();
      return read ? loss.item() : NaN;
    }),
    dispose: () => {
      opt.zeroGrad();
      model.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}

/** The same model from tfjs ops (weights stored [in, out]), stepped by tf.train.adam through optimizer.minimize. */
function tfjsStep(c: GptBenchConfig, backend: string, w: ReturnType<typeof initWeights>, idx: Int32Array, y: Int32Array): Step {
  const { batch: B, context: T, width: W, heads: H, vocab: V } = c;
  const d = W / H;
  const n = B * T;
  const vars = new Map<string, tf.Variable>();
  for (const [name, { shape, data }] of w) {
    // Linear weights [out, in] → [in, out]; embedding tables stay [rows, width].
    const isLinear = shape.length === 2 && !name.startsWith('tok.') && !name.startsWith('pos.');
    vars.set(name, tf.variable(isLinear ? tf.tensor2d(transpose(data, shape[0]!, shape[1]!), [shape[1]!, shape[0]!]) : tf.tensor(data, shape)));
  }
  const at = (name: string) => vars.get(name)!;
  // tfjs-wasm has no UnsortedSegmentSum kernel, which gather's gradient needs: it looks rows up by a one-hot product.
  const gatherTrains = tf.getKernel('UnsortedSegmentSum', backend) !== undefined;
  const ids = tf.tensor1d(idx, 'int32');
  const idsOneHot = gatherTrains ? null : tf.oneHot(ids, V).toFloat();
  const positions = tf.tile(tf.range(0, T, 1, 'int32'), [B]);
  const posOneHot = gatherTrains ? null : tf.oneHot(positions, c.context).toFloat();
  const targets = tf.tensor2d(oneHot(y, V), [n, V]);
  const band = tf.tidy(() => tf.where(tf.greater(tf.range(0, T).reshape([1, T]), tf.range(0, T).reshape([T, 1])),
    tf.fill([T, T], -Infinity), tf.zeros([T, T])));
  const opt = tf.train.adam(c.lr, 0.9, 0.999, 1e-8);
  const embed = (table: tf.Variable, rows: tf.Tensor, hot: tf.Tensor | null) => (hot ? tf.matMul(hot, table) : tf.gather(table, rows));
  const layerNorm = (x: tf.Tensor, g: tf.Variable, b: tf.Variable) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, EPS))), g), b);
  };
  const linear = (x: tf.Tensor, name: string) => tf.add(tf.matMul(x as tf.Tensor2D, at(`${name}.weight`) as tf.Tensor2D), at(`${name}.bias`));
  const gelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  const lossFn = () => {
    let x = tf.add(embed(at('tok.weight'), ids, idsOneHot), embed(at('pos.weight'), positions, posOneHot)); // [n, W]
    for (let l = 0; l < c.layers; l++) {
      const p = `blocks.${l}.`;
      const h = layerNorm(x, at(`${p}ln1.weight`), at(`${p}ln1.bias`));
      const qkv = tf.add(tf.matMul(h as tf.Tensor2D, at(`${p}attn.in_proj_weight`) as tf.Tensor2D), at(`${p}attn.in_proj_bias`));
      const [q, k, v] = tf.unstack(tf.transpose(tf.reshape(qkv, [B, T, 3, H, d]), [2, 0, 3, 1, 4])); // each [B, H, T, d]
      const scores = tf.add(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(d)), band);
      const joined = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v!), [0, 2, 1, 3]), [n, W]);
      x = tf.add(x, tf.add(tf.matMul(joined as tf.Tensor2D, at(`${p}attn.out_proj.weight`) as tf.Tensor2D), at(`${p}attn.out_proj.bias`)));
      const m = linear(gelu(linear(layerNorm(x, at(`${p}ln2.weight`), at(`${p}ln2.bias`)), `${p}fc1`)), `${p}fc2`);
      x = tf.add(x, m);
    }
    return tf.losses.softmaxCrossEntropy(targets, linear(layerNorm(x, at('ln.weight'), at('ln.bias')), 'head')) as tf.Scalar;
  };
  return {
    step: (read) => tf.tidy(() => {
      const loss = opt.minimize(lossFn, read);
      return read ? loss!.dataSync()[0]! : NaN;
    }),
    dispose: () => {
      tf.dispose([...vars.values(), ids, positions, targets, band, ...(idsOneHot ? [idsOneHot, posOneHot!] : [])]);
      opt.dispose();
    },
  };
}

export function gptCase(c: GptBenchConfig): Case {
  const name = gptName(c);
  const w = initWeights(c);
  const idx = labels(c.batch * c.context, c.vocab, 81 + c.batch);
  const y = labels(c.batch * c.context, c.vocab, 82 + c.batch);
  let want: number | null = null;
  const expect = () => (want ??= gptLoss64(c, w, idx, y));
  /** The loss after one step on the first wasmgrad contender checked: what the others' steps must reach. */
  let afterStep: { who: string; loss: number } | null = null;
  const compare = (who: Contender, first: number, second: number) => {
    assertClose(`${name} first-step loss on ${who.name} (vs float64)`, [first], [expect()], { rtol: 1e-6 });
    afterStep ??= { who: who.name, loss: second };
    assertClose(`${name} loss after one Adam step on ${who.name} (vs ${afterStep.who})`, [second], [afterStep.loss], { rtol: 1e-5 });
    return { loss: [first, second] };
  };
  return {
    group: 'gpt',
    name,
    expect,
    unit: 'tokens/s',
    higherIsBetter: true,
    value: (ms) => (c.batch * c.context) / (ms / 1000),
    extra: { unit: 'ms/step', value: (ms) => ms },
    ratioTargets: Object.fromEntries(['wasm-relaxed', 'wasm-simd', 'wasm-simd-threads'].map((n) => [n, { 'tfjs-wasm': 10, ref: 30 }])),
    prepare: (con): Prepared => {
      const s = con.lib === 'tfjs' ? tfjsStep(c, con.name.slice('tfjs-'.length), w, idx, y) : wasmgradStep(c, w, idx, y);
      return {
        fn: () => void s.step(false),
        check: () => {
          const first = s.step(true);
          return compare(con, first, s.step(true));
        },
        checkCalls: 2,
        dispose: s.dispose,
      };
    },
  };
}
