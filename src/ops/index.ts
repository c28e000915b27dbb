// Every differentiable op, and the same ops as Tensor methods (x.matmul(w).relu()). Importing this module wires
// the methods onto Tensor and gives the backward engine the few ops it needs itself.
import { setEngineOps, type BackwardOptions } from '../autograd/backward.js';
import { backward } from '../autograd/functional.js';
import type { TensorLike } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import type { DType } from '../backend/types.js';
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
  interface Tensor {
    /** backward(), backward(grad), backward(options) or backward(grad, options). */
    backward(grad?: Tensor | BackwardOptions, options?: BackwardOptions): void;
    add(b: TensorLike): Tensor;
    sub(b: TensorLike): Tensor;
    mul(b: TensorLike): Tensor;
    div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor;
    maximum(b: TensorLike): Tensor;
    minimum(b: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    sign(): Tensor;
    relu(): Tensor;
    leakyRelu(alpha?: number): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    gelu(): Tensor;
    softplus(beta?: number): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    sum(axes?: Axes, keepdims?: boolean): Tensor;
    mean(axes?: Axes, keepdims?: boolean): Tensor;
    max(axes?: Axes, keepdims?: boolean): Tensor;
    argMax(axis?: number, keepdims?: boolean): Tensor;
    matmul(b: Tensor, options?: MatmulOptions): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(startDim?: number): Tensor;
    permute(perm: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    expand(shape: readonly number[]): Tensor;
    slice(begin: readonly number[], size?: readonly number[]): Tensor;
    gather(indices: Tensor, axis?: number): Tensor;
    clone(): Tensor;
    equal(b: TensorLike): Tensor;
    greater(b: TensorLike): Tensor;
    greaterEqual(b: TensorLike): Tensor;
    less(b: TensorLike): Tensor;
    lessEqual(b: TensorLike): Tensor;
    /** This tensor converted to `dtype` (a view when it already has it). */
    cast(dtype: DType): Tensor;
    /** cast('float32'), as PyTorch's .float(). */
    float(): Tensor;
    /** cast('int32'): truncates toward zero, as PyTorch's .int(). */
    int(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    cumsum(dim: number): Tensor;
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
    topK(k: number, options?: TopKOptions): { values: Tensor; indices: Tensor };
    multinomial(numSamples: number, options?: MultinomialOptions): Tensor;
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
