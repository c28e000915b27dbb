// init({ threads }): the simd-threads build shares large matrix products (by columns) and optimizer updates (by
// elements) between worker threads over one shared linear memory. Every share of a product takes the same blocked
// path as the whole product, so the results must be bit-identical to the single-threaded simd build, call by call
// and over a whole training run.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  backendInfo, Generator, getBackend, init, memory, nn, optim, setBackend, tensor, tidy, type Tensor,
} from '../../src/index.js';
import type { Backend, Buf, MatmulPlan } from '../../src/backend/types.js';
import { createWasmBackend, WasmBuf, type WasmBackend } from '../../src/backend/wasm/index.js';
import { ThreadPool } from '../../src/backend/wasm/threads.js';
import { expectNoLeaks } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';

const single = await createWasmBackend({ build: 'simd' });
const threaded = await createWasmBackend({ build: 'simd-threads', threads: 3 });
afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  threaded.close();
  setBackend('ref');
});

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

describe('threads', () => {
  it('init({ threads }) loads the simd-threads build and reports the threads', async () => {
    expect(threaded.build).toBe('simd-threads');
    expect(threaded.threads).toBe(3);
    const info = await init({ build: 'simd-threads', threads: 2 });
    expect(info).toMatchObject({ backend: 'wasm', build: 'simd-threads', threads: 2 });
    expect(backendInfo().threads).toBe(2);
    const previous = getBackend() as WasmBackend;
    expect((await init({ build: 'simd' })).threads).toBe(1);
    expect(previous.threads).toBe(1); // init() stopped the workers of the backend it replaced
  });

  it.each<[number, number, number, boolean, boolean, boolean, number, number?]>([
    // [m, n, k, transA, transB, bias, batch, strideA]: shares of uneven widths, every transpose, tails
    [64, 128, 784, false, true, true, 1], // the MLP's X·W1ᵀ
    [128, 784, 64, true, false, false, 1], // and its dW1 = dZ1ᵀ·X
    [37, 301, 129, false, false, true, 1], // odd sizes: the last share is not a multiple of 8
    [300, 41, 77, true, true, false, 1], // n = 41: two shares of 24 and 17 columns
    [9, 1000, 200, false, false, false, 1], // m just above the skinny limit
    [50, 96, 96, false, false, true, 3], // batched
    [50, 96, 96, false, true, false, 3, 0], // A broadcast over the batch
  ])('%i×%i×%i (transA %s, transB %s, bias %s, batch %i) is bit-identical to one thread',
    (m, n, k, transA, transB, bias, batch, strideA = m * k) => {
      const strideB = k * n;
      const rand = mulberry32(m * 7919 + n * 31 + k);
      const fill = (len: number) => Float32Array.from({ length: len }, () => Math.fround(rand() * 2 - 1));
      const a = fill((batch - 1) * strideA + m * k), b = fill((batch - 1) * strideB + k * n);
      const biasValues = bias ? fill(n) : null;
      const plan: MatmulPlan = { m, n, k, transA, transB, batch, strideA, strideB, bias: null };
      const run = vi.spyOn(ThreadPool.prototype, 'run');
      const shared = product(threaded, plan, a, b, biasValues);
      expect(run).toHaveBeenCalledTimes(1); // the product really was shared...
      expect(run.mock.calls[0]![0]).toBe('matmul_f32_cols');
      const parts = run.mock.calls[0]![1].map((share) => [share[13]!, share[14]!] as const);
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.every(([j0, j1]) => j1 - j0 > 8)).toBe(true); // ...in shares wider than the skinny limit
      expect(parts.map(([j0]) => j0)).toEqual([0, ...parts.slice(0, -1).map(([, j1]) => j1)]);
      expect(parts.at(-1)![1]).toBe(n);
      const alone = product(single, plan, a, b, biasValues);
      expect(shared.length).toBe(alone.length);
      const differing = alone.findIndex((v, i) => !Object.is(v, shared[i]));
      expect(differing).toBe(-1);
    });

  it.each(['sgd', 'adam', 'rmsprop', 'adagrad'] as const)('%s updates of 100,003 elements are shared and bit-identical', (name) => {
    const n = 100_003;
    const rand = mulberry32(n);
    const values = Array.from({ length: 5 }, () => Float32Array.from({ length: n }, () => Math.fround(rand() * 2 - 1)));
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
    expect(run.mock.calls.map((c) => c[0])).toEqual([`${name}_f32`]);
    expect(run.mock.calls[0]![1]).toHaveLength(3);
    expect(shared).toEqual(step(single));
  });

  it('keeps small and skinny products on the calling thread', () => {
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    for (const [m, n, k] of [[64, 10, 128], [8, 1024, 512], [64, 31, 1024], [16, 16, 16]] as const) {
      const plan: MatmulPlan = { m, n, k, transA: false, transB: false, batch: 1, strideA: m * k, strideB: k * n, bias: null };
      const a = new Float32Array(m * k).fill(1), b = new Float32Array(k * n).fill(2);
      expect(Array.from(product(threaded, plan, a, b, null))).toEqual(new Array(m * n).fill(2 * k));
    }
    expect(run).not.toHaveBeenCalled();
  });

  it('trains bit-identically to one thread, and frees every tensor', async () => {
    const train = (backend: WasmBackend) => {
      setBackend(backend);
      return expectNoLeaks(() => tidy(() => {
        const rand = mulberry32(5);
        const x = tensor(Float32Array.from({ length: 96 * 784 }, () => rand()), { shape: [96, 784] });
        const y = tensor(Array.from({ length: 96 }, (_, i) => (i * 7) % 10), { dtype: 'int32' });
        const generator = new Generator(1);
        const model = new nn.Sequential(new nn.Linear(784, 128, { generator }), new nn.ReLU(), new nn.Linear(128, 10, { generator }));
        const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
        for (let step = 0; step < 10; step++) {
          tidy(() => {
            opt.zeroGrad();
            nn.crossEntropy(model(x), y).backward();
            opt.step();
          });
        }
        const values = model.parameters().map((p: Tensor) => Array.from(p.data()));
        opt.disposeState();
        model.dispose();
        return values;
      }));
    };
    const before = memory(threaded);
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    const shared = train(threaded);
    expect(run.mock.calls.length).toBeGreaterThanOrEqual(20); // the big forward and backward products of 10 steps
    expect(shared).toEqual(train(single));
    expect(memory(threaded).bytes).toBe(before.bytes);
  });

  it('close() stops the workers; the backend keeps working on one thread', async () => {
    const backend = await createWasmBackend({ threads: 2 });
    const plan: MatmulPlan = { m: 64, n: 64, k: 512, transA: false, transB: false, batch: 1, strideA: 64 * 512, strideB: 512 * 64, bias: null };
    const a = new Float32Array(64 * 512).fill(0.5), b = new Float32Array(512 * 64).fill(2);
    const before = product(backend, plan, a, b, null);
    backend.close();
    expect(backend.threads).toBe(1);
    const run = vi.spyOn(ThreadPool.prototype, 'run');
    expect(product(backend, plan, a, b, null)).toEqual(before);
    expect(run).not.toHaveBeenCalled();
  });

  it("a trap in a worker's share surfaces as an Error naming the kernel, and marks the backend broken", async () => {
    const backend = await createWasmBackend({ threads: 2 });
    const end = backend.exports.memory.buffer.byteLength;
    const a = backend.alloc('float32', 16 * 1024), c = backend.alloc('float32', 16 * 64);
    // B's rows (transB: one per column of C) run past the end of memory from row 40 on: only the worker's
    // share (columns 32…63) reads there.
    const b = new WasmBuf(backend, 'float32', 64 * 1024, end - 40 * 4096);
    const plan: MatmulPlan = { m: 16, n: 64, k: 1024, transA: false, transB: true, batch: 1, strideA: 0, strideB: 0, bias: null };
    expect(() => backend.matmul(a, b, c, plan)).toThrow("wasm kernel 'matmul' trapped: a worker thread trapped");
    expect(backend.broken).toBe(true);
    backend.close();
  });

  it.each([
    [{ threads: 0 }, 'createWasmBackend: threads must be an integer from 1 to 16, got 0'],
    [{ threads: 2.5 }, 'createWasmBackend: threads must be an integer from 1 to 16, got 2.5'],
    [{ threads: 64 }, 'createWasmBackend: threads must be an integer from 1 to 16, got 64'],
    [{ threads: 2, build: 'scalar' as const }, "createWasmBackend: threads need a threads build ('relaxed-simd-threads' or 'simd-threads'), not 'scalar'"],
  ])('refuses %j', async (options, message) => {
    await expect(createWasmBackend(options)).rejects.toThrow(message);
  });
});

describe('threads in a program given to node as text', () => {
  // Node evaluates a worker's text as an ES module when the parent runs under --input-type=module (-e or
  // stdin): the workers must start there too. The child uses the built package (dist/), as a user would.
  const dist = (file: string) => pathToFileURL(join(import.meta.dirname, '../../dist', file)).href;
  const program = `
    import { init, randn, matmul, backendInfo } from '${dist('index.js')}';
    import { ThreadPool } from '${dist('backend/wasm/threads.js')}';
    let shared = 0;
    const run = ThreadPool.prototype.run;
    ThreadPool.prototype.run = function (...args) { shared++; return run.apply(this, args); };
    const product = async (options) => {
      await init(options);
      const a = randn([256, 256], { seed: 1 }), b = randn([256, 256], { seed: 2 });
      return Array.from(matmul(a, b).data());
    };
    const two = await product({ threads: 2 });
    const threads = backendInfo().threads;
    const one = await product({ build: 'simd' });
    console.log(JSON.stringify({ threads, shared, identical: two.every((v, i) => Object.is(v, one[i])) }));
  `;
  const node = (args: string[], stdin?: string) => new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
    child.stdin!.end(stdin ?? '');
  });

  it.each([
    ['node --input-type=module -e', () => node(['--input-type=module', '-e', program])],
    ['node --input-type=module < program', () => node(['--input-type=module'], program)],
  ])('%s: init({ threads: 2 }) starts its workers and shares a product', async (_form, start) => {
    expect(JSON.parse(await start())).toEqual({ threads: 2, shared: 1, identical: true });
  });
});
