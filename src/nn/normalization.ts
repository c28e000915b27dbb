// LayerNorm and RMSNorm: PyTorch's modules over the layerNorm and rmsNorm ops, normalising the trailing
// normalizedShape of their input. With elementwiseAffine (the default) they learn a weight of that shape (ones)
// and, LayerNorm only, a bias (zeros; bias: false leaves it out), under PyTorch's state-dict names. They keep no
// running statistics: training and evaluation normalise alike.
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { layerNorm } from '../ops/layerNorm.js';
import { sizesOf } from '../ops/normalizeRows.js';
import { rmsNorm } from '../ops/rmsNorm.js';
import { boolean, checkOptions, number, type Check } from '../options.js';
import { Module, parameter } from './module.js';

const UNSUPPORTED = {
  device: 'parameters live on the current backend (see setBackend)',
  dtype: 'parameters are float32 on the backend they are made on',
};

/** A parameter of `shape` filled with `value`. */
const filled = (shape: readonly number[], value: number, name: string) =>
  parameter(fromValues(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value), shape), name);

/** Options of LayerNorm. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a weight and a bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, learn the bias too (default true). */
  bias?: boolean;
}

/** Layer normalisation over the trailing normalizedShape (a size, or a list of sizes). */
export class LayerNorm extends Module {
  /** The trailing dims normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance. */
  readonly eps: number;
  /** Whether weight (and bias) are learnt. */
  readonly elementwiseAffine: boolean;
  /** [...normalizedShape], ones at the start; null without elementwiseAffine. */
  weight: Tensor | null;
  /** [...normalizedShape], zeros at the start; null without elementwiseAffine or with `bias: false`. */
  bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = sizesOf('LayerNorm', normalizedShape);
    checkOptions('LayerNorm', options, { eps: number({ gt: 0 }), elementwiseAffine: boolean, bias: boolean }, UNSUPPORTED);
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? filled(this.normalizedShape, 1, 'weight') : null;
    this.bias = this.elementwiseAffine && options.bias !== false ? filled(this.normalizedShape, 0, 'bias') : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, { eps: this.eps });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(',')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}` +
      (this.elementwiseAffine ? `, bias=${this.bias !== null}` : '');
  }
}

/** Options of RMSNorm. */
export interface RMSNormOptions {
  /** Added to mean(x²) (default null: the machine epsilon of the input's dtype, as in PyTorch). */
  eps?: number | null;
  /** Learn a weight of normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

const EPS_OR_NULL: Check = { what: 'a number > 0 or null (the machine epsilon of the input\'s dtype)',
  ok: (v) => v === null || number({ gt: 0 }).ok(v) };

/** RMS normalisation over the trailing normalizedShape (a size, or a list of sizes). */
export class RMSNorm extends Module {
  /** The trailing dims normalised over. */
  readonly normalizedShape: readonly number[];
  /** Added to mean(x²); null: the machine epsilon of the input's dtype. */
  readonly eps: number | null;
  /** Whether the weight is learnt. */
  readonly elementwiseAffine: boolean;
  /** [...normalizedShape], ones at the start; null without elementwiseAffine. */
  weight: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: RMSNormOptions = {}) {
    super();
    this.normalizedShape = sizesOf('RMSNorm', normalizedShape);
    checkOptions('RMSNorm', options, { eps: EPS_OR_NULL, elementwiseAffine: boolean }, UNSUPPORTED);
    this.eps = options.eps ?? null;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? filled(this.normalizedShape, 1, 'weight') : null;
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps === null ? {} : { eps: this.eps });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(',')}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}
