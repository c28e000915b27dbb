// The storage-only backend contract. Two implementations give the same numbers:
//   ref  — pure TypeScript loops over typed arrays (float32, float64, int32): fallback, test oracle, baseline;
//   wasm — AssemblyScript kernels over WebAssembly linear memory (float32, int32).
// Methods here trust their arguments: shapes are checked and plans are built one layer up, in src/kernels/,
// which is the only caller. Sizes and offsets are in elements, never bytes.

/** Element types: float32 (the wasm backend's), float64 (ref backend only), int32 (labels, indices, masks). */
export type DType = 'float32' | 'float64' | 'int32';
/** The floating-point dtypes: the ones that can require gradients. */
export type FloatDType = 'float32' | 'float64';
/** The typed array that holds a dtype's values. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

/** A block of storage owned by one backend. `size` is in elements. */
export interface Buf {
  readonly dtype: DType;
  readonly size: number;
  readonly backend: Backend;
  /** False once freed; every kernel entry point checks it, so a freed block is never read or written. */
  readonly live: boolean;
}

/** The comparisons: on int32 operands they are the only binary ops (1/0 as int32). */
export type CompareOp = 'equal' | 'greater' | 'greaterEqual' | 'less' | 'lessEqual';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | CompareOp;

export type UnaryOp = 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'square' | 'relu' | 'leakyRelu' | 'sigmoid'
  | 'tanh' | 'gelu' | 'softplus' | 'sign' | 'reciprocal' | 'sin' | 'cos' | 'floor';

/** Unary ops with a fused backward kernel. Which saved value the kernel reads is fixed per op (see below). */
export type UnaryGradOp = 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'gelu' | 'softplus';
/** relu, leakyRelu, gelu, softplus read the input x; sigmoid and tanh read the output y. */
export const UNARY_GRAD_READS: Record<UnaryGradOp, 'x' | 'y'> = {
  relu: 'x', leakyRelu: 'x', gelu: 'x', softplus: 'x', sigmoid: 'y', tanh: 'y',
};

export type ReduceOp = 'sum' | 'mean' | 'max';

/**
 * C[i] = op(A[i])·op(B[i]) (+ bias) for i < batch. A is [m,k] row-major, or [k,m] when transA; B is [k,n],
 * or [n,k] when transB; C is [m,n]. strideA / strideB step between batch items (0 broadcasts one matrix over the
 * batch); C is dense, batch·m·n. bias, when given, has n elements added to every row of every C[i].
 */
export interface MatmulPlan {
  m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  batch: number; strideA: number; strideB: number;
  bias: Buf | null;
}

/**
 * The geometry of a 2-D convolution in PyTorch's layouts (conv1d is h = kh = oh = 1): x [n, c, h, w], weight
 * [o, c/groups, kh, kw], out [n, o, oh, ow]. padH / padW are the zeros before the image; those after it follow from
 * oh and ow (so padding may be asymmetric, as 'same' with an even kernel needs). Output (oh', ow') reads input
 * rows oh'·strideH − padH + i·dilationH for i < kh, and columns likewise; taps outside the image read 0.
 */
export interface ConvPlan {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number; oh: number; ow: number;
  strideH: number; strideW: number; padH: number; padW: number;
  dilationH: number; dilationW: number; groups: number;
}

/**
 * out[i0..i3] = a[Σ i·aStrides] op b[Σ i·bStrides] over dims (≤ 4 entries after collapsing, innermost last);
 * out is dense. A stride of 0 broadcasts that operand along the dimension.
 */
export interface BroadcastPlan { dims: number[]; aStrides: number[]; bStrides: number[] }

/** out = cond ≠ 0 ? a : b, each operand strided over dims as in BroadcastPlan; out is dense. */
export interface WherePlan extends BroadcastPlan { condStrides: number[] }

/** out[outOffset + Σ i·outStrides] = x[xOffset + Σ i·xStrides] for every index i of dims (permute, expand, slice, concat). */
export interface CopyPlan { dims: number[]; xStrides: number[]; xOffset: number; outStrides: number[]; outOffset: number }

/** The sizes of a pooling call: `planes` (N·C) input planes of h×w, row-major, and as many output planes of oh×ow. */
export interface PoolSizes { planes: number; h: number; w: number; oh: number; ow: number }

/**
 * A 2-D pooling window: output (i, j) looks at rows i·sh − ph + a·dh (a < kh) and columns j·sw − pw + b·dw
 * (b < kw); positions outside the plane are padding. For the average (dh = dw = 1), divisor > 0 replaces the
 * count, and countIncludePad counts the padding up to the padded border (PyTorch's rules).
 */
export interface Pool2dPlan extends PoolSizes {
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  countIncludePad: boolean; divisor: number;
  /** Max pooling: NaNs are skipped (TensorFlow's rule) instead of winning (PyTorch's). */
  ignoreNaN: boolean;
}

/** x viewed as [n, c, l]: batch normalisation of each channel over its n·l values; eps is added to the variance. */
export interface BatchNormPlan { n: number; c: number; l: number; eps: number }

/**
 * x viewed as [rows, n]: each row normalised over its n values (layerNorm), or with rms by its root mean square
 * alone, not centred (rmsNorm); eps is added to the variance (rms: to mean(x²)).
 */
export interface LayerNormPlan { rows: number; n: number; eps: number; rms: boolean }

/**
 * Scaled dot-product attention over `heads` independent (batch·head) items, each dense and row-major:
 * q [L, E], k [S, E], v [S, Ev], out [L, Ev], and lse [L], the log-sum-exp of each row of scores (−∞ for a row
 * that attends to nothing, whose output is 0 as PyTorch's safe softmax gives). Scores are q·kᵀ·scale; with a mask,
 * element (i, j) of item h reads mask[maskOffsets[h] + i·maskRowStride + j·maskColStride] (strides 0 broadcast):
 * 'add' adds it to the score (a float mask), 'keep' attends only where it is nonzero (an int32 mask: PyTorch's
 * boolean mask). causal attends only where j ≤ i (the top-left-aligned lower triangle, PyTorch's is_causal).
 */
export interface AttentionPlan {
  heads: number; L: number; S: number; E: number; Ev: number;
  scale: number; causal: boolean;
  mask: AttentionMask | null;
}
export interface AttentionMask {
  kind: 'add' | 'keep';
  buf: Buf;
  /** int32 [heads]: where each item's [L, S] view of the mask starts, in elements. */
  offsets: Buf;
  rowStride: number;
  colStride: number;
}

export interface SgdParams { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; firstStep: boolean }
/** bc1 = 1 − β1^t and bc2 = 1 − β2^t, computed once per step by the optimizer. decoupled = AdamW. */
export interface AdamParams {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean;
  bc1: number; bc2: number;
}
export interface RmspropParams { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean }
/** clr = lr / (1 + (t − 1)·lrDecay), computed by the optimizer. */
export interface AdagradParams { clr: number; eps: number; weightDecay: number }

export interface MemoryStats {
  /** Live buffers. */
  buffers: number;
  /** Bytes held by live buffers (element size × elements, exactly). */
  bytesInUse: number;
  /** Highest bytesInUse since start or the last resetPeak(). */
  peakBytes: number;
  /** Bytes the backend has reserved from its host (linear memory in use by the heap, incl. free blocks). */
  heapBytes: number;
  /** Upper bound on heapBytes, or Infinity. */
  limitBytes: number;
}

/**
 * The WebAssembly builds: simd, relaxed (relaxed SIMD: FMA), scalar (no SIMD), debug (assertions, guard words), and
 * the shared-memory threads builds simd-threads and relaxed-simd-threads.
 */
export type BuildName = 'simd' | 'scalar' | 'relaxed' | 'debug' | 'simd-threads' | 'relaxed-simd-threads';

/**
 * The contract a backend implements: storage (alloc, free, read, write, memory) and one method per kernel, over raw
 * buffers and precomputed plans. The ref backend (pure TypeScript) and the wasm backend implement it; tensors and the
 * `kernels` namespace call it. Not meant to be called directly: use the ops.
 */
export interface Backend {
  /** Which implementation this is. */
  readonly name: 'ref' | 'wasm';
  /** 'ref' for the reference backend; the loaded .wasm build otherwise. */
  readonly build: BuildName | 'ref';
  /** The dtypes it stores. */
  readonly dtypes: readonly DType[];

  /** New uninitialised storage. Throws a clear Error past the memory limit; the backend stays usable. */
  alloc(dtype: DType, size: number): Buf;
  /** Releases storage from alloc (the block is reused). */
  free(buf: Buf): void;
  /** Copy out `length` elements starting at `offset`. */
  read(buf: Buf, offset?: number, length?: number): TypedArray;
  /** Copy `src` in, starting at element `offset`. */
  write(buf: Buf, src: ArrayLike<number>, offset?: number): void;
  /** Its storage counts (buffers, bytes, peak, heap, limit). */
  memory(): MemoryStats;
  /** Resets the peak bytes to the current bytes. */
  resetPeak(): void;

  /** c = op(a)·op(b), batched, as the plan says (transposes, bias, fused activation). */
  matmul(a: Buf, b: Buf, c: Buf, plan: MatmulPlan): void;
  /** out = conv2d(x, weight) (+ bias [o] per output channel). */
  conv2d(x: Buf, weight: Buf, bias: Buf | null, out: Buf, plan: ConvPlan): void;
  /** dx = the gradient of sum(conv2d(x, weight)·dy) with respect to x (dx is written, not accumulated). */
  conv2dInputGrad(dy: Buf, weight: Buf, dx: Buf, plan: ConvPlan): void;
  /** dw = the gradient of sum(conv2d(x, weight)·dy) with respect to weight (written, not accumulated). */
  conv2dWeightGrad(x: Buf, dy: Buf, dw: Buf, plan: ConvPlan): void;
  /** out = softmax(q·kᵀ·scale, masked)·v per item, and each row's log-sum-exp of the masked scores (see AttentionPlan). */
  attention(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, plan: AttentionPlan): void;
  /**
   * The backward of attention from its inputs, its output and lse: dq, dk, dv (written, not accumulated; each may be
   * null when not wanted), recomputing the probabilities from lse block by block.
   */
  attentionGrad(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, dout: Buf, dq: Buf | null, dk: Buf | null, dv: Buf | null,
    plan: AttentionPlan): void;
  /** Float operands: any op, out in their dtype. int32 operands: comparisons only, out int32 (1/0). */
  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, plan: BroadcastPlan): void;
  /** out = cond ≠ 0 ? a : b, broadcasting by the plan's strides. */
  where(cond: Buf, a: Buf, b: Buf, out: Buf, plan: WherePlan): void;
  /** out = f(x) elementwise; alpha is leakyRelu's slope, softplus's beta, unused otherwise. */
  unary(op: UnaryOp, x: Buf, out: Buf, n: number, alpha: number): void;
  /** dx = dy · f′, where f′ is computed from `saved` (x or y per UNARY_GRAD_READS). */
  unaryGrad(op: UnaryGradOp, saved: Buf, dy: Buf, dx: Buf, n: number, alpha: number): void;
  /**
   * out[o,i] = reduce over j of x[o,j,i] for x viewed as [outer, r, inner]; argmax gets j (int32) for max.
   * int32 x (and out): max only.
   */
  reduce(op: ReduceOp, x: Buf, out: Buf, outer: number, r: number, inner: number, argmax: Buf | null): void;
  /** (log-)softmax over j of x viewed as [outer, r, inner]. */
  softmax(x: Buf, out: Buf, outer: number, r: number, inner: number, log: boolean): void;
  /** Backward of softmax (from y = softmax) or logSoftmax (from y = logSoftmax). */
  softmaxGrad(y: Buf, dy: Buf, dx: Buf, outer: number, r: number, inner: number, log: boolean): void;
  /**
   * Softmax cross-entropy of logits [n, c] against int32 labels [n] with target (1−s)·onehot + s/c.
   * Writes the per-row loss to losses [n] and the softmax to probs [n, c] (kept for the backward). A row whose
   * label is ignoreIndex has loss 0 (its probs are still the softmax).
   */
  crossEntropy(logits: Buf, labels: Buf, losses: Buf, probs: Buf, n: number, c: number, smoothing: number,
    ignoreIndex: number): void;
  /**
   * dx[i] = (probs[i] − target[i]) · dloss[i·dlossStride] · scale; dlossStride 0 broadcasts one upstream value.
   * A row whose label is ignoreIndex gets dx[i] = 0.
   */
  crossEntropyGrad(probs: Buf, labels: Buf, dloss: Buf, dlossStride: number, scale: number, dx: Buf,
    n: number, c: number, smoothing: number, ignoreIndex: number): void;
  /**
   * out = x converted to out's dtype (n elements): float → int32 truncates toward zero, saturating at the int32
   * range (NaN → 0); int32 → float and float64 → float32 round to nearest even; the rest is exact.
   */
  cast(x: Buf, out: Buf, n: number): void;
  /**
   * The lower (upper = false: keep column − row ≤ diagonal) or upper (upper: keep column − row ≥ diagonal)
   * triangle of each of `batch` [rows, cols] matrices, the rest 0 (any dtype; out may alias x).
   */
  triangle(x: Buf, out: Buf, batch: number, rows: number, cols: number, diagonal: number, upper: boolean): void;
  /**
   * Cumulative sum over j of x viewed as [outer, r, inner] (reverse: from the last j down), accumulated in
   * float64 and rounded once per output.
   */
  cumsum(x: Buf, out: Buf, outer: number, r: number, inner: number, reverse: boolean): void;
  /** A strided copy of x into out (permute, slice, broadcast), by the plan. */
  copy(x: Buf, out: Buf, plan: CopyPlan): void;
  /** out[offset .. offset+n) = value. */
  fill(out: Buf, value: number, offset: number, n: number): void;
  /** out = alpha·x (n elements). */
  scale(x: Buf, out: Buf, n: number, alpha: number): void;
  /** y += alpha·x (n elements). */
  axpy(alpha: number, x: Buf, y: Buf, n: number): void;
  /** out[o,j,i] = x[o, idx[j], i] for x [outer, r, inner], idx int32 [nIdx], out [outer, nIdx, inner]. */
  gather(x: Buf, idx: Buf, out: Buf, outer: number, r: number, inner: number, nIdx: number): void;
  /** dx[o, idx[j], i] += dy[o,j,i]: the gradient of gather (dx is not cleared first). */
  scatterAdd(dy: Buf, idx: Buf, dx: Buf, outer: number, r: number, inner: number, nIdx: number): void;

  /** 2-D max pooling (see Pool2dPlan); indices (int32, out's shape) get each maximum's position row·w + column in its plane. */
  maxPool2d(x: Buf, out: Buf, indices: Buf, plan: Pool2dPlan): void;
  /**
   * dx = 0, then dx[plane, indices[plane, o]] += dy[plane, o]; index −1 (a window without a position in the plane)
   * is skipped. Returns the position of the first index outside [−1, h·w) (skipped, never written), or −1.
   */
  maxPool2dGrad(dy: Buf, indices: Buf, dx: Buf, sizes: PoolSizes): number;
  /** out[plane, o] = x[plane, indices[plane, o]] (0 for −1): the gradient of maxPool2dGrad. Returns as it does. */
  maxPool2dGather(x: Buf, indices: Buf, out: Buf, sizes: PoolSizes): number;
  /** Average pooling of x into out, by the plan. */
  avgPool2d(x: Buf, out: Buf, plan: Pool2dPlan): void;
  /** dx = 0, then each window's positions get dy / divisor. */
  avgPool2dGrad(dy: Buf, dx: Buf, plan: Pool2dPlan): void;
  /** Averages over PyTorch's adaptive windows [⌊i·h/oh⌋, ⌈(i+1)·h/oh⌉) × the same for columns. */
  adaptiveAvgPool2d(x: Buf, out: Buf, sizes: PoolSizes): void;
  /** The gradient of adaptiveAvgPool2d: each dy value spread over its window in dx. */
  adaptiveAvgPool2dGrad(dy: Buf, dx: Buf, sizes: PoolSizes): void;
  /**
   * Per-channel mean and biased variance ([c] each); with running buffers, also updates them in place:
   * (1 − momentum)·running + momentum·batch, the variance unbiased (n·l ≥ 2).
   */
  batchNormStats(x: Buf, mean: Buf, variance: Buf, runningMean: Buf | null, runningVar: Buf | null, momentum: number,
    plan: BatchNormPlan): void;
  /** out = (x − mean)/√(var + eps)·weight + bias per channel; weight and bias may be null (1 and 0). */
  batchNorm(x: Buf, out: Buf, mean: Buf, variance: Buf, weight: Buf | null, bias: Buf | null, plan: BatchNormPlan): void;
  /**
   * The backward of batchNorm: dx (training: mean and var were the batch's and depend on x; evaluation: they are
   * constants), dweight, dbias; each output may be null when not wanted.
   */
  batchNormGrad(x: Buf, dy: Buf, mean: Buf, variance: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, training: boolean, plan: BatchNormPlan): void;
  /**
   * Per row: the mean (into mean [rows]; null for rms) and rstd = 1/√(var + eps) (into rstd [rows]), then
   * out = (x − mean)·rstd·weight + bias, weight and bias [n] (either may be null: 1 and 0).
   */
  layerNorm(x: Buf, out: Buf, mean: Buf | null, rstd: Buf, weight: Buf | null, bias: Buf | null, plan: LayerNormPlan): void;
  /**
   * The backward of layerNorm from the mean and rstd it wrote: dx (rows), dweight = Σ over rows of dy·x̂ and
   * dbias = Σ over rows of dy (x̂ = (x − mean)·rstd); each output may be null when not wanted.
   */
  layerNormGrad(x: Buf, dy: Buf, mean: Buf | null, rstd: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, plan: LayerNormPlan): void;

  // Optimizer updates, in place, per element (PyTorch's formulas; see src/optim/).
  /** One SGD update of n elements of p from g, in place. */
  sgd(p: Buf, g: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void;
  /**
   * matmul(a, b, c, plan) then sgd(w, c, momentumBuf, n, h): a weight gradient and the SGD update that consumes it,
   * in one call where the backend can fuse them (compile() makes these; the results are those of the two calls).
   */
  matmulSgd(a: Buf, b: Buf, c: Buf, plan: MatmulPlan, w: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void;
  /** One Adam/AdamW update of n elements of p from g, with the running averages m and v, in place. */
  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamParams): void;
  /** One RMSprop update of n elements of p from g, in place. */
  rmsprop(p: Buf, g: Buf, sq: Buf, momentumBuf: Buf | null, gradAvg: Buf | null, n: number, h: RmspropParams): void;
  /** One Adagrad update of n elements of p from g, with the running sum, in place. */
  adagrad(p: Buf, g: Buf, sum: Buf, n: number, h: AdagradParams): void;
}

/**
 * What a backend may add for compile()'s replay (not a Backend method: observers do not see it, and a backend
 * without it replays through its methods).
 */
export interface DirectCalls {
  /**
   * A function that runs the call `method(...args)` as the method would, reading `args` when it runs (replay patches
   * them in place), without the checks a replay has made once for all its calls (buffers alive and this backend's)
   * and without sharing the call between threads (with workers, it hands a call the method might share to the
   * method); undefined where the method must run (no shortcut for it, a build that checks every call).
   */
  direct(method: string, args: readonly unknown[]): (() => unknown) | undefined;
}
