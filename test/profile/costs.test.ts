// The profiler's cost table: one rule per Backend method, each checked on a case worked out by hand here (FLOPs:
// 2 per multiply-add of a product, 1 per arithmetic operation of the formula elsewhere; bytes: each operand read
// once, each output written once).
import { describe, expect, it } from 'vitest';
import type { BackendMethod } from '../../src/backend/observe.js';
import type {
  AdamParams, AttentionPlan, Buf, ConvPlan, DType, LayerNormPlan, MatmulPlan, Pool2dPlan, SgdParams,
} from '../../src/backend/types.js';
import { COSTS, costOf } from '../../src/profile/costs.js';

const buf = (size: number, dtype: DType = 'float32'): Buf => ({ dtype, size, backend: null as never, live: true });
const f = buf;
const i32 = (size: number) => buf(size, 'int32');

const matmulPlan = (m: number, n: number, k: number, extra: Partial<MatmulPlan> = {}): MatmulPlan =>
  ({ m, n, k, transA: false, transB: false, batch: 1, strideA: m * k, strideB: k * n, bias: null, ...extra });
// LeNet's second convolution on a batch of 2: [2,16,14,14] * [32,16,5,5] → [2,32,10,10].
const conv: ConvPlan = { n: 2, c: 16, h: 14, w: 14, o: 32, kh: 5, kw: 5, oh: 10, ow: 10, strideH: 1, strideW: 1,
  padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1 };
const convFlops = 2 * (2 * 32 * 10 * 10) * (16 * 5 * 5);
const attn: AttentionPlan = { heads: 8, L: 16, S: 16, E: 4, Ev: 4, scale: 0.5, causal: true, mask: null };
// 2×3 planes of 6×6, 2×2 windows of stride 2: 3×3 outputs each.
const pool: Pool2dPlan = { planes: 6, h: 6, w: 6, oh: 3, ow: 3, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1,
  countIncludePad: true, divisor: 0, ignoreNaN: false };
const sizes = { planes: 6, h: 6, w: 6, oh: 3, ow: 3 };
const bn = { n: 4, c: 3, l: 5, eps: 1e-5 }; // 60 elements
const ln: LayerNormPlan = { rows: 4, n: 8, eps: 1e-5, rms: false }; // 32 elements
const sgd: SgdParams = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false };
const adam: AdamParams = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, bc1: 0.1, bc2: 0.001 };

type Case = [name: string, method: BackendMethod, args: unknown[], expected: { kernel: string; flops: number; bytes: number } | null];

const CASES: Case[] = [
  ['alloc', 'alloc', ['float32', 10], null],
  ['free', 'free', [f(10)], null],
  ['memory', 'memory', [], null],
  ['resetPeak', 'resetPeak', [], null],
  ['read of 3 of 10 elements', 'read', [f(10), 2, 3], { kernel: 'read', flops: 0, bytes: 12 }],
  ['read of the rest from an offset', 'read', [f(10), 4], { kernel: 'read', flops: 0, bytes: 24 }],
  ['write', 'write', [i32(10), [1, 2, 3, 4, 5]], { kernel: 'write', flops: 0, bytes: 20 }],
  ['matmul m,n,k = 3,5,7', 'matmul', [f(21), f(35), f(15), matmulPlan(3, 5, 7)],
    { kernel: 'matmul', flops: 2 * 3 * 5 * 7, bytes: 4 * (3 * 7 + 7 * 5 + 3 * 5) }],
  ['matmul with a bias', 'matmul', [f(21), f(35), f(15), matmulPlan(3, 5, 7, { bias: f(5) })],
    { kernel: 'matmul', flops: 2 * 3 * 5 * 7 + 3 * 5, bytes: 4 * (3 * 7 + 7 * 5 + 3 * 5 + 5) }],
  ['batched matmul, B broadcast', 'matmul', [f(4 * 21), f(35), f(4 * 15), matmulPlan(3, 5, 7, { batch: 4, strideB: 0 })],
    { kernel: 'matmul', flops: 4 * 2 * 3 * 5 * 7, bytes: 4 * (4 * 3 * 7 + 7 * 5 + 4 * 3 * 5) }],
  ['conv2d with a bias', 'conv2d', [f(2 * 16 * 196), f(32 * 16 * 25), f(32), f(2 * 32 * 100), conv],
    { kernel: 'conv2d', flops: convFlops + 2 * 32 * 100, bytes: 4 * (2 * 16 * 196 + 32 * 16 * 25 + 32 + 2 * 32 * 100) }],
  ['conv2dInputGrad', 'conv2dInputGrad', [f(2 * 32 * 100), f(32 * 16 * 25), f(2 * 16 * 196), conv],
    { kernel: 'conv2dInputGrad', flops: convFlops, bytes: 4 * (2 * 32 * 100 + 32 * 16 * 25 + 2 * 16 * 196) }],
  ['conv2dWeightGrad', 'conv2dWeightGrad', [f(2 * 16 * 196), f(2 * 32 * 100), f(32 * 16 * 25), conv],
    { kernel: 'conv2dWeightGrad', flops: convFlops, bytes: 4 * (2 * 16 * 196 + 2 * 32 * 100 + 32 * 16 * 25) }],
  ['attention (q·kᵀ and p·v)', 'attention', [f(512), f(512), f(512), f(512), f(128), attn],
    { kernel: 'attention', flops: 2 * 8 * 16 * 16 * 4 + 2 * 8 * 16 * 16 * 4, bytes: 4 * (4 * 512 + 128) }],
  ['attentionGrad (five products)', 'attentionGrad', [f(512), f(512), f(512), f(512), f(128), f(512), f(512), f(512), f(512), attn],
    { kernel: 'attentionGrad', flops: 5 * 2 * 8 * 16 * 16 * 4, bytes: 4 * (8 * 512 + 128) }],
  ['add with b broadcast over rows', 'binary', ['add', f(12), f(4), f(12), { dims: [3, 4], aStrides: [4, 1], bStrides: [0, 1] }],
    { kernel: 'add', flops: 12, bytes: 4 * (12 + 4 + 12) }],
  ['where', 'where', [i32(12), f(12), f(1), f(12), { dims: [12], condStrides: [1], aStrides: [1], bStrides: [0] }],
    { kernel: 'where', flops: 0, bytes: 4 * (12 + 12 + 1 + 12) }],
  ['exp', 'unary', ['exp', f(100), f(100), 100, 0], { kernel: 'exp', flops: 100, bytes: 800 }],
  ['reluGrad', 'unaryGrad', ['relu', f(100), f(100), f(100), 100, 0], { kernel: 'reluGrad', flops: 200, bytes: 1200 }],
  ['sum over the middle axis', 'reduce', ['sum', f(60), f(12), 3, 5, 4, null], { kernel: 'sum', flops: 60, bytes: 4 * (60 + 12) }],
  ['max with argmax', 'reduce', ['max', f(60), f(12), 3, 5, 4, i32(12)], { kernel: 'max', flops: 60, bytes: 4 * (60 + 12 + 12) }],
  ['logSoftmax', 'softmax', [f(60), f(60), 3, 5, 4, true], { kernel: 'logSoftmax', flops: 5 * 60, bytes: 4 * 120 }],
  ['softmaxGrad', 'softmaxGrad', [f(60), f(60), f(60), 3, 5, 4, false], { kernel: 'softmaxGrad', flops: 4 * 60, bytes: 4 * 180 }],
  ['crossEntropy 64×10', 'crossEntropy', [f(640), i32(64), f(64), f(640), 64, 10, 0, -100],
    { kernel: 'crossEntropy', flops: 5 * 640 + 64, bytes: 4 * (640 + 64 + 64 + 640) }],
  ['crossEntropy with smoothing', 'crossEntropy', [f(640), i32(64), f(64), f(640), 64, 10, 0.1, -100],
    { kernel: 'crossEntropy', flops: 7 * 640, bytes: 4 * (640 + 64 + 64 + 640) }],
  ['crossEntropyGrad, one upstream value', 'crossEntropyGrad', [f(640), i32(64), f(1), 0, 1 / 64, f(640), 64, 10, 0, -100],
    { kernel: 'crossEntropyGrad', flops: 3 * 640, bytes: 4 * (640 + 64 + 1 + 640) }],
  ['cast int32 → float32', 'cast', [i32(10), f(10), 10], { kernel: 'cast', flops: 0, bytes: 80 }],
  ['triu', 'triangle', [f(2 * 3 * 4), f(2 * 3 * 4), 2, 3, 4, 0, true], { kernel: 'triu', flops: 0, bytes: 4 * 48 }],
  ['cumsum', 'cumsum', [f(60), f(60), 3, 5, 4, false], { kernel: 'cumsum', flops: 60, bytes: 480 }],
  ['copy of a transpose', 'copy', [f(12), f(12), { dims: [4, 3], xStrides: [1, 4], xOffset: 0, outStrides: [3, 1], outOffset: 0 }],
    { kernel: 'copy', flops: 0, bytes: 96 }],
  ['copy of an expand', 'copy', [f(3), f(12), { dims: [4, 3], xStrides: [0, 1], xOffset: 0, outStrides: [3, 1], outOffset: 0 }],
    { kernel: 'copy', flops: 0, bytes: 4 * (3 + 12) }],
  ['fill of part of a buffer', 'fill', [f(100), 0, 10, 50], { kernel: 'fill', flops: 0, bytes: 200 }],
  ['scale', 'scale', [f(100), f(100), 100, 2], { kernel: 'scale', flops: 100, bytes: 800 }],
  ['axpy', 'axpy', [0.5, f(100), f(100), 100], { kernel: 'axpy', flops: 200, bytes: 1200 }],
  ['gather of 5 rows of 4', 'gather', [f(40), i32(5), f(20), 1, 10, 4, 5], { kernel: 'gather', flops: 0, bytes: 4 * (20 + 5 + 20) }],
  ['scatterAdd of 5 rows of 4', 'scatterAdd', [f(20), i32(5), f(40), 1, 10, 4, 5],
    { kernel: 'scatterAdd', flops: 20, bytes: 4 * (20 + 5 + 2 * 20) }],
  ['maxPool2d 2×2', 'maxPool2d', [f(216), f(54), i32(54), pool], { kernel: 'maxPool2d', flops: 54 * 4, bytes: 4 * (216 + 54 + 54) }],
  ['maxPool2dGrad', 'maxPool2dGrad', [f(54), i32(54), f(216), sizes], { kernel: 'maxPool2dGrad', flops: 54, bytes: 4 * (54 + 54 + 216) }],
  ['maxPool2dGather', 'maxPool2dGather', [f(216), i32(54), f(54), sizes], { kernel: 'maxPool2dGather', flops: 0, bytes: 4 * 3 * 54 }],
  ['avgPool2d 2×2', 'avgPool2d', [f(216), f(54), pool], { kernel: 'avgPool2d', flops: 54 * (4 + 1), bytes: 4 * (216 + 54) }],
  ['avgPool2dGrad', 'avgPool2dGrad', [f(54), f(216), pool], { kernel: 'avgPool2dGrad', flops: 54 * (4 + 1), bytes: 4 * (54 + 216) }],
  // 6 → 4 along each dim: windows [0,2), [1,3), [3,5), [4,6), two elements each, so 4 per output.
  ['adaptiveAvgPool2d 6×6 → 4×4', 'adaptiveAvgPool2d', [f(216), f(96), { planes: 6, h: 6, w: 6, oh: 4, ow: 4 }],
    { kernel: 'adaptiveAvgPool2d', flops: 96 * (4 + 1), bytes: 4 * (216 + 96) }],
  ['adaptiveAvgPool2dGrad 6×6 → 4×4', 'adaptiveAvgPool2dGrad', [f(96), f(216), { planes: 6, h: 6, w: 6, oh: 4, ow: 4 }],
    { kernel: 'adaptiveAvgPool2dGrad', flops: 96 * (4 + 1), bytes: 4 * (96 + 216) }],
  ['batchNormStats with running statistics', 'batchNormStats', [f(60), f(3), f(3), f(3), f(3), 0.1, bn],
    { kernel: 'batchNormStats', flops: 4 * 60, bytes: 4 * (60 + 3 + 3 + 2 * 3 + 2 * 3) }],
  ['batchNorm', 'batchNorm', [f(60), f(60), f(3), f(3), f(3), f(3), bn], { kernel: 'batchNorm', flops: 4 * 60, bytes: 4 * (120 + 12) }],
  ['batchNormGrad in training', 'batchNormGrad', [f(60), f(60), f(3), f(3), f(3), f(60), f(3), f(3), true, bn],
    { kernel: 'batchNormGrad', flops: 10 * 60, bytes: 4 * (3 * 60 + 5 * 3) }],
  ['batchNormGrad in evaluation', 'batchNormGrad', [f(60), f(60), f(3), f(3), f(3), f(60), null, null, false, bn],
    { kernel: 'batchNormGrad', flops: 7 * 60, bytes: 4 * (3 * 60 + 3 * 3) }],
  ['layerNorm', 'layerNorm', [f(32), f(32), f(4), f(4), f(8), f(8), ln], { kernel: 'layerNorm', flops: 8 * 32, bytes: 4 * (64 + 8 + 16) }],
  ['rmsNorm without a bias', 'layerNorm', [f(32), f(32), null, f(4), f(8), null, { ...ln, rms: true }],
    { kernel: 'rmsNorm', flops: 4 * 32, bytes: 4 * (64 + 4 + 8) }],
  // dx: x̂ 2, g 1, Σg 1, Σg·x̂ 2, the combination 4 = 10; dweight: x̂ 2 + 2; dbias 1.
  ['layerNormGrad', 'layerNormGrad', [f(32), f(32), f(4), f(4), f(8), f(32), f(8), f(8), ln],
    { kernel: 'layerNormGrad', flops: (10 + 4 + 1) * 32, bytes: 4 * (3 * 32 + 8 + 3 * 8) }],
  // dx: x̂ 1, g 1, Σg·x̂ 2, the combination 3 = 7.
  ['rmsNormGrad, dx only', 'layerNormGrad', [f(32), f(32), null, f(4), f(8), f(32), null, null, { ...ln, rms: true }],
    { kernel: 'rmsNormGrad', flops: 7 * 32, bytes: 4 * (3 * 32 + 4 + 8) }],
  // momentum 3 + update 2; p and the momentum read and written, g read.
  ['sgd with momentum', 'sgd', [f(100), f(100), f(100), 100, sgd], { kernel: 'sgd', flops: 5 * 100, bytes: 4 * 5 * 100 }],
  ['plain sgd', 'sgd', [f(100), f(100), null, 100, { ...sgd, momentum: 0 }], { kernel: 'sgd', flops: 2 * 100, bytes: 4 * 3 * 100 }],
  ['matmul + sgd fused', 'matmulSgd', [f(21), f(35), f(15), matmulPlan(3, 5, 7), f(15), null, 15, { ...sgd, momentum: 0 }],
    { kernel: 'matmul+sgd', flops: 2 * 3 * 5 * 7 + 2 * 15, bytes: 4 * (3 * 7 + 7 * 5 + 3 * 5) + 4 * 3 * 15 }],
  ['adam with weight decay', 'adam', [f(100), f(100), f(100), f(100), 100, { ...adam, weightDecay: 0.01 }],
    { kernel: 'adam', flops: 16 * 100, bytes: 4 * 7 * 100 }],
  // sq 4, √·+eps 2, p − lr·g/denominator 3.
  ['rmsprop', 'rmsprop', [f(100), f(100), f(100), null, null, 100, { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }],
    { kernel: 'rmsprop', flops: 9 * 100, bytes: 4 * 5 * 100 }],
  ['adagrad', 'adagrad', [f(100), f(100), f(100), 100, { clr: 0.01, eps: 1e-10, weightDecay: 0 }],
    { kernel: 'adagrad', flops: 7 * 100, bytes: 4 * 5 * 100 }],
];

describe('profiler cost table', () => {
  it('has a case here for every Backend method', () => {
    expect(new Set(CASES.map(([, method]) => method))).toEqual(new Set(Object.keys(COSTS)));
  });

  it.each(CASES)('%s', (_name, method, args, expected) => {
    const cost = costOf(method, args);
    if (expected === null) {
      expect(cost).toBeNull();
      return;
    }
    expect({ kernel: cost!.kernel, flops: cost!.flops, bytes: cost!.bytes }).toEqual(expected);
    for (const v of Object.values(cost!.sizes)) expect(['number', 'boolean']).toContain(typeof v);
  });

  it("names a product's sizes for the trace", () => {
    expect(costOf('matmul', [f(21), f(35), f(15), matmulPlan(3, 5, 7)])!.sizes)
      .toEqual({ m: 3, n: 5, k: 7, batch: 1, transA: false, transB: false, bias: false });
  });
});
