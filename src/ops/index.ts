// Every differentiable op, and the same ops as Tensor methods (x.matmul(w).relu()). Importing this module wires
// the methods onto Tensor and gives the backward engine the few ops it needs itself.
import { setEngineOps, type BackwardOptions } from '../autograd/backward.js';
import { backward } from '../autograd/functional.js';
import type { TensorLike } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import type { DType, FloatDType } from '../backend/types.js';
import { abs } from './abs.js';
import { add } from './add.js';
import { broadcastTo } from './broadcastTo.js';
import { cast } from './cast.js';
import { clone } from './clone.js';
import { equal, greater, greaterEqual, less, lessEqual } from './compare.js';
import { cos } from './cos.js';
import { cumsum } from './cumsum.js';
import { div } from './div.js';
import { exp } from './exp.js';
import { gather } from './gather.js';
import { gelu } from './gelu.js';
import { leakyRelu } from './leakyRelu.js';
import { log } from './log.js';
import { logSoftmax } from './logSoftmax.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { argMax, max } from './max.js';
import { maximum, minimum } from './maximum.js';
import { mean } from './mean.js';
import { mul } from './mul.js';
import { multinomial, type MultinomialOptions } from './multinomial.js';
import { neg } from './neg.js';
import { permute, transpose } from './permute.js';
import { pow } from './pow.js';
import { relu } from './relu.js';
import { flatten, reshape, view } from './reshape.js';
import { sigmoid } from './sigmoid.js';
import { sign } from './sign.js';
import { sin } from './sin.js';
import { slice } from './slice.js';
import { softmax } from './softmax.js';
import { softplus } from './softplus.js';
import { sqrt } from './sqrt.js';
import { square } from './square.js';
import { sub } from './sub.js';
import { sum, type Axes } from './sum.js';
import { tanh } from './tanh.js';
import { topK, type TopKOptions } from './topK.js';
import { tril, triu } from './triangle.js';

export { abs, add, argMax, broadcastTo, cast, clone, cos, cumsum, div, equal, exp, flatten, gather, gelu, greater,
  greaterEqual, leakyRelu, less, lessEqual, log, logSoftmax, matmul, max, maximum, mean, minimum, mul, multinomial, neg,
  permute, pow, relu, reshape, sigmoid, sign, sin, slice, softmax, softplus, sqrt, square, sub, sum, tanh, topK,
  transpose, tril, triu };
export type { MultinomialOptions, TopKOptions };
export { expand } from './broadcastTo.js';
export { conv1d } from './conv1d.js';
export { conv2d } from './conv2d.js';
export type { ConvOptions } from './convolution.js';
export { concat } from './concat.js';
export { crossEntropy } from './crossEntropy.js';
export type { CrossEntropyOptions } from './crossEntropy.js';
export { indexSelect, scatterAdd } from './gather.js';
export { linear } from './linear.js';
export { sumTo } from './sumTo.js';
export { where } from './where.js';
export { maxPool2d } from './maxPool2d.js';
export { avgPool2d } from './avgPool2d.js';
export { adaptiveAvgPool2d } from './adaptiveAvgPool2d.js';
export type { AdaptiveSize } from './adaptiveAvgPool2d.js';
export type { AvgPool2dOptions, MaxPool2dOptions, Size2 } from './pool2d.js';
export { batchNorm } from './batchNorm.js';
export type { BatchNormOptions } from './batchNorm.js';
export { embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { layerNorm } from './layerNorm.js';
export type { LayerNormOptions } from './layerNorm.js';
export { rmsNorm } from './rmsNorm.js';
export type { RMSNormOptions } from './rmsNorm.js';
export { scaledDotProductAttention } from './scaledDotProductAttention.js';
export type { ScaledDotProductAttentionOptions } from './scaledDotProductAttention.js';
export type { Axes, MatmulOptions };

setEngineOps({
  add,
  copy: clone,
  alias: (t) => view(t, t.shape),
});

declare module '../autograd/tensor.js' {
  /**
   * The ops as methods. Each keeps the tensor's dtype D in its type (float ops on float32 give float32) except
   * where the result's dtype is its own: argMax, topK's indices and multinomial give int32, cast/float/int the dtype
   * asked for, and comparisons the inputs' dtype (of an int32 tensor with a float operand: float, so left open).
   */
  interface Tensor<D extends DType = DType> {
    /** backward(), backward(grad), backward(options) or backward(grad, options). */
    backward(grad?: Tensor | BackwardOptions, options?: BackwardOptions): void;
    /** this + b, broadcasting; see {@link add}. */
    add(b: TensorLike): Tensor<D>;
    /** this − b, broadcasting; see {@link sub}. */
    sub(b: TensorLike): Tensor<D>;
    /** this · b elementwise, broadcasting; see {@link mul}. */
    mul(b: TensorLike): Tensor<D>;
    /** this / b, broadcasting; see {@link div}. */
    div(b: TensorLike): Tensor<D>;
    /** this raised to the power b, broadcasting; see {@link pow}. */
    pow(b: TensorLike): Tensor<D>;
    /** Elementwise max(this, b); see {@link maximum}. */
    maximum(b: TensorLike): Tensor<D>;
    /** Elementwise min(this, b); see {@link minimum}. */
    minimum(b: TensorLike): Tensor<D>;
    /** −this; see {@link neg}. */
    neg(): Tensor<D>;
    /** eˣ elementwise; see {@link exp}. */
    exp(): Tensor<D>;
    /** Natural logarithm elementwise; see {@link log}. */
    log(): Tensor<D>;
    /** Square root elementwise; see {@link sqrt}. */
    sqrt(): Tensor<D>;
    /** |x| elementwise; see {@link abs}. */
    abs(): Tensor<D>;
    /** x² elementwise; see {@link square}. */
    square(): Tensor<D>;
    /** −1, 0 or 1 elementwise; see {@link sign}. */
    sign(): Tensor<D>;
    /** max(x, 0) elementwise; see {@link relu}. */
    relu(): Tensor<D>;
    /** x for x > 0, alpha·x otherwise (alpha default 0.01); see {@link leakyRelu}. */
    leakyRelu(alpha?: number): Tensor<D>;
    /** 1/(1 + e⁻ˣ) elementwise; see {@link sigmoid}. */
    sigmoid(): Tensor<D>;
    /** tanh elementwise; see {@link tanh}. */
    tanh(): Tensor<D>;
    /** GELU (exact erf form) elementwise; see {@link gelu}. */
    gelu(): Tensor<D>;
    /** ln(1 + e^(βx))/β elementwise; see {@link softplus}. */
    softplus(beta?: number): Tensor<D>;
    /** Softmax along `axis` (default −1); see {@link softmax}. */
    softmax(axis?: number): Tensor<D>;
    /** Log-softmax along `axis` (default −1); see {@link logSoftmax}. */
    logSoftmax(axis?: number): Tensor<D>;
    /** Sum over `axes` (default all); see {@link sum}. */
    sum(axes?: Axes, keepdims?: boolean): Tensor<D>;
    /** Mean over `axes` (default all); see {@link mean}. */
    mean(axes?: Axes, keepdims?: boolean): Tensor<D>;
    /** Maximum over `axes` (default all); see {@link max}. */
    max(axes?: Axes, keepdims?: boolean): Tensor<D>;
    /** int32 positions of the maximum along `axis` (default −1, the last); see {@link argMax}. */
    argMax(axis?: number, keepdims?: boolean): Tensor<'int32'>;
    /** Matrix product this·b (batched, broadcast, transpose flags); see {@link matmul}. */
    matmul(b: Tensor, options?: MatmulOptions): Tensor<D>;
    /** The same values under another shape (one dim may be −1); see {@link reshape}. */
    reshape(shape: readonly number[]): Tensor<D>;
    /** Dims from `startDim` (default 0) on merged into one; see {@link flatten}. */
    flatten(startDim?: number): Tensor<D>;
    /** Dims reordered by `perm`; see {@link permute}. */
    permute(perm: readonly number[]): Tensor<D>;
    /** Two dims swapped (default the last two); see {@link transpose}. */
    transpose(dim0?: number, dim1?: number): Tensor<D>;
    /** Stretched to `shape` by broadcasting; see {@link broadcastTo}. */
    broadcastTo(shape: readonly number[]): Tensor<D>;
    /** Alias of broadcastTo (PyTorch's expand). */
    expand(shape: readonly number[]): Tensor<D>;
    /** The block starting at `begin` with `size` (−1: to the end); see {@link slice}. */
    slice(begin: readonly number[], size?: readonly number[]): Tensor<D>;
    /** Entries at int32 `indices` along `axis`; see {@link gather}. */
    gather(indices: Tensor, axis?: number): Tensor<D>;
    /** A copy in new storage; see {@link clone}. */
    clone(): Tensor<D>;
    /** 1 where this = b, else 0; see {@link equal}. */
    equal(b: Tensor<D>): Tensor<D>;
    /** 1 where this = b, else 0; see {@link equal}. */
    equal(b: TensorLike): Tensor<D extends FloatDType ? D : DType>;
    /** 1 where this > b, else 0; see {@link greater}. */
    greater(b: Tensor<D>): Tensor<D>;
    /** 1 where this > b, else 0; see {@link greater}. */
    greater(b: TensorLike): Tensor<D extends FloatDType ? D : DType>;
    /** 1 where this ≥ b, else 0; see {@link greaterEqual}. */
    greaterEqual(b: Tensor<D>): Tensor<D>;
    /** 1 where this ≥ b, else 0; see {@link greaterEqual}. */
    greaterEqual(b: TensorLike): Tensor<D extends FloatDType ? D : DType>;
    /** 1 where this < b, else 0; see {@link less}. */
    less(b: Tensor<D>): Tensor<D>;
    /** 1 where this < b, else 0; see {@link less}. */
    less(b: TensorLike): Tensor<D extends FloatDType ? D : DType>;
    /** 1 where this ≤ b, else 0; see {@link lessEqual}. */
    lessEqual(b: Tensor<D>): Tensor<D>;
    /** 1 where this ≤ b, else 0; see {@link lessEqual}. */
    lessEqual(b: TensorLike): Tensor<D extends FloatDType ? D : DType>;
    /** This tensor converted to `dtype` (a view when it already has it). */
    cast<E extends DType>(dtype: E): Tensor<E>;
    /** cast('float32'), as PyTorch's .float(). */
    float(): Tensor<'float32'>;
    /** cast('int32'): truncates toward zero, as PyTorch's .int(). */
    int(): Tensor<'int32'>;
    /** Sine elementwise (radians); see {@link sin}. */
    sin(): Tensor<D>;
    /** Cosine elementwise (radians); see {@link cos}. */
    cos(): Tensor<D>;
    /** Running sums along `dim`; see {@link cumsum}. */
    cumsum(dim: number): Tensor<D>;
    /** The lower triangle of the last two dims; see {@link tril}. */
    tril(diagonal?: number): Tensor<D>;
    /** The upper triangle of the last two dims; see {@link triu}. */
    triu(diagonal?: number): Tensor<D>;
    /** The k largest (or smallest) entries along a dim and their int32 positions; see {@link topK}. */
    topK(k: number, options?: TopKOptions): {
      /** The k entries along the dim, in order (differentiable). */
      values: Tensor<D>;
      /** Their int32 positions along the dim. */
      indices: Tensor<'int32'>;
    };
    /** numSamples category indices drawn from each row's weights; see {@link multinomial}. */
    multinomial(numSamples: number, options?: MultinomialOptions): Tensor<'int32'>;
  }
}

const methods: Partial<Record<keyof Tensor, (this: Tensor, ...args: never[]) => unknown>> = {
  backward(grad?: Tensor | BackwardOptions, options?: BackwardOptions) { backward(this, grad, options); },
  add(b: TensorLike) { return add(this, b); },
  sub(b: TensorLike) { return sub(this, b); },
  mul(b: TensorLike) { return mul(this, b); },
  div(b: TensorLike) { return div(this, b); },
  pow(b: TensorLike) { return pow(this, b); },
  maximum(b: TensorLike) { return maximum(this, b); },
  minimum(b: TensorLike) { return minimum(this, b); },
  neg() { return neg(this); },
  exp() { return exp(this); },
  log() { return log(this); },
  sqrt() { return sqrt(this); },
  abs() { return abs(this); },
  square() { return square(this); },
  sign() { return sign(this); },
  relu() { return relu(this); },
  leakyRelu(alpha?: number) { return leakyRelu(this, alpha); },
  sigmoid() { return sigmoid(this); },
  tanh() { return tanh(this); },
  gelu() { return gelu(this); },
  softplus(beta?: number) { return softplus(this, beta); },
  softmax(axis?: number) { return softmax(this, axis); },
  logSoftmax(axis?: number) { return logSoftmax(this, axis); },
  sum(axes?: Axes, keepdims?: boolean) { return sum(this, axes, keepdims); },
  mean(axes?: Axes, keepdims?: boolean) { return mean(this, axes, keepdims); },
  max(axes?: Axes, keepdims?: boolean) { return max(this, axes, keepdims); },
  argMax(axis?: number, keepdims?: boolean) { return argMax(this, axis, keepdims); },
  matmul(b: Tensor, options?: MatmulOptions) { return matmul(this, b, options); },
  reshape(shape: readonly number[]) { return reshape(this, shape); },
  flatten(startDim?: number) { return flatten(this, startDim); },
  permute(perm: readonly number[]) { return permute(this, perm); },
  transpose(dim0?: number, dim1?: number) { return transpose(this, dim0, dim1); },
  broadcastTo(shape: readonly number[]) { return broadcastTo(this, shape); },
  expand(shape: readonly number[]) { return broadcastTo(this, shape); },
  slice(begin: readonly number[], size?: readonly number[]) { return slice(this, begin, size); },
  gather(indices: Tensor, axis?: number) { return gather(this, indices, axis); },
  clone() { return clone(this); },
  equal(b: TensorLike) { return equal(this, b); },
  greater(b: TensorLike) { return greater(this, b); },
  greaterEqual(b: TensorLike) { return greaterEqual(this, b); },
  less(b: TensorLike) { return less(this, b); },
  lessEqual(b: TensorLike) { return lessEqual(this, b); },
  cast(dtype: DType) { return cast(this, dtype); },
  float() { return cast(this, 'float32'); },
  int() { return cast(this, 'int32'); },
  sin() { return sin(this); },
  cos() { return cos(this); },
  cumsum(dim: number) { return cumsum(this, dim); },
  tril(diagonal?: number) { return tril(this, diagonal); },
  triu(diagonal?: number) { return triu(this, diagonal); },
  topK(k: number, options?: TopKOptions) { return topK(this, k, options); },
  multinomial(numSamples: number, options?: MultinomialOptions) { return multinomial(this, numSamples, options); },
};
Object.assign(Tensor.prototype, methods);
