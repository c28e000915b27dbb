// What one backend call costs, from its arguments alone: the profiler's FLOPs and bytes, one rule per Backend
// method (the Record type makes the compiler refuse a table that misses or invents one).
//
// FLOPs: a product's multiply-add counts 2; elsewhere every arithmetic operation, comparison or transcendental
// function the formula of the call (src/backend/types.ts) applies to an element counts 1 — an estimate of the work,
// not of the instructions a build runs. Copies, fills, casts, gathers and selections are 0.
// Bytes: every operand read once and every output written once, at its element size — the least traffic the call
// needs (a kernel that passes over its input twice moves more); an operand broadcast along a dimension is read
// once. Storage bookkeeping (alloc, free, memory, resetPeak) is no kernel: its time counts as outside the kernels.
import type { Backend, Buf, CopyPlan, Pool2dPlan, PoolSizes } from '../backend/types.js';
import { BYTES_PER_ELEMENT } from '../backend/types.js';
import type { BackendMethod } from '../backend/observe.js';

export interface KernelCost {
  /**
   * The kernel's name in a profile: the op for the methods that take one (add, exp, sum, reluGrad, logSoftmax,
   * rmsNorm, tril), else the method (matmul, conv2d, copy, adam) — the names the wasm backend's errors use.
   */
  kernel: string;
  flops: number;
  bytes: number;
  /** The sizes that define the call (a product's m, n, k; an elementwise op's n): a trace event's args. */
  sizes: Record<string, number | boolean>;
}

type Rule<M extends BackendMethod> = (...args: Parameters<Backend[M]>) => KernelCost;

/** Bytes of `elements` elements of buf's dtype (all of it by default); 0 for an absent buffer. */
const bytes = (buf: Buf | null, elements = buf?.size ?? 0): number => (buf ? elements * BYTES_PER_ELEMENT[buf.dtype] : 0);
const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
/** The elements an operand strided over dims reads: the dimensions it is broadcast along (stride 0) count once. */
const distinct = (dims: readonly number[], strides: readonly number[]): number =>
  dims.reduce((acc, d, i) => (strides[i] === 0 ? acc : acc * d), 1);

/** The elements of an adaptive average pooling's windows along one dimension: PyTorch's [⌊i·n/o⌋, ⌈(i+1)·n/o⌉). */
function adaptiveWindows(n: number, o: number): number {
  let total = 0;
  for (let i = 0; i < o; i++) total += Math.ceil(((i + 1) * n) / o) - Math.floor((i * n) / o);
  return total;
}

/** An average pooling's arithmetic: each window summed, and one division per output (forward or backward). */
const averageFlops = (s: PoolSizes, windowElements: number): number => s.planes * (windowElements + s.oh * s.ow);

const pool = (s: PoolSizes): Record<string, number> => ({ planes: s.planes, h: s.h, w: s.w, oh: s.oh, ow: s.ow });
const window = (p: Pool2dPlan): Record<string, number> => ({ ...pool(p), kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw });
const copySizes = (p: CopyPlan): Record<string, number> => ({ n: product(p.dims), rank: p.dims.length });

/** An optimizer update over n elements: p and every state buffer read and written, g read. */
const update = (kernel: string, n: number, flops: number, p: Buf, g: Buf, ...state: (Buf | null)[]): KernelCost => ({
  kernel, flops: n * flops, sizes: { n },
  bytes: 2 * bytes(p, n) + bytes(g, n) + state.reduce((acc, s) => acc + 2 * bytes(s, n), 0),
});

export const COSTS: { [M in BackendMethod]: Rule<M> | null } = {
  alloc: null,
  free: null,
  memory: null,
  resetPeak: null,
  read: (buf, offset = 0, length = buf.size - offset) => ({ kernel: 'read', flops: 0, bytes: bytes(buf, length), sizes: { n: length } }),
  write: (buf, src) => ({ kernel: 'write', flops: 0, bytes: bytes(buf, src.length), sizes: { n: src.length } }),

  matmul: (a, b, c, p) => {
    const { m, n, k, batch } = p;
    return {
      kernel: 'matmul', flops: batch * (2 * m * n * k + (p.bias ? m * n : 0)),
      bytes: bytes(a, (p.strideA ? batch : 1) * m * k) + bytes(b, (p.strideB ? batch : 1) * k * n) + bytes(c, batch * m * n)
        + bytes(p.bias, n),
      sizes: { m, n, k, batch, transA: p.transA, transB: p.transB, bias: p.bias !== null },
    };
  },
  // A convolution is the product im2col makes of it: per output, c/groups·kh·kw multiply-adds.
  conv2d: (x, weight, bias, out, p) => ({
    kernel: 'conv2d', flops: 2 * out.size * (p.c / p.groups) * p.kh * p.kw + (bias ? out.size : 0),
    bytes: bytes(x) + bytes(weight) + bytes(bias) + bytes(out), sizes: { ...p },
  }),
  conv2dInputGrad: (dy, weight, dx, p) => ({
    kernel: 'conv2dInputGrad', flops: 2 * dy.size * (p.c / p.groups) * p.kh * p.kw,
    bytes: bytes(dy) + bytes(weight) + bytes(dx), sizes: { ...p },
  }),
  conv2dWeightGrad: (x, dy, dw, p) => ({
    kernel: 'conv2dWeightGrad', flops: 2 * dy.size * (p.c / p.groups) * p.kh * p.kw,
    bytes: bytes(x) + bytes(dy) + bytes(dw), sizes: { ...p },
  }),
  // The products of the dense scores (q·kᵀ, then p·v), causal or not; the softmax between them is not counted.
  attention: (q, k, v, out, lse, p) => ({
    kernel: 'attention', flops: 2 * p.heads * p.L * p.S * (p.E + p.Ev),
    bytes: bytes(q) + bytes(k) + bytes(v) + bytes(out) + bytes(lse) + bytes(p.mask?.buf ?? null) + bytes(p.mask?.offsets ?? null),
    sizes: { heads: p.heads, L: p.L, S: p.S, E: p.E, Ev: p.Ev, causal: p.causal, mask: p.mask !== null },
  }),
  // The scores again (q·kᵀ), dv = pᵀ·dout, dp = dout·vᵀ, dq = ds·k and dk = dsᵀ·q.
  attentionGrad: (q, k, v, out, lse, dout, dq, dk, dv, p) => ({
    kernel: 'attentionGrad', flops: 2 * p.heads * p.L * p.S * (3 * p.E + 2 * p.Ev),
    bytes: [q, k, v, out, lse, dout, dq, dk, dv, p.mask?.buf ?? null, p.mask?.offsets ?? null].reduce((acc, b) => acc + bytes(b), 0),
    sizes: { heads: p.heads, L: p.L, S: p.S, E: p.E, Ev: p.Ev, causal: p.causal, mask: p.mask !== null },
  }),

  binary: (op, a, b, out, p) => {
    const n = product(p.dims);
    return { kernel: op, flops: n, bytes: bytes(a, distinct(p.dims, p.aStrides)) + bytes(b, distinct(p.dims, p.bStrides)) + bytes(out, n), sizes: { n } };
  },
  where: (cond, a, b, out, p) => {
    const n = product(p.dims);
    return {
      kernel: 'where', flops: 0, sizes: { n },
      bytes: bytes(cond, distinct(p.dims, p.condStrides)) + bytes(a, distinct(p.dims, p.aStrides))
        + bytes(b, distinct(p.dims, p.bStrides)) + bytes(out, n),
    };
  },
  unary: (op, x, out, n) => ({ kernel: op, flops: n, bytes: bytes(x, n) + bytes(out, n), sizes: { n } }),
  // f′ from the saved value, times dy.
  unaryGrad: (op, saved, dy, dx, n) => ({
    kernel: `${op}Grad`, flops: 2 * n, bytes: bytes(saved, n) + bytes(dy, n) + bytes(dx, n), sizes: { n },
  }),
  // One add (or comparison) per input element.
  reduce: (op, x, out, outer, r, inner, argmax) => ({
    kernel: op, flops: outer * r * inner,
    bytes: bytes(x, outer * r * inner) + bytes(out, outer * inner) + bytes(argmax, outer * inner),
    sizes: { outer, r, inner },
  }),
  // Per element: the max, a subtraction, exp, the sum, and the division (log: the subtraction of the log-sum).
  softmax: (x, out, outer, r, inner, log) => ({
    kernel: log ? 'logSoftmax' : 'softmax', flops: 5 * outer * r * inner,
    bytes: bytes(x, outer * r * inner) + bytes(out, outer * r * inner), sizes: { outer, r, inner },
  }),
  // Per element: softmax dx = y·(dy − Σ dy·y), 4; log dx = dy − exp(y)·Σ dy, 4.
  softmaxGrad: (y, dy, dx, outer, r, inner, log) => ({
    kernel: log ? 'logSoftmaxGrad' : 'softmaxGrad', flops: 4 * outer * r * inner,
    bytes: 3 * bytes(y, outer * r * inner), sizes: { outer, r, inner },
  }),
  // A softmax of each row (5 per logit), and the loss against the target: one log-probability per row, or with
  // smoothing the dot product with the smoothed target (2 per logit).
  crossEntropy: (logits, labels, losses, probs, n, c, smoothing) => ({
    kernel: 'crossEntropy', flops: 5 * n * c + (smoothing > 0 ? 2 * n * c : n),
    bytes: bytes(logits, n * c) + bytes(labels, n) + bytes(losses, n) + bytes(probs, n * c), sizes: { n, c },
  }),
  // (probs − target)·dloss·scale per logit.
  crossEntropyGrad: (probs, labels, dloss, dlossStride, scale, dx, n, c) => ({
    kernel: 'crossEntropyGrad', flops: 3 * n * c,
    bytes: bytes(probs, n * c) + bytes(labels, n) + bytes(dloss, dlossStride ? n : 1) + bytes(dx, n * c), sizes: { n, c },
  }),
  cast: (x, out, n) => ({ kernel: 'cast', flops: 0, bytes: bytes(x, n) + bytes(out, n), sizes: { n } }),
  triangle: (x, out, batch, rows, cols, _diagonal, upper) => ({
    kernel: upper ? 'triu' : 'tril', flops: 0, bytes: bytes(x, batch * rows * cols) + bytes(out, batch * rows * cols),
    sizes: { batch, rows, cols },
  }),
  cumsum: (x, out, outer, r, inner) => ({
    kernel: 'cumsum', flops: outer * r * inner, bytes: bytes(x, outer * r * inner) + bytes(out, outer * r * inner),
    sizes: { outer, r, inner },
  }),
  copy: (x, out, p) => ({ kernel: 'copy', flops: 0, bytes: bytes(x, distinct(p.dims, p.xStrides)) + bytes(out, product(p.dims)), sizes: copySizes(p) }),
  fill: (out, _value, _offset, n) => ({ kernel: 'fill', flops: 0, bytes: bytes(out, n), sizes: { n } }),
  scale: (x, out, n) => ({ kernel: 'scale', flops: n, bytes: bytes(x, n) + bytes(out, n), sizes: { n } }),
  // y += alpha·x: y read and written.
  axpy: (_alpha, x, y, n) => ({ kernel: 'axpy', flops: 2 * n, bytes: bytes(x, n) + 2 * bytes(y, n), sizes: { n } }),
  gather: (x, idx, out, outer, r, inner, nIdx) => ({
    kernel: 'gather', flops: 0, bytes: bytes(x, outer * nIdx * inner) + bytes(idx, nIdx) + bytes(out, outer * nIdx * inner),
    sizes: { outer, r, inner, nIdx },
  }),
  // One add per element of dy into dx (read and written).
  scatterAdd: (dy, idx, dx, outer, r, inner, nIdx) => ({
    kernel: 'scatterAdd', flops: outer * nIdx * inner,
    bytes: bytes(dy, outer * nIdx * inner) + bytes(idx, nIdx) + 2 * bytes(dx, outer * nIdx * inner),
    sizes: { outer, r, inner, nIdx },
  }),

  // One comparison per window position.
  maxPool2d: (x, out, indices, p) => ({
    kernel: 'maxPool2d', flops: p.planes * p.oh * p.ow * p.kh * p.kw,
    bytes: bytes(x, p.planes * p.h * p.w) + bytes(out, p.planes * p.oh * p.ow) + bytes(indices, p.planes * p.oh * p.ow),
    sizes: window(p),
  }),
  // dx cleared, then one add per output.
  maxPool2dGrad: (dy, indices, dx, s) => ({
    kernel: 'maxPool2dGrad', flops: s.planes * s.oh * s.ow,
    bytes: bytes(dy, s.planes * s.oh * s.ow) + bytes(indices, s.planes * s.oh * s.ow) + bytes(dx, s.planes * s.h * s.w),
    sizes: pool(s),
  }),
  maxPool2dGather: (x, indices, out, s) => ({
    kernel: 'maxPool2dGather', flops: 0,
    bytes: bytes(x, s.planes * s.oh * s.ow) + bytes(indices, s.planes * s.oh * s.ow) + bytes(out, s.planes * s.oh * s.ow),
    sizes: pool(s),
  }),
  avgPool2d: (x, out, p) => ({
    kernel: 'avgPool2d', flops: averageFlops(p, p.oh * p.ow * p.kh * p.kw),
    bytes: bytes(x, p.planes * p.h * p.w) + bytes(out, p.planes * p.oh * p.ow), sizes: window(p),
  }),
  avgPool2dGrad: (dy, dx, p) => ({
    kernel: 'avgPool2dGrad', flops: averageFlops(p, p.oh * p.ow * p.kh * p.kw),
    bytes: bytes(dy, p.planes * p.oh * p.ow) + bytes(dx, p.planes * p.h * p.w), sizes: window(p),
  }),
  adaptiveAvgPool2d: (x, out, s) => ({
    kernel: 'adaptiveAvgPool2d', flops: averageFlops(s, adaptiveWindows(s.h, s.oh) * adaptiveWindows(s.w, s.ow)),
    bytes: bytes(x, s.planes * s.h * s.w) + bytes(out, s.planes * s.oh * s.ow), sizes: pool(s),
  }),
  adaptiveAvgPool2dGrad: (dy, dx, s) => ({
    kernel: 'adaptiveAvgPool2dGrad', flops: averageFlops(s, adaptiveWindows(s.h, s.oh) * adaptiveWindows(s.w, s.ow)),
    bytes: bytes(dy, s.planes * s.oh * s.ow) + bytes(dx, s.planes * s.h * s.w), sizes: pool(s),
  }),

  // Per element: the sum (1) and the sum of squared deviations (3); the running statistics are per channel.
  batchNormStats: (x, mean, variance, runningMean, runningVar, _momentum, p) => ({
    kernel: 'batchNormStats', flops: 4 * p.n * p.c * p.l,
    bytes: bytes(x, p.n * p.c * p.l) + bytes(mean) + bytes(variance) + 2 * (bytes(runningMean) + bytes(runningVar)),
    sizes: { n: p.n, c: p.c, l: p.l },
  }),
  // (x − mean)·rstd·weight + bias: 4 per element.
  batchNorm: (x, out, mean, variance, weight, bias, p) => ({
    kernel: 'batchNorm', flops: 4 * p.n * p.c * p.l,
    bytes: bytes(x, p.n * p.c * p.l) + bytes(out, p.n * p.c * p.l) + bytes(mean) + bytes(variance) + bytes(weight) + bytes(bias),
    sizes: { n: p.n, c: p.c, l: p.l },
  }),
  // Per element: x̂ (2), Σ dy (1), Σ dy·x̂ (2), and dx: in training (m·dy − Σ dy − x̂·Σ dy·x̂)·weight·rstd/m (5), in
  // evaluation dy·weight·rstd (2).
  batchNormGrad: (x, dy, mean, variance, weight, dx, dweight, dbias, training, p) => ({
    kernel: 'batchNormGrad', flops: p.n * p.c * p.l * (5 + (dx ? (training ? 5 : 2) : 0)),
    bytes: bytes(x, p.n * p.c * p.l) + bytes(dy, p.n * p.c * p.l) + bytes(dx, p.n * p.c * p.l)
      + bytes(mean) + bytes(variance) + bytes(weight) + bytes(dweight) + bytes(dbias),
    sizes: { n: p.n, c: p.c, l: p.l, training },
  }),
  // Per element: the mean (1), the variance (3), (x − mean)·rstd (2), ·weight + bias (2); rms: the mean square (2),
  // x·rstd (1), ·weight (1).
  layerNorm: (x, out, mean, rstd, weight, bias, p) => ({
    kernel: p.rms ? 'rmsNorm' : 'layerNorm', flops: p.rows * p.n * (p.rms ? 4 : 8),
    bytes: bytes(x, p.rows * p.n) + bytes(out, p.rows * p.n) + bytes(mean, p.rows) + bytes(rstd, p.rows) + bytes(weight, p.n) + bytes(bias, p.n),
    sizes: { rows: p.rows, n: p.n },
  }),
  // dx per element: x̂ (2), g = dy·weight (1), Σ g (1), Σ g·x̂ (2), rstd·(g − mean g − x̂·mean g·x̂) (4): 10; rms:
  // x̂ (1), g (1), Σ g·x̂ (2), rstd·(g − x̂·mean g·x̂) (3): 7. A second pass gives dweight = Σ dy·x̂ (x̂ again, and 2)
  // and dbias = Σ dy (1).
  layerNormGrad: (x, dy, mean, rstd, weight, dx, dweight, dbias, p) => {
    const xhat = p.rms ? 1 : 2;
    const perElement = (dx ? (p.rms ? 7 : 10) : 0) + (dweight ? xhat + 2 : 0) + (dbias ? 1 : 0);
    return {
      kernel: p.rms ? 'rmsNormGrad' : 'layerNormGrad', flops: p.rows * p.n * perElement,
      bytes: bytes(x, p.rows * p.n) + bytes(dy, p.rows * p.n) + bytes(dx, p.rows * p.n) + bytes(mean, p.rows) + bytes(rstd, p.rows)
        + bytes(weight, p.n) + bytes(dweight, p.n) + bytes(dbias, p.n),
      sizes: { rows: p.rows, n: p.n },
    };
  },

  // Per element: weight decay g + wd·p (2); momentum buf = μ·buf + (1 − dampening)·g (3, not on the first step,
  // which copies g); Nesterov g + μ·buf (2); p − lr·update (2).
  sgd: (p, g, momentumBuf, n, h) => update('sgd', n,
    (h.weightDecay ? 2 : 0) + (h.momentum ? (h.firstStep ? 0 : 3) + (h.nesterov ? 2 : 0) : 0) + 2, p, g, momentumBuf),
  // The product's cost and the update's, under the product's name (the update is its epilogue).
  matmulSgd: (a, b, c, plan, w, momentumBuf, n, h) => {
    const product = COSTS.matmul!(a, b, c, plan), update = COSTS.sgd!(w, c, momentumBuf, n, h);
    return { ...product, kernel: 'matmul+sgd', flops: product.flops + update.flops, bytes: product.bytes + update.bytes };
  },
  // Per element: weight decay (2); m = β1·m + (1 − β1)·g (3); v = β2·v + (1 − β2)·g² (4); p − lr·(m/bc1)/(√(v/bc2) + eps) (7).
  adam: (p, g, m, v, n, h) => update('adam', n, (h.weightDecay ? 2 : 0) + 14, p, g, m, v),
  // Per element: weight decay (2); sq = α·sq + (1 − α)·g² (4); centered: avg likewise (3) and sq − avg² (2);
  // √· + eps (2); with momentum buf = μ·buf + g/denominator (3) and p − lr·buf (2), else p − lr·g/denominator (3).
  rmsprop: (p, g, sq, momentumBuf, gradAvg, n, h) => update('rmsprop', n,
    (h.weightDecay ? 2 : 0) + 4 + (h.centered ? 5 : 0) + 2 + (h.momentum ? 5 : 3), p, g, sq, momentumBuf, gradAvg),
  // Per element: weight decay (2); sum += g² (2); p − clr·g/(√sum + eps) (5).
  adagrad: (p, g, sum, n, h) => update('adagrad', n, (h.weightDecay ? 2 : 0) + 7, p, g, sum),
};

/** The cost of one call of `method` with `args` as the backend received them, or null for storage bookkeeping. */
export function costOf(method: BackendMethod, args: readonly unknown[]): KernelCost | null {
  const rule = COSTS[method] as ((...a: readonly unknown[]) => KernelCost) | null;
  return rule && rule(...args);
}
