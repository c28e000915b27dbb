// Each thread's scratch space (a product's packed panels, a convolution's im2col blocks) with threads: reserved
// the first time a call could be shared, for any plan the scheduler may make of it, so that the heap's top stays
// where the first training step left it however late sharing starts; and small enough that a training step
// spans at most 1.5× its live data on two threads, as on one.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Generator, memory, nn, optim, setBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/index.js';
import { Scheduler, type Cut, type Decision } from '../../src/backend/wasm/schedule.js';
import { ThreadPool } from '../../src/backend/wasm/threads.js';
import { expectNoLeaks } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';

const [IN, HID, OUT] = [784, 128, 10];
const backends: WasmBackend[] = [];
const fresh = async (threads: number) => {
  const backend = await createWasmBackend(threads > 1 ? { build: 'simd-threads', threads } : { build: 'simd' });
  backends.push(backend);
  return backend;
};
afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  for (const b of backends) b.close();
  setBackend('ref');
});

/**
 * An MLP 784-128-10 with plain SGD on `backend` at batch `b`, the bench's training case: `step()` trains one
 * step, `values()` reads the parameters, `dispose()` frees everything.
 */
function mlp(backend: WasmBackend, b: number) {
  setBackend(backend);
  const rand = mulberry32(3);
  const x = tensor(Float32Array.from({ length: b * IN }, () => rand()), { shape: [b, IN] });
  const y = tensor(Array.from({ length: b }, (_, i) => (i * 7) % OUT), { dtype: 'int32' });
  const generator = new Generator(1);
  const model = new nn.Sequential(new nn.Linear(IN, HID, { generator }), new nn.ReLU(), new nn.Linear(HID, OUT, { generator }));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
  return {
    step: () => tidy(() => {
      opt.zeroGrad();
      nn.crossEntropy(model(x), y).backward();
      opt.step();
    }),
    values: () => model.parameters().map((p: Tensor) => Array.from(p.data())),
    dispose: () => {
      opt.zeroGrad();
      model.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

/** Live data of that step (as the bench counts it): parameters and gradients, the batch, the activations kept. */
const liveBytes = (b: number) => 4 * (2 * (HID * IN + HID + OUT * HID + OUT) + b * IN + b + b * (2 * HID + 2 * OUT) + 1);

describe('scratch space with threads', () => {
  it("the heap's top does not move when the scheduler starts sharing late, and the bits stay those of one thread", async () => {
    const threaded = await fresh(2);
    const single = await fresh(1);
    // The scheduler looks at every call's cuts (as it does while it learns rates, and for calls near the line)
    // but shares nothing until `late`; then it shares every call, along each cut in turn, in 2 … 8 chunks (the
    // most it cuts into on two threads), the plans it could come to make after hundreds of steps on a machine
    // whose load changed.
    let late = false;
    let calls = 0;
    vi.spyOn(Scheduler.prototype, 'decide').mockImplementation((_key: string, _cost: number, cutsOf: () => readonly Cut[]): Decision => {
      const cuts = cutsOf();
      if (!late || cuts.length === 0) return { plan: null, timed: false };
      const cut = cuts[calls % cuts.length]!;
      const c = 2 + (calls++ % (Math.min(8, Math.floor(cut.units / cut.align)) - 1));
      return { plan: { cut, chunk: Math.ceil(cut.units / c / cut.align) * cut.align }, timed: false };
    });
    const jobs = vi.spyOn(ThreadPool.prototype, 'run');
    const train = (backend: WasmBackend) => expectNoLeaks(() => {
      const run = mlp(backend, 64);
      for (let s = 0; s < 3; s++) run.step();
      const heap = memory(backend).heapBytes;
      late = true;
      for (let s = 0; s < 6; s++) run.step();
      late = false;
      const heapAfter = memory(backend).heapBytes;
      const values = run.values();
      run.dispose();
      return { heap, heapAfter, values };
    });
    const two = train(threaded);
    expect(jobs.mock.calls.map(([job]) => job.kernel)).toContain('matmul_f32_block');
    expect(two.heapAfter).toBe(two.heap);
    expect(two.values).toEqual(train(single).values);
  });

  it("a product's reservation is worked out once per shape, and again once its space is gone", async () => {
    const threaded = await fresh(2);
    setBackend(threaded);
    const worked = vi.spyOn(Scheduler.prototype, 'scratchBytes');
    const rand = mulberry32(5);
    const [a, b, c] = [[128, 300], [300, 64], [300, 72]].map((shape) =>
      tensor(Float32Array.from({ length: shape[0]! * shape[1]! }, () => rand()), { shape }));
    try {
      for (let i = 0; i < 3; i++) a!.matmul(b!).dispose();
      expect(worked).toHaveBeenCalledTimes(1);
      a!.matmul(c!).dispose(); // another shape
      expect(worked).toHaveBeenCalledTimes(2);
      (threaded as unknown as { workspaces: unknown[] }).workspaces = []; // the spaces are gone
      a!.matmul(b!).dispose();
      expect(worked).toHaveBeenCalledTimes(3);
    } finally {
      for (const t of [a, b, c]) t!.dispose();
    }
  });

  it.each([64, 256])('a training step of the MLP at batch %i spans at most 1.5× its live data on two threads', async (b) => {
    const threaded = await fresh(2);
    const extent = expectNoLeaks(() => {
      const run = mlp(threaded, b);
      for (let s = 0; s < 4; s++) run.step();
      const heap = memory(threaded).heapBytes;
      run.dispose();
      return heap;
    });
    expect(extent / liveBytes(b)).toBeLessThanOrEqual(1.5);
  });
});
