// The 'wasmgrad' tfjs backend against tfjs-backend-cpu where tfjs's semantics are not wasmgrad's own (PyTorch's):
// NaN in ArgMax/ArgMin, Sign and MaxPool, empty inputs of Concat, string tensors, Exp of int32, tfjs's error
// wording, the 1×1 pooling that returns its input; and the shape and index kernels built from wasmgrad's copies
// (StridedSlice, Reverse, Tile, Pack, ...) on their awkward cases. Each case runs on both backends from the same
// literal inputs and must give the same dtype, shape and values (NaN for NaN), or the same error; wasmgrad's memory
// returns to where it started.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/tfjs/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

/** A case, and for float results computed otherwise than in float64 the largest relative difference allowed. */
type Case = [name: string, fn: () => tf.Tensor | tf.Tensor[], tolerance?: number];

/** fn's outputs on `backend`, as plain values, every tensor disposed. */
async function run(backend: string, fn: Case[1]) {
  if (backend === 'wasmgrad') await useWasmgrad();
  else await tf.setBackend(backend);
  const outs = tf.tidy(() => [fn()].flat());
  const got = await Promise.all(outs.map(async (t) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(await t.data()) })));
  tf.dispose(outs);
  return got;
}

async function expectAsOnCpu(fn: Case[1], tolerance = 0): Promise<void> {
  const cpu = await run('cpu', fn);
  const ours = await expectNoTfLeaks(() => run('wasmgrad', fn));
  if (tolerance === 0) {
    expect(ours).toEqual(cpu); // toEqual: NaN equals NaN
    return;
  }
  expect(ours.map(({ dtype, shape }) => ({ dtype, shape }))).toEqual(cpu.map(({ dtype, shape }) => ({ dtype, shape })));
  ours.forEach((o, k) => o.values.forEach((v, i) => {
    const want = cpu[k]!.values[i]!;
    if (Number.isNaN(want)) expect(v, `output ${k}[${i}]`).toBeNaN();
    else if (!Number.isFinite(want)) expect(v, `output ${k}[${i}]`).toBe(want);
    else expect(Math.abs(v - want), `output ${k}[${i}]: ${v} vs ${want}`).toBeLessThanOrEqual(tolerance * Math.abs(want));
  }));
}

async function expectErrorAsOnCpu(fn: Case[1]): Promise<void> {
  const message = async (backend: string) => run(backend, fn).then(() => 'no error', (e: Error) => e.message);
  const cpu = await message('cpu');
  expect(cpu).not.toBe('no error');
  expect(await expectNoTfLeaks(() => message('wasmgrad'))).toBe(cpu);
}

const nan = NaN;

const CASES: Case[] = [
  // tfjs's ArgMax starts from the first value and takes each later one that is greater: NaNs after it are skipped,
  // a NaN first stays; wasmgrad's max lets NaN win.
  ['ArgMax skips NaNs', () => tf.argMax(tf.tensor1d([0, 3, 5, nan, 3]))],
  ['ArgMax: a NaN first is kept, a NaN row gives 0', () => tf.argMax(tf.tensor2d([nan, 3, 5, 1, nan, 2, nan, nan, nan, -Infinity, nan, -Infinity], [4, 3]), 1)],
  ['ArgMax along axis 0 with NaNs and ties', () => tf.argMax(tf.tensor2d([1, nan, 2, 1, 7, nan, 4, 7, nan], [3, 3]), 0)],
  ['ArgMin skips NaNs', () => tf.argMin(tf.tensor1d([5, 0, nan, -1, 3]))],
  ['ArgMin: a NaN first is kept', () => tf.argMin(tf.tensor2d([nan, -3, 5, 1, nan, -2], [2, 3]), 1)],
  ['Sign of NaN is 0', () => tf.sign(tf.tensor1d([1.5, 0, nan, -1.4, -0, Infinity, -Infinity]))],
  ['Exp of int32 and bool is float32', () => [tf.exp(tf.tensor1d([0, 1, -2, 3], 'int32')), tf.exp(tf.tensor1d([true, false], 'bool'))]],
  ['Floor', () => tf.floor(tf.tensor1d([1.5, -1.5, -0.5, 2, nan, -Infinity, 3e7 + 1, 0.99999994]))],
  ['MaxPool skips NaNs (a window of NaNs gives −∞)', () =>
    tf.maxPool(tf.tensor4d([1, nan, 3, nan, nan, nan, 7, nan, nan], [1, 3, 3, 1]), 2, 1, 'valid')],
  ['MaxPool and AvgPool with a 1×1 window and numeric padding return the input', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 2, 2, 3]);
    return [tf.maxPool(x, 1, 2, 1), tf.avgPool(x, 1, 2, 1)];
  }],
  ['Concat of empty tensors keeps their size along the axis', () => {
    const e = tf.zeros([0, 5]);
    return [tf.concat([e, e, e], 1), tf.concat([tf.ones([2, 0]), tf.ones([2, 3]), tf.zeros([2, 0])], 1)];
  }],
  ['Concat, Slice and comparisons of strings', () => {
    const a = tf.tensor2d(['a', 'b', 'cé', 'd'], [2, 2]);
    const b = tf.tensor2d(['a', 'c', 'b', 'd'], [2, 2]);
    return [tf.concat([a, b], 1), tf.slice(a, [1, 0], [1, 2]), tf.equal(a, b), tf.notEqual(a, b), tf.greater(a, b),
      tf.greaterEqual(a, b), tf.less(a, b), tf.lessEqual(a, b)];
  }],
];

const grid = (shape: number[], dtype: 'float32' | 'int32' = 'float32') =>
  tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 3 - 7), shape, dtype);

const SHAPE_KERNELS: Case[] = [
  ['StridedSlice: negative strides, masks, new and shrunk axes', () => {
    const x = grid([3, 4, 5]);
    return [tf.stridedSlice(x, [2, 3, 4], [0, 0, 0], [-1, -2, -3]), tf.stridedSlice(x, [0, 1, 0], [3, 4, 5], [2, 1, 2]),
      tf.stridedSlice(x, [1, 0], [2, 4], [1, 1], 0, 2, 0, 1), tf.stridedSlice(x, [5, 0, 0], [9, 4, 5], [1, 1, 1]),
      tf.stridedSlice(grid([6], 'int32'), [-1], [-7], [-2])];
  }],
  ['Reverse along some, all and no axes', () => {
    const x = grid([2, 3, 4], 'int32');
    return [tf.reverse(x, [1]), tf.reverse(x, [0, 2]), tf.reverse(x), tf.reverse(x, []), tf.reverse(tf.zeros([0, 3]), 0)];
  }],
  ['Tile', () => [tf.tile(grid([2, 3]), [3, 2]), tf.tile(grid([4], 'int32'), [0]), tf.tile(tf.tensor([true, false], [2], 'bool'), [2])]],
  ['Pack and Unpack along every axis', () => {
    const [a, b] = [grid([2, 3]), grid([2, 3]).neg()];
    return [tf.stack([a, b]), tf.stack([a, b], 1), tf.stack([a, b], -1), tf.stack([a]), ...tf.unstack(grid([2, 3, 2], 'int32'), 1)];
  }],
  ['SplitV by count and by sizes', () => [...tf.split(grid([4, 6]), 3, 1), ...tf.split(grid([5, 2], 'int32'), [1, -1, 2])]],
  ['ExpandDims', () => [tf.expandDims(grid([2, 3]), -1), tf.expandDims(tf.scalar(3), 0)]],
  ['Range: float32 rounding accumulated, int32, empty, counting down', () =>
    [tf.range(0, 1, 0.1), tf.range(-3, 9, 4, 'int32'), tf.range(5, 5), tf.range(5, 1), tf.range(1, 5, -1), tf.range(9, 2, -2.5)]],
  ['PadV2 with a constant, int32, and a padding of 0', () =>
    [tf.pad(grid([2, 3]), [[1, 0], [2, 3]], -1.5), tf.pad(grid([3], 'int32'), [[0, 2]], 7), tf.pad(grid([2, 2]), [[0, 0], [0, 0]])]],
  ['UnsortedSegmentSum: repeated ids, an id out of range adds nothing, int32 values', () => [
    tf.unsortedSegmentSum(grid([5, 3]), tf.tensor1d([2, 0, 2, 7, -1], 'int32'), 4),
    tf.unsortedSegmentSum(grid([4], 'int32'), tf.tensor1d([1, 1, 0, 1], 'int32'), 2)]],
  // Elu: a few float32 ulps (tfjs-backend-cpu computes eˣ − 1 in float64). EluGrad is tfjs's dy·(y + 1) from Elu's
  // output y: y's last ulp (6e-8 near −1) becomes 1.2e-6 of y + 1 = 0.0498 at x = −3, on either backend.
  ['Elu', () => tf.elu(tf.tensor1d([-3, -0.5, -1e-4, 0, 1e-4, 2])), 4e-7],
  ['_FusedMatMul with the elu activation (natively)', () => tf.fused.matMul({ a: grid([3, 4]).div(20), b: grid([4, 2]).div(-30),
    bias: tf.tensor1d([0.1, -0.2]), activation: 'elu' }), 4e-7],
  ['EluGrad', () => tf.grad((t: tf.Tensor) => tf.elu(t).mul(tf.tensor1d([1, 2, 3, 4, 5, 6])).sum())(
    tf.tensor1d([-3, -0.5, -1e-4, 0, 1e-4, 2])), 2e-6],
  ['All and Any over axes, keepDims', () => {
    const b = tf.tensor2d([true, false, true, true, true, true], [2, 3], 'bool');
    return [tf.all(b), tf.all(b, 1), tf.any(b, 0, true), tf.any(tf.zeros([2, 2], 'bool'))];
  }],
  ['FloorDiv of float32, and of int32 (tf.div) on the listed fallback', () =>
    [tf.floorDiv(tf.tensor1d([7, -7, 7.5, -0.5, 1]), tf.tensor1d([2, 2, -2, 3, 0])),
      tf.div(tf.tensor1d([7, -7, 9], 'int32'), tf.tensor1d([2, 2, -4], 'int32'))]],
  ['Cumsum: inclusive, exclusive, reversed, along a middle axis', () => {
    const x = grid([2, 3, 2]);
    return [tf.cumsum(x, 1), tf.cumsum(x, 1, true), tf.cumsum(x, 1, false, true), tf.cumsum(x, 1, true, true), tf.cumsum(x, 2, true)];
  }],
  ['FusedBatchNorm: per-channel parameters, no scale or offset, parameters of x\'s shape', () => {
    const x = grid([2, 2, 3]).div(10);
    const [mean, variance] = [tf.tensor1d([0.5, -1, 2]), tf.tensor1d([1, 4, 0.25])];
    return [tf.batchNorm(x, mean, variance, tf.tensor1d([1, 2, 3]), tf.tensor1d([-1, 0, 2]), 1e-3), tf.batchNorm(x, mean, variance),
      tf.batchNorm(grid([2, 2]), grid([2, 2]).div(3), tf.tensor2d([1, 2, 3, 4], [2, 2]))];
  }, 4e-7],
  ['IsNan, IsInf, IsFinite, Ceil', () => {
    const x = tf.tensor1d([1.5, -1.5, nan, Infinity, -Infinity, -0.5, 0]);
    return [tf.isNaN(x), tf.isInf(x), tf.isFinite(x), tf.ceil(x)];
  }],
  ['Selu, Prelu (broadcast alpha), AddN', () => {
    const x = tf.tensor2d([-2, -1e-4, 0, 1e-4, 3, nan], [2, 3]);
    return [tf.selu(x), tf.prelu(x as tf.Tensor, tf.tensor1d([0.1, -2, 0.5])), tf.addN([x, grid([2, 3]), grid([2, 3]).neg(), tf.ones([2, 3])]),
      tf.addN([x])];
  }, 4e-7],
  ['SpaceToBatchND and BatchToSpaceND with padding and crops, and tf.pool with dilation (which runs them)', () => {
    const x = grid([2, 3, 5, 2]);
    const batched = tf.spaceToBatchND(x, [2, 3], [[1, 0], [2, 2]]);
    return [batched, tf.batchToSpaceND(batched, [2, 3], [[1, 0], [2, 2]]), tf.batchToSpaceND(grid([8, 1, 3, 1], 'int32'), [2, 2], [[0, 0], [2, 0]]),
      tf.pool(grid([1, 6, 5, 1]) as tf.Tensor4D, 2, 'max', 'same', 2)];
  }],
  ['Cosh, Sinh and Log1p near 0 and far from it', () => {
    const x = tf.tensor1d([-20, -1, -1e-5, 0, 3e-6, 0.5, 2, 30, nan]);
    return [tf.cosh(x), tf.sinh(x), tf.log1p(tf.tensor1d([-1, -0.5, -1e-6, 0, 2e-7, 1e-3, 5, 1e30, Infinity, nan]))];
  }, 4e-7],
  ['Round: halves to even, int32 unchanged', () =>
    [tf.round(tf.tensor1d([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999998, -3.7, 1e8 + 1, nan, -Infinity])), tf.round(grid([3], 'int32'))]],
  ['Expm1, LinSpace, MirrorPad (reflect and symmetric), BroadcastArgs', () => [
    tf.expm1(tf.tensor1d([-20, -1, -1e-6, 0, 3e-7, 1, 10, nan])), tf.linspace(-1, 2.5, 8), tf.linspace(3, 3, 1),
    tf.mirrorPad(grid([2, 3]), [[1, 1], [2, 0]], 'reflect'), tf.mirrorPad(grid([2, 3], 'int32'), [[2, 0], [0, 3]], 'symmetric'),
    tf.broadcastArgs(tf.tensor1d([2, 1, 3], 'int32'), tf.tensor1d([4, 1], 'int32'))], 4e-7],
  ['GatherNd: whole rows and single elements, int32', () => [tf.gatherND(grid([3, 4, 2]), tf.tensor2d([2, 1, 0, 3], [2, 2], 'int32')),
    tf.gatherND(grid([3, 4], 'int32'), tf.tensor3d([0, 0, 2, 3, 1, 2], [3, 1, 2], 'int32'))]],
];

const ERRORS: Case[] = [
  ['GatherV2: an index out of range', () => tf.gather(tf.tensor1d([1, 2]), tf.tensor1d([0, 100], 'int32'))],
  ['GatherV2: a negative index', () => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([-1], 'int32'), 1)],
  ['Concat: shapes that differ outside the axis, one of them empty', () => tf.concat([tf.zeros([2, 0]), tf.zeros([3, 1])], 1)],
  ['GatherNd: an index outside params', () => tf.gatherND(grid([3, 4]), tf.tensor2d([1, 1, 3, 0], [2, 2], 'int32'))],
  ['Pack: shapes that differ', () => tf.stack([tf.zeros([2]), tf.zeros([3])])],
  ['ExpandDims: an axis out of range', () => tf.expandDims(tf.zeros([2]), -3)],
];

describe("tfjs's semantics on 'wasmgrad', as tfjs-backend-cpu gives them", () => {
  beforeAll(useWasmgrad); // started before the leak checks count its tensors
  it.each(CASES)('%s', async (_name, fn) => expectAsOnCpu(fn));
  it.each(SHAPE_KERNELS)('%s', async (_name, fn, tolerance) => expectAsOnCpu(fn, tolerance));
  it.each(ERRORS)('error: %s', async (_name, fn) => expectErrorAsOnCpu(fn));
});
