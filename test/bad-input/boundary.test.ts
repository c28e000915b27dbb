// Bad input at the memory boundary, and failures in the middle of a step: whatever is assigned to .grad is checked
// before any kernel reads it; an optimizer step updates every parameter or none; out of memory in the middle of an
// op, a kernel's scratch space or a step leaks nothing, and training goes on afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWasmBackend, init, keep, matmul, memory, nn, optim, randn, refBackend, setBackend, tensor, tidy, type Tensor,
} from '../../src/index.js';
import type { WasmBackend } from '../../src/backend/wasm/index.js';
import { expectNoLeaks } from '../helpers/api.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
});

afterAll(() => disposeWorld(world));

const stillUsable = () => stillUsableWorld(world);

describe('assigning .grad', () => {
  const CASES: [string, () => unknown, string][] = [
    ['a gradient of another shape', () => tensor([1, 2]),
      "grad: the gradient of tensor 'w' [3] has shape [2] (a gradient must have its tensor's shape)"],
    ['a gradient of another rank', () => tensor([[1, 2, 3]]),
      "grad: the gradient of tensor 'w' [3] has shape [1,3] (a gradient must have its tensor's shape)"],
    ['an int32 gradient', () => tensor([1, 2, 3], { dtype: 'int32' }),
      "grad: the gradient of tensor 'w' [3] is int32, not float32 (a gradient must have its tensor's dtype)"],
    ['a gradient on the ref backend', () => tensor([1, 2, 3], { backend: refBackend() }),
      "grad: the gradient of tensor 'w' [3] is on the ref backend (a gradient must live on its tensor's backend)"],
    ['a disposed gradient', () => {
      const g = tensor([1, 2, 3]);
      g.dispose();
      return g;
    }, "grad: the gradient of tensor 'w' [3] was disposed"],
    ['the tensor itself', () => world.w, 'grad: a tensor cannot be its own gradient'],
    ['an array', () => [1, 2, 3], 'grad: a gradient must be a Tensor or null, got an array'],
    ['a number', () => 3, 'grad: a gradient must be a Tensor or null, got number'],
    ['undefined', () => undefined, 'grad: a gradient must be a Tensor or null, got undefined'],
  ];

  it.each(CASES)('%s is refused, and .grad keeps its value', (_name, make, message) => {
    const { w } = world;
    tidy(() => {
      w.grad = keep(tensor([7, 8, 9]));
      const before = memory();
      expect(() => tidy(() => {
        w.grad = make() as Tensor;
      })).toThrow(message);
      expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
      expect(Array.from(w.grad.data())).toEqual([7, 8, 9]);
    });
    stillUsable();
  });

  it('a gradient on another wasm backend, a float64 gradient, and a disposed tensor', async () => {
    const other = await createWasmBackend({ build: 'simd' });
    tidy(() => {
      expect(() => {
        world.w.grad = tensor([1, 2, 3], { backend: other });
      }).toThrow("grad: the gradient of tensor 'w' [3] is on another wasm backend");
      const r = tensor([1, 2], { backend: refBackend(), name: 'r' });
      expect(() => {
        // @ts-expect-error: a float64 gradient for a float32 tensor, which its type refuses too
        r.grad = tensor([1, 2], { backend: refBackend(), dtype: 'float64' });
      }).toThrow("grad: the gradient of tensor 'r' [2] is float64, not float32");
      r.dispose();
      expect(() => {
        r.grad = tensor([1, 2], { backend: refBackend() });
      }).toThrow("grad: tensor 'r' [2] was disposed; it can take no gradient");
      r.grad = null; // always allowed
    });
    stillUsable();
  });

  it('a gradient of the right shape, dtype and backend is taken, and backward accumulates into it', () => {
    expectNoLeaks(() => tidy(() => {
      const p = tensor([1, 2], { requiresGrad: true });
      p.grad = tensor([10, 20]);
      p.square().sum().backward();
      expect(Array.from(p.grad.data())).toEqual([12, 24]);
    }));
  });
});

// Each optimizer with the state it can have, and its number of state buffers per parameter: SGD's momentum,
// Adam's two moments, RMSprop's three buffers, Adagrad's sum.
const OPTIMIZERS: [string, (ps: Tensor[]) => optim.Optimizer<{ lr: number }>, number][] = [
  ['SGD', (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 }), 1],
  ['Adam', (ps) => new optim.Adam(ps, { lr: 0.1 }), 2],
  ['RMSprop', (ps) => new optim.RMSprop(ps, { lr: 0.1, momentum: 0.5, centered: true }), 3],
  ['Adagrad', (ps) => new optim.Adagrad(ps, { lr: 0.1, initialAccumulatorValue: 0.5 }), 1],
];

/** A digest of every parameter's values and every state buffer's step and values (parameters can be megabytes). */
function snapshot(ps: Tensor[], opt: optim.Optimizer<{ lr: number }>): string[] {
  const digest = (values: ArrayLike<number>) => {
    let h = 0x811c9dc5;
    for (const w of new Uint32Array(Float32Array.from(values).buffer)) h = Math.imul(h ^ w, 0x01000193);
    return `${values.length}:${(h >>> 0).toString(16)}`;
  };
  const state = Object.entries(opt.stateDict().state).map(([i, s]) =>
    `${i}@${s.step}: ${Object.entries(s.buffers).map(([name, b]) => `${name} ${digest(b.data)}`).join(', ')}`);
  return [...ps.map((p) => digest(p.data())), ...state];
}

describe('optimizer.step() is all or nothing', () => {
  it.each(OPTIMIZERS)('%s: a gradient disposed after it was assigned stops the step before anything changes', (name, make) => {
    expectNoLeaks(() => tidy(() => {
      const a = tensor([1, 2, 3], { requiresGrad: true, name: 'a' });
      const b = tensor([4, 5], { requiresGrad: true, name: 'b' });
      const c = tensor([6], { requiresGrad: true, name: 'c' });
      const ps = [a, b, c];
      const opt = make(ps);
      // One good step on a only, so that a has state to keep.
      a.grad = tensor([0.1, 0.2, 0.3]);
      opt.step();
      const before = snapshot(ps, opt);
      a.grad = tensor([1, 1, 1]);
      b.grad = tensor([1, 1]);
      c.grad = tensor([1]);
      c.grad.dispose(); // by hand, while still assigned
      const mem = memory();
      expect(() => opt.step()).toThrow(`${name}: the gradient of tensor 'c' [1] was disposed; nothing was updated`);
      expect(snapshot(ps, opt)).toEqual(before);
      expect(memory()).toMatchObject({ tensors: mem.tensors, buffers: mem.buffers, bytes: mem.bytes });
      // zeroGrad() copes with the disposed gradient, and the next step runs.
      opt.zeroGrad();
      for (const p of ps) p.grad = tensor(new Array(p.size).fill(1));
      opt.step();
      expect(ps.every((p) => p.data().every(Number.isFinite))).toBe(true);
      expect(Object.keys(opt.stateDict().state)).toEqual(['0', '1', '2']);
      opt.disposeState();
    }));
  });

  it('clipGradNorm and clipGradValue check every gradient before touching any', () => {
    expectNoLeaks(() => tidy(() => {
      const a = tensor([3, 4], { requiresGrad: true, name: 'a' });
      const b = tensor([1], { requiresGrad: true, name: 'b' });
      a.grad = tensor([30, 40]);
      b.grad = tensor([5]);
      b.grad.dispose();
      expect(() => optim.clipGradNorm([a, b], 1)).toThrow("clipGradNorm: the gradient of tensor 'b' [1] was disposed");
      expect(() => optim.clipGradValue([a, b], 1)).toThrow("clipGradValue: the gradient of tensor 'b' [1] was disposed");
      expect(Array.from(a.grad.data())).toEqual([30, 40]);
    }));
  });

  it.each(OPTIMIZERS)('%s: out of memory while allocating state part-way changes nothing and leaks nothing', async (_name, make, k) => {
    // 16 MB hold two big parameters of S bytes, their gradients and the first one's k state buffers: (4 + k)·S,
    // but not the second one's: (4 + 2k)·S.
    setBackend(await createWasmBackend({ build: 'simd', maxMemoryMB: 16 }));
    const floats = Math.floor((16 << 20) / (4 + 1.5 * k) / 64) * 16;
    try {
      tidy(() => {
        const small = tensor([1, 2, 3], { requiresGrad: true });
        const big1 = randn([floats], { seed: 1 }).requiresGrad_();
        const big2 = randn([floats], { seed: 2 }).requiresGrad_();
        const ps = [small, big1, big2];
        const opt = make(ps);
        small.grad = tensor([0.1, 0.2, 0.3]);
        opt.step(); // small has state now
        for (const p of ps) p.grad = tidy(() => p.mul(0.5));
        const before = snapshot(ps, opt);
        const mem = memory();
        expect(() => opt.step()).toThrow(/out of memory/);
        expect(snapshot(ps, opt)).toEqual(before);
        expect(memory()).toMatchObject({ tensors: mem.tensors, buffers: mem.buffers, bytes: mem.bytes });
        // Without big2's gradient the state fits, and the step runs.
        big2.grad!.dispose();
        big2.grad = null;
        opt.step();
        expect(Object.keys(opt.stateDict().state)).toEqual(['0', '1']);
        opt.disposeState();
      });
      expect(memory().bytes).toBe(0);
    } finally {
      await init({ build: 'simd' });
    }
    stillUsable();
  });
});

describe('out of memory inside a kernel or an op leaks nothing', () => {
  it("a matmul whose output fits but whose scratch space does not: our error, memory as it was", async () => {
    const be = await createWasmBackend({ build: 'simd', maxMemoryMB: 16 }) as WasmBackend;
    setBackend(be);
    try {
      tidy(() => {
        const a = randn([128, 256], { seed: 1 }), b = randn([256, 128], { seed: 2 });
        const out = 128 * 128 * 4;
        const scratch = be.exports.matmul_ws_bytes(128, 128, 256, 0, 0);
        expect(scratch).toBeGreaterThan(out);
        // Fill memory up to where the output still fits and its scratch space does not.
        const base = Math.ceil(be.exports.heap_base() / 64) * 64;
        const room = be.memory().limitBytes - base - be.memory().heapBytes;
        const filler = tensor(new Float32Array(Math.floor((room - out - scratch / 2) / 64) * 16));
        const before = memory();
        expect(() => matmul(a, b)).toThrow(/out of memory/);
        expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
        filler.dispose();
        const c = matmul(a, b);
        expect(c.shape).toEqual([128, 128]);
      });
      expect(memory().bytes).toBe(0);
    } finally {
      await init({ build: 'simd' });
    }
  });

  it('training goes on after out of memory inside tidy: same model and optimizer, a smaller batch', async () => {
    // A wide output layer (1,000 classes, as a vocabulary), so that batches fail at different points: the logits,
    // the softmax kept for the backward, the backward's gradient of the logits.
    setBackend(await createWasmBackend({ build: 'simd', maxMemoryMB: 16 }));
    try {
      const model = new nn.Sequential(new nn.Linear(64, 32), new nn.ReLU(), new nn.Linear(32, 1000));
      const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
      const step = (batch: number, seed: number) => tidy(() => {
        const x = randn([batch, 64], { seed });
        const y = tensor(Int32Array.from({ length: batch }, (_, i) => (i * 7 + seed) % 1000));
        opt.zeroGrad();
        const loss = nn.crossEntropy(model(x), y);
        loss.backward();
        opt.step();
        return loss.item();
      });
      step(64, 0);
      const flat = memory();
      let failures = 0;
      for (const big of [1500, 1750, 2000, 2500, 4000]) {
        try {
          step(big, big);
        } catch (e) {
          expect((e as Error).message).toMatch(/out of memory/);
          failures++;
        }
        opt.zeroGrad();
        for (let i = 1; i <= 3; i++) expect(Number.isFinite(step(64, big + i))).toBe(true);
        expect(memory()).toMatchObject({ tensors: flat.tensors, buffers: flat.buffers, bytes: flat.bytes });
      }
      expect(failures).toBe(5);
      opt.disposeState();
      model.dispose();
      expect(memory().bytes).toBe(0);
    } finally {
      await init({ build: 'simd' });
    }
    stillUsable();
  });
});
