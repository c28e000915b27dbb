// The kernel layer: shape-level, validated entry points over any Backend. Every function checks dtypes, shapes
// and buffer sizes, builds the plan the backend expects, allocates the output on the inputs' backend and returns
// it; the caller owns (and frees) what it gets back. Errors name the kernel and the shapes involved, so a wrong
// shape is a clear Error and never an out-of-bounds write. This is the only caller of the backends' kernels
// (the optimizers' in-place updates included): a kernel never sees a buffer it could overrun.
// A kernel that fails after allocating (out of memory in its scratch space, a trap) frees what it allocated:
// every entry point that allocates runs inside freeOnError().
import type {
  AdagradParams, AdamParams, AttentionPlan, Backend, BatchNormPlan, BinaryOp, Buf, CompareOp, ConvPlan, DType,
  LayerNormPlan, Pool2dPlan, PoolSizes, ReduceOp, RmspropParams, SgdParams, TypedArray, UnaryGradOp, UnaryOp,
} from '../backend/types.js';
import { replayed } from '../compile/trace.js';
import { describe } from '../options.js';
import {
  broadcastPlan, broadcastShapes, broadcastStrides, checkShape, collapse, fmt, normalizeAxes, normalizeAxis, sameShape,
  sizeOf, stridesOf,
  type Shape,
} from './shape.js';

/** A buffer with a shape: what the kernels take and return. */
export interface NDArray {
  /** The storage: a backend buffer (dtype, element count, backend). */
  readonly buf: Buf;
  /** The dims, row-major. */
  readonly shape: Shape;
}

/**
 * A new uninitialised array of `dtype` and `shape` on `backend`; the caller frees it with free(). Throws when the
 * backend does not store the dtype or the memory limit is reached.
 */
export function empty(backend: Backend, dtype: DType, shape: Shape): NDArray {
  checkShape(shape, 'alloc');
  if (!backend.dtypes.includes(dtype)) {
    throw new Error(`alloc: the ${backend.name} backend does not store ${dtype} (it stores ${backend.dtypes.join(', ')})`);
  }
  const x = { buf: backend.alloc(dtype, sizeOf(shape)), shape: [...shape] };
  if (depth > 0) allocated.push(x);
  return x;
}

/** Frees the array's storage. */
export function free(x: NDArray): void {
  x.buf.backend.free(x.buf);
}

/**
 * The arrays empty() made inside freeOnError() scopes, innermost last; `depth` counts the open scopes (none:
 * nothing is recorded). One list for all scopes, each remembering where it starts: kernels open a scope on every
 * call, and a list per scope was allocation and copying on every call.
 */
const allocated: NDArray[] = [];
let depth = 0;

/**
 * Runs fn and returns its result; if fn throws, first frees every array that empty() allocated inside it (nested
 * kernels included) and that is still live. So a kernel, or an op made of several kernels, that fails part-way
 * (out of memory for its scratch space or its second output, a trap) leaks nothing. On success the arrays are the
 * caller's, and an enclosing freeOnError() takes them over. An array handed to a Tensor inside fn would be freed
 * under it: wrap arrays in tensors after fn has returned.
 */
export function freeOnError<T>(fn: () => T): T {
  const start = allocated.length;
  depth++;
  try {
    return fn();
  } catch (e) {
    for (let i = start; i < allocated.length; i++) if (allocated[i]!.buf.live) free(allocated[i]!);
    allocated.length = start;
    throw e;
  } finally {
    // On success the arrays stay listed: they belong to the enclosing scope now, until the outermost returns.
    if (--depth === 0) allocated.length = 0;
  }
}

function check(kernel: string, ...xs: NDArray[]): Backend {
  const backend = xs[0]!.buf.backend;
  for (const x of xs) {
    if (!x.buf.live) throw new Error(`${kernel}: input was used after it was freed (disposed)`);
    if (x.buf.backend !== backend) {
      throw new Error(`${kernel}: inputs live on different backends (${backend.name}, ${x.buf.backend.name})`);
    }
    if (x.buf.size !== sizeOf(x.shape)) throw new Error(`${kernel}: shape ${fmt(x.shape)} does not match a buffer of ${x.buf.size}`);
  }
  return backend;
}

function checkFloat(kernel: string, ...xs: NDArray[]): DType {
  const dtype = xs[0]!.buf.dtype;
  for (const x of xs) {
    if (x.buf.dtype === 'int32') {
      throw new Error(`${kernel}: expects float32 or float64 data, got int32 (x.float() casts it)`);
    }
    if (x.buf.dtype !== dtype) throw new Error(`${kernel}: dtypes differ (${dtype} and ${x.buf.dtype})`);
  }
  return dtype;
}

function checkInt(kernel: string, what: string, x: NDArray): void {
  if (x.buf.dtype !== 'int32') throw new Error(`${kernel}: ${what} must be int32, got ${x.buf.dtype}`);
}

/** Options of the matmul kernel. */
export interface MatmulOptions {
  /** Read A transposed. */
  transA?: boolean;
  /** Read B transposed. */
  transB?: boolean;
  /** Added to every row of the result ([n]). */
  bias?: NDArray | null;
}

/**
 * op(A)·op(B) for 2-D operands, batched [..., m, k]·[..., k, n] with equal batch dims, or a 2-D operand broadcast
 * over the other's batch. A 1-D A is a row vector and a 1-D B a column vector; that dim is dropped from the result.
 */
export function matmul(a: NDArray, b: NDArray, options: MatmulOptions = {}): NDArray {
  const { transA = false, transB = false, bias = null } = options;
  const backend = check('matmul', a, b, ...(bias ? [bias] : []));
  const dtype = checkFloat('matmul', a, b, ...(bias ? [bias] : []));
  // Built only for an error message: a product's checks run on every call.
  const shapes = () => `${fmt(a.shape)}${transA ? 'ᵀ' : ''}·${fmt(b.shape)}${transB ? 'ᵀ' : ''}`;
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error(`matmul: scalars cannot be multiplied as matrices: ${shapes()}`);
  const aMat = a.shape.length === 1 ? (transA ? [a.shape[0]!, 1] : [1, a.shape[0]!]) : a.shape;
  const bMat = b.shape.length === 1 ? (transB ? [1, b.shape[0]!] : [b.shape[0]!, 1]) : b.shape;
  const [ar, ac] = aMat.slice(-2) as [number, number];
  const [br, bc] = bMat.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (k !== kb) throw new Error(`matmul: inner dimensions differ: ${shapes()} (${k} ≠ ${kb})`);
  const aBatch = aMat.slice(0, -2);
  const bBatch = bMat.slice(0, -2);
  let batchShape: number[];
  if (aBatch.length === 0) batchShape = [...bBatch];
  else if (bBatch.length === 0 || sameShape(aBatch, bBatch)) batchShape = [...aBatch];
  else throw new Error(`matmul: batch dimensions differ: ${shapes()} (a 2-D operand broadcasts; otherwise they must be equal)`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
    throw new Error(`matmul: bias must have shape [${n}], got ${fmt(bias.shape)}`);
  }
  const batch = sizeOf(batchShape);
  const outShape = [...batchShape, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  return freeOnError(() => {
    const out = empty(backend, dtype, outShape);
    backend.matmul(a.buf, b.buf, out.buf, {
      m, n, k, transA, transB, batch,
      strideA: aBatch.length ? m * k : 0,
      strideB: bBatch.length ? k * n : 0,
      bias: bias ? bias.buf : null,
    });
    return out;
  });
}

const COMPARISONS: readonly BinaryOp[] = ['equal', 'greater', 'greaterEqual', 'less', 'lessEqual'] satisfies CompareOp[];

/**
 * Elementwise a op b with broadcasting; comparisons give 1/0 in the inputs' dtype. On int32 operands (both) only
 * the comparisons run.
 */
export function binary(op: BinaryOp, a: NDArray, b: NDArray): NDArray {
  const backend = check(op, a, b);
  const ints = a.buf.dtype === 'int32' && b.buf.dtype === 'int32' && COMPARISONS.includes(op);
  const dtype = ints ? 'int32' : checkFloat(op, a, b);
  const { shape, dims, strides } = broadcastPlan(op, [a.shape, b.shape]);
  return freeOnError(() => {
    const out = empty(backend, dtype, shape);
    if (out.buf.size > 0) backend.binary(op, a.buf, b.buf, out.buf, { dims, aStrides: strides[0]!, bStrides: strides[1]! });
    return out;
  });
}

/** cond ≠ 0 ? a : b, all three broadcast together. */
export function where(cond: NDArray, a: NDArray, b: NDArray): NDArray {
  const backend = check('where', cond, a, b);
  const dtype = checkFloat('where', cond, a, b);
  const { shape, dims, strides } = broadcastPlan('where', [cond.shape, a.shape, b.shape]);
  return freeOnError(() => {
    const out = empty(backend, dtype, shape);
    if (out.buf.size === 0) return out;
    backend.where(cond.buf, a.buf, b.buf, out.buf, { dims, condStrides: strides[0]!, aStrides: strides[1]!, bStrides: strides[2]! });
    return out;
  });
}

/** A new array: the elementwise `op` of x (alpha: leakyRelu's slope, softplus's β). Caller frees it. */
export function unary(op: UnaryOp, x: NDArray, alpha = 0): NDArray {
  const backend = check(op, x);
  const dtype = checkFloat(op, x);
  return freeOnError(() => {
    const out = empty(backend, dtype, x.shape);
    backend.unary(op, x.buf, out.buf, out.buf.size, alpha);
    return out;
  });
}

/** dx = dy · f′ for the fused backward kernels; `saved` is x or y as UNARY_GRAD_READS says. */
export function unaryGrad(op: UnaryGradOp, saved: NDArray, dy: NDArray, alpha = 0): NDArray {
  const backend = check(`${op}Grad`, saved, dy);
  const dtype = checkFloat(`${op}Grad`, saved, dy);
  if (!sameShape(saved.shape, dy.shape)) {
    throw new Error(`${op}Grad: shapes differ: ${fmt(saved.shape)} and ${fmt(dy.shape)}`);
  }
  return freeOnError(() => {
    const dx = empty(backend, dtype, dy.shape);
    backend.unaryGrad(op, saved.buf, dy.buf, dx.buf, dx.buf.size, alpha);
    return dx;
  });
}

/** Views shape as [outer, r, inner] around one contiguous block of axes. */
function around(shape: Shape, first: number, last: number): [number, number, number] {
  return [sizeOf(shape.slice(0, first)), sizeOf(shape.slice(first, last + 1)), sizeOf(shape.slice(last + 1))];
}

/** What reduce() returns; the caller frees both. */
export interface ReduceResult {
  /** The reduced values. */
  out: NDArray;
  /** For max: int32 positions of the maxima within their reduced blocks; null otherwise. */
  argmax: NDArray | null;
}

/**
 * sum / mean / max over `axes` (default all). For max, `argmax` (int32, shape of out) holds the position of the
 * maximum within the reduced block, counted row-major over the reduced axes. Caller frees both.
 */
export function reduce(op: ReduceOp, x: NDArray, axes?: number | readonly number[], keepdims = false): ReduceResult {
  const backend = check(op, x);
  const dtype = op === 'max' && x.buf.dtype === 'int32' ? 'int32' : checkFloat(op, x); // int32: max (and argmax) only
  const ax = normalizeAxes(op, x.shape, axes);
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const outShape = keepdims ? keptShape : x.shape.filter((_, i) => !ax.includes(i));
  if (op === 'max' && ax.some((i) => x.shape[i] === 0)) {
    throw new Error(`max: cannot reduce over an empty axis of shape ${fmt(x.shape)}`);
  }
  // Axes of size 1 do not matter for contiguity; if the rest form one block, reduce in place, else permute first.
  const real = ax.filter((i) => x.shape[i] !== 1);
  const contiguous = real.length === 0 || real.every((a, i) => i === 0 || (a > real[i - 1]! &&
    x.shape.slice(real[i - 1]! + 1, a).every((d) => d === 1)));
  return freeOnError(() => {
    let src = x;
    let [outer, r, inner] = real.length ? around(x.shape, real[0]!, real[real.length - 1]!) : [sizeOf(x.shape), 1, 1];
    if (!contiguous) {
      const keep = x.shape.map((_, i) => i).filter((i) => !ax.includes(i));
      src = permute(x, [...keep, ...ax]);
      [outer, r, inner] = [sizeOf(keep.map((i) => x.shape[i]!)), sizeOf(ax.map((i) => x.shape[i]!)), 1];
    }
    const out = empty(backend, dtype, outShape);
    const argmax = op === 'max' ? empty(backend, 'int32', outShape) : null;
    backend.reduce(op, src.buf, out.buf, outer, r, inner, argmax ? argmax.buf : null);
    if (src !== x) free(src);
    return { out, argmax };
  });
}

/** Sums a broadcast gradient back down to `shape` (the reverse of broadcasting `shape` up to g.shape). */
export function sumTo(g: NDArray, shape: Shape): NDArray {
  const lead = g.shape.length - shape.length;
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[i + lead])) {
    throw new Error(`sumTo: ${fmt(g.shape)} cannot be summed to ${fmt(shape)}`);
  }
  const axes = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  const { out } = reduce('sum', g, axes, true);
  return { buf: out.buf, shape: [...shape] };
}

/** A new array: softmax of x along `axis` (log: log-softmax). Caller frees it. */
export function softmax(x: NDArray, axis = -1, log = false): NDArray {
  const name = log ? 'logSoftmax' : 'softmax';
  const backend = check(name, x);
  const dtype = checkFloat(name, x);
  const a = normalizeAxis(name, x.shape, axis);
  return freeOnError(() => {
    const out = empty(backend, dtype, x.shape);
    if (out.buf.size > 0) backend.softmax(x.buf, out.buf, ...around(x.shape, a, a), log);
    return out;
  });
}

/**
 * A new array: the gradient of softmax (log: log-softmax) along `axis` from its output y and the upstream dy. Caller
 * frees it.
 */
export function softmaxGrad(y: NDArray, dy: NDArray, axis = -1, log = false): NDArray {
  const name = log ? 'logSoftmaxGrad' : 'softmaxGrad';
  const backend = check(name, y, dy);
  const dtype = checkFloat(name, y, dy);
  if (!sameShape(y.shape, dy.shape)) throw new Error(`${name}: shapes differ: ${fmt(y.shape)} and ${fmt(dy.shape)}`);
  const a = normalizeAxis(name, y.shape, axis);
  return freeOnError(() => {
    const dx = empty(backend, dtype, y.shape);
    if (dx.buf.size > 0) backend.softmaxGrad(y.buf, dy.buf, dx.buf, ...around(y.shape, a, a), log);
    return dx;
  });
}

/**
 * Checks labels [n] (int32, each in [0, c) or equal to ignoreIndex) against logits [n, c]; returns n, c and how
 * many rows count (are not ignored).
 */
function checkLabels(kernel: string, logits: NDArray, labels: NDArray, ignoreIndex: number): [number, number, number] {
  if (logits.shape.length !== 2) throw new Error(`${kernel}: logits must be [batch, classes], got ${fmt(logits.shape)}`);
  checkInt(kernel, 'labels', labels);
  if ((ignoreIndex | 0) !== ignoreIndex) {
    throw new Error(`${kernel}: ignoreIndex must be an int32, got ${describe(ignoreIndex)}`);
  }
  const [n, c] = logits.shape as [number, number];
  if (labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new Error(`${kernel}: labels must have shape [${n}] for logits ${fmt(logits.shape)}, got ${fmt(labels.shape)}`);
  }
  let counted = 0;
  checkData(labels.buf, (values) => {
    counted = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v === ignoreIndex) continue;
      if (v < 0 || v >= c) {
        throw new Error(`${kernel}: label ${v} at row ${i} is out of range [0, ${c}) and is not ignoreIndex (${ignoreIndex})`);
      }
      counted++;
    }
  });
  return [n, c, counted];
}

function checkSmoothing(kernel: string, s: number): void {
  if (!(s >= 0 && s <= 1)) throw new Error(`${kernel}: labelSmoothing must be in [0, 1], got ${s}`);
}

/**
 * Per-row softmax cross-entropy (0 for rows labelled ignoreIndex, PyTorch's default −100), the softmax itself
 * (kept for the backward) and the number of rows that count. Caller frees both arrays.
 */
export function crossEntropy(logits: NDArray, labels: NDArray, smoothing = 0, ignoreIndex = -100):
  {
    /** The loss of each row. */
    losses: NDArray;
    /** The softmax of each row (for the backward). */
    probs: NDArray;
    /** Rows not labelled ignoreIndex. */
    counted: number;
  } {
  const backend = check('crossEntropy', logits, labels);
  const dtype = checkFloat('crossEntropy', logits);
  checkSmoothing('crossEntropy', smoothing);
  const [n, c, counted] = checkLabels('crossEntropy', logits, labels, ignoreIndex);
  return freeOnError(() => {
    const losses = empty(backend, dtype, [n]);
    const probs = empty(backend, dtype, [n, c]);
    backend.crossEntropy(logits.buf, labels.buf, losses.buf, probs.buf, n, c, smoothing, ignoreIndex);
    return { losses, probs, counted };
  });
}

/**
 * d logits = (probs − target) · dloss · scale, with dloss per row ([n]) or one value ([] or [1]); 0 in rows
 * labelled ignoreIndex.
 */
export function crossEntropyGrad(probs: NDArray, labels: NDArray, dloss: NDArray, scale = 1, smoothing = 0,
  ignoreIndex = -100): NDArray {
  const backend = check('crossEntropyGrad', probs, labels, dloss);
  const dtype = checkFloat('crossEntropyGrad', probs, dloss);
  checkSmoothing('crossEntropyGrad', smoothing);
  const [n, c] = checkLabels('crossEntropyGrad', probs, labels, ignoreIndex);
  const size = sizeOf(dloss.shape);
  if (size !== 1 && !(dloss.shape.length === 1 && size === n)) {
    throw new Error(`crossEntropyGrad: upstream gradient must be a scalar or [${n}], got ${fmt(dloss.shape)}`);
  }
  return freeOnError(() => {
    const dx = empty(backend, dtype, [n, c]);
    backend.crossEntropyGrad(probs.buf, labels.buf, dloss.buf, size === 1 && n !== 1 ? 0 : 1, scale, dx.buf, n, c,
      smoothing, ignoreIndex);
    return dx;
  });
}

// ---- Sequence models: dtype conversion, triangles, cumulative sums -------------------------------------------

/**
 * x converted to `dtype` (a new array): float → int32 truncates toward zero, saturating at the int32 range (NaN →
 * 0); to float32 rounds to nearest even; the rest is exact.
 */
export function cast(x: NDArray, dtype: DType): NDArray {
  const backend = check('cast', x);
  return freeOnError(() => {
    const out = empty(backend, dtype, x.shape);
    if (out.buf.size > 0) backend.cast(x.buf, out.buf, out.buf.size);
    return out;
  });
}

/**
 * The lower (tril: column − row ≤ diagonal) or upper (triu: column − row ≥ diagonal) triangle of the matrices in
 * the last two dims of x (rank ≥ 2, any dtype), the rest 0.
 */
export function triangle(x: NDArray, diagonal: number, upper: boolean): NDArray {
  const name = upper ? 'triu' : 'tril';
  const backend = check(name, x);
  if (x.shape.length < 2) {
    throw new Error(`${name}: expected a tensor of rank ≥ 2 (matrices in the last two dims), got ${fmt(x.shape)}`);
  }
  if (!Number.isSafeInteger(diagonal)) throw new Error(`${name}: diagonal must be an integer, got ${describe(diagonal)}`);
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  // Beyond ±(rows + cols) every diagonal keeps all or nothing: clamped, it fits the kernel's i32.
  const d = Math.max(-(rows + cols), Math.min(rows + cols, diagonal));
  return freeOnError(() => {
    const out = empty(backend, x.buf.dtype, x.shape);
    if (out.buf.size > 0) backend.triangle(x.buf, out.buf, sizeOf(x.shape.slice(0, -2)), rows, cols, d, upper);
    return out;
  });
}

/** The cumulative sum of x along `axis` (reverse: from the end), accumulated in float64. */
export function cumsum(x: NDArray, axis: number, reverse = false): NDArray {
  const backend = check('cumsum', x);
  const dtype = checkFloat('cumsum', x);
  const a = normalizeAxis('cumsum', x.shape, axis);
  return freeOnError(() => {
    const out = empty(backend, dtype, x.shape);
    if (out.buf.size > 0) backend.cumsum(x.buf, out.buf, ...around(x.shape, a, a), reverse);
    return out;
  });
}

/** A dense copy of x with its axes permuted (out.shape[i] = x.shape[perm[i]]). */
export function permute(x: NDArray, perm: readonly number[]): NDArray {
  const backend = check('permute', x);
  const rank = x.shape.length;
  if (!isPerm(perm, rank)) {
    throw new Error(`permute: [${perm.join(',')}] is not a permutation of the ${rank} axes of ${fmt(x.shape)}`);
  }
  return copyBlock(backend, x, x.shape.map(() => 0), x.shape, perm);
}

/** A dense copy of x broadcast to `shape`. */
export function broadcastTo(x: NDArray, shape: Shape): NDArray {
  const backend = check('broadcastTo', x);
  checkShape(shape, 'broadcastTo');
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(target, shape)) throw new Error(`broadcastTo: ${fmt(x.shape)} cannot be broadcast to ${fmt(shape)}`);
  return freeOnError(() => {
    const out = empty(backend, x.buf.dtype, shape);
    if (out.buf.size === 0) return out;
    const { dims, strides } = collapse(shape, [broadcastStrides(x.shape, shape), stridesOf(shape)]);
    backend.copy(x.buf, out.buf, { dims, xStrides: strides[0]!, xOffset: 0, outStrides: strides[1]!, outOffset: 0 });
    return out;
  });
}

function checkSlice(kernel: string, shape: Shape, begin: readonly number[], size: readonly number[]): void {
  const ok = begin.length === shape.length && size.length === shape.length &&
    begin.every((b, i) => Number.isInteger(b) && Number.isInteger(size[i]) && b >= 0 && size[i]! >= 0 && b + size[i]! <= shape[i]!);
  if (!ok) throw new Error(`${kernel}: begin [${begin.join(',')}] and size [${size.join(',')}] do not fit in ${fmt(shape)}`);
}

/** x[begin : begin + size] along every axis, as a dense copy. */
export function slice(x: NDArray, begin: readonly number[], size: readonly number[]): NDArray {
  const backend = check('slice', x);
  checkSlice('slice', x.shape, begin, size);
  return copyBlock(backend, x, begin, size, null);
}

/**
 * x[begin + i·step] along every axis for i < size, as a dense copy: a slice with steps (negative steps walk
 * backwards, so begin n − 1, step −1 reverses an axis). Every position read must lie inside x.
 */
export function stridedSlice(x: NDArray, begin: readonly number[], size: readonly number[], step: readonly number[]): NDArray {
  const backend = check('stridedSlice', x);
  const rank = x.shape.length;
  const fits = begin.length === rank && size.length === rank && step.length === rank && x.shape.every((d, i) => {
    const [b, n, s] = [begin[i]!, size[i]!, step[i]!];
    if (![b, n, s].every(Number.isSafeInteger) || s === 0 || n < 0) return false;
    return n === 0 || (b >= 0 && b < d && b + (n - 1) * s >= 0 && b + (n - 1) * s < d);
  });
  if (!fits) {
    throw new Error(`stridedSlice: begin [${begin.join(',')}], size [${size.join(',')}] and step [${step.join(',')}] ` +
      `do not fit in ${fmt(x.shape)} (steps are nonzero integers, every position read inside the array)`);
  }
  return freeOnError(() => {
    const out = empty(backend, x.buf.dtype, size);
    if (out.buf.size === 0) return out;
    const xs = stridesOf(x.shape);
    const { dims, strides } = collapse(size, [xs.map((s, i) => s * step[i]!), stridesOf(size)]);
    const xOffset = begin.reduce((acc, b, i) => acc + b * xs[i]!, 0);
    backend.copy(x.buf, out.buf, { dims, xStrides: strides[0]!, xOffset, outStrides: strides[1]!, outOffset: 0 });
    return out;
  });
}

/** Copies src into the region of dst that starts at `begin` (the backward of slice, and concat's building block). */
export function copyInto(dst: NDArray, src: NDArray, begin: readonly number[]): void {
  const backend = check('copyInto', dst, src);
  if (dst.buf.dtype !== src.buf.dtype) throw new Error(`copyInto: dtypes differ (${dst.buf.dtype} and ${src.buf.dtype})`);
  checkSlice('copyInto', dst.shape, begin, src.shape);
  copyBlockInto(backend, dst, src, begin, null);
}

/** Throws unless perm is a permutation of 0 … rank − 1. */
function checkPerm(kernel: string, perm: readonly number[], rank: number): void {
  if (!isPerm(perm, rank)) throw new Error(`${kernel}: [${perm.join(',')}] is not a permutation of ${rank} axes`);
}

/**
 * Whether perm holds each of 0 … rank − 1 once. A loop, not a sorted copy: it runs before every permuted copy, and
 * the sort with its comparator showed in profiles of a transformer step.
 */
function isPerm(perm: readonly number[], rank: number): boolean {
  if (perm.length !== rank) return false;
  const seen = new Array<boolean>(rank).fill(false);
  for (const p of perm) {
    if (!(Number.isInteger(p) && p >= 0 && p < rank) || seen[p]) return false;
    seen[p] = true;
  }
  return true;
}

/**
 * permute(slice(x, begin, size), perm) in one copy: the block of x at `begin` with `size`, its dim perm[i] as the
 * output's dim i. (Multi-head attention takes each head's q, k or v out of the packed in-projection this way.)
 */
export function slicePermute(x: NDArray, begin: readonly number[], size: readonly number[], perm: readonly number[]): NDArray {
  const backend = check('slicePermute', x);
  checkSlice('slicePermute', x.shape, begin, size);
  checkPerm('slicePermute', perm, x.shape.length);
  return copyBlock(backend, x, begin, size, perm);
}

/**
 * The block of x at `begin` with `size` as a dense copy, its dim perm[i] as the output's dim i (null: in order);
 * slice, permute and slicePermute after their checks.
 */
function copyBlock(backend: Backend, x: NDArray, begin: readonly number[], size: readonly number[],
  perm: readonly number[] | null): NDArray {
  const outShape = perm ? perm.map((p) => size[p]!) : size;
  return freeOnError(() => {
    const out = empty(backend, x.buf.dtype, outShape);
    if (out.buf.size === 0) return out;
    const xs = stridesOf(x.shape);
    const { dims, strides } = collapse(outShape, [perm ? perm.map((p) => xs[p]!) : xs, stridesOf(outShape)]);
    const xOffset = begin.reduce((acc, b, i) => acc + b * xs[i]!, 0);
    backend.copy(x.buf, out.buf, { dims, xStrides: strides[0]!, xOffset, outStrides: strides[1]!, outOffset: 0 });
    return out;
  });
}

/** The inverse of slicePermute: writes src (a block permuted by perm) into dst's block at `begin`. */
export function copyIntoPermuted(dst: NDArray, src: NDArray, begin: readonly number[], perm: readonly number[]): void {
  const backend = check('copyIntoPermuted', dst, src);
  if (dst.buf.dtype !== src.buf.dtype) throw new Error(`copyIntoPermuted: dtypes differ (${dst.buf.dtype} and ${src.buf.dtype})`);
  checkPerm('copyIntoPermuted', perm, dst.shape.length);
  if (src.shape.length !== perm.length) {
    throw new Error(`copyIntoPermuted: src ${fmt(src.shape)} does not have the ${perm.length} dims of dst ${fmt(dst.shape)}`);
  }
  const size: number[] = new Array<number>(perm.length);
  perm.forEach((p, i) => { size[p] = src.shape[i]!; });
  checkSlice('copyIntoPermuted', dst.shape, begin, size);
  copyBlockInto(backend, dst, src, begin, perm);
}

/** Writes src into dst's block at `begin`, src's dim i as dst's dim perm[i] (null: in order); after the checks. */
function copyBlockInto(backend: Backend, dst: NDArray, src: NDArray, begin: readonly number[],
  perm: readonly number[] | null): void {
  if (src.buf.size === 0) return;
  const ds = stridesOf(dst.shape);
  const { dims, strides } = collapse(src.shape, [stridesOf(src.shape), perm ? perm.map((p) => ds[p]!) : ds]);
  const outOffset = begin.reduce((acc, b, i) => acc + b * ds[i]!, 0);
  backend.copy(src.buf, dst.buf, { dims, xStrides: strides[0]!, xOffset: 0, outStrides: strides[1]!, outOffset });
}

/** Joins arrays along `axis`; all other dims must match. */
export function concat(xs: readonly NDArray[], axis: number): NDArray {
  if (xs.length === 0) throw new Error('concat: needs at least one input');
  const backend = check('concat', ...xs);
  const first = xs[0]!;
  if (xs.some((x) => x.shape.length === 0)) {
    throw new Error('concat: scalars (shape []) have no axis to join along; reshape them to [1] first');
  }
  const a = normalizeAxis('concat', first.shape, axis);
  for (const x of xs) {
    if (x.buf.dtype !== first.buf.dtype) throw new Error(`concat: dtypes differ (${first.buf.dtype} and ${x.buf.dtype})`);
    if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${xs.map((t) => fmt(t.shape)).join(', ')} differ outside axis ${a}`);
    }
  }
  const outShape = [...first.shape];
  outShape[a] = xs.reduce((acc, x) => acc + x.shape[a]!, 0);
  return freeOnError(() => {
    const out = empty(backend, first.buf.dtype, outShape);
    let at = 0;
    for (const x of xs) {
      copyInto(out, x, outShape.map((_, i) => (i === a ? at : 0)));
      at += x.shape[a]!;
    }
    return out;
  });
}

/** Sets every element of x to `value`, in place. */
export function fill(x: NDArray, value: number): void {
  const backend = check('fill', x);
  backend.fill(x.buf, value, 0, x.buf.size);
}

/** alpha·x as a new array, or into `out` (x's shape and dtype; x itself scales in place). */
export function scale(x: NDArray, alpha: number, out?: NDArray): NDArray {
  const backend = check('scale', x, ...(out ? [out] : []));
  const dtype = checkFloat('scale', x, ...(out ? [out] : []));
  if (out && !sameShape(out.shape, x.shape)) throw new Error(`scale: out has shape ${fmt(out.shape)}, x ${fmt(x.shape)}`);
  return freeOnError(() => {
    const into = out ?? empty(backend, dtype, x.shape);
    backend.scale(x.buf, into.buf, into.buf.size, alpha);
    return into;
  });
}

/** y += alpha·x in place (same shapes). */
export function axpy(alpha: number, x: NDArray, y: NDArray): void {
  const backend = check('axpy', x, y);
  checkFloat('axpy', x, y);
  if (!sameShape(x.shape, y.shape)) throw new Error(`axpy: shapes differ: ${fmt(x.shape)} and ${fmt(y.shape)}`);
  backend.axpy(alpha, x.buf, y.buf, y.buf.size);
}

/**
 * Runs `check` on the values of `buf` (it throws on bad data). A compiled step checks again at every call, on the
 * buffer that call uses: labels and indices are data, and the kernels trust them.
 */
function checkData(buf: Buf, check: (values: TypedArray) => void): void {
  const run = (b: Buf) => check(b.backend.read(b));
  replayed(() => run(buf), (_calls, map) => run(map(buf)), [buf]);
}

/** The first index outside [0, limit) of int32 indices and its flat position, or null. */
function firstBadIndex(values: TypedArray, limit: number): { at: number; value: number } | null {
  const at = values.findIndex((v) => v < 0 || v >= limit);
  return at < 0 ? null : { at, value: values[at]! };
}

function checkIndices(kernel: string, idx: NDArray, limit: number): void {
  checkInt(kernel, 'indices', idx);
  checkData(idx.buf, (values) => {
    const bad = firstBadIndex(values, limit);
    if (bad) throw new Error(`${kernel}: index ${bad.value} at position ${bad.at} is out of range [0, ${limit})`);
  });
}

/** Rows of x along `axis` picked by int32 indices: out.shape = x.shape with shape[axis] replaced by idx.shape. */
export function gather(x: NDArray, idx: NDArray, axis = 0): NDArray {
  const backend = check('gather', x, idx);
  const a = normalizeAxis('gather', x.shape, axis);
  checkIndices('gather', idx, x.shape[a]!);
  return gatherAlong(backend, x, idx, a);
}

/** gather after the checks. */
function gatherAlong(backend: Backend, x: NDArray, idx: NDArray, a: number): NDArray {
  const outShape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  return freeOnError(() => {
    const out = empty(backend, x.buf.dtype, outShape);
    if (out.buf.size > 0) backend.gather(x.buf, idx.buf, out.buf, ...around(x.shape, a, a), idx.buf.size);
    return out;
  });
}

/** The gradient of gather: a zero array of `shape` with dy's rows added at the indices (repeats accumulate). */
export function scatterAdd(dy: NDArray, idx: NDArray, shape: Shape, axis = 0): NDArray {
  const backend = check('scatterAdd', dy, idx);
  const dtype = checkFloat('scatterAdd', dy);
  const a = normalizeAxis('scatterAdd', shape, axis);
  checkIndices('scatterAdd', idx, shape[a]!);
  const expected = [...shape.slice(0, a), ...idx.shape, ...shape.slice(a + 1)];
  if (!sameShape(expected, dy.shape)) throw new Error(`scatterAdd: gradient ${fmt(dy.shape)} should be ${fmt(expected)}`);
  return freeOnError(() => scatterAlong(backend, dtype, dy, idx, shape, a));
}

/** scatterAdd after the checks. */
function scatterAlong(backend: Backend, dtype: DType, dy: NDArray, idx: NDArray, shape: Shape, a: number): NDArray {
  const dx = empty(backend, dtype, shape);
  backend.fill(dx.buf, 0, 0, dx.buf.size);
  if (dy.buf.size > 0) backend.scatterAdd(dy.buf, idx.buf, dx.buf, ...around(shape, a, a), idx.buf.size);
  return dx;
}

/** Throws unless the weight is [num, dim] and every index is in [0, num), naming the first bad one by its position. */
function checkEmbedding(kernel: string, weightShape: Shape, idx: NDArray): void {
  if (weightShape.length !== 2) {
    throw new Error(`${kernel}: weight must be a 2-D [numEmbeddings, embeddingDim] table, got ${fmt(weightShape)}`);
  }
  const num = weightShape[0]!;
  checkInt(kernel, 'indices', idx);
  checkData(idx.buf, (values) => {
    const bad = firstBadIndex(values, num);
    if (bad) {
      const position = idx.shape.map((_, d) => Math.floor(bad.at / sizeOf(idx.shape.slice(d + 1))) % idx.shape[d]!);
      throw new Error(`${kernel}: index ${bad.value} at indices[${position.join(',')}] is out of range for weight ` +
        `${fmt(weightShape)}: indices must be in [0, ${num})`);
    }
  });
}

/** The rows of weight [num, dim] picked by int32 indices of any shape: [...indices.shape, dim] (F.embedding). */
export function embedding(weight: NDArray, idx: NDArray): NDArray {
  const backend = check('embedding', weight, idx);
  checkFloat('embedding', weight);
  checkEmbedding('embedding', weight.shape, idx);
  return gatherAlong(backend, weight, idx, 0);
}

/**
 * The gradient of embedding: a zero array of weightShape with dy's rows added at the indices (a repeated index
 * accumulates, in the order of the indices), and the row paddingIdx (if not null) left at zero.
 */
export function embeddingGrad(dy: NDArray, idx: NDArray, weightShape: Shape, paddingIdx: number | null): NDArray {
  const backend = check('embedding', dy, idx);
  const dtype = checkFloat('embedding', dy);
  checkEmbedding('embedding', weightShape, idx);
  const [num, dim] = weightShape as [number, number];
  if (!sameShape(dy.shape, [...idx.shape, dim])) {
    throw new Error(`embedding: gradient ${fmt(dy.shape)} should be ${fmt([...idx.shape, dim])}`);
  }
  if (paddingIdx !== null && !(Number.isInteger(paddingIdx) && paddingIdx >= 0 && paddingIdx < num)) {
    throw new Error(`embedding: paddingIdx must be an integer in [0, ${num}), got ${describe(paddingIdx)}`);
  }
  return freeOnError(() => {
    const dw = scatterAlong(backend, dtype, dy, idx, weightShape, 0);
    if (paddingIdx !== null) backend.fill(dw.buf, 0, paddingIdx * dim, dim);
    return dw;
  });
}

// ---- Pooling and batch normalisation (NCHW) -------------------------------------------------------------

/** A pooling window per spatial axis, [height, width] each (the average has dilation [1, 1]). */
export interface Pool2dWindow {
  /** Window [height, width]. */
  kernel: readonly [number, number];
  /** Step [height, width]. */
  stride: readonly [number, number];
  /** Zeros before the first row and column; PyTorch's geometry pads as much after the input. */
  padding: readonly [number, number];
  /** Spacing of the window's taps [height, width]. */
  dilation: readonly [number, number];
  /** Round the output size up (PyTorch's ceil_mode). */
  ceilMode: boolean;
  /**
   * The output's [height, width] when the geometry is not PyTorch's (TensorFlow's: 'same' puts the odd padding
   * pixel after the input, and explicit padding may exceed half the window): the windows then reach as far past
   * the bottom and right borders as the size asks, and a window wholly in the padding is empty. Without it,
   * PyTorch's output length (ceilMode) and its padding limit apply.
   */
  outputSize?: readonly [number, number];
  /** Max pooling skips NaNs (TensorFlow's rule) instead of letting them win (PyTorch's, the default). */
  ignoreNaN?: boolean;
}

/**
 * The input's planes, checked: [C,H,W] or [N,C,H,W] with C, H, W > 0 (a batch of 0 is allowed, as in PyTorch).
 * Returns the plane count N·C, h and w.
 */
function planesOf(kernel: string, shape: Shape): [number, number, number] {
  if (shape.length !== 3 && shape.length !== 4) {
    throw new Error(`${kernel}: expected a 3-D [C,H,W] or 4-D [N,C,H,W] input, got ${fmt(shape)}`);
  }
  const [h, w] = shape.slice(-2) as [number, number];
  if (shape.slice(-3).some((d) => d === 0)) {
    throw new Error(`${kernel}: input ${fmt(shape)} has an empty channel, height or width dimension`);
  }
  return [sizeOf(shape.slice(0, -2)), h, w];
}

/** PyTorch's pooling output length, or 0 and less when the window does not fit. */
function pooledLength(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let n = Math.floor((size + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (n - 1) * s >= size + p) n--; // the last window must start inside the input or its left padding
  return n;
}

/** Checks a window against an input shape and plans the pooling (PyTorch's rules and their limits). */
function poolPlan(kernel: string, shape: Shape, win: Pool2dWindow, countIncludePad = true, divisor = 0): Pool2dPlan {
  const [planes, h, w] = planesOf(kernel, shape);
  const pairs = { kernel: [win.kernel, 1], stride: [win.stride, 1], padding: [win.padding, 0], dilation: [win.dilation, 1] } as const;
  for (const [name, [v, min]] of Object.entries(pairs)) {
    if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => Number.isSafeInteger(d) && d >= min)) {
      throw new Error(`${kernel}: ${name} must be a pair of integers ≥ ${min}, got ${describe(v)}`);
    }
  }
  if (!Number.isSafeInteger(divisor) || divisor < 0) throw new Error(`${kernel}: divisor must be an integer ≥ 0, got ${describe(divisor)}`);
  const [kh, kw] = win.kernel, [sh, sw] = win.stride, [ph, pw] = win.padding, [dh, dw] = win.dilation;
  if (win.outputSize !== undefined) {
    if (!isInts(win.outputSize, 2, 1)) {
      throw new Error(`${kernel}: outputSize must be a pair of integers ≥ 1, got ${describe(win.outputSize)}`);
    }
    const [oh, ow] = win.outputSize;
    return { planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, countIncludePad, divisor, ignoreNaN: win.ignoreNaN ?? false };
  }
  if (2 * ph > dh * (kh - 1) + 1 || 2 * pw > dw * (kw - 1) + 1) {
    throw new Error(`${kernel}: padding [${ph},${pw}] must be at most half the kernel size [${kh},${kw}]` +
      `${dh > 1 || dw > 1 ? ` dilated by [${dh},${dw}]` : ''} (as in PyTorch)`);
  }
  const oh = pooledLength(h, kh, sh, ph, dh, win.ceilMode), ow = pooledLength(w, kw, sw, pw, dw, win.ceilMode);
  if (oh < 1 || ow < 1) {
    throw new Error(`${kernel}: the output would be empty: input ${fmt(shape)} is smaller than the kernel [${kh},${kw}]` +
      `${dh > 1 || dw > 1 ? ` dilated by [${dh},${dw}]` : ''} with padding [${ph},${pw}]`);
  }
  return { planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, countIncludePad, divisor, ignoreNaN: win.ignoreNaN ?? false };
}

/** An input shape with its last two dims replaced by oh, ow. */
const pooledShape = (shape: Shape, oh: number, ow: number): number[] => [...shape.slice(0, -2), oh, ow];

/**
 * 2-D max pooling of [C,H,W] or [N,C,H,W] (PyTorch's max_pool2d). indices (int32, out's shape) hold each
 * maximum's position row·W + column in its plane (−1 for a window outside the plane); the caller frees both.
 */
export function maxPool2d(x: NDArray, win: Pool2dWindow): {
  /** The maxima. */
  out: NDArray;
  /** int32 position of each maximum in its plane. */
  indices: NDArray;
} {
  const backend = check('maxPool2d', x);
  const dtype = checkFloat('maxPool2d', x);
  const plan = poolPlan('maxPool2d', x.shape, win);
  return freeOnError(() => {
    const out = empty(backend, dtype, pooledShape(x.shape, plan.oh, plan.ow));
    const indices = empty(backend, 'int32', out.shape);
    if (plan.planes > 0) backend.maxPool2d(x.buf, out.buf, indices.buf, plan);
    return { out, indices };
  });
}

/** The sizes of a pooling's backward: `pooled` (the output's shape) must be `inputShape` with other [oh, ow ≥ 1]. */
function gradSizes(kernel: string, pooled: Shape, inputShape: Shape): PoolSizes {
  checkShape(inputShape, kernel);
  const [planes, h, w] = planesOf(kernel, inputShape);
  const [oh, ow] = pooled.slice(-2) as [number, number];
  if (pooled.length !== inputShape.length || !sameShape(pooled, pooledShape(inputShape, oh, ow)) || oh === 0 || ow === 0) {
    throw new Error(`${kernel}: gradient ${fmt(pooled)} does not fit an input ${fmt(inputShape)}`);
  }
  return { planes, h, w, oh, ow };
}

/** A backend's report of a bad index (its position, or −1) as our error. */
function checkPoolIndex(kernel: string, bad: number, indices: NDArray, inSize: number): void {
  if (bad >= 0) {
    const value = indices.buf.backend.read(indices.buf, bad, 1)[0];
    throw new Error(`${kernel}: index ${value} at position ${bad} is out of range [-1, ${inSize}) for its plane`);
  }
}

/** The gradient of maxPool2d: dy added at the positions `indices` point to, in a zero array of `inputShape`. */
export function maxPool2dGrad(dy: NDArray, indices: NDArray, inputShape: Shape): NDArray {
  const backend = check('maxPool2dGrad', dy, indices);
  const dtype = checkFloat('maxPool2dGrad', dy);
  checkInt('maxPool2dGrad', 'indices', indices);
  const sizes = gradSizes('maxPool2dGrad', dy.shape, inputShape);
  if (!sameShape(indices.shape, dy.shape)) throw new Error(`maxPool2dGrad: indices ${fmt(indices.shape)} and gradient ${fmt(dy.shape)} differ`);
  return freeOnError(() => {
    const dx = empty(backend, dtype, inputShape);
    const bad = sizes.planes > 0 ? backend.maxPool2dGrad(dy.buf, indices.buf, dx.buf, sizes) : -1;
    checkPoolIndex('maxPool2dGrad', bad, indices, sizes.h * sizes.w);
    return dx;
  });
}

/** x's values at `indices` (one per output of maxPool2d, −1 giving 0): the gradient of maxPool2dGrad. */
export function maxPool2dGather(x: NDArray, indices: NDArray): NDArray {
  const backend = check('maxPool2dGather', x, indices);
  const dtype = checkFloat('maxPool2dGather', x);
  checkInt('maxPool2dGather', 'indices', indices);
  const sizes = gradSizes('maxPool2dGather', indices.shape, x.shape);
  return freeOnError(() => {
    const out = empty(backend, dtype, indices.shape);
    const bad = sizes.planes > 0 ? backend.maxPool2dGather(x.buf, indices.buf, out.buf, sizes) : -1;
    checkPoolIndex('maxPool2dGather', bad, indices, sizes.h * sizes.w);
    return out;
  });
}

/**
 * 2-D average pooling (PyTorch's avg_pool2d): countIncludePad counts the zero padding in the divisor, and a
 * divisor > 0 replaces the count altogether (divisor_override).
 */
export function avgPool2d(x: NDArray, win: Pool2dWindow, countIncludePad = true, divisor = 0): NDArray {
  const backend = check('avgPool2d', x);
  const dtype = checkFloat('avgPool2d', x);
  const plan = poolPlan('avgPool2d', x.shape, { ...win, dilation: [1, 1] }, countIncludePad, divisor);
  return freeOnError(() => {
    const out = empty(backend, dtype, pooledShape(x.shape, plan.oh, plan.ow));
    if (plan.planes > 0) backend.avgPool2d(x.buf, out.buf, plan);
    return out;
  });
}

/** The gradient of avgPool2d with the same window, for an input of `inputShape`. */
export function avgPool2dGrad(dy: NDArray, inputShape: Shape, win: Pool2dWindow, countIncludePad = true, divisor = 0): NDArray {
  const backend = check('avgPool2dGrad', dy);
  const dtype = checkFloat('avgPool2dGrad', dy);
  checkShape(inputShape, 'avgPool2dGrad');
  const plan = poolPlan('avgPool2dGrad', inputShape, { ...win, dilation: [1, 1] }, countIncludePad, divisor);
  const expected = pooledShape(inputShape, plan.oh, plan.ow);
  if (!sameShape(dy.shape, expected)) {
    throw new Error(`avgPool2dGrad: gradient ${fmt(dy.shape)} should be ${fmt(expected)} for an input ${fmt(inputShape)}`);
  }
  return freeOnError(() => {
    const dx = empty(backend, dtype, inputShape);
    if (plan.planes > 0) backend.avgPool2dGrad(dy.buf, dx.buf, plan);
    return dx;
  });
}

/** Adaptive average pooling to [oh, ow] (PyTorch's adaptive_avg_pool2d windows). */
export function adaptiveAvgPool2d(x: NDArray, outputSize: readonly [number, number]): NDArray {
  const backend = check('adaptiveAvgPool2d', x);
  const dtype = checkFloat('adaptiveAvgPool2d', x);
  const [planes, h, w] = planesOf('adaptiveAvgPool2d', x.shape);
  if (!Array.isArray(outputSize) || outputSize.length !== 2 || !outputSize.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new Error(`adaptiveAvgPool2d: outputSize must be a pair of integers ≥ 1, got ${describe(outputSize)}`);
  }
  const [oh, ow] = outputSize;
  return freeOnError(() => {
    const out = empty(backend, dtype, pooledShape(x.shape, oh, ow));
    if (planes > 0) backend.adaptiveAvgPool2d(x.buf, out.buf, { planes, h, w, oh, ow });
    return out;
  });
}

/** The gradient of adaptiveAvgPool2d for an input of `inputShape` (the output size is dy's). */
export function adaptiveAvgPool2dGrad(dy: NDArray, inputShape: Shape): NDArray {
  const backend = check('adaptiveAvgPool2dGrad', dy);
  const dtype = checkFloat('adaptiveAvgPool2dGrad', dy);
  const sizes = gradSizes('adaptiveAvgPool2dGrad', dy.shape, inputShape);
  return freeOnError(() => {
    const dx = empty(backend, dtype, inputShape);
    if (sizes.planes > 0) backend.adaptiveAvgPool2dGrad(dy.buf, dx.buf, sizes);
    return dx;
  });
}

/** The per-channel arrays of batchNorm ([C] each, x's dtype), each optional. */
export interface BatchNormArrays {
  /** γ (default 1). */
  weight?: NDArray | null;
  /** β (default 0). */
  bias?: NDArray | null;
  /** Updated in place when training; read when not. */
  runningMean?: NDArray | null;
  /** Updated in place when training; read when not. */
  runningVar?: NDArray | null;
}

/** How batchNorm normalises. */
export interface BatchNormSettings {
  /** Use the batch's statistics (and update the running ones) or the running ones. */
  training: boolean;
  /** How far the running statistics move towards the batch's. */
  momentum: number;
  /** Added to the variance. */
  eps: number;
}

/** x as [n, c, l] after checking it ([N,C,…] with rank ≥ 2) and the per-channel arrays ([C] each, x's dtype). */
function batchNormPlan(kernel: string, x: NDArray, perChannel: Record<string, NDArray | null | undefined>, eps: number): BatchNormPlan {
  if (x.shape.length < 2) throw new Error(`${kernel}: expected an input [N,C] or [N,C,…] of rank ≥ 2, got ${fmt(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  for (const [name, a] of Object.entries(perChannel)) {
    if (a && (a.shape.length !== 1 || a.shape[0] !== c)) {
      throw new Error(`${kernel}: ${name} must have shape [${c}] for input ${fmt(x.shape)} (its ${c} channels), got ${fmt(a.shape)}`);
    }
  }
  if (!(typeof eps === 'number' && eps >= 0 && eps < Infinity)) throw new Error(`${kernel}: eps must be a number ≥ 0, got ${describe(eps)}`);
  return { n, c, l: sizeOf(x.shape.slice(2)), eps };
}

/**
 * Batch normalisation (PyTorch's batch_norm) of x [N,C,…] per channel. Training: the batch's mean and biased
 * variance normalise, and running buffers (if given) move towards them by `momentum`, with the unbiased variance;
 * more than one value per channel is needed. Evaluation: the running statistics normalise. Returns the output and
 * the mean and variance used ([C] each; copies, never the running buffers), which the caller frees.
 */
export function batchNorm(x: NDArray, arrays: BatchNormArrays, settings: BatchNormSettings): {
  /** The normalised x. */
  out: NDArray;
  /** The mean used, [C]. */
  mean: NDArray;
  /** The variance used, [C]. */
  variance: NDArray;
} {
  const { weight = null, bias = null, runningMean = null, runningVar = null } = arrays;
  const { training, momentum, eps } = settings;
  const given = [x, weight, bias, runningMean, runningVar].filter((a): a is NDArray => a !== null);
  const backend = check('batchNorm', ...given);
  const dtype = checkFloat('batchNorm', ...given);
  const plan = batchNormPlan('batchNorm', x, { weight, bias, runningMean, runningVar }, eps);
  if ((runningMean === null) !== (runningVar === null)) throw new Error('batchNorm: give both runningMean and runningVar, or neither');
  if (!training && !runningMean) throw new Error('batchNorm: evaluation (training: false) normalises with runningMean and runningVar, which are missing');
  if (!(typeof momentum === 'number' && Number.isFinite(momentum))) throw new Error(`batchNorm: momentum must be a number, got ${describe(momentum)}`);
  const m = plan.n * plan.l;
  if (training && m === 1) {
    throw new Error(`batchNorm: expected more than 1 value per channel when training, got input ${fmt(x.shape)}`);
  }
  return freeOnError(() => {
    const out = empty(backend, dtype, x.shape);
    const mean = empty(backend, dtype, [plan.c]);
    const variance = empty(backend, dtype, [plan.c]);
    if (!training) {
      copyInto(mean, runningMean!, [0]);
      copyInto(variance, runningVar!, [0]);
    } else if (m > 0) {
      backend.batchNormStats(x.buf, mean.buf, variance.buf, runningMean?.buf ?? null, runningVar?.buf ?? null, momentum, plan);
    } else {
      // An empty batch: no statistics, nothing to update (as PyTorch); 0 and 1 keep the backward's sums at 0.
      backend.fill(mean.buf, 0, 0, plan.c);
      backend.fill(variance.buf, 1, 0, plan.c);
    }
    if (out.buf.size > 0) backend.batchNorm(x.buf, out.buf, mean.buf, variance.buf, weight?.buf ?? null, bias?.buf ?? null, plan);
    return { out, mean, variance };
  });
}

/**
 * The backward of batchNorm from its input, the upstream gradient and the mean and variance it used: the gradient
 * of x (when need.x; with training the statistics depend on x), of weight and of bias (when asked); the rest null.
 */
export function batchNormGrad(x: NDArray, dy: NDArray, mean: NDArray, variance: NDArray, weight: NDArray | null,
  settings: { training: boolean; eps: number }, need: { x: boolean; weight: boolean; bias: boolean }):
  {
    /** The gradient of x, or null. */
    dx: NDArray | null;
    /** The gradient of weight, or null. */
    dweight: NDArray | null;
    /** The gradient of bias, or null. */
    dbias: NDArray | null;
  } {
  const given = [x, dy, mean, variance, ...(weight ? [weight] : [])];
  const backend = check('batchNormGrad', ...given);
  const dtype = checkFloat('batchNormGrad', ...given);
  const plan = batchNormPlan('batchNormGrad', x, { mean, variance, weight }, settings.eps);
  if (!sameShape(dy.shape, x.shape)) throw new Error(`batchNormGrad: gradient ${fmt(dy.shape)} and input ${fmt(x.shape)} differ`);
  return freeOnError(() => {
    const dx = need.x ? empty(backend, dtype, x.shape) : null;
    const dweight = need.weight ? empty(backend, dtype, [plan.c]) : null;
    const dbias = need.bias ? empty(backend, dtype, [plan.c]) : null;
    if (plan.c > 0) {
      backend.batchNormGrad(x.buf, dy.buf, mean.buf, variance.buf, weight?.buf ?? null, dx?.buf ?? null,
        dweight?.buf ?? null, dbias?.buf ?? null, settings.training, plan);
    }
    return { dx, dweight, dbias };
  });
}

// ---- Layer and RMS normalisation --------------------------------------------------------------------------------

/** Layer normalisation (rms false) or RMS normalisation (rms true), and eps, added to the variance or mean(x²). */
export interface LayerNormSettings {
  /** Added to the variance (or to mean(x²)). */
  eps: number;
  /** RMS normalisation (no mean, no bias) instead of layer normalisation. */
  rms: boolean;
}

/**
 * x [*, ...normalizedShape] as rows of the normalised size, after checking x, normalizedShape (a non-empty list of
 * sizes that x ends in), the per-element arrays (normalizedShape each) and eps (> 0).
 */
function layerNormPlan(kernel: string, x: NDArray, normalizedShape: Shape, perElement: Record<string, NDArray | null>,
  settings: LayerNormSettings): LayerNormPlan {
  const d = normalizedShape.length;
  if (d === 0 || !normalizedShape.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new Error(`${kernel}: normalizedShape must be a non-empty list of sizes, got ${describe(normalizedShape)}`);
  }
  if (x.shape.length < d || !sameShape(x.shape.slice(-d), normalizedShape)) {
    throw new Error(`${kernel}: input ${fmt(x.shape)} does not end in normalizedShape ${fmt(normalizedShape)} ` +
      `(expected an input [*,${normalizedShape.join(',')}])`);
  }
  for (const [name, a] of Object.entries(perElement)) {
    if (a && !sameShape(a.shape, normalizedShape)) {
      throw new Error(`${kernel}: ${name} must have normalizedShape ${fmt(normalizedShape)}, got ${fmt(a.shape)}`);
    }
  }
  const { eps, rms } = settings;
  if (!(typeof eps === 'number' && eps > 0 && eps < Infinity)) {
    throw new Error(`${kernel}: eps must be a number > 0, got ${describe(eps)}`);
  }
  return { rows: sizeOf(x.shape.slice(0, -d)), n: sizeOf(normalizedShape), eps, rms };
}

/**
 * Layer normalisation (PyTorch's layer_norm) of x over its trailing normalizedShape, or RMS normalisation
 * (rms_norm: not centred, so no mean): per row of the normalised size the mean and rstd = 1/√(var + eps), and
 * out = (x − mean)·rstd·weight + bias. Returns the output and the statistics (the leading dims of x each; mean null
 * for rms), which the caller frees.
 */
export function layerNorm(x: NDArray, normalizedShape: Shape, weight: NDArray | null, bias: NDArray | null,
  settings: LayerNormSettings): {
  /** The normalised x. */
  out: NDArray;
  /** Each row's mean (null for rms). */
  mean: NDArray | null;
  /** Each row's 1/√(var + eps). */
  rstd: NDArray;
} {
  const kernel = settings.rms ? 'rmsNorm' : 'layerNorm';
  const given = [x, weight, bias].filter((a): a is NDArray => a !== null);
  const backend = check(kernel, ...given);
  const dtype = checkFloat(kernel, ...given);
  const plan = layerNormPlan(kernel, x, normalizedShape, { weight, bias }, settings);
  const statShape = x.shape.slice(0, -normalizedShape.length);
  return freeOnError(() => {
    const out = empty(backend, dtype, x.shape);
    const mean = settings.rms ? null : empty(backend, dtype, statShape);
    const rstd = empty(backend, dtype, statShape);
    backend.layerNorm(x.buf, out.buf, mean?.buf ?? null, rstd.buf, weight?.buf ?? null, bias?.buf ?? null, plan);
    return { out, mean, rstd };
  });
}

/**
 * The backward of layerNorm from its input, the upstream gradient and the statistics it returned: the gradient of
 * x (when need.x), of weight and of bias (when asked, normalizedShape each); the rest null.
 */
export function layerNormGrad(x: NDArray, dy: NDArray, mean: NDArray | null, rstd: NDArray, weight: NDArray | null,
  normalizedShape: Shape, settings: LayerNormSettings, need: { x: boolean; weight: boolean; bias: boolean }):
  {
    /** The gradient of x, or null. */
    dx: NDArray | null;
    /** The gradient of weight, or null. */
    dweight: NDArray | null;
    /** The gradient of bias, or null. */
    dbias: NDArray | null;
  } {
  const kernel = settings.rms ? 'rmsNormGrad' : 'layerNormGrad';
  const given = [x, dy, rstd, ...(mean ? [mean] : []), ...(weight ? [weight] : [])];
  const backend = check(kernel, ...given);
  const dtype = checkFloat(kernel, ...given);
  const plan = layerNormPlan(kernel, x, normalizedShape, { weight }, settings);
  if (!sameShape(dy.shape, x.shape)) throw new Error(`${kernel}: gradient ${fmt(dy.shape)} and input ${fmt(x.shape)} differ`);
  if (settings.rms ? mean !== null : mean === null) {
    throw new Error(`${kernel}: ${settings.rms ? 'RMS normalisation has no mean' : 'the mean its forward returned is missing'}`);
  }
  for (const a of [mean, rstd]) {
    if (a && a.buf.size !== plan.rows) throw new Error(`${kernel}: statistics ${fmt(a.shape)} do not fit input ${fmt(x.shape)}`);
  }
  return freeOnError(() => {
    const dx = need.x ? empty(backend, dtype, x.shape) : null;
    const dweight = need.weight ? empty(backend, dtype, normalizedShape) : null;
    const dbias = need.bias ? empty(backend, dtype, normalizedShape) : null;
    backend.layerNormGrad(x.buf, dy.buf, mean?.buf ?? null, rstd.buf, weight?.buf ?? null, dx?.buf ?? null,
      dweight?.buf ?? null, dbias?.buf ?? null, plan);
    return { dx, dweight, dbias };
  });
}

// ---- Convolution ----------------------------------------------------------------------------------------------

/**
 * The geometry of a convolution over 1 or 2 spatial dims (conv1d, conv2d: the length of `stride` says which), one
 * entry per spatial dim: padding is [before, after] (zeros on each side of the input).
 */
export interface ConvGeometry {
  /** Step per spatial dim. */
  stride: readonly number[];
  /** [before, after] zeros per spatial dim. */
  padding: readonly (readonly [number, number])[];
  /** Spacing of the kernel's taps per spatial dim. */
  dilation: readonly number[];
  /** Channel groups. */
  groups: number;
}

const SPATIAL = ['length', 'height, width'];
const KERNEL = ['kernel_length', 'kernel_height, kernel_width'];

const isInts = (v: unknown, length: number, min: number) =>
  Array.isArray(v) && v.length === length && v.every((d) => Number.isSafeInteger(d) && d >= min);

/** The spatial rank of a geometry (1 or 2), or 0 if it is not a geometry of this shape. */
function rankOf(g: ConvGeometry): number {
  const rank = Array.isArray(g?.stride) ? g.stride.length : 0;
  const ok = (rank === 1 || rank === 2) && isInts(g.stride, rank, 1) && isInts(g.dilation, rank, 1) &&
    Array.isArray(g.padding) && g.padding.length === rank && g.padding.every((p) => isInts(p, 2, 0)) &&
    Number.isSafeInteger(g.groups) && g.groups >= 1;
  return ok ? rank : 0;
}

/** The kernel name of a convolution of this geometry ('conv1d', 'conv2d'), with `suffix`; checks the geometry. */
function convName(g: ConvGeometry, suffix: string): string {
  const rank = rankOf(g);
  if (rank === 0) {
    throw new Error(`conv${suffix}: the geometry must hold stride and dilation (1 or 2 integers ≥ 1, one per spatial dim), ` +
      `padding (a pair [before, after] of integers ≥ 0 per dim) and groups (an integer ≥ 1), got ${JSON.stringify(g)}`);
  }
  return `conv${rank}d${suffix}`;
}

/**
 * Checks the shapes of a convolution of x by a weight under geometry g (errors start with `name` and show the
 * shapes) and returns the backend's 2-D plan (a 1-D convolution is one of height 1) and the output shape.
 */
function convPlan(name: string, xShape: Shape, wShape: Shape, g: ConvGeometry): { plan: ConvPlan; outShape: number[] } {
  const rank = g.stride.length; // checked by convName
  if (xShape.length !== rank + 2) {
    throw new Error(`${name}: input must be ${rank + 2}-D [batch, channels, ${SPATIAL[rank - 1]}], got ${fmt(xShape)}`);
  }
  if (wShape.length !== rank + 2) {
    throw new Error(`${name}: weight must be ${rank + 2}-D [out_channels, in_channels/groups, ${KERNEL[rank - 1]}], got ${fmt(wShape)}`);
  }
  const [n, c, ...size] = xShape as number[];
  const [o, cg, ...kernel] = wShape as number[];
  const groups = g.groups;
  if (c === 0 || size.includes(0)) {
    throw new Error(`${name}: input ${fmt(xShape)} has a dimension of size 0 other than the batch`);
  }
  if (wShape.includes(0)) throw new Error(`${name}: weight ${fmt(wShape)} has a dimension of size 0`);
  if (c % groups !== 0) throw new Error(`${name}: input ${fmt(xShape)} has ${c} channels, which groups=${groups} does not divide`);
  if (o % groups !== 0) {
    throw new Error(`${name}: weight ${fmt(wShape)} has ${o} output channels, which groups=${groups} does not divide`);
  }
  if (c !== cg * groups) {
    throw new Error(`${name}: input ${fmt(xShape)} has ${c} channels, but weight ${fmt(wShape)} with groups=${groups} ` +
      `expects ${cg * groups} (weight.shape[1]·groups)`);
  }
  const out = size.map((s, i) => {
    const [before, after] = g.padding[i]!;
    const span = g.dilation[i]! * (kernel[i]! - 1) + 1;
    return s + before + after < span ? 0 : Math.floor((s + before + after - span) / g.stride[i]!) + 1;
  });
  if (out.includes(0)) {
    const padded = size.map((s, i) => s + g.padding[i]![0] + g.padding[i]![1]);
    const span = kernel.map((k, i) => g.dilation[i]! * (k - 1) + 1);
    throw new Error(`${name}: kernel ${fmt(kernel)} (dilation [${g.dilation.join(',')}], so spanning ${fmt(span)}) is larger ` +
      `than the padded input ${fmt(padded)} (input ${fmt(xShape)}, padding ${JSON.stringify(g.padding)}): the output would be empty`);
  }
  // conv1d is conv2d of height 1: each per-dim list gains a first entry (1, or 0 padding).
  const two = (v: readonly number[], first: number) => (rank === 1 ? [first, v[0]!] : [v[0]!, v[1]!]);
  const [h, w] = two(size, 1), [kh, kw] = two(kernel, 1), [oh, ow] = two(out, 1);
  const [strideH, strideW] = two(g.stride, 1), [dilationH, dilationW] = two(g.dilation, 1);
  const [padH, padW] = two(g.padding.map((p) => p[0]), 0);
  const plan: ConvPlan = { n, c, h, w, o, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW, groups };
  return { plan, outShape: [n, o, ...out] };
}

/**
 * conv1d / conv2d in PyTorch's layouts: x [batch, in, ...size], weight [out, in/groups, ...kernel], optional bias
 * [out]; the output is [batch, out, ...size'] (rank from g.stride's length).
 */
export function conv(x: NDArray, weight: NDArray, bias: NDArray | null, g: ConvGeometry): NDArray {
  const name = convName(g, '');
  const backend = check(name, x, weight, ...(bias ? [bias] : []));
  const dtype = checkFloat(name, x, weight, ...(bias ? [bias] : []));
  const { plan, outShape } = convPlan(name, x.shape, weight.shape, g);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== plan.o)) {
    throw new Error(`${name}: bias must have shape [${plan.o}] for weight ${fmt(weight.shape)}, got ${fmt(bias.shape)}`);
  }
  return freeOnError(() => {
    const out = empty(backend, dtype, outShape);
    if (out.buf.size > 0) backend.conv2d(x.buf, weight.buf, bias ? bias.buf : null, out.buf, plan);
    return out;
  });
}

/** The gradient of sum(conv(x, weight)·dy) with respect to x, for an x of shape inputShape. */
export function convInputGrad(dy: NDArray, weight: NDArray, inputShape: Shape, g: ConvGeometry): NDArray {
  const name = convName(g, 'InputGrad');
  const backend = check(name, dy, weight);
  const dtype = checkFloat(name, dy, weight);
  checkShape(inputShape, name);
  const { plan, outShape } = convPlan(name, inputShape, weight.shape, g);
  if (!sameShape(dy.shape, outShape)) throw new Error(`${name}: gradient ${fmt(dy.shape)} should be ${fmt(outShape)}`);
  return freeOnError(() => {
    const dx = empty(backend, dtype, inputShape);
    if (dx.buf.size > 0) backend.conv2dInputGrad(dy.buf, weight.buf, dx.buf, plan);
    return dx;
  });
}

/** The gradient of sum(conv(x, weight)·dy) with respect to weight, for a weight of shape weightShape. */
export function convWeightGrad(x: NDArray, dy: NDArray, weightShape: Shape, g: ConvGeometry): NDArray {
  const name = convName(g, 'WeightGrad');
  const backend = check(name, x, dy);
  const dtype = checkFloat(name, x, dy);
  checkShape(weightShape, name);
  const { plan, outShape } = convPlan(name, x.shape, weightShape, g);
  if (!sameShape(dy.shape, outShape)) throw new Error(`${name}: gradient ${fmt(dy.shape)} should be ${fmt(outShape)}`);
  return freeOnError(() => {
    const dw = empty(backend, dtype, weightShape);
    backend.conv2dWeightGrad(x.buf, dy.buf, dw.buf, plan); // a batch of 0 gives zeros
    return dw;
  });
}

// ---- Attention -----------------------------------------------------------------------------------------------

/** The settings of the fused attention kernels. */
export interface AttentionSettings {
  /**
   * Broadcast to the scores [..., L, S]: a float mask (q's dtype) is added to them, an int32 mask attends only where
   * it is nonzero (PyTorch's boolean mask: true attends).
   */
  mask?: NDArray | null;
  /** Attend only to keys j ≤ i (the top-left-aligned lower triangle). */
  causal?: boolean;
  /** Multiplies q·kᵀ; default 1/√E. */
  scale?: number;
}

const shapesOf = (q: NDArray, k: NDArray, v: NDArray) => `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;

/**
 * Checks q [..., L, E], k [..., S, E], v [..., S, Ev] (equal leading dims, which are the items) and the settings;
 * returns the plan without its mask, the leading dims, and the mask's strides over the scores [..., L, S].
 */
function attentionPlan(kernel: string, q: NDArray, k: NDArray, v: NDArray, s: AttentionSettings):
  { plan: AttentionPlan; lead: number[]; maskStrides: number[] | null } {
  // Built only for a message: the plan is made on every attention call.
  const shapes = () => shapesOf(q, k, v);
  if (q.shape.length < 2 || k.shape.length < 2 || v.shape.length < 2) {
    throw new Error(`${kernel}: q, k and v must be [..., L, E], [..., S, E] and [..., S, Ev] (rank ≥ 2), got ${shapes()}`);
  }
  const lead = q.shape.slice(0, -2);
  if (!sameShape(k.shape.slice(0, -2), lead) || !sameShape(v.shape.slice(0, -2), lead)) {
    throw new Error(`${kernel}: q, k and v must have the same leading (batch, head) dims, got ${shapes()}`);
  }
  const [L, E] = q.shape.slice(-2) as [number, number];
  const [S, Ek] = k.shape.slice(-2) as [number, number];
  const [Sv, Ev] = v.shape.slice(-2) as [number, number];
  if (Ek !== E) throw new Error(`${kernel}: q and k must have the same last dim E, got ${shapes()} (${E} ≠ ${Ek})`);
  if (Sv !== S) throw new Error(`${kernel}: k and v must have the same length S (dim −2), got ${shapes()} (${S} ≠ ${Sv})`);
  const { mask = null, causal = false, scale = 1 / Math.sqrt(E) } = s;
  if (typeof causal !== 'boolean') throw new Error(`${kernel}: causal must be true or false, got ${describe(causal)}`);
  if (!(typeof scale === 'number' && Number.isFinite(scale))) {
    throw new Error(`${kernel}: scale must be a finite number, got ${describe(scale)}`);
  }
  let maskStrides: number[] | null = null;
  if (mask) {
    const scores = [...lead, L, S];
    const lag = scores.length - mask.shape.length;
    if (lag < 0 || mask.shape.some((d, i) => d !== 1 && d !== scores[lag + i])) {
      throw new Error(`${kernel}: mask ${fmt(mask.shape)} does not broadcast to the scores ${fmt(scores)} ` +
        `([..., L, S] for ${shapes()})`);
    }
    maskStrides = broadcastStrides(mask.shape, scores);
  }
  return { plan: { heads: sizeOf(lead), L, S, E, Ev, scale, causal, mask: null }, lead, maskStrides };
}

/** Where each item's [L, S] view of the mask starts: Σ index·stride over the leading dims. */
function maskOffsets(lead: readonly number[], strides: readonly number[]): number[] {
  const offsets = [0];
  lead.forEach((d, axis) => {
    const prev = offsets.splice(0);
    for (const o of prev) for (let i = 0; i < d; i++) offsets.push(o + i * strides[axis]!);
  });
  return offsets;
}

/**
 * Runs `fn` with the plan's mask in place (its offsets in a temporary int32 array on the backend, freed after),
 * after checking the mask's dtype: int32 (keep where nonzero) or q's float dtype (added).
 */
function withMask<T>(kernel: string, backend: Backend, dtype: DType, mask: NDArray | null | undefined,
  g: ReturnType<typeof attentionPlan>, fn: (plan: AttentionPlan) => T): T {
  if (!mask) return fn(g.plan);
  check(kernel, mask);
  if (mask.buf.backend !== backend) {
    throw new Error(`${kernel}: the mask lives on another backend (${mask.buf.backend.name})`);
  }
  if (mask.buf.dtype !== 'int32' && mask.buf.dtype !== dtype) {
    throw new Error(`${kernel}: mask must be int32 (attend where nonzero) or ${dtype} like q (added to the scores), ` +
      `got ${mask.buf.dtype}`);
  }
  const strides = g.maskStrides!;
  const offsets = empty(backend, 'int32', [g.plan.heads]);
  try {
    backend.write(offsets.buf, maskOffsets(g.lead, strides));
    return fn({ ...g.plan, mask: {
      kind: mask.buf.dtype === 'int32' ? 'keep' : 'add', buf: mask.buf, offsets: offsets.buf,
      rowStride: strides[strides.length - 2]!, colStride: strides[strides.length - 1]!,
    } });
  } finally {
    free(offsets);
  }
}

/**
 * Scaled dot-product attention (PyTorch's scaled_dot_product_attention): softmax(q·kᵀ·scale + mask)·v over the
 * last two dims, per item of the leading dims. Returns the output [..., L, Ev] and each row's log-sum-exp
 * [..., L] (what the backward needs instead of the probabilities), which the caller frees.
 */
export function attention(q: NDArray, k: NDArray, v: NDArray, settings: AttentionSettings = {}):
  {
    /** The attention output [..., L, Ev]. */
    out: NDArray;
    /** Each row's log-sum-exp of the scores [..., L]. */
    lse: NDArray;
  } {
  const kernel = 'scaledDotProductAttention';
  const backend = check(kernel, q, k, v);
  const dtype = checkFloat(kernel, q, k, v);
  const g = attentionPlan(kernel, q, k, v, settings);
  const { L, Ev } = g.plan;
  return freeOnError(() => {
    const out = empty(backend, dtype, [...g.lead, L, Ev]);
    const lse = empty(backend, dtype, [...g.lead, L]);
    if (lse.buf.size > 0) {
      withMask(kernel, backend, dtype, settings.mask, g, (plan) => backend.attention(q.buf, k.buf, v.buf, out.buf, lse.buf, plan));
    }
    return { out, lse };
  });
}

/**
 * The backward of attention from its inputs, output, log-sum-exp and the output's gradient dout: the gradients of
 * q, k and v that `need` asks for (null otherwise), which the caller frees.
 */
export function attentionGrad(q: NDArray, k: NDArray, v: NDArray, out: NDArray, lse: NDArray, dout: NDArray,
  settings: AttentionSettings, need: { q: boolean; k: boolean; v: boolean }):
  {
    /** The gradient of q, or null. */
    dq: NDArray | null;
    /** The gradient of k, or null. */
    dk: NDArray | null;
    /** The gradient of v, or null. */
    dv: NDArray | null;
  } {
  const kernel = 'scaledDotProductAttentionGrad';
  const backend = check(kernel, q, k, v, out, lse, dout);
  const dtype = checkFloat(kernel, q, k, v, out, lse, dout);
  const g = attentionPlan(kernel, q, k, v, settings);
  const outShape = [...g.lead, g.plan.L, g.plan.Ev];
  for (const [name, a, shape] of [['output', out, outShape], ['its gradient', dout, outShape],
    ['lse', lse, outShape.slice(0, -1)]] as const) {
    if (!sameShape(a.shape, shape)) {
      throw new Error(`${kernel}: ${name} ${fmt(a.shape)} should be ${fmt(shape)} for ${shapesOf(q, k, v)}`);
    }
  }
  return freeOnError(() => {
    const grad = (wanted: boolean, x: NDArray) => (wanted ? empty(backend, dtype, x.shape) : null);
    const dq = grad(need.q, q), dk = grad(need.k, k), dv = grad(need.v, v);
    const bufs = [dq, dk, dv].filter((a): a is NDArray => a !== null);
    const { heads, L, S } = g.plan;
    if (heads > 0 && L > 0 && S > 0) {
      withMask(kernel, backend, dtype, settings.mask, g, (plan) => backend.attentionGrad(q.buf, k.buf, v.buf,
        out.buf, lse.buf, dout.buf, dq?.buf ?? null, dk?.buf ?? null, dv?.buf ?? null, plan));
    } else {
      for (const a of bufs) backend.fill(a.buf, 0, 0, a.buf.size); // no query or no key: nothing flows back
    }
    return { dq, dk, dv };
  });
}

// ---- Optimizer updates, in place on the parameter and its state --------------------------------------------

/** An update's arrays (absent state is null): alive, on one backend, of one float dtype, all of p's shape. */
function checkUpdate(kernel: string, p: NDArray, g: NDArray, state: (NDArray | null)[]): Backend {
  const xs = [p, g, ...state.filter((x): x is NDArray => x !== null)];
  const backend = check(kernel, ...xs);
  checkFloat(kernel, ...xs);
  for (const x of xs.slice(1)) {
    if (!sameShape(x.shape, p.shape)) {
      throw new Error(`${kernel}: ${x === g ? 'the gradient' : 'a state buffer'} has shape ${fmt(x.shape)}, the parameter ${fmt(p.shape)}`);
    }
  }
  return backend;
}

/** SGD (momentum, dampening, Nesterov, weight decay) on p in place; momentumBuf is null without momentum. */
export function sgd(p: NDArray, g: NDArray, momentumBuf: NDArray | null, h: SgdParams): void {
  const backend = checkUpdate('sgd', p, g, [momentumBuf]);
  backend.sgd(p.buf, g.buf, momentumBuf?.buf ?? null, p.buf.size, h);
}

/** Adam / AdamW on p in place, with its first and second moments m and v. */
export function adam(p: NDArray, g: NDArray, m: NDArray, v: NDArray, h: AdamParams): void {
  const backend = checkUpdate('adam', p, g, [m, v]);
  backend.adam(p.buf, g.buf, m.buf, v.buf, p.buf.size, h);
}

/** RMSprop on p in place; momentumBuf and gradAvg are null unless momentum > 0 and centered. */
export function rmsprop(p: NDArray, g: NDArray, sq: NDArray, momentumBuf: NDArray | null, gradAvg: NDArray | null,
  h: RmspropParams): void {
  const backend = checkUpdate('rmsprop', p, g, [sq, momentumBuf, gradAvg]);
  backend.rmsprop(p.buf, g.buf, sq.buf, momentumBuf?.buf ?? null, gradAvg?.buf ?? null, p.buf.size, h);
}

/** Adagrad on p in place, with its running sum of squared gradients. */
export function adagrad(p: NDArray, g: NDArray, sum: NDArray, h: AdagradParams): void {
  const backend = checkUpdate('adagrad', p, g, [sum]);
  backend.adagrad(p.buf, g.buf, sum.buf, p.buf.size, h);
}
