// profile(fn): every kernel call on the backend while fn runs, counted, timed by self time, priced by the cost
// table; the time outside the kernels; a table; a trace in the Trace Event Format. The observer comes off when fn
// returns or throws, and profiles nest.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { getBackend, matmul, nn, optim, profile, setBackend, tensor, tidy, type Trace } from '../../src/index.js';
import type { Buf, CopyPlan } from '../../src/backend/types.js';
import { RefBackend } from '../../src/backend/ref/index.js';
import { createWasmBackend } from '../../src/backend/wasm/index.js';
import { ThreadPool } from '../../src/backend/wasm/threads.js';
import { BACKENDS, expectNoLeaks, expectNoLeaksAsync, useBackend } from '../helpers/api.js';
import { forceSharing } from '../helpers/sharing.js';

afterEach(() => vi.restoreAllMocks());

/** No Backend method is shadowed: every observer has come off. */
function expectUnobserved(): void {
  const backend = getBackend();
  for (const m of ['alloc', 'free', 'matmul', 'unary', 'read', 'write', 'sgd'] as const) expect(Object.hasOwn(backend, m)).toBe(false);
}

/** One SGD step of an MLP 4-8-3 on a batch of 5 (cross-entropy, mean), reading the loss. */
function mlpStep() {
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const x = tensor(Array.from({ length: 20 }, (_, i) => Math.sin(i)), { shape: [5, 4] });
  const y = tensor(Int32Array.from([0, 1, 2, 1, 0]));
  const step = () => tidy(() => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  });
  const dispose = () => { model.dispose(); x.dispose(); y.dispose(); };
  return { step, dispose };
}

/**
 * Checks a trace against the Trace Event Format's rules for what we write (JSON object form): it survives
 * JSON.stringify unchanged, every event has a name, a phase, pid and tid; complete events ('X') have ts and dur in µs,
 * finite and ≥ 0; metadata events ('M') name a process or thread; and on each thread complete events nest — one
 * ends before the next begins or contains it — in whole nanoseconds, as viewers import them.
 */
function checkTrace(trace: Trace): void {
  expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
  expect(Object.keys(trace).sort()).toEqual(['displayTimeUnit', 'otherData', 'traceEvents']);
  expect(['ms', 'ns']).toContain(trace.displayTimeUnit);
  expect(Array.isArray(trace.traceEvents)).toBe(true);
  const open = new Map<string, number[]>(); // per thread, the ends of the events that contain the current one
  for (const e of trace.traceEvents) {
    expect(typeof e.name).toBe('string');
    expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
    if (e.ph === 'M') {
      expect(['process_name', 'thread_name']).toContain(e.name);
      expect(typeof e.args?.name).toBe('string');
      continue;
    }
    expect(e.ph).toBe('X');
    expect(Number.isFinite(e.ts) && e.ts! >= 0 && Number.isFinite(e.dur) && e.dur! >= 0).toBe(true);
    expect(typeof e.args).toBe('object');
    const [start, end] = [Math.round(e.ts! * 1000), Math.round(e.ts! * 1000) + Math.round(e.dur! * 1000)];
    const stack = open.get(`${e.pid}/${e.tid}`) ?? [];
    while (stack.length && stack[stack.length - 1]! <= start) stack.pop();
    if (stack.length) expect(end).toBeLessThanOrEqual(stack[stack.length - 1]!); // inside the one it starts in
    stack.push(end);
    open.set(`${e.pid}/${e.tid}`, stack);
  }
}

describe.each(BACKENDS)('profile (%s)', (name) => {
  it('counts the kernels of one MLP training step: exactly these, these many times', async () => {
    await useBackend(name);
    const { step, dispose } = mlpStep();
    step(); // optimizer state and the first-step paths out of the way
    const p = expectNoLeaks(() => profile(step));
    dispose();
    expect(Number.isFinite(p.result)).toBe(true);
    const counts = Object.fromEntries(p.kernels.map((k) => [k.kernel, k.calls]));
    expect(counts).toEqual({
      matmul: 2 + 3, // forward: each Linear (bias fused); backward: dW of both, dx of the second (x needs none)
      relu: 1, reluGrad: 1,
      crossEntropy: 1, mean: 1, crossEntropyGrad: 1, // the fused loss, its mean, one backward for both
      sum: 2, // the bias gradients
      sgd: 4, // one update per parameter
      read: 3, // the labels, checked by the loss and by its backward, and loss.item()
      write: 1, // backward's seed, ∂J/∂J = 1
    });
    expect(p.calls).toHaveLength(20);
    expectUnobserved();
  });

  it("prices a product by its sizes: 2mnk FLOPs, each operand's bytes once", async () => {
    await useBackend(name);
    const [m, n, k] = [3, 5, 7];
    const a = tensor(new Float32Array(m * k).fill(1), { shape: [m, k] });
    const b = tensor(new Float32Array(k * n).fill(1), { shape: [k, n] });
    const p = expectNoLeaks(() => profile(() => matmul(a, b).dispose()));
    a.dispose(); b.dispose();
    expect(p.calls).toHaveLength(1);
    const [call] = p.calls;
    expect(call).toMatchObject({ kernel: 'matmul', method: 'matmul', flops: 2 * m * n * k, bytes: 4 * (m * k + k * n + m * n) });
    expect(call!.sizes).toMatchObject({ m, n, k });
    const [stats] = p.kernels;
    expect(stats).toMatchObject({ kernel: 'matmul', calls: 1, flops: 2 * m * n * k });
    expect(stats!.gflops).toBeCloseTo(stats!.flops / stats!.totalMs / 1e6, 9);
    expect(stats!.gbps).toBeCloseTo(stats!.bytes / stats!.totalMs / 1e6, 9);
  });

  it('splits the wall time into kernels and outside, and writes a table and a valid trace', async () => {
    await useBackend(name);
    const { step, dispose } = mlpStep();
    step();
    const p = profile(() => { step(); step(); });
    dispose();
    expect(p.kernelMs).toBeCloseTo(p.calls.reduce((acc, c) => acc + c.self, 0), 9);
    expect(p.kernelMs).toBeLessThanOrEqual(p.wallMs);
    expect(p.outsideMs).toBeCloseTo(p.wallMs - p.kernelMs, 9);
    expect(p.backend).toEqual(name === 'ref' ? { backend: 'ref', build: 'ref', threads: 1 } : { backend: 'wasm', build: 'simd', threads: 1 });
    for (const c of p.calls) expect(c.start >= 0 && c.start + c.duration <= p.wallMs).toBe(true);

    const table = p.table().split('\n');
    expect(table[0]).toContain(name === 'ref' ? 'the ref backend' : 'wasm simd, 1 thread');
    expect(table[1]).toMatch(/^kernel\s+calls\s+total ms\s+mean µs\s+time\s+MFLOP\s+GFLOP\/s\s+MB\s+GB\/s$/);
    for (const k of p.kernels) expect(table.some((l) => new RegExp(`^${k.kernel}\\s+${k.calls}\\s`).test(l))).toBe(true);
    expect(table.find((l) => l.startsWith('all kernels'))).toMatch(/^all kernels\s+40\s/);
    expect(table.some((l) => l.startsWith('outside kernels'))).toBe(true);
    expect(table[table.length - 1]).toMatch(/^total \(1 span\)\s+\d+\.\d{3}\s+100\.0%$/);

    const trace = p.trace();
    checkTrace(trace);
    const kernels = trace.traceEvents.filter((e) => e.cat === 'kernel');
    expect(kernels.map((e) => e.name)).toEqual(p.calls.map((c) => c.kernel));
    expect(kernels.map((e) => [e.args!.flops, e.args!.bytes])).toEqual(p.calls.map((c) => [c.flops, c.bytes]));
    expect(trace.traceEvents.filter((e) => e.cat === 'span').map((e) => e.name)).toEqual(['profile']);
    // JSON of the profile: the numbers, not the result or every call
    expect(Object.keys(JSON.parse(JSON.stringify(p))).sort()).toEqual(['backend', 'kernelMs', 'kernels', 'outsideMs', 'spans', 'wallMs']);
  });

  it('comes off the backend when fn throws, leaking nothing, sync or async', async () => {
    await useBackend(name);
    const a = tensor([[1, 2], [3, 4]]);
    expectNoLeaks(() => expect(() => profile(() => tidy(() => {
      a.matmul(a).relu();
      throw new Error('boom');
    }))).toThrow('boom'));
    expectUnobserved();
    await expectNoLeaksAsync(() => expect(profile(async () => {
      await Promise.resolve();
      tidy(() => { a.matmul(a); });
      throw new Error('async boom');
    })).rejects.toThrow('async boom'));
    expectUnobserved();
    // A kernel that fails inside: its error comes through, and the profiler is gone.
    expect(() => profile(() => a.matmul(tensor([1, 2, 3])))).toThrow(/matmul/);
    expectUnobserved();
    a.dispose();
  });

  it('profiles an async function across its awaits, with its result', async () => {
    await useBackend(name);
    const a = tensor([1, 2, 3]);
    const p = await expectNoLeaksAsync(() => profile(async () => {
      const e = a.exp();
      await new Promise((r) => setTimeout(r, 5));
      const s = e.sum();
      const value = s.item();
      e.dispose(); s.dispose();
      return value;
    }));
    a.dispose();
    expect(p.result).toBeCloseTo(Math.E + Math.E ** 2 + Math.E ** 3, 4);
    expect(p.calls.map((c) => c.kernel)).toEqual(['exp', 'sum', 'read']);
    expect(p.wallMs).toBeGreaterThanOrEqual(4); // the await is in the wall time, outside the kernels
    expect(p.outsideMs).toBeGreaterThanOrEqual(4);
    expectUnobserved();
  });

  it('nests: an inner profile sees its own calls, the outer one all of them', async () => {
    await useBackend(name);
    const a = tensor([1, 2, 3]);
    const outer = expectNoLeaks(() => profile(() => {
      a.exp().dispose();
      const inner = profile(() => a.relu().dispose());
      a.neg().dispose();
      return inner;
    }));
    a.dispose();
    expect(outer.result.calls.map((c) => c.kernel)).toEqual(['relu']);
    expect(outer.calls.map((c) => c.kernel)).toEqual(['exp', 'relu', 'neg']);
    expect(outer.result.wallMs).toBeLessThanOrEqual(outer.wallMs);
    expectUnobserved();
  });
});

describe('profile: self time', () => {
  // A backend whose scale runs a copy on itself first (as the wasm backend's cast between equal dtypes does), and
  // whose copy takes at least 3 ms.
  class Nesting extends RefBackend {
    override copy(x: Buf, out: Buf, plan: CopyPlan): void {
      const until = performance.now() + 3;
      while (performance.now() < until) { /* a slow kernel */ }
      super.copy(x, out, plan);
    }
    override scale(x: Buf, out: Buf, n: number, alpha: number): void {
      this.copy(x, out, { dims: [n], xStrides: [1], xOffset: 0, outStrides: [1], outOffset: 0 });
      super.scale(out, out, n, alpha);
    }
  }
  afterAll(() => setBackend('ref'));

  it('counts a backend call made inside another once: the outer call keeps only its own time, FLOPs and bytes', () => {
    const backend = new Nesting();
    setBackend(backend);
    const x = backend.alloc('float32', 4), out = backend.alloc('float32', 4);
    const p = profile(() => backend.scale(x, out, 4, 2));
    backend.free(x);
    backend.free(out);
    const [scale, copy] = p.calls;
    expect([scale!.kernel, copy!.kernel]).toEqual(['scale', 'copy']);
    expect(copy!.duration).toBeGreaterThanOrEqual(3);
    expect(copy!.start).toBeGreaterThanOrEqual(scale!.start);
    expect(copy!.start + copy!.duration).toBeLessThanOrEqual(scale!.start + scale!.duration);
    expect(scale!.self).toBeCloseTo(scale!.duration - copy!.duration, 9);
    expect(copy!.self).toBe(copy!.duration);
    expect(p.kernelMs).toBeLessThanOrEqual(p.wallMs);
    // scale's rule: 4 FLOPs and 32 bytes; the copy's 32 bytes are its own, not scale's as well
    expect([scale!.flops, scale!.bytes, copy!.flops, copy!.bytes]).toEqual([4, 0, 0, 32]);
    checkTrace(p.trace());
  });
});

describe('profile with threads', () => {
  it('sees the calls a threads build shares between its workers, on the calling thread', async () => {
    const threaded = await createWasmBackend({ build: 'simd-threads', threads: 2 });
    setBackend(threaded);
    try {
      forceSharing(0, 4);
      const jobs = vi.spyOn(ThreadPool.prototype, 'run');
      const a = tensor(new Float32Array(64 * 64).fill(0.5), { shape: [64, 64] });
      const p = expectNoLeaks(() => profile(() => matmul(a, a).dispose()));
      a.dispose();
      expect(jobs).toHaveBeenCalledTimes(1); // the product really was shared
      expect(p.backend).toEqual({ backend: 'wasm', build: 'simd-threads', threads: 2 });
      expect(p.calls.map((c) => [c.kernel, c.flops])).toEqual([['matmul', 2 * 64 ** 3]]);
      expect(p.calls[0]!.self).toBeGreaterThan(0);
      expectUnobserved();
    } finally {
      threaded.close();
      setBackend('ref');
    }
  });
});
