// The reference backend: every kernel as plain TypeScript loops over typed arrays (one file per kernel family,
// beside this one). It is the fallback, the oracle the wasm kernels are tested against, and the benchmark baseline.
import type {
  AdagradParams, AdamParams, AttentionPlan, Backend, BatchNormPlan, BinaryOp, BroadcastPlan, Buf, ConvPlan, CopyPlan,
  DType, LayerNormPlan, MatmulPlan, MemoryStats, Pool2dPlan, PoolSizes, ReduceOp, RmspropParams, SgdParams, TypedArray,
  UnaryGradOp, UnaryOp, WherePlan,
} from '../types.js';
import { BYTES_PER_ELEMENT } from '../types.js';
import { mb, outOfMemory } from '../oom.js';
import * as attentionK from './attention.js';
import * as batchNormK from './batchnorm.js';
import * as binaryK from './binary.js';
import * as convK from './conv.js';
import * as copyK from './copy.js';
import * as layerNormK from './layernorm.js';
import * as matmulK from './matmul.js';
import * as optimK from './optim.js';
import * as poolK from './pool.js';
import * as reduceK from './reduce.js';
import * as sequenceK from './sequence.js';
import * as softmaxK from './softmax.js';
import * as unaryK from './unary.js';

export class RefBuf implements Buf {
  live = true;
  constructor(
    readonly backend: RefBackend,
    readonly dtype: DType,
    readonly data: TypedArray,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

const ARRAY: Record<DType, new (n: number) => TypedArray> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array,
};

export class RefBackend implements Backend {
  readonly name = 'ref';
  readonly build = 'ref';
  readonly dtypes: readonly DType[] = ['float32', 'float64', 'int32'];
  private buffers = 0;
  private bytesInUse = 0;
  private peakBytes = 0;

  alloc(dtype: DType, size: number): RefBuf {
    if (!Number.isInteger(size) || size < 0) throw new Error(`ref backend: invalid buffer size ${size}`);
    const bytes = size * BYTES_PER_ELEMENT[dtype];
    const data = this.typedArray(dtype, size, bytes);
    this.buffers++;
    this.bytesInUse += bytes;
    if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
    return new RefBuf(this, dtype, data);
  }

  /** A new typed array; the engine refusing one (past its length limit, or out of memory) is our out-of-memory error. */
  private typedArray(dtype: DType, size: number, bytes: number): TypedArray {
    try {
      return new ARRAY[dtype](size);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw outOfMemory(`ref backend: out of memory allocating ${bytes} bytes: the engine refused a ${dtype} array of ` +
        `${size} elements (${e.message}; ${mb(this.bytesInUse)} MB in use)`);
    }
  }

  free(buf: Buf): void {
    const b = this.own(buf, 'free');
    b.live = false;
    this.buffers--;
    this.bytesInUse -= b.size * BYTES_PER_ELEMENT[b.dtype];
  }

  read(buf: Buf, offset = 0, length = buf.size - offset): TypedArray {
    const b = this.own(buf, 'read');
    checkRange('read', b, offset, length);
    return b.data.slice(offset, offset + length);
  }

  write(buf: Buf, src: ArrayLike<number>, offset = 0): void {
    const b = this.own(buf, 'write');
    checkRange('write', b, offset, src.length);
    b.data.set(src, offset);
  }

  memory(): MemoryStats {
    const { buffers, bytesInUse, peakBytes } = this;
    return { buffers, bytesInUse, peakBytes, heapBytes: bytesInUse, limitBytes: Infinity };
  }

  resetPeak(): void {
    this.peakBytes = this.bytesInUse;
  }

  matmul(a: Buf, b: Buf, c: Buf, plan: MatmulPlan): void {
    matmulK.matmul(this.d(a), this.d(b), this.d(c), plan.bias ? this.d(plan.bias) : null, plan);
  }
  conv2d(x: Buf, weight: Buf, bias: Buf | null, out: Buf, plan: ConvPlan): void {
    convK.conv2d(this.d(x), this.d(weight), bias ? this.d(bias) : null, this.d(out), plan);
  }
  conv2dInputGrad(dy: Buf, weight: Buf, dx: Buf, plan: ConvPlan): void {
    convK.conv2dInputGrad(this.d(dy), this.d(weight), this.d(dx), plan);
  }
  conv2dWeightGrad(x: Buf, dy: Buf, dw: Buf, plan: ConvPlan): void {
    convK.conv2dWeightGrad(this.d(x), this.d(dy), this.d(dw), plan);
  }
  attention(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, plan: AttentionPlan): void {
    attentionK.attention(this.d(q), this.d(k), this.d(v), this.d(out), this.d(lse), plan, this.maskOf(plan));
  }
  attentionGrad(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, dout: Buf, dq: Buf | null, dk: Buf | null, dv: Buf | null,
    plan: AttentionPlan): void {
    attentionK.attentionGrad(this.d(q), this.d(k), this.d(v), this.d(out), this.d(lse), this.d(dout), this.maybe(dq),
      this.maybe(dk), this.maybe(dv), plan, this.maskOf(plan));
  }
  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, plan: BroadcastPlan): void {
    binaryK.binary(op, this.d(a), this.d(b), this.d(out), plan);
  }
  where(cond: Buf, a: Buf, b: Buf, out: Buf, plan: WherePlan): void {
    binaryK.where(this.d(cond), this.d(a), this.d(b), this.d(out), plan);
  }
  unary(op: UnaryOp, x: Buf, out: Buf, n: number, alpha: number): void {
    unaryK.unary(op, this.d(x), this.d(out), n, alpha);
  }
  unaryGrad(op: UnaryGradOp, saved: Buf, dy: Buf, dx: Buf, n: number, alpha: number): void {
    unaryK.unaryGrad(op, this.d(saved), this.d(dy), this.d(dx), n, alpha);
  }
  reduce(op: ReduceOp, x: Buf, out: Buf, outer: number, r: number, inner: number, argmax: Buf | null): void {
    reduceK.reduce(op, this.d(x), this.d(out), outer, r, inner, argmax ? (this.d(argmax) as Int32Array) : null);
  }
  softmax(x: Buf, out: Buf, outer: number, r: number, inner: number, log: boolean): void {
    softmaxK.softmax(this.d(x), this.d(out), outer, r, inner, log);
  }
  softmaxGrad(y: Buf, dy: Buf, dx: Buf, outer: number, r: number, inner: number, log: boolean): void {
    softmaxK.softmaxGrad(this.d(y), this.d(dy), this.d(dx), outer, r, inner, log);
  }
  crossEntropy(logits: Buf, labels: Buf, losses: Buf, probs: Buf, n: number, c: number, smoothing: number,
    ignoreIndex: number): void {
    softmaxK.crossEntropy(this.d(logits), this.d(labels) as Int32Array, this.d(losses), this.d(probs), n, c, smoothing,
      ignoreIndex);
  }
  crossEntropyGrad(probs: Buf, labels: Buf, dloss: Buf, dlossStride: number, scale: number, dx: Buf,
    n: number, c: number, smoothing: number, ignoreIndex: number): void {
    softmaxK.crossEntropyGrad(this.d(probs), this.d(labels) as Int32Array, this.d(dloss), dlossStride, scale,
      this.d(dx), n, c, smoothing, ignoreIndex);
  }
  cast(x: Buf, out: Buf, n: number): void {
    sequenceK.cast(this.d(x), this.d(out), n);
  }
  triangle(x: Buf, out: Buf, batch: number, rows: number, cols: number, diagonal: number, upper: boolean): void {
    sequenceK.triangle(this.d(x), this.d(out), batch, rows, cols, diagonal, upper);
  }
  cumsum(x: Buf, out: Buf, outer: number, r: number, inner: number, reverse: boolean): void {
    sequenceK.cumsum(this.d(x), this.d(out), outer, r, inner, reverse);
  }
  copy(x: Buf, out: Buf, plan: CopyPlan): void {
    copyK.copy(this.d(x), this.d(out), plan);
  }
  fill(out: Buf, value: number, offset: number, n: number): void {
    copyK.fill(this.d(out), value, offset, n);
  }
  scale(x: Buf, out: Buf, n: number, alpha: number): void {
    copyK.scale(this.d(x), this.d(out), n, alpha);
  }
  axpy(alpha: number, x: Buf, y: Buf, n: number): void {
    copyK.axpy(alpha, this.d(x), this.d(y), n);
  }
  gather(x: Buf, idx: Buf, out: Buf, outer: number, r: number, inner: number, nIdx: number): void {
    copyK.gather(this.d(x), this.d(idx) as Int32Array, this.d(out), outer, r, inner, nIdx);
  }
  scatterAdd(dy: Buf, idx: Buf, dx: Buf, outer: number, r: number, inner: number, nIdx: number): void {
    copyK.scatterAdd(this.d(dy), this.d(idx) as Int32Array, this.d(dx), outer, r, inner, nIdx);
  }
  maxPool2d(x: Buf, out: Buf, indices: Buf, plan: Pool2dPlan): void {
    poolK.maxPool2d(this.d(x), this.d(out), this.d(indices) as Int32Array, plan);
  }
  maxPool2dGrad(dy: Buf, indices: Buf, dx: Buf, sizes: PoolSizes): number {
    return poolK.maxPool2dGrad(this.d(dy), this.d(indices) as Int32Array, this.d(dx), sizes);
  }
  maxPool2dGather(x: Buf, indices: Buf, out: Buf, sizes: PoolSizes): number {
    return poolK.maxPool2dGather(this.d(x), this.d(indices) as Int32Array, this.d(out), sizes);
  }
  avgPool2d(x: Buf, out: Buf, plan: Pool2dPlan): void {
    poolK.avgPool2d(this.d(x), this.d(out), plan);
  }
  avgPool2dGrad(dy: Buf, dx: Buf, plan: Pool2dPlan): void {
    poolK.avgPool2dGrad(this.d(dy), this.d(dx), plan);
  }
  adaptiveAvgPool2d(x: Buf, out: Buf, sizes: PoolSizes): void {
    poolK.adaptiveAvgPool2d(this.d(x), this.d(out), sizes);
  }
  adaptiveAvgPool2dGrad(dy: Buf, dx: Buf, sizes: PoolSizes): void {
    poolK.adaptiveAvgPool2dGrad(this.d(dy), this.d(dx), sizes);
  }
  batchNormStats(x: Buf, mean: Buf, variance: Buf, runningMean: Buf | null, runningVar: Buf | null, momentum: number,
    plan: BatchNormPlan): void {
    batchNormK.batchNormStats(this.d(x), this.d(mean), this.d(variance), this.maybe(runningMean), this.maybe(runningVar),
      momentum, plan);
  }
  batchNorm(x: Buf, out: Buf, mean: Buf, variance: Buf, weight: Buf | null, bias: Buf | null, plan: BatchNormPlan): void {
    batchNormK.batchNorm(this.d(x), this.d(out), this.d(mean), this.d(variance), this.maybe(weight), this.maybe(bias), plan);
  }
  batchNormGrad(x: Buf, dy: Buf, mean: Buf, variance: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, training: boolean, plan: BatchNormPlan): void {
    batchNormK.batchNormGrad(this.d(x), this.d(dy), this.d(mean), this.d(variance), this.maybe(weight), this.maybe(dx),
      this.maybe(dweight), this.maybe(dbias), training, plan);
  }
  layerNorm(x: Buf, out: Buf, mean: Buf | null, rstd: Buf, weight: Buf | null, bias: Buf | null, plan: LayerNormPlan): void {
    layerNormK.layerNorm(this.d(x), this.d(out), this.maybe(mean), this.d(rstd), this.maybe(weight), this.maybe(bias), plan);
  }
  layerNormGrad(x: Buf, dy: Buf, mean: Buf | null, rstd: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, plan: LayerNormPlan): void {
    layerNormK.layerNormGrad(this.d(x), this.d(dy), this.maybe(mean), this.d(rstd), this.maybe(weight), this.maybe(dx),
      this.maybe(dweight), this.maybe(dbias), plan);
  }
  matmulSgd(a: Buf, b: Buf, c: Buf, plan: MatmulPlan, w: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void {
    RefBackend.prototype.matmul.call(this, a, b, c, plan);
    RefBackend.prototype.sgd.call(this, w, c, momentumBuf, n, h);
  }

  sgd(p: Buf, g: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void {
    optimK.sgd(this.d(p), this.d(g), momentumBuf ? this.d(momentumBuf) : null, n, h);
  }
  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamParams): void {
    optimK.adam(this.d(p), this.d(g), this.d(m), this.d(v), n, h);
  }
  rmsprop(p: Buf, g: Buf, sq: Buf, momentumBuf: Buf | null, gradAvg: Buf | null, n: number, h: RmspropParams): void {
    optimK.rmsprop(this.d(p), this.d(g), this.d(sq), momentumBuf ? this.d(momentumBuf) : null,
      gradAvg ? this.d(gradAvg) : null, n, h);
  }
  adagrad(p: Buf, g: Buf, sum: Buf, n: number, h: AdagradParams): void {
    optimK.adagrad(this.d(p), this.d(g), this.d(sum), n, h);
  }

  private own(buf: Buf, kernel: string): RefBuf {
    if (!(buf instanceof RefBuf) || buf.backend !== this) {
      throw new Error(`${kernel}: a buffer of the '${buf.backend.name}' backend was passed to the ref backend`);
    }
    if (!buf.live) throw new Error(`${kernel}: buffer used after it was freed`);
    return buf;
  }

  private d(buf: Buf): TypedArray {
    return this.own(buf, 'ref').data;
  }

  private maskOf(plan: AttentionPlan): attentionK.MaskData | null {
    return plan.mask ? { values: this.d(plan.mask.buf), offsets: this.d(plan.mask.offsets) as Int32Array } : null;
  }

  private maybe(buf: Buf | null): TypedArray | null {
    return buf ? this.d(buf) : null;
  }
}

/** A read or write of `length` elements at `offset` stays inside the buffer, as on the wasm backend. */
function checkRange(what: 'read' | 'write', b: RefBuf, offset: number, length: number): void {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= b.size)) {
    throw new Error(`ref backend: ${what} of ${length} elements at ${offset} overflows a buffer of ${b.size}`);
  }
}
