// Bad input to every loader: module and optimizer state dicts, schedules, generator states, safetensors files and
// checkpoints. Each case fails with a specific message, and afterwards the model, optimizer, schedules and
// generator hold exactly the state they had (bit for bit), memory is where it was, and training still works.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointFromBytes, checkpointToBytes, createWasmBackend, fromSafetensors, Generator, init, memory, nn, optim, refBackend,
  resetPeak, setBackend, tensor, TensorDataset, tidy, toSafetensors, type Tensor,
} from '../../src/index.js';
import type { OptimizerStateDict } from '../../src/optim/optimizer.js';
import { DEFAULTS, Trainer, type TrainConfig, type TrainData } from '../../src/train/trainer.js';
import { rawSafetensors } from '../helpers/safetensors.js';

interface World {
  model: nn.Sequential; opt: optim.Adam; sched: optim.StepLR; plateau: optim.ReduceLROnPlateau; gen: Generator;
  /** A checkpoint of another run of the same architecture (different values everywhere). */
  checkpoint: Uint8Array;
  /** The state dict of an SGD with momentum over the same shapes. */
  sgdState: OptimizerStateDict;
}
let world: World;

const mlp = (seed: number) => new nn.Sequential(
  new nn.Linear(3, 4, { generator: new Generator(seed) }), new nn.ReLU(), new nn.Linear(4, 2, { generator: new Generator(seed + 1) }),
);
const X = [[1, 2, 3], [4, 5, 6]];

function step(model: nn.Module, opt: optim.Optimizer<{ lr: number }>): void {
  tidy(() => {
    opt.zeroGrad();
    nn.crossEntropy(model(tensor(X)), [0, 1]).backward();
    opt.step();
  });
}

beforeAll(async () => {
  await init({ build: 'simd' });
  const model = mlp(1);
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  for (let i = 0; i < 3; i++) {
    step(model, opt);
    sched.step();
  }
  const other = mlp(5);
  const otherOpt = new optim.Adam(other.parameters(), { lr: 0.02 });
  const otherSched = new optim.StepLR(otherOpt, { stepSize: 3, gamma: 0.1 });
  step(other, otherOpt);
  otherSched.step();
  const checkpoint = checkpointToBytes({ model: other, optimizer: otherOpt, scheduler: otherSched, step: 1, generators: { g: new Generator(77) } });
  const sgd = new optim.SGD(other.parameters(), { lr: 0.1, momentum: 0.9 });
  step(other, sgd);
  const sgdState = sgd.stateDict();
  for (const o of [otherOpt, sgd]) o.disposeState();
  other.dispose();
  world = { model, opt, sched, plateau: new optim.ReduceLROnPlateau(opt), gen: new Generator(3), checkpoint, sgdState };
});

afterAll(() => {
  world.opt.disposeState();
  world.model.dispose();
});

/** Everything the loaders could change, serialised. */
function snapshot(): string {
  const { model, opt, sched, plateau, gen } = world;
  const bytes = checkpointToBytes({ model, optimizer: opt, scheduler: sched, generators: { g: gen } });
  return `${Buffer.from(bytes).toString('hex')} ${JSON.stringify(plateau.stateDict())}`;
}

/** The objects still work: a training step, and the generator draws. */
function stillUsable(): void {
  const before = world.model.parameters().map((p) => Array.from(p.data()));
  step(world.model, world.opt);
  expect(world.model.parameters().map((p) => Array.from(p.data()))).not.toEqual(before);
  expect(world.gen.next()).toBeLessThan(1);
}

/** The checkpoint's objects: world's model, optimizer, schedule and generator. */
const into = () => ({ model: world.model, optimizer: world.opt, scheduler: world.sched, generators: { g: world.gen } });

/** World's model values as plain data, with `changes` applied. */
function values(changes: Record<string, unknown>): nn.StateValues {
  const out: Record<string, unknown> = {};
  for (const [k, p] of world.model.namedParameters()) out[k] = { shape: p.shape, data: p.data() };
  return Object.assign(out, changes) as nn.StateValues;
}

/** World's optimizer state with an edit. */
function adamState(edit: (sd: OptimizerStateDict) => void): OptimizerStateDict {
  const sd = world.opt.stateDict();
  edit(sd);
  return sd;
}

/** A checkpoint (default: world's) with its metadata or tensors edited, then written again with a valid checksum. */
function editCheckpoint(edit: (meta: Record<string, any>, tensors: Record<string, Tensor>) => void, bytes = world.checkpoint): Uint8Array {
  const file = fromSafetensors(bytes);
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(file.tensors)) tensors[k] = tensor(t.data as Float32Array, { shape: t.shape, backend: refBackend() });
  const meta = JSON.parse(file.metadata.wasmgrad!) as Record<string, any>;
  edit(meta, tensors);
  try {
    return toSafetensors(tensors, { ...file.metadata, wasmgrad: JSON.stringify(meta) });
  } finally {
    for (const t of Object.values(tensors)) if (!t.isDisposed) t.dispose();
  }
}

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 0x10;
  return out;
}

const CASES: [string, () => unknown, string | RegExp][] = [
  // Module.loadStateDict
  ['module: data longer than the shape', () => world.model.loadStateDict(values({ '2.bias': { shape: [2], data: new Float32Array(3) } })),
    'loadStateDict: wrong size: 2.bias: shape [2] holds 2 values, the data has 3 (nothing was loaded)'],
  ['module: data shorter than the shape', () => world.model.loadStateDict(values({ '0.weight': { shape: [4, 3], data: [1, 2, 3] } })),
    'loadStateDict: wrong size: 0.weight: shape [4,3] holds 12 values, the data has 3 (nothing was loaded)'],
  ['module: integer data into a float parameter', () => world.model.loadStateDict(values({ '2.bias': { shape: [2], data: new Int32Array(2) } })),
    'loadStateDict: wrong dtype: 2.bias: integer data (Int32Array) for a float32 parameter'],
  ['module: an int32 tensor', () => world.model.loadStateDict(values({ '2.bias': tensor([1, 2], { dtype: 'int32' }) })),
    'loadStateDict: wrong dtype: 2.bias: int32 data for a float32 parameter (nothing was loaded)'],
  ['module: a disposed tensor', () => {
    const t = tensor([1, 2]);
    t.dispose();
    return world.model.loadStateDict(values({ '2.bias': t }));
  }, 'loadStateDict: disposed: 2.bias: the tensor was disposed (nothing was loaded)'],
  ['module: numbers as strings', () => world.model.loadStateDict(values({ '2.bias': { shape: [2], data: ['1', '2'] } })),
    "loadStateDict: wrong dtype: 2.bias: ['1', '2'] for a float32 parameter"],
  ['module: not a tensor', () => world.model.loadStateDict(values({ '2.bias': 'weights' })),
    "loadStateDict: not a tensor: 2.bias: expected a Tensor or { shape, data }, got the string 'weights' (nothing was loaded)"],
  ['module: every problem at once', () => world.model.loadStateDict(values({
    '0.bias': { shape: [5], data: new Float32Array(5) }, '2.bias': { shape: [2], data: new Float32Array(1) }, extra: tensor([1]),
  })), 'loadStateDict: unexpected: extra | wrong shape: 0.bias: expected [4], got [5] | wrong size: 2.bias: shape [2] holds 2 values, the data has 1'],
  ['module: no object at all', () => world.model.loadStateDict(null as never), 'loadStateDict: expected an object of named values, got null'],

  // Optimizer.loadStateDict
  ['optimizer: an SGD state into Adam', () => world.opt.loadStateDict(world.sgdState),
    'Adam: loadStateDict: this state was saved by SGD; it cannot be loaded into Adam (continue it with SGD)'],
  ['optimizer: an SGD state of wasmgrad 0.1.0 (no type tag) into Adam', () => world.opt.loadStateDict({ ...world.sgdState, optimizer: undefined }),
    'Adam: loadStateDict: group 0 has the hyperparameters {momentum, dampening, weightDecay, nesterov, lr}, Adam has ' +
    '{lr, betas, eps, weightDecay}: was the state saved by another optimizer?'],
  ['optimizer: an AdamW state into Adam', () => world.opt.loadStateDict(adamState((sd) => (sd.optimizer = 'AdamW'))),
    'Adam: loadStateDict: this state was saved by AdamW; it cannot be loaded into Adam (continue it with AdamW)'],
  ['optimizer: a learning rate as a string', () => world.opt.loadStateDict(adamState((sd) => ((sd.paramGroups[0] as Record<string, unknown>).lr = '0.1'))),
    "Adam: loadStateDict: group 0: lr must be a number ≥ 0, got the string '0.1'"],
  ['optimizer: a NaN learning rate', () => world.opt.loadStateDict(adamState((sd) => (sd.paramGroups[0]!.lr = NaN))),
    'Adam: loadStateDict: group 0: lr must be a number ≥ 0, got NaN'],
  ['optimizer: β2 out of range', () => world.opt.loadStateDict(adamState((sd) => (sd.paramGroups[0]!.betas = [0.9, 1]))),
    'Adam: loadStateDict: group 0: betas must be a pair [β1, β2] of numbers in [0, 1), got [0.9, 1]'],
  ['optimizer: a hyperparameter missing', () => world.opt.loadStateDict(adamState((sd) => delete sd.paramGroups[0]!.eps)),
    'Adam: loadStateDict: group 0 has the hyperparameters {lr, betas, weightDecay}, Adam has {lr, betas, eps, weightDecay}'],
  ['optimizer: groups over other parameters', () => world.opt.loadStateDict(adamState((sd) => (sd.paramGroups[0]!.params = [0, 1, 2]))),
    'Adam: loadStateDict: group 0 holds parameters [0, 1, 2], expected [0,1,2,3]'],
  ['optimizer: a buffer it does not keep', () => world.opt.loadStateDict(adamState((sd) => {
    sd.state[0]!.buffers.momentumBuffer = sd.state[0]!.buffers.expAvg!;
  })), 'Adam: loadStateDict: parameter 0 has buffers [expAvg, expAvgSq, momentumBuffer]; Adam with these hyperparameters keeps [expAvg, expAvgSq]'],
  ['optimizer: a buffer missing', () => world.opt.loadStateDict(adamState((sd) => delete sd.state[1]!.buffers.expAvgSq)),
    'Adam: loadStateDict: parameter 1 has buffers [expAvg]; Adam with these hyperparameters keeps [expAvg, expAvgSq]'],
  ['optimizer: a negative step', () => world.opt.loadStateDict(adamState((sd) => (sd.state[2]!.step = -1))),
    'Adam: loadStateDict: parameter 2: step must be an integer ≥ 0, got -1'],
  ['optimizer: a fractional step', () => world.opt.loadStateDict(adamState((sd) => (sd.state[2]!.step = 1.5))),
    'Adam: loadStateDict: parameter 2: step must be an integer ≥ 0, got 1.5'],
  ['optimizer: state of a parameter that does not exist', () => world.opt.loadStateDict(adamState((sd) => (sd.state[7] = sd.state[0]!))),
    'Adam: loadStateDict: state for parameter 7, which does not exist (this optimizer has parameters 0 to 3)'],
  ['optimizer: buffer data shorter than the parameter', () => world.opt.loadStateDict(adamState((sd) => {
    sd.state[1]!.buffers.expAvg!.data = new Float32Array(3);
  })), "Adam: loadStateDict: buffer 'expAvg' of parameter 1 has 3 values, its shape [4] holds 4"],
  ['optimizer: integer buffer data', () => world.opt.loadStateDict(adamState((sd) => {
    sd.state[1]!.buffers.expAvg!.data = new Int32Array(4);
  })), "Adam: loadStateDict: buffer 'expAvg' of parameter 1 must hold floating-point data, got an Int32Array of length 4"],

  // Schedules
  ['schedule: a CosineAnnealingLR state into StepLR', () => world.sched.loadStateDict({ scheduler: 'CosineAnnealingLR', lastEpoch: 1, baseLrs: [0.01] }),
    'StepLR: loadStateDict: this state was saved by CosineAnnealingLR; it cannot be loaded into StepLR'],
  ['schedule: a ReduceLROnPlateau state of wasmgrad 0.1.0 into StepLR', () => world.sched.loadStateDict({ best: 1, badEpochs: 0, cooldownLeft: 0 } as never),
    'StepLR: loadStateDict: the state has {best, badEpochs, cooldownLeft}, StepLR keeps {lastEpoch, baseLrs}: was it saved by another scheduler?'],
  ['schedule: a negative lastEpoch', () => world.sched.loadStateDict({ lastEpoch: -1, baseLrs: [0.01] }),
    'StepLR: loadStateDict: lastEpoch must be an integer ≥ 0, got -1'],
  ['schedule: baseLrs for two groups', () => world.sched.loadStateDict({ lastEpoch: 1, baseLrs: [0.01, 0.02] }),
    'StepLR: loadStateDict: baseLrs must be 1 finite learning rates ≥ 0 (one per parameter group), got [0.01, 0.02]'],
  ['schedule: a NaN base lr', () => world.sched.loadStateDict({ lastEpoch: 1, baseLrs: [NaN] }),
    'StepLR: loadStateDict: baseLrs must be 1 finite learning rates ≥ 0 (one per parameter group), got [NaN]'],
  ['plateau: a fractional badEpochs', () => world.plateau.loadStateDict({ best: 0.5, badEpochs: 1.5, cooldownLeft: 0 }),
    'ReduceLROnPlateau: loadStateDict: badEpochs must be an integer ≥ 0, got 1.5'],
  ['plateau: a NaN best', () => world.plateau.loadStateDict({ best: NaN, badEpochs: 0, cooldownLeft: 0 }),
    'ReduceLROnPlateau: loadStateDict: best must be a number or null, got NaN'],

  // Generator.setState
  ['generator: the all-zero state', () => world.gen.setState([0, 0, 0, 0]),
    'setState: the state [0,0,0,0] is invalid (the generator would only draw zeros)'],
  ['generator: a fraction', () => world.gen.setState([1, 2, 3, 4.5]), 'setState: expected 4 unsigned 32-bit integers, got [1, 2, 3, 4.5]'],
  ['generator: a string', () => world.gen.setState('1,2,3,4' as never), "setState: expected 4 unsigned 32-bit integers, got the string '1,2,3,4'"],

  // Safetensors files
  ['file: a gap between tensors', () => fromSafetensors(rawSafetensors({
    a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
  }, f32(1, 2, 3))), "safetensors: bytes 4 to 8 of the data, before tensor 'b', belong to no tensor"],
  ['file: bytes after the last tensor', () => fromSafetensors(rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1, 2))),
    'safetensors: 4 bytes after the last tensor belong to no tensor'],
  ['file: a text file', () => fromSafetensors(new TextEncoder().encode('# wasmgrad\n\nTrain neural networks in JavaScript')),
    'safetensors: not a safetensors file (it does not start with a header length and a JSON header)'],
  ['file: a flipped bit in the data', () => {
    const bytes = toSafetensors({ w: tensor([1, 2, 3]) });
    return fromSafetensors(flipped(bytes, bytes.length - 2));
  }, 'safetensors: the file is corrupt (checksum mismatch)'],
  ['file: a flipped bit in a shape', () => {
    const bytes = toSafetensors({ w: tensor([1, 2, 3]) });
    return fromSafetensors(flipped(bytes, Buffer.from(bytes).indexOf('"shape":[3]') + 9)); // [3] → [#]
  }, 'safetensors: the file is corrupt (checksum mismatch)'],
  ['file: cut short', () => {
    const bytes = toSafetensors({ w: tensor([1, 2, 3]) });
    return fromSafetensors(bytes.subarray(0, bytes.length - 2));
  }, 'safetensors: the file is truncated: its header describes 12 bytes of tensor data, the file holds 10'],
  ['file: a checksum that is not first', () => fromSafetensors(rawSafetensors({
    a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, __metadata__: { wasmgrad_crc32: '00000000' },
  }, f32(1))), "safetensors: the file is corrupt (checksum mismatch): 'wasmgrad_crc32' is not first in the header"],

  // Checkpoints: whatever part does not fit, nothing changes
  ['checkpoint: an SGD run into Adam', () => checkpointFromBytes(editCheckpoint((meta, tensors) => {
    const sgd = world.sgdState;
    meta.optimizer = { optimizer: 'SGD', paramGroups: sgd.paramGroups, state: {} };
    for (const [i, s] of Object.entries(sgd.state)) {
      meta.optimizer.state[i] = { step: s.step, buffers: ['momentumBuffer'] };
      for (const b of ['expAvg', 'expAvgSq']) {
        tensors[`optimizer.${i}.${b}`]!.dispose();
        delete tensors[`optimizer.${i}.${b}`];
      }
      tensors[`optimizer.${i}.momentumBuffer`] = tensor(s.buffers.momentumBuffer!.data as Float32Array, { shape: s.buffers.momentumBuffer!.shape, backend: refBackend() });
    }
  }), into()), 'loadCheckpoint: optimizer: Adam: loadStateDict: this state was saved by SGD; it cannot be loaded into Adam'],
  ['checkpoint: a bad schedule, staged after the model and the optimizer', () => checkpointFromBytes(editCheckpoint((meta) => {
    meta.scheduler.lastEpoch = -1;
  }), into()), 'loadCheckpoint: scheduler: StepLR: loadStateDict: lastEpoch must be an integer ≥ 0, got -1'],
  ['checkpoint: a bad generator state, staged last', () => checkpointFromBytes(editCheckpoint((meta) => {
    meta.rng.g = [0, 0, 0, 0];
  }), into()), "loadCheckpoint: generator 'g': setState: the state [0,0,0,0] is invalid"],
  ['checkpoint: a model of another shape', () => checkpointFromBytes(editCheckpoint((_meta, tensors) => {
    tensors['model.2.bias']!.dispose();
    tensors['model.2.bias'] = tensor([1, 2, 3], { backend: refBackend() });
  }), into()), 'loadCheckpoint: model: loadStateDict: wrong shape: 2.bias: expected [2], got [3] (nothing was loaded)'],
  ['checkpoint: a flipped bit', () => checkpointFromBytes(flipped(world.checkpoint, world.checkpoint.length - 5), into()),
    'safetensors: the file is corrupt (checksum mismatch)'],
  ['checkpoint: a current-format file without its checksum', () => {
    const bytes = world.checkpoint.slice();
    bytes[8 + '{"__metadata__":{"wasmgrad_crc3'.length] = 'X'.charCodeAt(0); // the key becomes wasmgrad_crc3X
    return checkpointFromBytes(bytes, into());
  }, 'loadCheckpoint: the checkpoint has no checksum, which every wasmgrad-checkpoint-2 file carries: it was changed after it was written'],
  ['checkpoint: a newer format', () => checkpointFromBytes(editCheckpoint((meta) => (meta.format = 'wasmgrad-checkpoint-3')), into()),
    'loadCheckpoint: format wasmgrad-checkpoint-3 is newer than this wasmgrad reads (wasmgrad-checkpoint-1, wasmgrad-checkpoint-2)'],
  ['checkpoint: an unexpected tensor', () => checkpointFromBytes(editCheckpoint((_meta, tensors) => {
    tensors.junk = tensor([1], { backend: refBackend() });
  }), into()), "loadCheckpoint: unexpected tensors 'junk'"],
  ['checkpoint: an optimizer buffer missing', () => checkpointFromBytes(editCheckpoint((_meta, tensors) => {
    tensors['optimizer.3.expAvg']!.dispose();
    delete tensors['optimizer.3.expAvg'];
  }), into()), "loadCheckpoint: the optimizer buffer 'expAvg' of parameter 3 is missing"],
  ['checkpoint: a fractional step', () => checkpointFromBytes(editCheckpoint((meta) => (meta.step = 2.5)), into()),
    'loadCheckpoint: step must be an integer ≥ 0, got 2.5'],
  ['checkpoint: no state for a generator', () => checkpointFromBytes(world.checkpoint, { ...into(), generators: { shuffle: world.gen } }),
    "loadCheckpoint: no state saved for generator 'shuffle'"],
  ['checkpoint: a misspelt part', () => checkpointFromBytes(world.checkpoint, { model: world.model, optim: world.opt } as never),
    "loadCheckpoint: unknown option 'optim' (loadCheckpoint's options: model, optimizer, scheduler, step, generators, extra)"],
  ['checkpoint: an optimizer that is not one', () => checkpointFromBytes(world.checkpoint, { ...into(), optimizer: world.sched } as never),
    'loadCheckpoint: optimizer must be an optimizer, got a StepLR'],
  ['checkpoint: no model', () => checkpointFromBytes(world.checkpoint, { optimizer: world.opt } as never),
    'loadCheckpoint: the checkpoint needs its model ({ model, … })'],
  ['checkpoint: saving a misspelt part', () => checkpointToBytes({ model: world.model, schedular: world.sched } as never),
    "checkpointToBytes: unknown option 'schedular'; did you mean 'scheduler'?"],
  ['checkpoint: a plain safetensors file', () => checkpointFromBytes(toSafetensors({ w: tensor([1]) }), into()),
    'loadCheckpoint: not a wasmgrad checkpoint (its metadata has no wasmgrad entry)'],
];

describe('bad input to the loaders', () => {
  it.each(CASES)('%s', (_name, bad, message) => {
    const state = snapshot();
    const before = memory();
    const refBefore = memory(refBackend());
    let error: unknown;
    try {
      tidy(() => void bad());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error); // never a TypeError, RangeError or SyntaxError
    expect(() => {
      throw error;
    }).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
    expect(memory(refBackend()).bytes).toBe(refBefore.bytes);
    expect(snapshot()).toBe(state);
    stillUsable();
  });

  it('a good checkpoint still loads into the same objects afterwards', () => {
    const restored = checkpointFromBytes(world.checkpoint, into());
    expect(restored.step).toBe(1);
    expect(world.sched.lastEpoch).toBe(1);
    expect(world.opt.paramGroups[0]!.lr).toBe(0.02); // StepLR(3, 0.1) after 1 step: still the initial lr
    expect(world.gen.getState()).toEqual(new Generator(77).getState());
  });

  it('out of memory while staging new optimizer state: the old state is kept and nothing leaks', async () => {
    const small = await createWasmBackend({ build: 'simd', maxMemoryMB: 16 });
    setBackend(small);
    try {
      const n = 512 * 1024; // 2 MB per tensor: the parameters and one state take 12 MB, a second state would not fit
      const [p, q] = [tensor(new Float32Array(n), { requiresGrad: true }), tensor(new Float32Array(n), { requiresGrad: true })];
      const opt = new optim.Adam([p, q]);
      const stateOf = (v: number): OptimizerStateDict => {
        const buffer = () => ({ shape: [n], data: new Float32Array(n).fill(v) });
        const state = { step: 1, buffers: { expAvg: buffer(), expAvgSq: buffer() } };
        return { ...opt.stateDict(), state: { 0: state, 1: state } };
      };
      opt.loadStateDict(stateOf(0.5));
      const before = memory();
      resetPeak();
      expect(() => opt.loadStateDict(stateOf(0.25))).toThrow(/^wasm backend: out of memory allocating 2097152 bytes/);
      expect(memory().peakBytes).toBeGreaterThan(before.bytes); // a new buffer was staged, then freed
      expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
      const kept = opt.stateDict().state[1]!.buffers;
      expect([kept.expAvg!.data[n - 1], kept.expAvgSq!.data[0]]).toEqual([0.5, 0.5]);
      opt.disposeState();
      p.dispose();
      q.dispose();
      expect(memory().bytes).toBe(0);
    } finally {
      await init({ build: 'simd' });
    }
    stillUsable();
  });
});

describe('a trainer resuming from a bad checkpoint', () => {
  const config: TrainConfig = { ...DEFAULTS, hidden: [5], dropout: 0.1, epochs: 3, batchSize: 4, optimizer: 'sgd', schedule: 'step' };
  let data: TrainData;
  let trainer: Trainer;
  /** A checkpoint of another trainer of this configuration, stopped after one epoch and one batch. */
  let good: Uint8Array;

  beforeAll(async () => {
    const rows = (n: number) => {
      const x = Array.from({ length: n }, (_, i) => [i / n, (i % 3) / 3]);
      return new TensorDataset(tensor(x), tensor(x.map((r) => (r[0]! > 0.5 ? 1 : 0)), { dtype: 'int32' }));
    };
    data = { info: { kind: 'csv', task: 'classification', inputDim: 2, outputDim: 2, classes: ['no', 'yes'] }, train: rows(12), test: rows(4) };
    const other = new Trainer(config, data);
    await other.trainEpoch();
    await other.trainEpoch({ shouldStop: () => true });
    good = other.checkpointBytes();
    other.dispose();
    trainer = new Trainer(config, data);
    await trainer.trainEpoch({ shouldStop: () => true });
  });

  afterAll(() => {
    trainer.dispose();
    data.train.dispose();
    data.test.dispose();
  });

  const progress = (edit: (extra: Record<string, any>) => void) => editCheckpoint((meta) => edit(meta.extra), good);
  it.each([
    ['a position past the end of the epoch', () => trainer.restore(progress((e) => (e.batchInEpoch = 3))),
      "resume: the checkpoint's progress is invalid: batchInEpoch must be an integer in [0, 3), got 3"],
    ['no shuffle state in the middle of an epoch', () => trainer.restore(progress((e) => (e.epochStartState = null))),
      "resume: the checkpoint's progress is invalid: epochStartState: expected 4 unsigned 32-bit integers, got null"],
    ['a history entry that is not metrics', () => trainer.restore(progress((e) => (e.history[0] = { epoch: 'one' }))),
      "resume: the checkpoint's progress is invalid: history entry 0 is not a record of epoch metrics"],
    ['no progress at all', () => trainer.restore(progress((e) => delete e.history)),
      "resume: the checkpoint's progress is invalid: history must be a list of epoch metrics, got undefined"],
    ['a model of another size', () => trainer.restore(editCheckpoint((_meta, tensors) => {
      tensors['model.0.bias']!.dispose();
      tensors['model.0.bias'] = tensor([1, 2, 3], { backend: refBackend() });
    }, good)), 'loadCheckpoint: model: loadStateDict: wrong shape: 0.bias: expected [5], got [3]'],
    ['configOf: a checkpoint not written by train', () => Trainer.configOf(world.checkpoint), 'resume: the checkpoint was not written by wasmgrad train'],
    ['configOf: not a checkpoint at all', () => Trainer.configOf(new TextEncoder().encode('{"hidden": [5]} and more')),
      'safetensors: not a safetensors file'],
    ['configOf: a flipped bit', () => Trainer.configOf(flipped(good, 100)), 'safetensors: the file is corrupt (checksum mismatch)'],
    ['configOf: hidden sizes as a string', () => Trainer.configOf(progress((e) => (e.config.hidden = '5,5'))),
      "resume: the checkpoint's configuration: hidden must be a list of positive integers (layer widths), got the string '5,5'"],
    ['configOf: an unknown optimizer', () => Trainer.configOf(progress((e) => (e.config.optimizer = 'lion'))),
      "resume: the checkpoint's configuration: optimizer must be 'sgd', 'adam', 'adamw' or 'rmsprop', got the string 'lion'"],
    ['configOf: a setting missing', () => Trainer.configOf(progress((e) => delete e.config.lr)), "resume: the checkpoint's configuration: lr is missing"],
    ['configOf: an unknown setting', () => Trainer.configOf(progress((e) => (e.config.learningRate = 1))),
      "resume: the checkpoint's configuration: unknown option 'learningRate'; did you mean 'lr'?"],
    ['configOf: an invalid value', () => Trainer.configOf(progress((e) => (e.config.batchSize = 0))),
      "resume: the checkpoint's configuration: batchSize must be a positive integer, got 0"],
  ])('%s', (_name, bad, message) => {
    const state = Buffer.from(trainer.checkpointBytes()).toString('hex');
    const before = memory();
    expect(bad).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
    expect(Buffer.from(trainer.checkpointBytes()).toString('hex')).toBe(state);
  });

  it('a good checkpoint restores the position, and a diverged loss in the history comes back as NaN', () => {
    trainer.restore(progress((e) => (e.history[0].trainLoss = null))); // how JSON writes NaN
    expect(trainer.epoch).toBe(1);
    expect(trainer.history[0]!.trainLoss).toBeNaN();
    expect(Trainer.configOf(good)).toEqual(config);
  });
});

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const run = promisify(execFile);

describe('bad files through the CLI', () => {
  it('predict --model README.md says it is not a safetensors file, naming it', async () => {
    const readme = join(import.meta.dirname, '../../README.md');
    const r = await run(process.execPath, [CLI, 'predict', '--model', readme]).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`wasmgrad: safetensors: ${readme} is not a safetensors file`);
  });
});
