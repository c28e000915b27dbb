// TransformerEncoderLayer: PyTorch's nn.TransformerEncoderLayer, a self-attention block and a feed-forward block,
// each with a residual connection and a layer norm, under PyTorch's submodule names so state dicts cross over:
// self_attn (MultiheadAttention), linear1 (dModel → dimFeedforward), dropout, linear2 (back to dModel), norm1, norm2,
// dropout1, dropout2. Post-norm (PyTorch's default, normFirst false):
//   x = norm1(x + dropout1(self_attn(x, x, x)));  x = norm2(x + dropout2(linear2(dropout(act(linear1(x))))))
// pre-norm (normFirst true):
//   x = x + dropout1(self_attn(n, n, n)) with n = norm1(x);  x = x + dropout2(linear2(dropout(act(linear1(norm2(x))))))
// One difference from PyTorch in training mode: its self_attn also drops out attention weights (with the same p);
// the fused attention kernel never forms them, so only dropout, dropout1 and dropout2 apply. In eval mode the two
// compute the same function.
import { checkTensor } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { fmt, sameShape } from '../kernels/shape.js';
import { add } from '../ops/add.js';
import { gelu } from '../ops/gelu.js';
import { relu } from '../ops/relu.js';
import { boolean, checkOptions, checkValue, instanceOf, integer, number, oneOf, type Check } from '../options.js';
import { globalGenerator, Generator } from '../random.js';
import { MultiheadAttention } from './attention.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { LayerNorm } from './normalization.js';

/** Options of TransformerEncoderLayer (PyTorch's constructor arguments, in camelCase). */
export interface TransformerEncoderLayerOptions {
  /** Width of the feed-forward block (default 2048, as PyTorch). */
  dimFeedforward?: number;
  /** Dropout probability of dropout, dropout1 and dropout2 (default 0.1). */
  dropout?: number;
  /** The feed-forward block's activation (default 'relu'; 'gelu' is the exact erf form). */
  activation?: 'relu' | 'gelu';
  /** eps of norm1 and norm2 (default 1e-5). */
  layerNormEps?: number;
  /** Inputs are [batch, sequence, features] (default false: [sequence, batch, features], as PyTorch). */
  batchFirst?: boolean;
  /** Pre-norm: normalise before each block instead of after its residual sum (default false). */
  normFirst?: boolean;
  /** Biases of the linear layers, the attention's projections and the layer norms (default true). */
  bias?: boolean;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

/** Options of a TransformerEncoderLayer call, after the input. */
export interface TransformerEncoderLayerForwardOptions {
  /** The self-attention's attnMask ([S, S] or [N·nhead, S, S]; float added, int32 nonzero masks out). */
  srcMask?: Tensor | null;
  /** The self-attention's keyPaddingMask ([N, S]; float added, int32 nonzero masks out). */
  srcKeyPaddingMask?: Tensor | null;
  /** Attend only to positions j ≤ i (default false). */
  isCausal?: boolean;
}

const API = 'TransformerEncoderLayer';
const TENSOR_OR_NULL: Check = { what: 'a Tensor or null', ok: (v) => v === null || v instanceof Tensor };
const ACTIVATIONS = { relu, gelu } as const;

/**
 * PyTorch's nn.TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual connection and
 * a layer norm (post-norm by default, pre-norm with normFirst), under PyTorch's submodule names so state dicts cross
 * over. `layer(src, options?)`: src [S, N, dModel] ([N, S, dModel] with batchFirst). In training only dropout,
 * dropout1 and dropout2 apply (the fused attention never forms the attention weights to drop).
 */
export class TransformerEncoderLayer extends Module {
  /** The self-attention, dModel wide with nhead heads. */
  self_attn: MultiheadAttention;
  /** The feed-forward block's first layer, dModel → dimFeedforward. */
  linear1: Linear;
  /** Dropout after the feed-forward activation. */
  dropout: Dropout;
  /** The feed-forward block's second layer, dimFeedforward → dModel. */
  linear2: Linear;
  /** The layer norm of the attention block. */
  norm1: LayerNorm;
  /** The layer norm of the feed-forward block. */
  norm2: LayerNorm;
  /** Dropout on the attention block's output. */
  dropout1: Dropout;
  /** Dropout on the feed-forward block's output. */
  dropout2: Dropout;
  /** Pre-norm (true) or post-norm (false). */
  readonly normFirst: boolean;
  /** The feed-forward block's activation. */
  readonly activation: 'relu' | 'gelu';

  /**
   * @param dModel Features of the input and output.
   * @param nhead Attention heads; must divide dModel.
   */
  constructor(readonly dModel: number, readonly nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    checkValue(API, 'dModel', dModel, integer({ ge: 1 }));
    checkValue(API, 'nhead', nhead, integer({ ge: 1 }));
    checkOptions(API, options, {
      dimFeedforward: integer({ ge: 1 }), dropout: number({ ge: 0, lt: 1 }), activation: oneOf('relu', 'gelu'),
      layerNormEps: number({ gt: 0 }), batchFirst: boolean, normFirst: boolean, bias: boolean,
      generator: instanceOf(Generator),
    }, {
      device: 'parameters live on the current backend (see setBackend)',
      dtype: 'parameters are float32 on the backend they are made on',
    });
    if (dModel % nhead !== 0) {
      throw new Error(`${API}: dModel ${dModel} is not divisible by nhead ${nhead} (each head gets dModel / nhead ` +
        'features); choose a number of heads that divides it');
    }
    const { dimFeedforward = 2048, dropout = 0.1, layerNormEps = 1e-5, bias = true } = options;
    const generator = options.generator ?? globalGenerator;
    this.normFirst = options.normFirst ?? false;
    this.activation = options.activation ?? 'relu';
    // Made in PyTorch's order, so one generator seeds the same draws in the same sequence.
    this.self_attn = new MultiheadAttention(dModel, nhead, { bias, batchFirst: options.batchFirst ?? false, generator });
    this.linear1 = new Linear(dModel, dimFeedforward, { bias, generator });
    this.dropout = new Dropout(dropout, { generator });
    this.linear2 = new Linear(dimFeedforward, dModel, { bias, generator });
    this.norm1 = new LayerNorm(dModel, { eps: layerNormEps, bias });
    this.norm2 = new LayerNorm(dModel, { eps: layerNormEps, bias });
    this.dropout1 = new Dropout(dropout, { generator });
    this.dropout2 = new Dropout(dropout, { generator });
  }

  /** src [N, S, dModel] with batchFirst, else [S, N, dModel], or unbatched [S, dModel]; the output has its shape. */
  forward(src: Tensor, options: TransformerEncoderLayerForwardOptions = {}): Tensor {
    checkTensor(API, 'src', src);
    checkOptions(`${API}.forward`, options, { srcMask: TENSOR_OR_NULL, srcKeyPaddingMask: TENSOR_OR_NULL, isCausal: boolean });
    this.checkShapes(src, options);
    const selfAttention = (x: Tensor) => this.dropout1(this.self_attn(x, x, x, {
      attnMask: options.srcMask ?? null, keyPaddingMask: options.srcKeyPaddingMask ?? null, isCausal: options.isCausal ?? false,
    }));
    const feedForward = (x: Tensor) =>
      this.dropout2(this.linear2(this.dropout(ACTIVATIONS[this.activation](this.linear1(x)))));
    if (this.normFirst) {
      const x = add(src, selfAttention(this.norm1(src)));
      return add(x, feedForward(this.norm2(x)));
    }
    const x = this.norm1(add(src, selfAttention(src)));
    return this.norm2(add(x, feedForward(x)));
  }

  /** src and the masks in this layer's terms (the attention would name them query, attnMask, keyPaddingMask). */
  private checkShapes(src: Tensor, { srcMask, srcKeyPaddingMask }: TransformerEncoderLayerForwardOptions): void {
    const layout = this.self_attn.batchFirst ? '[N, S, dModel]' : '[S, N, dModel]';
    if (!(src.rank === 2 || src.rank === 3) || src.shape[src.rank - 1] !== this.dModel) {
      throw new Error(`${API}: src must be ${layout} (batchFirst: ${this.self_attn.batchFirst}) or unbatched ` +
        `[S, dModel] with dModel ${this.dModel}, got ${fmt(src.shape)}`);
    }
    const S = src.shape[src.rank === 3 && !this.self_attn.batchFirst ? 0 : src.rank - 2]!;
    const N = src.rank === 2 ? 1 : src.shape[this.self_attn.batchFirst ? 0 : 1]!;
    if (srcMask && !sameShape(srcMask.shape, [S, S]) && !sameShape(srcMask.shape, [N * this.nhead, S, S])) {
      throw new Error(`${API}: srcMask must be [S, S] = ${fmt([S, S])} or [N·nhead, S, S] = ` +
        `${fmt([N * this.nhead, S, S])} for src ${fmt(src.shape)}, got ${fmt(srcMask.shape)}`);
    }
    const padding = src.rank === 2 ? [S] : [N, S];
    if (srcKeyPaddingMask && !sameShape(srcKeyPaddingMask.shape, padding)) {
      throw new Error(`${API}: srcKeyPaddingMask must be ${src.rank === 2 ? '[S]' : '[N, S]'} = ${fmt(padding)} ` +
        `for src ${fmt(src.shape)}, got ${fmt(srcKeyPaddingMask.shape)}`);
    }
  }

  protected override extraRepr(): string {
    return [`dModel=${this.dModel}`, `nhead=${this.nhead}`, `activation=${this.activation}`,
      this.normFirst ? 'normFirst=true' : ''].filter(Boolean).join(', ');
  }
}

// A module is callable with its forward's arguments.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface TransformerEncoderLayer {
  (src: Tensor, options?: TransformerEncoderLayerForwardOptions): Tensor;
}
