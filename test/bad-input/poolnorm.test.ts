// The bad-input catalogue of pooling, batch normalisation and module buffers: every wrong call fails with a
// specific message naming the op and the shapes, memory is unchanged, and the same tensors, models and optimizers
// keep working. Loading a state dict, a file or a checkpoint that does not fit a model with buffers changes
// nothing, parameters and buffers alike (all or nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adaptiveAvgPool2d, avgPool2d, batchNorm, checkpointFromBytes, checkpointToBytes, fromSafetensors, Generator, init, keep,
  maxPool2d, memory, nn, ones, optim, refBackend, tensor, tidy, toSafetensors, zeros, type Tensor,
} from '../../src/index.js';
import { rawSafetensors } from '../helpers/safetensors.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
/** An image batch [2,3,4,4]. */
let img: Tensor;
/** Linear(3,4) → BatchNorm1d(4) → ReLU → Linear(4,2), trained one step, and its optimizer. */
let bnModel: nn.Sequential;
let bnOpt: optim.Adam;
/** A checkpoint of another run of bnModel's architecture (different values everywhere). */
let checkpoint: Uint8Array;

const makeBnModel = (seed: number) => new nn.Sequential(
  new nn.Linear(3, 4, { generator: new Generator(seed) }), new nn.BatchNorm1d(4), new nn.ReLU(),
  new nn.Linear(4, 2, { generator: new Generator(seed + 1) }),
);

function bnStep(model: nn.Module, opt: optim.Optimizer<{ lr: number }>): void {
  tidy(() => {
    opt.zeroGrad();
    nn.crossEntropy(model(tensor([[1, 2, 3], [4, 5, 6], [0, -1, 2]])), [0, 1, 1]).backward();
    opt.step();
  });
}

/** Every state entry of a model, buffers included, bit for bit. */
const stateOf = (m: nn.Module) => Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data())]);

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  img = keep(tensor(Array.from({ length: 96 }, (_, i) => Math.sin(i)), { shape: [2, 3, 4, 4] }));
  bnModel = makeBnModel(1);
  bnOpt = new optim.Adam(bnModel.parameters(), { lr: 0.01 });
  bnStep(bnModel, bnOpt);
  const other = makeBnModel(5);
  const otherOpt = new optim.Adam(other.parameters(), { lr: 0.02 });
  bnStep(other, otherOpt);
  bnStep(other, otherOpt);
  checkpoint = checkpointToBytes({ model: other, optimizer: otherOpt, step: 2 });
  otherOpt.disposeState();
  other.dispose();
});

afterAll(() => {
  disposeWorld(world);
  img.dispose();
  bnOpt.disposeState();
  bnModel.dispose();
});

/** The objects still work: the shared world, pooling of the same image, and a training step of the batch-norm model. */
function stillUsable(): void {
  stillUsableWorld(world);
  tidy(() => {
    expect(maxPool2d(img, 2).shape).toEqual([2, 3, 2, 2]);
    const bn = bnModel.at(1) as nn.BatchNorm1d;
    const count = bn.num_batches_tracked!.item();
    const before = stateOf(bnModel);
    bnStep(bnModel, bnOpt);
    expect(bn.num_batches_tracked!.item()).toBe(count + 1);
    expect(stateOf(bnModel)).not.toEqual(before);
  });
}

/** Calls a fresh layer, disposing it afterwards (its parameters and buffers live outside every tidy scope). */
function withLayer<M extends nn.Module>(layer: M, call: (m: M) => unknown): unknown {
  try {
    return call(layer);
  } finally {
    layer.dispose();
  }
}

const CASES: [string, () => unknown, string | RegExp][] = [
  // pooling
  ['pooling a 2-D input', () => maxPool2d(world.x, 2), 'maxPool2d: expected a 3-D [C,H,W] or 4-D [N,C,H,W] input, got [2,3]'],
  ['pooling a 5-D input', () => avgPool2d(zeros([1, 1, 1, 4, 4]), 2), 'avgPool2d: expected a 3-D [C,H,W] or 4-D [N,C,H,W] input, got [1,1,1,4,4]'],
  ['pooling an empty plane', () => maxPool2d(zeros([1, 2, 0, 4]), 1), 'maxPool2d: input [1,2,0,4] has an empty channel, height or width dimension'],
  ['kernel larger than the padded input', () => maxPool2d(img, 7, { padding: 1 }),
    'maxPool2d: the output would be empty: input [2,3,4,4] is smaller than the kernel [7,7] with padding [1,1]'],
  ['dilated kernel larger than the input', () => maxPool2d(img, 3, { dilation: 2 }),
    'maxPool2d: the output would be empty: input [2,3,4,4] is smaller than the kernel [3,3] dilated by [2,2] with padding [0,0]'],
  ['average kernel larger than the input', () => avgPool2d(img, [2, 5]),
    'avgPool2d: the output would be empty: input [2,3,4,4] is smaller than the kernel [2,5] with padding [0,0]'],
  ['padding more than half the kernel (PyTorch refuses it)', () => maxPool2d(img, 2, { padding: [0, 2] }),
    'maxPool2d: padding [0,2] must be at most half the kernel size [2,2] (as in PyTorch)'],
  ['average padding more than half the kernel', () => avgPool2d(img, 3, { padding: 2 }),
    'avgPool2d: padding [2,2] must be at most half the kernel size [3,3] (as in PyTorch)'],
  ['zero stride', () => maxPool2d(img, 2, { stride: 0 }), 'maxPool2d: stride must be a positive integer or a pair [height, width] of them, got 0'],
  ['negative stride', () => avgPool2d(img, 2, { stride: [-1, 1] }), 'avgPool2d: stride must be a positive integer or a pair [height, width] of them, got [-1, 1]'],
  ['zero dilation', () => maxPool2d(img, 2, { dilation: [1, 0] }), 'maxPool2d: dilation must be a positive integer or a pair [height, width] of them, got [1, 0]'],
  ['zero kernel', () => maxPool2d(img, 0), 'maxPool2d: kernelSize must be a positive integer or a pair [height, width] of them, got 0'],
  ['fractional kernel', () => new nn.AvgPool2d(1.5), 'AvgPool2d: kernelSize must be a positive integer or a pair [height, width] of them, got 1.5'],
  ['negative padding', () => new nn.MaxPool2d(2, { padding: -1 }), 'MaxPool2d: padding must be an integer ≥ 0 or a pair [height, width] of them, got -1'],
  ['a kernel of three sizes', () => maxPool2d(img, [2, 2, 2] as unknown as [number, number]),
    'maxPool2d: kernelSize must be a positive integer or a pair [height, width] of them, got [2, 2, 2]'],
  ['PyTorch spelling of an option', () => maxPool2d(img, 2, { ceil_mode: true } as object), "maxPool2d: unknown option 'ceil_mode'; did you mean 'ceilMode'?"],
  ['returnIndices', () => maxPool2d(img, 2, { returnIndices: true } as object),
    "maxPool2d: option 'returnIndices' is not supported (the indices stay inside the op, which keeps them for its backward)"],
  ['dilation for the average', () => avgPool2d(img, 2, { dilation: 2 } as object), "avgPool2d: unknown option 'dilation'"],
  ['zero divisorOverride', () => avgPool2d(img, 2, { divisorOverride: 0 }), 'avgPool2d: divisorOverride must be a positive integer, got 0'],
  ['zero adaptive output size', () => adaptiveAvgPool2d(img, 0),
    "adaptiveAvgPool2d: outputSize must be a positive integer or a pair [height, width] of them (null keeps the input's size), got 0"],
  ['adaptive pooling of a 2-D input', () => new nn.AdaptiveAvgPool2d(1)(world.x), 'adaptiveAvgPool2d: expected a 3-D [C,H,W] or 4-D [N,C,H,W] input, got [2,3]'],
  ['pooling integer data', () => maxPool2d(zeros([1, 1, 2, 2], { dtype: 'int32' }), 2), 'maxPool2d: expects float32 or float64 data, got int32'],
  ['pooling an array', () => maxPool2d([[1, 2]] as unknown as Tensor, 2), 'maxPool2d: input must be a Tensor, got an array of length 1'],
  // batch normalisation
  ['BatchNorm2d channel mismatch', () => withLayer(new nn.BatchNorm2d(4), (bn) => bn(img)), 'BatchNorm2d: expected 4 channels (dim 1), got input [2,3,4,4]'],
  ['BatchNorm1d channel mismatch', () => bnModel.at(1)(world.x), 'BatchNorm1d: expected 4 channels (dim 1), got input [2,3]'],
  ['BatchNorm2d of a 2-D input', () => withLayer(new nn.BatchNorm2d(3), (bn) => bn(world.x)), 'BatchNorm2d: expected a 4-D [N,C,H,W] input, got [2,3]'],
  ['BatchNorm1d of a 4-D input', () => withLayer(new nn.BatchNorm1d(3), (bn) => bn(img)), 'BatchNorm1d: expected a 2-D [N,C] or 3-D [N,C,L] input, got [2,3,4,4]'],
  ['training with one value per channel', () => bnModel(tensor([[1, 2, 3]])),
    'batchNorm: expected more than 1 value per channel when training, got input [1,4]'],
  ['training BatchNorm2d on a 1×1 image of one sample', () => withLayer(new nn.BatchNorm2d(3), (bn) => bn(zeros([1, 3, 1, 1]))),
    'batchNorm: expected more than 1 value per channel when training, got input [1,3,1,1]'],
  ['running mean of the wrong shape', () => batchNorm(world.x, zeros([2]), ones([2]), { training: true }),
    'batchNorm: runningMean must have shape [3] for input [2,3] (its 3 channels), got [2]'],
  ['running variance of the wrong shape', () => batchNorm(img, zeros([3]), ones([3, 1])),
    'batchNorm: runningVar must have shape [3] for input [2,3,4,4] (its 3 channels), got [3,1]'],
  ['weight of the wrong shape', () => batchNorm(img, null, null, { training: true, weight: ones([4]) }),
    'batchNorm: weight must have shape [3] for input [2,3,4,4] (its 3 channels), got [4]'],
  ['only one running statistic', () => batchNorm(img, zeros([3]), null, { training: true }), 'batchNorm: give both runningMean and runningVar, or neither'],
  ['evaluation without running statistics', () => batchNorm(img, null, null),
    'batchNorm: evaluation (training: false) normalises with runningMean and runningVar, which are missing'],
  ['batch norm of a 1-D input', () => batchNorm(world.w, null, null, { training: true }), 'batchNorm: expected an input [N,C] or [N,C,…] of rank ≥ 2, got [3]'],
  ['momentum out of range', () => batchNorm(img, null, null, { training: true, momentum: 2 }), 'batchNorm: momentum must be in [0, 1], got 2'],
  ['a disposed running mean', () => {
    const rm = zeros([3]);
    rm.dispose();
    return batchNorm(img, rm, ones([3]), { training: true });
  }, 'batchNorm: input tensor was used after it was disposed'],
  ['running statistics of another dtype', () => batchNorm(tensor([[1, 2], [3, 4]], { backend: refBackend() }),
    zeros([2], { dtype: 'float64', backend: refBackend() }), ones([2], { dtype: 'float64', backend: refBackend() }), { training: true }),
  'batchNorm: dtypes differ (float32 and float64)'],
  ['running statistics as arrays', () => batchNorm(img, [0, 0, 0] as unknown as Tensor, null), 'batchNorm: runningMean must be a Tensor or null, got [0, 0, 0]'],
  ['PyTorch spelling of a BatchNorm option', () => new nn.BatchNorm2d(3, { track_running_stats: false } as object),
    "BatchNorm2d: unknown option 'track_running_stats'; did you mean 'trackRunningStats'?"],
  ['zero features', () => new nn.BatchNorm1d(0), 'BatchNorm1d: numFeatures must be a positive integer, got 0'],
  ['BatchNorm momentum out of range', () => new nn.BatchNorm1d(3, { momentum: -0.1 }),
    'BatchNorm1d: momentum must be in [0, 1] or null (a cumulative average), got -0.1'],
  ['a buffer that requires a gradient', () => nn.buffer(zeros([2]).requiresGrad_()),
    'buffer: a buffer is not trained, so it cannot require a gradient (use parameter())'],
];

/** What bnModel's stateDict() would be with one entry replaced (or removed, for undefined). */
const bnStateWith = (name: string, value: unknown) => {
  const sd: Record<string, unknown> = { ...bnModel.stateDict() };
  if (value === undefined) delete sd[name];
  else sd[name] = value;
  return sd as nn.StateValues;
};

/** A safetensors file of bnModel's state with one entry replaced or removed, as PyTorch would write it (no checksum). */
function fileWith(name: string, entry?: { dtype: string; shape: number[]; data: Uint8Array }): Uint8Array {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [k, t] of Object.entries(bnModel.stateDict())) {
    if (k === name && !entry) continue;
    const { dtype, shape, data } = k === name ? entry! : {
      dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: [...t.shape], data: new Uint8Array(t.data().buffer),
    };
    header[k] = { dtype, shape, data_offsets: [at, at + data.length] };
    chunks.push(data);
    at += data.length;
  }
  const data = new Uint8Array(at);
  at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return rawSafetensors(header, data);
}

const i64 = (v: bigint) => new Uint8Array(new BigInt64Array([v]).buffer);

const LOADING: [string, () => unknown, string | RegExp][] = [
  ['a state dict without running_var', () => bnModel.loadStateDict(bnStateWith('1.running_var', undefined)),
    'loadStateDict: missing: 1.running_var (nothing was loaded)'],
  ['running_var of the wrong shape', () => bnModel.loadStateDict(bnStateWith('1.running_var', tensor([1, 2, 3]))),
    'loadStateDict: wrong shape: 1.running_var: expected [4], got [3] (nothing was loaded)'],
  ['num_batches_tracked of the wrong shape', () => bnModel.loadStateDict(bnStateWith('1.num_batches_tracked', tensor([1], { dtype: 'int32' }))),
    'loadStateDict: wrong shape: 1.num_batches_tracked: expected [], got [1] (nothing was loaded)'],
  ['float data for num_batches_tracked', () => bnModel.loadStateDict(bnStateWith('1.num_batches_tracked', tensor(3))),
    'loadStateDict: wrong dtype: 1.num_batches_tracked: float32 data for an int32 buffer (nothing was loaded)'],
  ['integer data for running_mean', () => bnModel.loadStateDict(bnStateWith('1.running_mean', { shape: [4], data: new Int32Array(4) })),
    'loadStateDict: wrong dtype: 1.running_mean: integer data (Int32Array) for a float32 buffer'],
  ['a fractional batch count', () => bnModel.loadStateDict(bnStateWith('1.num_batches_tracked', { shape: [], data: [2.5] })),
    'loadStateDict: wrong dtype: 1.num_batches_tracked: [2.5] for an int32 buffer (expected Int32Array, BigInt64Array or integers)'],
  ['a file without running_var', () => bnModel.loadStateDict(fromSafetensors(fileWith('1.running_var')).tensors),
    'loadStateDict: missing: 1.running_var (nothing was loaded)'],
  ['a file with running_mean of the wrong shape', () => bnModel.loadStateDict(fromSafetensors(fileWith('1.running_mean',
    { dtype: 'F32', shape: [2, 2], data: new Uint8Array(16) })).tensors),
  'loadStateDict: wrong shape: 1.running_mean: expected [4], got [2,2] (nothing was loaded)'],
  ['an I64 batch count beyond int32', () => bnModel.loadStateDict(fromSafetensors(fileWith('1.num_batches_tracked',
    { dtype: 'I64', shape: [], data: i64(1n << 32n) })).tensors),
  'loadStateDict: out of range: 1.num_batches_tracked: 4294967296 does not fit in an int32 buffer (nothing was loaded)'],
  ['a checkpoint with running_var of the wrong shape', () => {
    const file = fromSafetensors(checkpoint);
    const tensors = Object.fromEntries(Object.entries(file.tensors).map(([k, t]) =>
      [k, fromValuesOf(k === 'model.1.running_var' ? { ...t, shape: [2, 2] } : t)]));
    return checkpointFromBytes(toSafetensors(tensors, file.metadata), { model: bnModel, optimizer: bnOpt });
  }, 'loadCheckpoint: model: loadStateDict: wrong shape: 1.running_var: expected [4], got [2,2] (nothing was loaded)'],
];

/** A loaded tensor as a tensor again (for rewriting a checkpoint). */
function fromValuesOf(t: { dtype: string; shape: number[]; data: ArrayLike<number> | BigInt64Array }): Tensor {
  return tensor(Array.from(t.data as ArrayLike<number>), { shape: t.shape, dtype: t.dtype === 'I32' ? 'int32' : 'float32' });
}

describe('bad input to pooling, batch normalisation and buffers', () => {
  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const state = stateOf(bnModel);
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(stateOf(bnModel)).toEqual(state); // a refused batch moves no statistic and counts for nothing
    stillUsable();
  });

  it.each(LOADING)('loading %s changes nothing', (_name, bad, message) => {
    const before = memory();
    const state = stateOf(bnModel);
    const optState = JSON.stringify(bnOpt.stateDict());
    expect(() => tidy(() => bad())).toThrow(message);
    expect(stateOf(bnModel)).toEqual(state);
    expect(JSON.stringify(bnOpt.stateDict())).toBe(optState);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    stillUsable();
  });
});
