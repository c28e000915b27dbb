// compile(): a compiled training step gives the bits of the eager step, call after call — losses, parameters,
// gradients, optimizer state, batch norm's running statistics and counter — with every optimizer and schedule,
// dropout (a fresh mask each call from the same stream), batch norm, the CNN and the tiny GPT (whose labels ignore a
// different number of padded positions each batch); on both backends and with threads. It retraces when the
// arguments' shapes, the modules' modes or the optimizer's groups change, replays through the backend's methods (an
// observer sees every kernel), allocates nothing per call but its result, and gives every byte back on dispose().
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  compile, crossEntropy, Generator, getBackend, IGNORE_INDEX, memory, mseLoss, nn, optim, setBackend, tensor, tidy,
  type Tensor,
} from '../../src/index.js';
import { observeBackend } from '../../src/backend/observe.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/index.js';
import { Scheduler } from '../../src/backend/wasm/schedule.js';
import type { ThreadPool } from '../../src/backend/wasm/threads.js';
import { buildCnn } from '../../src/train/model.js';
import { buildGpt } from '../../src/train/gpt.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { forceSharing } from '../helpers/sharing.js';

type Optimizer = optim.Optimizer<optim.Hyper>;

/** A model, its optimizer (and schedule), and batch i of its data. */
interface Setup {
  model: nn.Module;
  optimizer: Optimizer;
  scheduler?: optim.LRScheduler;
  /** Whether scheduler.step() runs inside the step (per batch) rather than after it. */
  scheduleInside?: boolean;
  batch(i: number): { x: Tensor; y: Tensor };
  loss(out: Tensor, y: Tensor): Tensor;
}

/** Every bit of a float tensor (int32 values as they are). */
function bits(t: Tensor): number[] {
  const d = t.data();
  return Array.from(d instanceof Float32Array ? new Uint32Array(d.buffer) : d);
}

/** Everything a step changes: parameters and buffers, gradients, optimizer state and hyperparameters. */
function snapshot(s: Setup) {
  const sd = s.optimizer.stateDict();
  return {
    model: Object.entries(s.model.stateDict()).map(([k, t]) => [k, bits(t)]),
    grads: s.model.parameters().map((p) => (p.grad ? bits(p.grad) : null)),
    optimizer: {
      groups: sd.paramGroups,
      state: Object.values(sd.state).map((st) => [st.step,
        Object.entries(st.buffers).map(([k, b]) => [k, Array.from(new Uint32Array(Float32Array.from(b.data).buffer))])]),
    },
  };
}

/** Trains `steps` batches eagerly or compiled; returns the losses' bits and the final state (nothing leaks). */
function train(make: () => Setup, compiled: boolean, steps = 20) {
  return expectNoLeaks(() => {
    const s = make();
    const fn = (x: Tensor, y: Tensor) => {
      s.optimizer.zeroGrad();
      const loss = s.loss(s.model(x), y);
      loss.backward();
      s.optimizer.step();
      if (s.scheduleInside) s.scheduler!.step();
      return loss;
    };
    const step = compiled ? compile(fn) : null;
    const losses: number[][] = [];
    for (let i = 0; i < steps; i++) {
      tidy(() => {
        const { x, y } = s.batch(i);
        losses.push(bits((step ?? fn)(x, y)));
      });
      if (s.scheduler && !s.scheduleInside) s.scheduler.step();
    }
    const state = snapshot(s);
    const counts = step && { traces: step.traces, replays: step.replays };
    step?.dispose();
    s.optimizer.zeroGrad();
    s.optimizer.disposeState();
    s.model.dispose();
    return { losses, state, counts };
  });
}

/** Rows of a seeded stream: x [n, features] normal, y [n] classes (the last batch of every 7 is smaller). */
function rows(features: number, classes: number, seed = 7, n = 6) {
  const data = new Generator(seed);
  return (i: number) => {
    const b = i % 7 === 6 ? n - 2 : n;
    const x = tensor(Float32Array.from(data.normal(b * features)), { shape: [b, features] });
    const y = tensor(Int32Array.from({ length: b }, () => Math.floor(data.next() * classes)));
    return { x, y };
  };
}

interface MlpOptions { dropout?: number; batchNorm?: nn.BatchNormOptions; features?: number; hidden?: number; batch?: number }

function mlp(optimizer: (params: Tensor[]) => Optimizer, options: MlpOptions = {}) {
  const { features = 5, hidden = 12, batch = 6 } = options;
  return (): Setup => {
    const g = new Generator(3);
    const layers: nn.Module[] = [new nn.Linear(features, hidden, { generator: g })];
    if (options.batchNorm) layers.push(new nn.BatchNorm1d(hidden, options.batchNorm));
    layers.push(new nn.Tanh());
    if (options.dropout) layers.push(new nn.Dropout(options.dropout, { generator: new Generator(11) }));
    layers.push(new nn.Linear(hidden, 3, { generator: g }));
    const model = new nn.Sequential(...layers);
    return { model, optimizer: optimizer(model.parameters()), batch: rows(features, 3, 7, batch), loss: (out, y) => crossEntropy(out, y) };
  };
}

const OPTIMIZERS: [string, (p: Tensor[]) => Optimizer][] = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.1 })],
  ['SGD with momentum and dampening', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1 })],
  ['SGD Nesterov with weight decay', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 1e-2 })],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 1e-3 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01 })],
  ['RMSprop centered with momentum', (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 1e-3 })],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
];

describe.each(BACKENDS)('compile (%s): bit-identical to eager over 20 steps', (backend) => {
  const same = async (make: () => Setup, steps = 20) => {
    await useBackend(backend);
    const eager = train(make, false, steps);
    const compiled = train(make, true, steps);
    expect(compiled.losses).toEqual(eager.losses);
    expect(compiled.state).toEqual(eager.state);
    return compiled.counts!;
  };

  it.each(OPTIMIZERS)('an MLP with %s, with batches of two sizes', async (_name, optimizer) => {
    const counts = await same(mlp(optimizer));
    // Two shapes, each traced once (twice when the optimizer makes its state on the first call); the rest replays.
    expect(counts.traces).toBeLessThanOrEqual(3);
    expect(counts.replays).toBe(20 - counts.traces);
  });

  it.each([
    ['a schedule stepped after each call (the replayed update reads the new lr)', false],
    ['a schedule stepped inside the step', true],
  ])('Adam with %s', async (_name, inside) => {
    await same(() => {
      const s = mlp((p) => new optim.Adam(p, { lr: 0.02 }))();
      return { ...s, scheduler: new optim.OneCycleLR(s.optimizer, { maxLr: 0.05, totalSteps: 20 }), scheduleInside: inside };
    });
  });

  it('dropout: a fresh mask each call, from the same stream as eager', async () => {
    await same(mlp((p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9 }), { dropout: 0.3 }));
  });

  it.each([
    ['momentum 0.1', { momentum: 0.1 }],
    ['a cumulative average (momentum null)', { momentum: null }],
  ])('BatchNorm1d with %s: the same running statistics and batch count', async (_name, batchNorm) => {
    await same(mlp((p) => new optim.Adam(p, { lr: 0.01 }), { batchNorm, dropout: 0.2 }));
  });

  it('the CNN (conv, batch norm, max pool, dropout) with AdamW', async () => {
    const data = () => {
      const g = new Generator(5);
      return (i: number) => {
        const b = i % 7 === 6 ? 2 : 4;
        return {
          x: tensor(Float32Array.from(g.normal(b * 64)), { shape: [b, 1, 8, 8] }),
          y: tensor(Int32Array.from({ length: b }, () => Math.floor(g.next() * 3))),
        };
      };
    };
    await same(() => {
      const model = buildCnn({ inputShape: [1, 8, 8], channels: [3, 4], kernelSize: 3, hidden: [6], outputDim: 3,
        activation: 'relu', dropout: 0.2 }, new Generator(1), new Generator(2));
      return { model, optimizer: new optim.AdamW(model.parameters(), { lr: 0.01 }), batch: data(), loss: (o, y) => crossEntropy(o, y) };
    });
  });

  it('the tiny GPT: attention, layer norm, embeddings, and a different number of padded labels each batch', async () => {
    const data = () => {
      const g = new Generator(8);
      return () => {
        const x = tensor(Int32Array.from({ length: 12 }, () => Math.floor(g.next() * 7)), { shape: [2, 6] });
        // Each row's labels end in padding after a random length, as the names' windows do.
        const y = Int32Array.from({ length: 12 }, (_, j) => (j % 6 < 2 + Math.floor(g.next() * 4) ? Math.floor(g.next() * 7) : IGNORE_INDEX));
        return { x, y: tensor(y, { shape: [2, 6] }) };
      };
    };
    await same(() => {
      const model = buildGpt({ vocabSize: 7, context: 6, layers: 1, heads: 2, width: 8, dropout: 0.1 }, new Generator(4), new Generator(6));
      return {
        model, optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }), batch: data(),
        loss: (o, y) => crossEntropy(o.reshape([-1, 7]), y.reshape([-1]), { ignoreIndex: IGNORE_INDEX }),
      };
    }, 12);
  });
});

describe('compile: when a recording is replayed, retraced or refused', () => {
  /** A small regression step with SGD (no state, so its first call can be recorded). */
  function setup() {
    const model = new nn.Sequential(new nn.Linear(3, 4, { generator: new Generator(1) }), new nn.Dropout(0.5, { generator: new Generator(2) }),
      new nn.Linear(4, 1, { generator: new Generator(3) }));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const step = compile((x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const loss = mseLoss(model(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
    const call = (n = 2) => tidy(() => step(tensor(Float32Array.from({ length: 3 * n }, (_, i) => i / 7), { shape: [n, 3] }),
      tensor(Float32Array.from({ length: n }, (_, i) => i), { shape: [n, 1] })).item());
    const done = () => {
      step.dispose();
      opt.zeroGrad();
      model.dispose();
    };
    return { model, opt, step, call, done };
  }

  it('retraces for a new shape, train()/eval(), and changed parameter groups; replays otherwise', async () => {
    await useBackend('wasm');
    expectNoLeaks(() => {
      const { model, opt, step, call, done } = setup();
      call(); call();
      expect([step.traces, step.replays]).toEqual([1, 1]);
      call(5);
      expect([step.traces, step.replays]).toEqual([2, 1]);
      call(2);
      expect([step.traces, step.replays]).toEqual([2, 2]);
      model.eval();
      call();
      expect(step.traces).toBe(3);
      model.train();
      call();
      expect(step.traces).toBe(3); // the train-mode recording of this shape fits again
      opt.paramGroups[0]!.nesterov = true;
      opt.paramGroups[0]!.momentum = 0.9; // the state buffers momentum keeps: the groups' layout changed
      call(); call();
      expect([step.traces, step.replays]).toEqual([4, 4]);
      opt.paramGroups[0]!.lr = 0.01; // a number, read at every replay
      call();
      expect([step.traces, step.replays]).toEqual([4, 5]);
      done();
    });
  });

  it('returns new tensors without a graph at every call: one, several, or none', async () => {
    await useBackend('wasm');
    expectNoLeaks(() => {
      const w = tensor([1, 2, 3], { requiresGrad: true });
      const both = compile((x: Tensor) => [x.mul(w).sum(), x.add(1)]);
      const none = compile((x: Tensor) => {
        x.mul(2);
      });
      for (let i = 0; i < 3; i++) {
        tidy(() => {
          const [s, y] = both(tensor([i, 1, 1]));
          expect(s!.node).toBeNull();
          expect([s!.item(), ...y!.data()]).toEqual([i + 5, i + 1, 2, 2]);
          expect(none(tensor([1, 2, 3]))).toBeUndefined();
        });
      }
      expect([both.replays, none.replays]).toEqual([2, 2]);
      both.dispose();
      none.dispose();
      w.dispose();
    });
  });

  it('checks labels again at every call, as eager does', async () => {
    await useBackend('wasm');
    expectNoLeaks(() => {
      const model = new nn.Linear(2, 3, { generator: new Generator(1) });
      const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
      const step = compile((x: Tensor, y: Tensor) => {
        opt.zeroGrad();
        const loss = crossEntropy(model(x), y);
        loss.backward();
        opt.step();
        return loss;
      });
      const call = (labels: number[]) => tidy(() => step(tensor([[1, 2], [3, 4]]), tensor(labels, { dtype: 'int32' })).item());
      call([0, 1]);
      call([2, 1]);
      expect(() => call([1, 3])).toThrow('crossEntropy: label 3 at row 1 is out of range [0, 3) and is not ignoreIndex (-100)');
      expect(step.replays).toBe(2);
      call([1, 2]);
      step.dispose();
      opt.zeroGrad();
      model.dispose();
    });
  });

  it('allocates nothing per call but its result, and dispose() gives every byte back', async () => {
    await useBackend('wasm');
    const before = memory();
    const { step, call, done } = setup();
    call(); call();
    const steady = memory();
    for (let i = 0; i < 5; i++) call();
    expect(memory()).toMatchObject({ tensors: steady.tensors, buffers: steady.buffers, bytes: steady.bytes, heapBytes: steady.heapBytes });
    expect(step.replays).toBe(6);
    done();
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
    expect(() => call()).toThrow('compile: this compiled step was disposed; compile the function again to use it');
  });

  it('gradients it hands out and the program drops without dispose() go to the garbage collector, as eager ones do', async () => {
    await useBackend('wasm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const collect = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 0)); // finalizers run on the event loop
      }
    };
    await collect();
    const before = memory();
    const { model, step, call } = setup();
    call(); call();
    const steady = memory();
    // Dropped after a replay: the next replay hands them to the safety net.
    for (let i = 0; i < 3; i++) {
      for (const p of model.parameters()) p.grad = null;
      call();
    }
    await collect();
    expect(memory()).toMatchObject({ tensors: steady.tensors, buffers: steady.buffers, bytes: steady.bytes });
    // Dropped after the last replay: dispose() hands them over.
    step.dispose();
    for (const p of model.parameters()) p.grad = null;
    model.dispose();
    await collect();
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
  });

  it('replays through the backend methods: an observer attached later sees every kernel call', async () => {
    await useBackend('wasm');
    const { step, call, done } = setup();
    call();
    const seen: string[] = [];
    const detach = observeBackend(getBackend(), (method, _args, run) => {
      seen.push(method);
      return run();
    });
    try {
      call();
    } finally {
      detach();
    }
    expect(step.replays).toBe(1);
    // Two products and their gradients, the dropout mask, the loss, and one update per parameter; each layer's
    // weight gradient and its update are one fused call (the second's fusion reaches past the first's).
    expect(seen.filter((m) => m === 'matmul').length).toBe(3);
    expect(seen.filter((m) => m === 'matmulSgd').length).toBe(2);
    expect(seen.filter((m) => m === 'sgd').length).toBe(2);
    expect(seen).toContain('write');
    done();
  });
});

describe('compile: direct calls (DirectCalls) on the wasm backend', () => {
  it('replays the kernels it has shortcuts for without their methods, with the bits of eager', async () => {
    await useBackend('wasm');
    // Products large enough for the blocked path, so both weight gradients fuse with their plain SGD updates.
    const make = mlp((p) => new optim.SGD(p, { lr: 0.1 }), { features: 96, hidden: 128, batch: 32 });
    const methods = ['matmul', 'matmulSgd', 'sgd', 'unary', 'unaryGrad', 'reduce', 'crossEntropy', 'crossEntropyGrad'];
    const prototype = Object.getPrototypeOf(getBackend()) as Record<string, (...a: unknown[]) => unknown>;
    const spies = methods.map((m) => vi.spyOn(prototype, m));
    const calls = <T>(run: () => T) => {
      for (const s of spies) s.mockClear();
      const result = run();
      return { result, counts: spies.map((s) => s.mock.calls.length) };
    };
    try {
      // Six batches of the same shape: one trace, five replays that call no method of these kernels.
      const eager = calls(() => train(make, false, 6));
      const once = calls(() => train(make, false, 1));
      const compiled = calls(() => train(make, true, 6));
      expect(compiled.result).toEqual({ ...eager.result, counts: { traces: 1, replays: 5 } });
      expect(compiled.counts).toEqual(once.counts);
      expect(once.counts[0]).toBeGreaterThan(0);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});

describe('compile with threads', () => {
  let threaded: WasmBackend;
  afterAll(() => {
    threaded?.close();
    setBackend('ref');
  });

  it('shares the replayed kernels between the threads and gives the bits of eager', async () => {
    threaded = await createWasmBackend({ build: 'simd-threads', threads: 2 });
    setBackend(threaded);
    forceSharing(0, 2);
    const pool = (threaded as unknown as { pool: ThreadPool }).pool;
    const make = mlp((p) => new optim.Adam(p, { lr: 0.01 }), { dropout: 0.2, batchNorm: {}, features: 96, hidden: 128, batch: 32 });
    const eager = train(make, false, 10);
    const run = vi.spyOn(pool, 'run');
    const compiled = train(make, true, 10);
    expect(compiled.losses).toEqual(eager.losses);
    expect(compiled.state).toEqual(eager.state);
    expect(compiled.counts!.replays).toBe(7);
    expect(run).toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it('replays calls too small to share straight from the exports and hands the rest to the methods', async () => {
    threaded ??= await createWasmBackend({ build: 'simd-threads', threads: 2 });
    setBackend(threaded);
    const methods = ['matmul', 'unary', 'unaryGrad', 'reduce', 'crossEntropy', 'crossEntropyGrad'];
    const prototype = Object.getPrototypeOf(threaded) as Record<string, (...a: unknown[]) => unknown>;
    const spies = methods.map((m) => vi.spyOn(prototype, m));
    // 5-12-3 at batch 6: every call is far below what the scheduler shares. Adam: no product fuses with its update.
    const make = mlp((p) => new optim.Adam(p, { lr: 0.01 }));
    const counted = (compiled: boolean, steps: number) => {
      for (const s of spies) s.mockClear();
      return { ...train(make, compiled, steps), calls: spies.map((s) => s.mock.calls.length) };
    };
    try {
      const eager = counted(false, 6);
      const once = counted(false, 1);
      const twice = counted(false, 2);
      // Two traces (Adam's first step makes its state; the methods' calls of two eager steps), four replays that
      // call none of these methods.
      const compiled = counted(true, 6);
      expect(compiled.losses).toEqual(eager.losses);
      expect(compiled.state).toEqual(eager.state);
      expect(compiled.counts).toEqual({ traces: 2, replays: 4 });
      expect(compiled.calls).toEqual(twice.calls);
      expect(once.calls[0]).toBeGreaterThan(0);
      // A scheduler that might share any product: each replayed product goes through the method.
      vi.spyOn(Scheduler.prototype, 'farTooShort').mockReturnValue(false);
      const handed = counted(true, 6);
      expect(handed.losses).toEqual(eager.losses);
      expect(handed.calls[0]).toBe(6 * once.calls[0]!);
      expect(handed.calls.slice(1)).toEqual(twice.calls.slice(1));
    } finally {
      vi.restoreAllMocks();
    }
  });
});

