// A character-level GPT: token and position embeddings, `layers` pre-LN causal transformer blocks, a final
// LayerNorm and a linear head to the vocabulary. Parameter names are PyTorch's state-dict names for the same
// modules (tok, pos, blocks.<i>.{ln1, attn, ln2, fc1, fc2}, ln, head), so a PyTorch model written with these
// modules loads its weights from our files and ours from its.
import { noGrad, tidy } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import { arange, fromValues } from '../creation.js';
import { fmt } from '../kernels/shape.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/normalization.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { MultiheadAttention } from '../nn/attention.js';
import { gelu } from '../ops/gelu.js';
import { multinomial } from '../ops/multinomial.js';
import { softmax } from '../ops/softmax.js';
import type { Generator } from '../random.js';

/** The sizes of the character-level GPT the trainer builds (`--model gpt`), saved with it. */
export interface GptConfig {
  /** Tokens the model reads and predicts (a character model: the characters of its text). */
  vocabSize: number;
  /** The longest sequence: the size of the position table. */
  context: number;
  /** Transformer blocks. */
  layers: number;
  /** Attention heads per block. */
  heads: number;
  /** The embedding width (the MLP inside a block is 4× as wide); heads must divide it. */
  width: number;
  /** Dropout on the embeddings and on each block's attention and MLP outputs (0: none). */
  dropout: number;
}

/** One pre-LN block: x + attn(ln1(x)) with a causal mask, then x + fc2(gelu(fc1(ln2(x)))). */
export class Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: MultiheadAttention;
  readonly ln2: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly drop: Dropout;

  constructor(width: number, heads: number, dropout: number, generator: Generator, dropoutGenerator: Generator) {
    super();
    this.ln1 = new LayerNorm(width);
    this.attn = new MultiheadAttention(width, heads, { batchFirst: true, generator });
    this.ln2 = new LayerNorm(width);
    this.fc1 = new Linear(width, 4 * width, { generator });
    this.fc2 = new Linear(4 * width, width, { generator });
    this.drop = new Dropout(dropout, { generator: dropoutGenerator });
  }

  /** x: [batch, time, width]. */
  forward(x: Tensor): Tensor {
    const h = this.ln1(x);
    const a = x.add(this.drop(this.attn(h, h, h, { isCausal: true })));
    return a.add(this.drop(this.fc2(gelu(this.fc1(this.ln2(a))))));
  }
}

export class GPT extends Module {
  readonly tok: Embedding;
  readonly pos: Embedding;
  readonly drop: Dropout;
  readonly blocks: Block[];
  readonly ln: LayerNorm;
  readonly head: Linear;

  constructor(readonly config: GptConfig, generator: Generator, dropoutGenerator: Generator) {
    super();
    const { vocabSize, context, layers, heads, width, dropout } = config;
    this.tok = new Embedding(vocabSize, width, { generator });
    this.pos = new Embedding(context, width, { generator });
    this.drop = new Dropout(dropout, { generator: dropoutGenerator });
    this.blocks = Array.from({ length: layers }, () => new Block(width, heads, dropout, generator, dropoutGenerator));
    this.ln = new LayerNorm(width);
    this.head = new Linear(width, vocabSize, { generator });
  }

  /** Token ids [batch, time] (int32, time ≤ context) → next-token logits [batch, time, vocabSize]. */
  forward(idx: Tensor): Tensor {
    const { context } = this.config;
    if (idx.rank !== 2 || idx.dtype !== 'int32') {
      throw new Error(`GPT: expected int32 token ids [batch, time], got ${idx.dtype} ${fmt(idx.shape)}`);
    }
    const time = idx.shape[1]!;
    if (time > context) {
      throw new Error(`GPT: a sequence of ${time} tokens is longer than the position table (context ${context}); ` +
        `give at most ${context} tokens (sample keeps the last ${context})`);
    }
    const positions = arange(time, undefined, 1, { dtype: 'int32', backend: idx.backend });
    let x: Tensor;
    try {
      x = this.drop(this.tok(idx).add(this.pos(positions)));
    } finally {
      positions.dispose();
    }
    for (const block of this.blocks) x = block(x);
    return this.head(this.ln(x));
  }

  /**
   * Continues `ids` by `maxNewTokens` tokens, each drawn from softmax(logits / temperature) of the last position,
   * reading at most the last `context` tokens (as nanoGPT does). In eval mode, without a graph; the mode is
   * restored afterwards.
   */
  generate(ids: ArrayLike<number>, maxNewTokens: number, options: { temperature?: number; generator: Generator }): Int32Array {
    const { temperature = 1, generator } = options;
    if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`GPT.generate: temperature must be a number > 0, got ${temperature}`);
    if (ids.length === 0) throw new Error('GPT.generate: needs at least one token to start from');
    const out = Array.from(ids);
    const training = this.training;
    this.eval();
    try {
      for (let n = 0; n < maxNewTokens; n++) {
        const window = out.slice(-this.config.context);
        const next = tidy(() => noGrad(() => {
          const logits = this(fromValues(Int32Array.from(window), [1, window.length], { dtype: 'int32' }));
          const last = logits.reshape([window.length, this.config.vocabSize]).slice([window.length - 1, 0], [1, this.config.vocabSize]);
          return multinomial(softmax(last.div(temperature), -1), 1, { generator }).item();
        }));
        out.push(next);
      }
    } finally {
      this.train(training);
    }
    return Int32Array.from(out);
  }
}

export function buildGpt(c: GptConfig, generator: Generator, dropoutGenerator: Generator): GPT {
  return new GPT(c, generator, dropoutGenerator);
}

/** Parameters of a GPT: embeddings, per block 12·width² + 13·width, the final LayerNorm and the head. */
export function gptParameterCount(c: GptConfig): number {
  const w = c.width;
  return (c.vocabSize + c.context) * w + c.layers * (12 * w * w + 13 * w) + 2 * w + (w + 1) * c.vocabSize;
}
