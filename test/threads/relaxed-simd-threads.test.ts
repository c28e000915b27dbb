// The relaxed-simd-threads build: relaxed SIMD (FMA) over shared memory. init({ threads }) picks it where the
// engine validates relaxed SIMD (vitest passes --experimental-wasm-relaxed-simd to Node), and its results with
// several threads must be bit-identical to the relaxed build on one thread: products, optimizer updates and a
// short training run. Without relaxed SIMD, 'auto' falls back to simd-threads and asking for it by name says
// which flag is missing (in Node, wasmgrad sets that flag itself unless WASMGRAD_RELAXED_SIMD=0).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backendInfo, Generator, init, memory, nn, optim, setBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import type { Backend, Buf, ConvPlan, MatmulPlan } from '../../src/backend/types.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/index.js';
import { chooseBuild, isThreadsBuild } from '../../src/backend/wasm/loader.js';
import { ThreadPool } from '../../src/backend/wasm/threads.js';
import { buildCnn, CNN_BLOCKS } from '../../src/train/model.js';
import { expectNoLeaks } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';
import { forceSharing } from '../helpers/sharing.js';

const single = await createWasmBackend({ build: 'relaxed' });
const threaded = await createWasmBackend({ build: 'relaxed-simd-threads', threads: 3 });
// Every call that can be shared is shared (in 3 chunks), whatever the scheduler would measure on this machine.
beforeEach(() => {
  forceSharing(0, 3);
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  threaded.close();
  setBackend('ref');
});

const fill = (rand: () => number, length: number) => Float32Array.from({ length }, () => Math.fround(rand() * 2 - 1));

/** C = op(A)·op(B) (+ bias) on one backend, from the same float32 inputs. */
function product(backend: Backend, p: MatmulPlan, a: Float32Array, b: Float32Array, bias: Float32Array | null) {
  const bufs = [a, b, ...(bias ? [bias] : [])].map((v) => {
    const buf = backend.alloc('float32', v.length);
    backend.write(buf, v);
    return buf;
  });
  const c = backend.alloc('float32', p.batch * p.m * p.n);
  backend.matmul(bufs[0]!, bufs[1]!, c, { ...p, bias: bufs[2] ?? null });
  const out = backend.read(c);
  for (const buf of [...bufs, c]) backend.free(buf);
  return out;
}

describe('the relaxed-simd-threads build', () => {
  it('is what init({ threads }) loads where relaxed SIMD and shared memory validate, and backendInfo() says so', async () => {
    expect(isThreadsBuild('relaxed-simd-threads')).toBe(true);
    expect(isThreadsBuild('relaxed')).toBe(false);
    expect(chooseBuild('auto', 2)).toBe('relaxed-simd-threads');
    expect(chooseBuild('auto', 1)).toBe('relaxed');
    expect(await init({ threads: 2 })).toMatchObject({ backend: 'wasm', build: 'relaxed-simd-threads', threads: 2 });
    expect(await init({ build: 'relaxed-simd-threads', threads: 3 })).toMatchObject({ build: 'relaxed-simd-threads', threads: 3 });
    expect(await init({ build: 'relaxed-simd-threads' })).toMatchObject({ build: 'relaxed-simd-threads', threads: 2 });
    expect(backendInfo()).toMatchObject({ build: 'relaxed-simd-threads', threads: 2 });
    expect(threaded).toMatchObject({ build: 'relaxed-simd-threads', threads: 3 });
  });

  it('init({ threads: 2 }) twice keeps the loaded backend (and its workers)', async () => {
    await init({ threads: 2 });
    const start = vi.spyOn(ThreadPool, 'start');
    expect(await init({ threads: 2 })).toMatchObject({ build: 'relaxed-simd-threads', threads: 2 });
    expect(start).not.toHaveBeenCalled();
  });

  it.each<[number, number, number, boolean, boolean, boolean, number, number?]>([
    // [m, n, k, transA, transB, bias, batch, strideA]: MR = 6 row panels, column shares of uneven widths, tails
    [64, 128, 784, false, true, true, 1], // the MLP's X·W1ᵀ
    [128, 784, 64, true, false, false, 1], // and its dW1 = dZ1ᵀ·X
    [37, 301, 129, false, false, true, 1], // odd sizes: the last share is not a multiple of 8
    [301, 41, 77, true, true, false, 1], // rows not a multiple of 6
    [9, 1000, 200, false, false, false, 1], // m just above the skinny limit
    [50, 96, 96, false, true, true, 3], // batched
    [50, 96, 96, false, false, false, 3, 0], // A broadcast over the batch
  ])('%i×%i×%i (transA %s, transB %s, bias %s, batch %i) on 3 threads is bit-identical to relaxed on one',
    (m, n, k, transA, transB, bias, batch, strideA = m * k) => {
      const strideB = k * n;
      const rand = mulberry32(m * 7919 + n * 31 + k);
      const a = fill(rand, (batch - 1) * strideA + m * k), b = fill(rand, (batch - 1) * strideB + k * n);
      const biasValues = bias ? fill(rand, n) : null;
      const plan: MatmulPlan = { m, n, k, transA, transB, batch, strideA, strideB, bias: null };
      const run = vi.spyOn(ThreadPool.prototype, 'run');
      const shared = product(threaded, plan, a, b, biasValues);
      expect(run).toHaveBeenCalled(); // the product really was shared
      const alone = product(single, plan, a, b, biasValues);
      expect(shared.length).toBe(alone.length);
      expect(alone.findIndex((v, i) => !Object.is(v, shared[i]))).toBe(-1);
    });

  it.each(['sgd', 'adam', 'rmsprop', 'adagrad'] as const)('%s updates of 100,003 elements are shared and bit-identical', (name) => {
    const n = 100_003;
    const rand = mulberry32(n + 1);
    const values = Array.from({ length: 5 }, () => fill(rand, n));
    const step = (backend: Backend) => {
      const bufs = values.map((v, i) => {
        const buf = backend.alloc('float32', n);
        backend.write(buf, i >= 2 ? v.map(Math.abs) : v); // optimizer state such as squares stays ≥ 0
        return buf;
      });
      const [p, g, s1, s2, s3] = bufs as [Buf, Buf, Buf, Buf, Buf];
      if (name === 'sgd') backend.sgd(p, g, s1, n, { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true, firstStep: false });
      if (name === 'adam') backend.adam(p, g, s1, s2, n, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true, bc1: 0.1, bc2: 0.001 });
      if (name === 'rmsprop') backend.rmsprop(p, g, s1, s2, s3, n, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0.9, centered: true });
      if (name === 'adagrad') backend.adagrad(p, g, s1, n, { clr: 0.01, eps: 1e-10, weightDecay: 0 });
      const out = bufs.map((b) => Array.from(backend.read(b)));
      for (const b of bufs) backend.free(b);
      return out;
    };
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    const shared = step(threaded);
    expect(run).toHaveBeenCalled();
    expect(shared).toEqual(step(single));
  });

  it('trains bit-identically to the relaxed build on one thread, and frees every tensor', () => {
    const train = (backend: WasmBackend) => {
      setBackend(backend);
      return expectNoLeaks(() => tidy(() => {
        const rand = mulberry32(7);
        const x = tensor(Float32Array.from({ length: 96 * 784 }, () => rand()), { shape: [96, 784] });
        const y = tensor(Array.from({ length: 96 }, (_, i) => (i * 3) % 10), { dtype: 'int32' });
        const generator = new Generator(2);
        // gelu and softmax run the relaxed build's exp; the products its FMA micro-kernel.
        const model = new nn.Sequential(new nn.Linear(784, 128, { generator }), new nn.GELU(), new nn.Linear(128, 10, { generator }));
        const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
        const losses: number[] = [];
        for (let step = 0; step < 10; step++) {
          losses.push(tidy(() => {
            opt.zeroGrad();
            const loss = nn.crossEntropy(model(x), y);
            loss.backward();
            opt.step();
            return loss.item();
          }));
        }
        const values = model.parameters().map((p: Tensor) => Array.from(p.data()));
        opt.disposeState();
        model.dispose();
        return { losses, values };
      }));
    };
    const before = memory(threaded);
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    const shared = train(threaded);
    expect(run.mock.calls.length).toBeGreaterThanOrEqual(20); // the big forward and backward products of 10 steps
    const alone = train(single);
    expect(shared.losses.at(-1)).toBeLessThan(shared.losses[0]!);
    expect(shared.losses).toEqual(alone.losses);
    // Where the first differing value is, per parameter (a plain toEqual would print 100,000 numbers).
    expect(shared.values.map((v, i) => v.findIndex((x, j) => !Object.is(x, alone.values[i]![j])))).toEqual([-1, -1, -1, -1]);
    expect(memory(threaded).bytes).toBe(before.bytes);
  });

  it.each<[string, ConvPlan]>([
    // Convolutions run the FMA micro-kernel in their products; shared by batch items and by columns of dw
    // (7 chunks of 8 of the first's 25 columns: the last share is one column wide).
    ['LeNet conv1: 5×1×28×28 → 16, 5×5 same', { n: 5, c: 1, h: 28, w: 28, o: 16, kh: 5, kw: 5, oh: 28, ow: 28,
      strideH: 1, strideW: 1, padH: 2, padW: 2, dilationH: 1, dilationW: 1, groups: 1 }],
    ['3×8×11×13 → 36, 3×3, stride 2, 2 groups', { n: 3, c: 8, h: 11, w: 13, o: 36, kh: 3, kw: 3, oh: 6, ow: 7,
      strideH: 2, strideW: 2, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 2 }],
    ['conv1d 3×6×50 → 10, k 7, dilation 2', { n: 3, c: 6, h: 1, w: 50, o: 10, kh: 1, kw: 7, oh: 1, ow: 50,
      strideH: 1, strideW: 1, padH: 0, padW: 6, dilationH: 1, dilationW: 2, groups: 1 }],
  ])('conv2d %s and its gradients on 3 threads are bit-identical to relaxed on one', (_name, p) => {
    const rand = mulberry32(p.n * 31 + p.c);
    const [x, w, bias, dy] = [p.n * p.c * p.h * p.w, p.o * (p.c / p.groups) * p.kh * p.kw, p.o, p.n * p.o * p.oh * p.ow]
      .map((n) => fill(rand, n)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const convolve = (backend: Backend) => {
      const [bx, bw, bb, bdy] = [x, w, bias, dy].map((v) => {
        const buf = backend.alloc('float32', v.length);
        backend.write(buf, v);
        return buf;
      }) as [Buf, Buf, Buf, Buf];
      const outs = [dy.length, x.length, w.length].map((n) => backend.alloc('float32', n)) as [Buf, Buf, Buf];
      backend.conv2d(bx, bw, bb, outs[0], p);
      backend.conv2dInputGrad(bdy, bw, outs[1], p);
      backend.conv2dWeightGrad(bx, bdy, outs[2], p);
      const values = outs.map((o) => Array.from(backend.read(o)));
      for (const b of [bx, bw, bb, bdy, ...outs]) backend.free(b);
      return values;
    };
    forceSharing(0, 7);
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    const shared = convolve(threaded);
    expect(run.mock.calls.map(([job]) => job.kernel)).toEqual(['conv2d_f32', 'conv2d_input_grad_f32', 'conv2d_weight_grad_f32']);
    const alone = convolve(single);
    expect(shared.map((v, i) => v.findIndex((s, j) => !Object.is(s, alone[i]![j])))).toEqual([-1, -1, -1]);
  });

  it('trains a CNN (conv-bn-relu-pool ×2, linear) bit-identically to the relaxed build on one thread', () => {
    const train = (backend: WasmBackend) => {
      setBackend(backend);
      return expectNoLeaks(() => tidy(() => {
        const rand = mulberry32(8);
        const x = tensor(Float32Array.from({ length: 16 * 784 }, () => rand()), { shape: [16, 1, 28, 28] });
        const y = tensor(Array.from({ length: 16 }, (_, i) => (i * 3) % 10), { dtype: 'int32' });
        const model = buildCnn({ inputShape: [1, 28, 28], ...CNN_BLOCKS, hidden: [], outputDim: 10, activation: 'relu',
          dropout: 0 }, new Generator(3), new Generator(4));
        const opt = new optim.Adam(model.parameters(), { lr: 2e-3 });
        for (let step = 0; step < 3; step++) {
          tidy(() => {
            opt.zeroGrad();
            nn.crossEntropy(model(x), y).backward();
            opt.step();
          });
        }
        const values = [...model.parameters(), ...model.buffers()].map((t: Tensor) => Array.from(t.data()));
        opt.disposeState();
        model.dispose();
        return values;
      }));
    };
    const before = memory(threaded);
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    const shared = train(threaded);
    expect(new Set(run.mock.calls.map(([job]) => job.kernel))).toContain('conv2d_weight_grad_f32');
    const alone = train(single);
    expect(shared.map((v, i) => v.findIndex((s, j) => !Object.is(s, alone[i]![j])))).toEqual(alone.map(() => -1));
    expect(memory(threaded).bytes).toBe(before.bytes);
  });

  it.each([
    [{ threads: 2, build: 'relaxed' as const },
      "createWasmBackend: threads need a threads build ('relaxed-simd-threads' or 'simd-threads'), not 'relaxed'"],
    [{ build: 'relaxed-simd-threads' as const, maxMemoryMB: 1 },
      "createWasmBackend: maxMemoryMB must be at least 1.0625 for the 'relaxed-simd-threads' build"],
  ])('refuses %j', async (options, message) => {
    await expect(createWasmBackend(options)).rejects.toThrow(message);
  });
});

describe('without relaxed SIMD (node without --experimental-wasm-relaxed-simd, WASMGRAD_RELAXED_SIMD=0)', () => {
  // The child uses the built package (dist/), as a user would, on a Node that does not validate relaxed SIMD and
  // where wasmgrad is told not to enable it (test/engine/relaxed-simd.test.ts: what it does without that).
  const dist = (file: string) => pathToFileURL(join(import.meta.dirname, '../../dist', file)).href;
  const program = `
    import { init, backendInfo } from '${dist('index.js')}';
    const auto = (await init({ threads: 2 })).build;
    const error = await init({ build: 'relaxed-simd-threads', threads: 2 }).then(() => 'loaded', (e) => e.message);
    console.log(JSON.stringify({ auto, error, still: backendInfo().build }));
  `;

  it("'auto' takes simd-threads, and asking for relaxed-simd-threads names the flag", async () => {
    const { NODE_OPTIONS: _, ...env } = process.env;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', program], { timeout: 60_000, env: { ...env, WASMGRAD_RELAXED_SIMD: '0' } },
        (error, out, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(out)));
    });
    expect(JSON.parse(stdout)).toEqual({
      auto: 'simd-threads',
      error: "init: this engine cannot run the 'relaxed-simd-threads' build (it runs: simd, scalar); " +
        'it needs relaxed SIMD (Chromium has it; Node 20 needs --experimental-wasm-relaxed-simd)',
      still: 'simd-threads',
    });
  });
});
