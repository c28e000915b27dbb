// Memory mistakes users make: tensors too large for any backend, and tensors dropped without tidy() or dispose().
// Huge creations fail with our out-of-memory message (never "Invalid array length" or a process abort) and leave
// memory, the random stream and the objects as they were; an out-of-memory error says who holds the memory; a
// tensor the program can no longer reach gives its memory back when the garbage collector finds it; and a loop
// whose live tensors keep growing gets one warning.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  arange, full, globalGenerator, init, keep, memory, nn, ones, optim, rand, randn, refBackend, tensor, tidy, warnOnLeaks,
  zeros, type Tensor,
} from '../../src/index.js';
import { expectNoLeaks } from '../helpers/api.js';

setFlagsFromString('--expose-gc');
/** A full garbage collection (V8's gc(), exposed for this test file only). */
const gc = runInNewContext('gc') as () => void;
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
/** Collects garbage and lets finalizers run (they wait for the event loop). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await tick();
  }
}

interface World { model: nn.Sequential; opt: optim.Adam; x: Tensor }
let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  world = { model, opt: new optim.Adam(model.parameters(), { lr: 0.01 }), x: keep(tensor([[1, 2, 3], [4, 5, 6]])) };
});

afterAll(() => {
  world.opt.disposeState();
  world.model.dispose();
  world.x.dispose();
});

/** The objects still work: a training step. */
function stillUsable(): void {
  const { model, opt, x } = world;
  tidy(() => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model(x), [0, 1]);
    loss.backward();
    opt.step();
    expect(Number.isFinite(loss.item())).toBe(true);
  });
}

const OOM = 'wasm backend: out of memory allocating';
/** Our message on the wasm backend: what was asked for, why it cannot be had, then the live tensors. */
const wasmOOM = (bytes: number | string, why: RegExp) => new RegExp(`^${OOM} ${bytes} bytes: ${why.source}`);
/** Past what wasm32 can address, whatever the limit. */
const WASM32 = /more than the 4096\.0 MB a wasm32 memory can address \([\d.]+ MB in use\)\. \d+ tensors are alive: /;
/** Past maxMemoryMB (64 here). */
const LIMIT = new RegExp('the heap would reach [\\d.]+ MB, over the limit of 64\\.0 MB ' +
  '\\([\\d.]+ MB in use; raise it with init\\(\\{ maxMemoryMB \\}\\)\\)\\. \\d+ tensors are alive: ');
/** Past the engine's longest typed array (Node 20: 2³² elements), or past what it can allocate, on the ref backend. */
const ENGINE = (elements: number) => new RegExp(`^ref backend: out of memory allocating ${elements * 4} bytes: the engine ` +
  `refused a float32 array of ${elements} elements \\((Invalid typed array length: ${elements}|Array buffer allocation ` +
  'failed); [\\d.]+ MB in use\\)\\. \\d+ tensors are alive: ');

const HUGE: [string, () => unknown, RegExp][] = [
  ['zeros of 1e9 elements over maxMemoryMB', () => zeros([1e9]), wasmOOM(4000000000, LIMIT)],
  ['ones of 1e9 elements over maxMemoryMB', () => ones([1e9]), wasmOOM(4000000000, LIMIT)],
  ['randn of 1e9 elements over maxMemoryMB', () => randn([1e9]), wasmOOM(4000000000, LIMIT)],
  ['rand of 1e9 elements over maxMemoryMB', () => rand([1e9]), wasmOOM(4000000000, LIMIT)],
  ['arange of 1e9 elements over maxMemoryMB', () => arange(1e9), wasmOOM(4000000000, LIMIT)],
  ['full of 2³¹ elements', () => full([2 ** 31], 1), wasmOOM(8589934592, WASM32)],
  ['randn of 2³¹ elements', () => randn([2 ** 31]), wasmOOM(8589934592, WASM32)],
  ['zeros of 2⁴⁰ elements', () => zeros([2 ** 40]), wasmOOM(4398046511104, WASM32)],
  ['rand of 2⁴⁰ elements', () => rand([2 ** 20, 2 ** 20]), wasmOOM(4398046511104, WASM32)],
  ['arange of 2⁴⁰ elements', () => arange(2 ** 40), wasmOOM(4398046511104, WASM32)],
  ['zeros of 2⁹⁰ elements', () => zeros([2 ** 30, 2 ** 30, 2 ** 30]), wasmOOM('\\S+', WASM32)],
  ['ref: zeros of 2³³ elements', () => zeros([2 ** 33], { backend: refBackend() }), ENGINE(2 ** 33)],
  ['ref: randn of 2⁴⁰ elements', () => randn([2 ** 40], { backend: refBackend() }), ENGINE(2 ** 40)],
  ['ref: arange of 2⁴⁰ elements', () => arange(0, 2 ** 40, 1, { backend: refBackend() }), ENGINE(2 ** 40)],
];

describe('tensors too large for the backend', () => {
  beforeAll(async () => {
    await init({ build: 'simd', maxMemoryMB: 64 });
  });
  afterAll(async () => {
    await init({ build: 'simd' });
  });

  it.each(HUGE)('%s: our out-of-memory error; memory, random stream and objects unchanged', (_name, bad, message) => {
    const before = memory();
    const rng = globalGenerator.getState();
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(globalGenerator.getState()).toEqual(rng);
    stillUsable();
  });

  it('a large tensor under maxMemoryMB still works, with every value written', () => {
    tidy(() => {
      const n = 2 << 20; // 8 MB
      const x = randn([n], { seed: 1 });
      const ones_ = ones([n]);
      expect(x.add(ones_).sub(x).sum().item()).toBeCloseTo(n, -2);
      expect(arange(n).max().item()).toBe(n - 1);
    });
    stillUsable();
  });
});

const run = promisify(execFile);

describe('the ref backend when the engine refuses an allocation', () => {
  // An address-space limit makes V8 refuse large ArrayBuffers ("Array buffer allocation failed") without the machine
  // running out of memory. wasm memories cannot be reserved under such a limit, so this child uses the ref backend.
  it.each([
    ['zeros([1e9])', 4000000000, 1000000000],
    ['randn([2 ** 31])', 8589934592, 2147483648],
    ['ones([2 ** 31 - 1])', 8589934588, 2147483647],
  ])('%s reports our out-of-memory error', async (call, bytes, elements) => {
    const script = "import('./dist/index.js').then(({ init, zeros, randn, ones, memory }) => init({ backend: 'ref' }).then(() => {" +
      `try { ${call}; console.log('allocated'); } catch (e) { console.log(e.name + ': ' + e.message); }` +
      "console.log('tensors ' + memory().tensors + ', bytes ' + memory().bytes); }))";
    const { stdout } = await run('bash', ['-c', `ulimit -v 3000000 && exec "${process.execPath}" --input-type=module -e "${script}"`],
      { cwd: join(import.meta.dirname, '../..') });
    expect(stdout).toContain(`OutOfMemoryError: ref backend: out of memory allocating ${bytes} bytes: the engine refused a ` +
      `float32 array of ${elements} elements (Array buffer allocation failed; 0.0 MB in use). No tensors are alive`);
    expect(stdout).toContain('tensors 0, bytes 0');
  });
});

describe('an out-of-memory error says who holds the memory', () => {
  afterAll(async () => {
    await init({ build: 'simd' });
  });

  it('how many tensors are alive, and the ops that made most of them', async () => {
    await init({ build: 'simd', maxMemoryMB: 16 });
    expectNoLeaks(() => tidy(() => {
      const h = ones([1000]).named('h');
      for (let i = 0; i < 40; i++) h.relu();
      for (let i = 0; i < 20; i++) h.mul(2);
      for (let i = 0; i < 30; i++) zeros([10]);
      expect(() => tensor(new Float32Array(8 << 20))).toThrow(new RegExp(
        `^${OOM} 33554432 bytes: the heap would reach [\\d.]+ MB, over the limit of 16\\.0 MB \\([\\d.]+ MB in use; raise it ` +
        "with init\\(\\{ maxMemoryMB \\}\\)\\)\\. \\d+ tensors are alive: 40 from 'relu', 30 from zeros\\(\\), 20 from 'mul' and " +
        '\\d+ from \\d+ others; free those you no longer need with tidy\\(\\) or dispose\\(\\)$'));
    }));
    stillUsable();
  });

  it('on the ref backend too', () => {
    expectNoLeaks(() => tidy(() => {
      for (let i = 0; i < 5; i++) tensor([1, 2], { backend: refBackend() }).exp();
      expect(() => zeros([2 ** 40], { backend: refBackend() })).toThrow(/\. \d+ tensors are alive: \d+ from [^;]*5 from 'exp'/);
    }));
  });
});

describe('tensors dropped without dispose()', () => {
  /** Runs fn (which must not let its tensors escape), then collects: memory() must be back where it started. */
  async function expectReclaimed(fn: () => void): Promise<void> {
    await collect();
    const before = memory();
    fn();
    expect(memory().tensors).toBeGreaterThan(before.tensors);
    await collect();
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
  }

  it('a tensor nobody can reach gives its storage back and leaves memory().tensors', async () => {
    await expectReclaimed(() => {
      tensor([1, 2, 3]);
      randn([100, 100]).relu();
    });
  });

  it('kept tensors and tensors returned from tidy() are reclaimed once unreachable', async () => {
    await expectReclaimed(() => {
      keep(zeros([10]));
      tidy(() => ones([3]).mul(2));
    });
  });

  it('a graph dropped before backward() gives back its outputs and its saved tensors', async () => {
    const w = keep(randn([8, 8], { requiresGrad: true }));
    await expectReclaimed(() => {
      const x = randn([4, 8]);
      x.matmul(w).relu().sigmoid().sum();
    });
    w.dispose();
  });

  it('a graph dropped after backward() too, and the gradient stays with its parameter', async () => {
    const w = keep(randn([8, 8], { requiresGrad: true }));
    await expectReclaimed(() => {
      randn([4, 8]).matmul(w).tanh().sum().backward();
      w.grad!.dispose();
      w.grad = null;
    });
    w.dispose();
  });

  it('a view keeps the storage it shares: dropping it releases only its own reference', async () => {
    await collect();
    const before = memory();
    const x = tensor([1, 2, 3, 4, 5, 6]);
    (() => {
      x.reshape([2, 3]);
      x.reshape([3, 2]).detach();
    })();
    await collect();
    expect(memory()).toMatchObject({ tensors: before.tensors + 1, buffers: before.buffers + 1 });
    expect(Array.from(x.data())).toEqual([1, 2, 3, 4, 5, 6]);
    x.dispose();
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
  });

  it('a disposed tensor is not released a second time when collected', async () => {
    await collect();
    const before = memory();
    (() => {
      const x = tensor([1, 2, 3]);
      const v = x.reshape([3, 1]);
      v.dispose();
      x.dispose();
    })();
    await collect();
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
    stillUsable();
  });

  it('a tensor the program can still reach is never reclaimed, even when only a closure holds it', async () => {
    await collect();
    const before = memory();
    const held = tidy(() => {
      const inner = ones([5]).mul(3);
      return { read: () => Array.from(inner.data()), inner };
    });
    await collect();
    expect(held.read()).toEqual([3, 3, 3, 3, 3]);
    held.inner.dispose();
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
  });
});

const LEAK_CHILD = join(import.meta.dirname, '../helpers/leak-child.mjs');
interface Sample { step: number; tensors: number; bytes: number; heapBytes: number }
interface LeakRun { baseline: Sample; samples: Sample[]; end: Sample; afterCollect: Sample; peakHeapBytes: number; stderr: string }

/**
 * Trains `steps` steps without tidy() in a fresh process (test/helpers/leak-child.mjs, on dist/). gc() is exposed
 * for the baseline and the final collection; only mode 'gc' calls it during the loop.
 */
async function leakyLoop(steps: number, mode: 'gc' | 'await' | 'sync'): Promise<LeakRun> {
  const { stdout, stderr } = await run(process.execPath, ['--expose-gc', LEAK_CHILD, String(steps), mode]);
  return { ...(JSON.parse(stdout) as Omit<LeakRun, 'stderr'>), stderr };
}

describe('a training loop that forgets tidy()', () => {
  // Each step leaves 4 tensors (two activations, the logits and the loss) and about 68 KB on the wasm heap.
  const PER_STEP = 4;

  it('stays bounded when the garbage collector runs: its heap plateaus at a few MB', async () => {
    const r = await leakyLoop(1500, 'gc');
    expect(r.stderr).toBe('');
    // without the safety net: 6,000 tensors and about 100 MB by now
    expect(r.peakHeapBytes).toBeLessThan(r.baseline.heapBytes + 8 * 1048576);
    for (const s of r.samples) expect(s.tensors).toBe(r.baseline.tensors);
    expect(r.afterCollect).toMatchObject({ tensors: r.baseline.tensors, bytes: r.baseline.bytes });
  });

  it('stays well below what it leaks when V8 collects on its own schedule (a loop that awaits)', async () => {
    const steps = 2000;
    const r = await leakyLoop(steps, 'await');
    expect(r.stderr).toBe('');
    expect(Math.max(...r.samples.map((s) => s.tensors))).toBeLessThan((PER_STEP * steps) / 2);
    expect(r.afterCollect).toMatchObject({ tensors: r.baseline.tensors, bytes: r.baseline.bytes });
  });

  it('warns once when it never yields, and gives everything back when it returns', async () => {
    const steps = 2600;
    const r = await leakyLoop(steps, 'sync');
    expect(r.stderr.match(/wasmgrad: /g)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp("^wasmgrad: 10,000 tensors are alive \\(4,99\\d from 'linear', 2,49\\d from 'relu', " +
      "2,49\\d from 'crossEntropy' and \\d+ from \\d+ others\\)\\. Is a loop creating tensors without freeing them\\? " +
      'Wrap each step in tidy\\(\\(\\) => …\\), or dispose\\(\\) the tensors you no longer need\\. ' +
      '\\(Shown once; warnOnLeaks\\(false\\) turns it off\\.\\)\n$'));
    expect(r.end.tensors).toBe(r.baseline.tensors + PER_STEP * steps); // finalizers wait for the event loop
    expect(r.afterCollect).toMatchObject({ tensors: r.baseline.tensors, bytes: r.baseline.bytes });
  });
});

describe('the warning when tensors pile up', () => {
  afterAll(() => warnOnLeaks(true));

  /** Makes tensors until `count` are alive; returns them. */
  const upTo = (count: number): Tensor[] => Array.from({ length: count - memory().tensors }, () => keep(tensor([0])));

  it('fires once when 10,000 tensors are alive, naming where they came from', () => {
    warnOnLeaks(true);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expectNoLeaks(() => {
        upTo(12000).forEach((t) => t.dispose());
        upTo(12000).forEach((t) => t.dispose());
      });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/^wasmgrad: 10,000 tensors are alive \((9,9\d\d|10,000) from tensor\(\)[^)]*\)\. .* tidy\(/);
    } finally {
      warn.mockRestore();
    }
  });

  it('stays quiet below 10,000, for tidy() loops, and when turned off', () => {
    warnOnLeaks(true);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      for (let round = 0; round < 3; round++) upTo(9999).forEach((t) => t.dispose());
      for (let step = 0; step < 300; step++) stillUsable();
      warnOnLeaks(false);
      upTo(12000).forEach((t) => t.dispose());
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
