// The wasm backend: tensor storage in linear memory (heap.ts) and a binding per kernel export. Pointers handed to
// a kernel are computed right before the call, and typed-array views are created per read/write, so no view is
// ever used after memory.grow has detached it.
import type {
  AdagradParams, AdamParams, AttentionPlan, Backend, BatchNormPlan, DirectCalls, BinaryOp, BroadcastPlan, Buf, BuildName, ConvPlan,
  CopyPlan, DType, LayerNormPlan, MatmulPlan, MemoryStats, Pool2dPlan, PoolSizes, ReduceOp, RmspropParams, SgdParams,
  TypedArray, UnaryGradOp, UnaryOp, WherePlan,
} from '../types.js';
import { BYTES_PER_ELEMENT } from '../types.js';
import { any, checkOptions, integer, number, oneOf, type Check } from '../../options.js';
import { isNode, nodeModule } from '../../platform.js';
import { BINARY_CODES, REDUCE_CODES, UNARY_CODES } from './codes.js';
import type { ConvArgs, KernelExports } from './exports.js';
import { ALIGN, Heap } from './heap.js';
import {
  buildNote, chooseBuild, compileBuild, enableRelaxedSimd, isThreadsBuild, missingFeatures, supportedBuilds, type WasmSource,
} from './loader.js';
import { chunkScratch, Scheduler, type Cut } from './schedule.js';
import { MAX_THREADS, ThreadPool, threadsUnavailableReason, type Job, type ThreadKernel } from './threads.js';

export class WasmBuf implements Buf {
  live = true;
  constructor(
    readonly backend: WasmBackend,
    readonly dtype: DType,
    readonly size: number,
    readonly ptr: number,
  ) {}
}

/** Options of a wasm backend (init() and createWasmBackend()). */
export interface WasmOptions {
  /**
   * Which build to load; 'auto' (default) picks the best the engine validates: relaxed, simd, scalar, or with
   * threads > 1 relaxed-simd-threads, simd-threads.
   */
  build?: BuildName | 'auto';
  /** Upper bound on linear memory, in MB (default 4096, the wasm32 maximum). */
  maxMemoryMB?: number;
  /** The .wasm itself (bytes, URL, Response or compiled module) for hosts where the default location fails. */
  wasm?: WasmSource;
  /**
   * Threads that share large kernel calls (default 1): a number above 1 loads a threads build (shared memory;
   * in browsers only on cross-origin-isolated pages) and starts threads − 1 workers; 'auto' starts one thread
   * per core where memory can be shared (else runs one thread, and backendInfo().threadsNote says why) and
   * shares a kind of call only while sharing it pays. Results are bit-identical to one thread of the same build
   * without threads (relaxed-simd-threads: relaxed; simd-threads: simd).
   */
  threads?: number | 'auto';
}

const WASM32_MAX_MB = 4096;
/** Columns of a B micro-panel of the matmul kernel: column chunks of a product start at multiples of it. */
const TILE_COLUMNS = 8;
/** Convolutions whose product has this many rows or columns or fewer take matmul's skinny path, not shared. */
const SKINNY = 8;
/** Calls with fewer elements are never shared: no wake-up is that cheap. */
const SHARE_MIN_ELEMENTS = 1024;

const BINARY = new Map(BINARY_CODES.map((op, i) => [op, i]));
const UNARY = new Map(UNARY_CODES.map((op, i) => [op, i]));
const REDUCE = new Map(REDUCE_CODES.map((op, i) => [op, i]));

/** The threads a set of options asks for: `threads`, else 2 for a threads build and 1 for the others. */
export function requestedThreads(options: WasmOptions): number | 'auto' {
  return options.threads ?? (isThreadsBuild(options.build) ? 2 : 1);
}

/** The options of createWasmBackend (and of init, which adds `backend`), checked before anything loads. */
export const WASM_OPTIONS = {
  build: oneOf(...(['auto', 'relaxed', 'simd', 'scalar', 'simd-threads', 'relaxed-simd-threads', 'debug'] satisfies (BuildName | 'auto')[])),
  maxMemoryMB: number({ gt: 0, le: WASM32_MAX_MB }),
  wasm: any,
  threads: {
    what: `an integer from 1 to ${MAX_THREADS} or 'auto'`,
    ok: (v: unknown) => v === 'auto' || integer({ ge: 1, le: MAX_THREADS }).ok(v),
    names: ['auto'],
  } satisfies Check,
};

/**
 * Loads a wasm backend without making it current (init() loads one and makes it current). Rejects with an error
 * naming the build when it cannot be loaded or validated.
 */
export function createWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  return loadWasmBackend('createWasmBackend', options);
}

/** The cores this machine offers (Node: os.availableParallelism(); browsers: navigator.hardwareConcurrency). */
async function cores(): Promise<number> {
  if (isNode()) return (await nodeModule<typeof import('node:os')>('node:os')).availableParallelism();
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

let warnedCores = false;
/** Where the warning about more threads than cores goes instead of console.warn, while set (see withThreadsWarning). */
let threadsWarning: ((note: string) => void) | null = null;

/**
 * Runs `load` (an init or createWasmBackend) with the warning about more threads than cores handed to `warn`
 * instead of console.warn: the CLI prints it as a note among its others.
 */
export async function withThreadsWarning<T>(warn: (note: string) => void, load: () => Promise<T>): Promise<T> {
  threadsWarning = warn;
  try {
    return await load();
  } finally {
    threadsWarning = null;
  }
}

/**
 * How many threads to run and why: a number is taken as asked (more threads than cores are allowed, with a
 * one-time warning; threads where memory cannot be shared are an error); 'auto' runs one per core where memory
 * can be shared, else one, with a note saying why.
 */
async function threadCount(api: string, asked: number | 'auto', requested: BuildName | 'auto'):
  Promise<{ threads: number; note: string | undefined }> {
  const cannotShare = threadsUnavailableReason();
  if (asked === 'auto') {
    if (requested !== 'auto' && !isThreadsBuild(requested)) {
      return { threads: 1, note: `one thread: the '${requested}' build does not share memory between threads` };
    }
    if (cannotShare) return { threads: 1, note: `one thread: memory cannot be shared between threads here (${cannotShare})` };
    const n = await cores();
    if (n < 2) return { threads: 1, note: 'one thread: this machine has one core' };
    const threads = Math.min(n, MAX_THREADS);
    return { threads, note: `${threads} threads, one per core (of ${n}); a kind of kernel call runs on one thread ` +
      'while sharing it does not pay (a busy machine)' };
  }
  if (asked > 1 && requested !== 'auto' && !isThreadsBuild(requested)) {
    throw new Error(`${api}: threads need a threads build ('relaxed-simd-threads' or 'simd-threads'), not ` +
      `'${requested}' (leave build out, or pass one of those)`);
  }
  if (asked > 1 && cannotShare) {
    throw new Error(`${api}: threads: ${asked} needs memory shared between threads, and ${cannotShare}; ` +
      "ask for threads: 'auto' to run on one thread where it cannot be shared");
  }
  const n = asked > 1 ? await cores() : asked;
  if (asked > n) {
    const note = `threads: ${asked} is more than the ${n} cores here; the extra threads take turns on the cores ` +
      "(threads: 'auto' runs one per core)";
    if (threadsWarning) threadsWarning(note);
    else if (!warnedCores) console.warn(`wasmgrad: ${note}`);
    warnedCores ||= !threadsWarning;
    return { threads: asked, note };
  }
  return { threads: asked, note: undefined };
}

/** createWasmBackend, with errors that start with `api` (init passes its own name). */
export async function loadWasmBackend(api: string, options: WasmOptions): Promise<WasmBackend> {
  checkOptions(api, options, WASM_OPTIONS);
  const requested = options.build ?? 'auto';
  const asked = requestedThreads(options);
  const { threads, note } = await threadCount(api, asked, requested);
  await enableRelaxedSimd(requested);
  const build = chooseBuild(requested, threads);
  const missing = missingFeatures(build);
  if (missing.length) {
    throw new Error(`${api}: this engine cannot run the '${build}' build (it runs: ${supportedBuilds().join(', ')}); ` +
      `it needs ${missing.join(' and ')}`);
  }
  const maxMB = options.maxMemoryMB ?? WASM32_MAX_MB;
  const module = await compileBuild(build, options.wasm);
  const limitBytes = Math.floor(maxMB * 16) * 65536;
  const settings: BackendSettings = {
    build: requested, threads: asked, threadsNote: note, buildNote: buildNote(requested, build),
  };
  if (!isThreadsBuild(build)) {
    const instance = await WebAssembly.instantiate(module, {});
    checkLimit(api, build, maxMB, limitBytes, (instance.exports as unknown as KernelExports).memory);
    return new WasmBackend(instance.exports as unknown as KernelExports, build, limitBytes, null, settings);
  }
  // The shared memory is declared at its wasm32 maximum (it cannot be raised later); the heap enforces the limit.
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  checkLimit(api, build, maxMB, limitBytes, memory);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const pool = threads > 1 ? await ThreadPool.start(module, memory, exports, threads - 1) : null;
  return new WasmBackend(exports, build, limitBytes, pool, settings);
}

/**
 * The smallest limit a build runs under: the memory it starts with (its static data and stack, or the shared
 * memory of the threads build) and one 64 KB page for tensors. Below it, memory() would report a limit smaller
 * than the memory in use.
 */
function checkLimit(api: string, build: BuildName, maxMB: number, limitBytes: number, memory: WebAssembly.Memory): void {
  const own = memory.buffer.byteLength;
  const minMB = (own + 65536) / 1048576;
  if (limitBytes < own + 65536) {
    throw new Error(`${api}: maxMemoryMB must be at least ${minMB} for the '${build}' build (its own ${own / 1024} KB of ` +
      `memory and a 64 KB page for tensors), got ${maxMB}`);
  }
}

/** The offsets of a plan of ≤ 4 dims: none (forEach4's callbacks only read them). */
const NO_OFFSETS: readonly number[] = [0, 0, 0, 0];

/** xs with `value` in front, 4 entries in all (xs has at most 4). */
function padFront(xs: readonly number[], value: number): number[] {
  const out = [value, value, value, value];
  for (let i = 0, at = 4 - xs.length; i < xs.length; i++) out[at + i] = xs[i]!;
  return out;
}

/** Dim i of a plan's dims padded in front to 4 (i = index − (4 − length), so < 0 in the padding): 1 there. */
const size = (dims: readonly number[], i: number) => (i < 0 ? 1 : dims[i]!);
/** The same for strides: 0 in the padding. */
const stride = (strides: readonly number[], i: number) => (i < 0 ? 0 : strides[i]!);

/** Pads a plan to exactly 4 dims, or calls `fn` once per index of the leading dims when there are more. */
function forEach4(dims: number[], strides: number[][], fn: (offsets: readonly number[], d: number[], s: number[][]) => void): void {
  const extra = dims.length - 4;
  if (extra <= 0) {
    fn(NO_OFFSETS, padFront(dims, 1), strides.map((s) => padFront(s, 0)));
    return;
  }
  const inner = dims.slice(extra);
  const innerStrides = strides.map((s) => s.slice(extra));
  const idx = new Array<number>(extra).fill(0);
  const total = dims.slice(0, extra).reduce((a, b) => a * b, 1);
  for (let t = 0; t < total; t++) {
    fn(strides.map((s) => idx.reduce((acc, i, d) => acc + i * s[d]!, 0)), inner, innerStrides);
    for (let d = extra - 1; d >= 0 && ++idx[d]! === dims[d]; d--) idx[d] = 0;
  }
}

/**
 * What a backend was asked for (its build and threads options), what it has to say about its threads, and why
 * it runs its build.
 */
export interface BackendSettings {
  build: BuildName | 'auto';
  threads: number | 'auto';
  threadsNote: string | undefined;
  buildNote?: string;
}

export class WasmBackend implements Backend, DirectCalls {
  readonly name = 'wasm';
  readonly dtypes: readonly DType[] = ['float32', 'int32'];
  private readonly heap: Heap;
  private buffers = 0;
  private bytesInUse = 0;
  private peakBytes = 0;
  /**
   * Scratch space of the kernels that take it (matmul's packed panels, a convolution's im2col blocks), one per
   * thread, each sized to the most that a call it could share needs (see share) and kept for the next calls.
   */
  private workspaces: { ptr: number; bytes: number }[] = [];
  /**
   * The scratch each thread got reserved for calls of a shape (ScratchNeed.shape), so that a call whose space is
   * still there skips working it out again over every plan (a few µs per product call).
   */
  private readonly reserved = new Map<string, number>();
  /** When and how many chunks to share calls in (with a pool). */
  private readonly scheduler: Scheduler | null = null;
  /** Work one repacked float adds to a product, in floating-point operations (measured with the pool). */
  private packFlops = 0;
  /** Set when a kernel trapped: memory may hold half-written results; init() replaces a broken backend. */
  broken = false;

  constructor(
    readonly exports: KernelExports,
    readonly build: BuildName,
    limitBytes: number,
    private readonly pool: ThreadPool | null = null,
    /** The build and threads options it was made with, and the note about its threads, if any. */
    readonly settings: BackendSettings = { build, threads: 1, threadsNote: undefined },
  ) {
    const base = Math.ceil(exports.heap_base() / ALIGN) * ALIGN;
    // The debug build guards every block and checks the guards after every kernel (see heap.ts).
    this.heap = new Heap(exports.memory, base, limitBytes, build === 'debug');
    if (pool) {
      closeWhenCollected.register(this, pool);
      this.scheduler = new Scheduler(1 + pool.size, pool.wakeMs, pool.chunkMs, settings.threads === 'auto');
      this.measurePacking();
    }
  }

  /** Threads that share large kernel calls: 1 + running workers. */
  get threads(): number {
    return 1 + (this.pool?.size ?? 0);
  }

  /** Why this backend runs its build ('auto': what the engine validates; relaxed SIMD enabled by wasmgrad in Node). */
  get buildNote(): string | undefined {
    return this.settings.buildNote;
  }

  /** Why this backend runs the threads it runs, when there is something to say (threads: 'auto', too many). */
  get threadsNote(): string | undefined {
    return this.settings.threadsNote;
  }

  /** Stops the worker threads (if any); the backend and its tensors keep working on the calling thread. */
  close(): void {
    this.pool?.close();
  }

  /** Whether close() stopped worker threads it had. */
  get closed(): boolean {
    return this.pool !== null && this.pool.size === 0;
  }

  alloc(dtype: DType, size: number): WasmBuf {
    if (dtype === 'float64') {
      throw new Error("wasm backend: float64 is not supported (float32 and int32 are); use the 'ref' backend for float64");
    }
    if (!Number.isInteger(size) || size < 0) throw new Error(`wasm backend: invalid buffer size ${size}`);
    const bytes = size * BYTES_PER_ELEMENT[dtype];
    const ptr = this.heap.alloc(bytes);
    this.buffers++;
    this.bytesInUse += bytes;
    if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
    return new WasmBuf(this, dtype, size, ptr);
  }

  free(buf: Buf): void {
    const b = this.own(buf, 'free');
    b.live = false;
    const bytes = b.size * BYTES_PER_ELEMENT[b.dtype];
    this.heap.free(b.ptr, bytes);
    this.buffers--;
    this.bytesInUse -= bytes;
  }

  read(buf: Buf, offset = 0, length = buf.size - offset): TypedArray {
    const b = this.own(buf, 'read');
    checkRange('read', b, offset, length);
    return this.view(b, offset, length).slice();
  }

  write(buf: Buf, src: ArrayLike<number>, offset = 0): void {
    const b = this.own(buf, 'write');
    checkRange('write', b, offset, src.length);
    this.view(b, offset, src.length).set(src);
  }

  memory(): MemoryStats {
    return {
      buffers: this.buffers,
      bytesInUse: this.bytesInUse,
      peakBytes: this.peakBytes,
      heapBytes: this.heap.heapBytes,
      limitBytes: this.heap.limitBytes,
    };
  }

  resetPeak(): void {
    this.peakBytes = this.bytesInUse;
  }

  /**
   * compile()'s shortcut (see DirectCalls) for the kernels a training step replays most: the export called
   * straight from the recorded arguments. A replay checks its buffers once before its calls (arguments, parameters
   * and state alive; the rest are its own), so each call skips own() and the scheduler. Per call of a small model's
   * step that was about a tenth of the step's JavaScript. With workers, a shortcut takes only a call the method
   * would run alone without timing it (too few elements to cut; a product the scheduler finds far too short to
   * share) and hands any other to the method; the fused matmulSgd, which the method runs only without workers, has
   * no shortcut then.
   */
  direct(method: string, args: readonly unknown[]): (() => unknown) | undefined {
    if (this.build === 'debug') return undefined;
    const scheduler = (this.pool?.size ?? 0) > 0 ? this.scheduler : null;
    if (scheduler) {
      const shortcut = this.shortcut(method, args);
      if (!shortcut) return undefined;
      const a = args as unknown[];
      const full = (WasmBackend.prototype as unknown as Record<string, (...v: unknown[]) => unknown>)[method]!;
      const alone = method === 'matmul' ? () => scheduler.farTooShort('matmul', matmulFlops(a[3] as MatmulPlan))
        : () => unshareable(method, a);
      return () => (alone() ? shortcut() : full.apply(this, a));
    }
    return this.shortcut(method, args);
  }

  /** direct()'s call of the export for `method`, whole on this thread, or undefined where there is none. */
  private shortcut(method: string, args: readonly unknown[]): (() => unknown) | undefined {
    const ex = this.exports;
    const a = args as readonly WasmBuf[];
    const at = (i: number) => (args[i] as WasmBuf | null)?.ptr ?? 0;
    const kernel = (name: string, call: () => unknown) => () => {
      try {
        return call();
      } catch (e) {
        throw this.trapped(name, e);
      }
    };
    // A product's scratch bytes, worked out again only when a refresh hands it another plan.
    let plan: MatmulPlan | null = null, wsBytes = 0;
    const scratch = (p: MatmulPlan) => {
      if (p !== plan) {
        wsBytes = ex.matmul_ws_bytes(p.m, p.n, p.k, +p.transA, +p.transB);
        plan = p;
      }
      return this.ensureWorkspace(0, wsBytes);
    };
    switch (method) {
      case 'matmul':
        return kernel('matmul', () => {
          const p = args[3] as MatmulPlan;
          ex.matmul_f32(a[0]!.ptr, a[1]!.ptr, a[2]!.ptr, p.bias ? (p.bias as WasmBuf).ptr : 0, p.m, p.n, p.k, +p.transA,
            +p.transB, p.batch, p.strideA, p.strideB, scratch(p));
        });
      case 'matmulSgd':
        if ((this.pool?.size ?? 0) > 0) return undefined;
        return kernel('matmul', () => {
          const p = args[3] as MatmulPlan, n = args[6] as number, h = args[7] as SgdParams;
          if (!fusesSgd(p, args[5] as Buf | null, n, h)) {
            return WasmBackend.prototype.matmulSgd.apply(this, args as Parameters<WasmBackend['matmulSgd']>);
          }
          const fused = ex.matmul_sgd_f32(a[0]!.ptr, a[1]!.ptr, a[2]!.ptr, p.bias ? (p.bias as WasmBuf).ptr : 0, p.m, p.n,
            p.k, +p.transA, +p.transB, p.batch, p.strideA, p.strideB, scratch(p), a[4]!.ptr, h.lr);
          // Not fused (not the blocked path in one depth block): the update, as sgd() runs it without momentum.
          if (fused !== 1) ex.sgd_f32(a[4]!.ptr, a[2]!.ptr, 0, n, h.lr, 0, h.dampening, 0, +h.nesterov, +h.firstStep);
        });
      case 'sgd':
        return kernel('sgd', () => {
          const h = args[4] as SgdParams;
          ex.sgd_f32(a[0]!.ptr, a[1]!.ptr, at(2), args[3] as number, h.lr, h.momentum, h.dampening, h.weightDecay,
            +h.nesterov, +h.firstStep);
        });
      case 'unary':
        return kernel(args[0] as string, () =>
          ex.unary_f32(UNARY.get(args[0] as UnaryOp)!, a[1]!.ptr, a[2]!.ptr, args[3] as number, args[4] as number));
      case 'unaryGrad':
        return kernel(`${args[0] as string}Grad`, () => ex.unary_grad_f32(UNARY.get(args[0] as UnaryOp)!, a[1]!.ptr,
          a[2]!.ptr, a[3]!.ptr, args[4] as number, args[5] as number));
      case 'reduce':
        if (a[1]!.dtype !== 'float32') return undefined;
        return kernel(args[0] as string, () => {
          const inner = args[5] as number;
          ex.reduce_f32(REDUCE.get(args[0] as ReduceOp)!, a[1]!.ptr, a[2]!.ptr, args[3] as number, args[4] as number,
            inner, at(6), 0, inner);
        });
      case 'scale':
        return kernel('scale', () => ex.scale_f32(a[0]!.ptr, a[1]!.ptr, args[2] as number, args[3] as number));
      case 'crossEntropy':
        return kernel('crossEntropy', () => ex.cross_entropy_f32(a[0]!.ptr, a[1]!.ptr, a[2]!.ptr, a[3]!.ptr,
          args[4] as number, args[5] as number, args[6] as number, args[7] as number));
      case 'crossEntropyGrad':
        return kernel('crossEntropyGrad', () => ex.cross_entropy_grad_f32(a[0]!.ptr, a[1]!.ptr, a[2]!.ptr,
          args[3] as number, args[4] as number, a[5]!.ptr, args[6] as number, args[7] as number, args[8] as number,
          args[9] as number));
      default:
        return undefined;
    }
  }

  matmul(a: Buf, b: Buf, c: Buf, p: MatmulPlan): void {
    const pa = this.ptr(a, 'matmul'), pb = this.ptr(b, 'matmul'), pc = this.ptr(c, 'matmul');
    const bias = p.bias ? this.ptr(p.bias, 'matmul') : 0;
    const { m, n, k, batch, strideA, strideB } = p;
    const ta = +p.transA, tb = +p.transB;
    const whole = (ws: number) => this.exports.matmul_f32(pa, pb, pc, bias, m, n, k, ta, tb, batch, strideA, strideB, ws);
    // Shared products take the blocked path in every chunk, so only products the whole call runs by it are shared.
    const shareable = k > 0 && batch > 0 && this.exports.matmul_is_blocked(m, n, k, ta, tb) === 1;
    this.share('matmul', 'matmul_f32_block', matmulFlops(p), () => (shareable ? this.matmulCuts(pa, pb, pc, bias, p) : []),
      whole, { arg: 12, whole: this.exports.matmul_ws_bytes(m, n, k, ta, tb), shape: `matmul ${m} ${n} ${k} ${ta}${tb} ${batch}` });
  }

  matmulSgd(a: Buf, b: Buf, c: Buf, p: MatmulPlan, w: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void {
    const { m, k, batch, strideA, strideB } = p;
    // Fused on one thread, for plain SGD (the kernel's epilogue has no momentum or weight decay); otherwise, or
    // when the product does not take the blocked path in one depth block (the kernel says), the two calls.
    if (fusesSgd(p, momentumBuf, n, h) && (this.pool?.size ?? 0) === 0) {
      const pa = this.ptr(a, 'matmul'), pb = this.ptr(b, 'matmul'), pc = this.ptr(c, 'matmul'), pw = this.ptr(w, 'sgd');
      const bias = p.bias ? this.ptr(p.bias, 'matmul') : 0;
      const ta = +p.transA, tb = +p.transB;
      const ws = this.ensureWorkspace(0, this.exports.matmul_ws_bytes(m, p.n, k, ta, tb));
      const fused = this.run('matmul', () => this.exports.matmul_sgd_f32(pa, pb, pc, bias, m, p.n, k, ta, tb, batch,
        strideA, strideB, ws, pw, h.lr));
      if (fused !== 1) WasmBackend.prototype.sgd.call(this, w, c, momentumBuf, n, h);
      return;
    }
    // Through the prototype: an observer (the profiler) sees this one call, as it sees every other.
    WasmBackend.prototype.matmul.call(this, a, b, c, p);
    WasmBackend.prototype.sgd.call(this, w, c, momentumBuf, n, h);
  }

  /** How a product can be shared: by columns, rows or batch items, with what each chunk adds to the work. */
  private matmulCuts(pa: number, pb: number, pc: number, bias: number, p: MatmulPlan): Cut[] {
    const { m, n, k, batch, strideA, strideB } = p;
    const ta = +p.transA, tb = +p.transB;
    // matmul_f32_block(a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, ws, i0, i1, j0, j1)
    const base = [pa, pb, pc, bias, m, n, k, ta, tb, batch, strideA, strideB, 0, 0, m, 0, n];
    const none = base.map(() => 0);
    const repack = (floats: number) => this.packFlops * floats;
    const ws = (rows: number, cols: number) => this.exports.matmul_block_ws_bytes(rows, cols, k);
    // By columns, each chunk packs all of op(A) again; by rows, all of op(B); by batch items, nothing more
    // (but an operand broadcast over the batch, packed once for the whole product).
    const cuts: Cut[] = [
      { units: n, align: TILE_COLUMNS, overhead: repack(k * m * (strideA ? batch : 1)), scratch: (w) => ws(m, w),
        base: put(base, [15, 0], [16, 0]), perStart: put(none, [15, 1], [16, 1]), perCount: put(none, [16, 1]) },
      { units: m, align: this.exports.matmul_tile_rows(), overhead: repack(k * n * (strideB ? batch : 1)),
        scratch: (h) => ws(h, n),
        base: put(base, [13, 0], [14, 0]), perStart: put(none, [13, 1], [14, 1]), perCount: put(none, [14, 1]) },
    ];
    if (batch > 1) {
      cuts.push({ units: batch, align: 1, overhead: repack(k * ((strideA ? 0 : m) + (strideB ? 0 : n))),
        scratch: () => ws(m, n), base: put(base, [9, 0]),
        perStart: put(none, [0, 4 * strideA], [1, 4 * strideB], [2, 4 * m * n]), perCount: put(none, [9, 1]) });
    }
    return cuts;
  }

  /**
   * Runs a kernel call on this thread (`whole`, given its scratch space when it takes some) or shared between
   * the threads in chunks along one of the cuts `cutsOf` makes (asked for only with workers; see schedule.ts for
   * when and in how many chunks). `cost`: FLOPs for products, bytes read and written for the rest; `scratch`: for
   * a kernel that takes scratch space, the argument that gets each thread's own (sized by the cut's `scratch`)
   * and the bytes the whole call needs; `found`: for a kernel that returns the first position where it found
   * something (see Job.found), how far positions move per unit of the cut. Returns what the kernel returns
   * (shared: the least position found), or −1 for a kernel that returns nothing.
   */
  private share(name: string, kernel: ThreadKernel, cost: number, cutsOf: () => Cut[],
    whole: (ws: number) => number | void, scratch?: ScratchNeed, found?: number): number {
    const scheduler = this.scheduler;
    const alone = () => whole(scratch ? this.ensureWorkspace(0, scratch.whole) : 0);
    if (!scheduler || this.pool!.size === 0) return this.run(name, alone) ?? -1;
    const { plan, timed } = scheduler.decide(name, cost, () => {
      const cuts = cutsOf().filter((c) => c.units >= 2 * c.align);
      // Every thread's scratch is reserved the first time a call could be shared, not when it first is, which
      // may be hundreds of steps later: the heap's top then stays where the first training step left it.
      if (scratch && cuts.length > 0) this.reserveScratch(scratch, () => scheduler.scratchBytes(cuts));
      return cuts;
    });
    const t0 = timed ? performance.now() : 0;
    let result: number | void;
    if (plan) {
      const { cut, chunk } = plan;
      const job: Job = { kernel, base: cut.base, perStart: cut.perStart, perCount: cut.perCount, units: cut.units, chunk,
        align: cut.align, found };
      if (scratch) {
        const bytes = chunkScratch(cut, chunk, this.threads); // within the reservation for the plans the scheduler makes
        job.scratch = { arg: scratch.arg, ptrs: Array.from({ length: this.threads }, (_, i) => this.ensureWorkspace(i, bytes)) };
      }
      result = this.run(name, () => this.pool!.run(job));
    } else {
      result = this.run(name, alone);
    }
    if (timed) {
      scheduler.record(name, cost, performance.now() - t0, plan !== null);
      this.pool!.prewake = scheduler.paysWell;
    }
    return result ?? -1;
  }

  /**
   * Grows the calling thread's scratch to the call's `whole` and to `each()` bytes, the workers' to `each()` (see
   * share); `each()` is worked out once per shape while the spaces it reserved are still there.
   */
  private reserveScratch(need: ScratchNeed, each: () => number): void {
    const known = need.shape === undefined ? undefined : this.reserved.get(need.shape);
    const spaces = this.workspaces;
    if (known !== undefined && spaces.length === this.threads && spaces[0]!.bytes >= Math.max(need.whole, known) &&
      spaces.every((w) => w.bytes >= known)) return;
    const bytes = each();
    if (need.shape !== undefined) {
      if (this.reserved.size >= MAX_SHAPES) this.reserved.clear(); // many shapes (lengths that vary): start again
      this.reserved.set(need.shape, bytes);
    }
    this.ensureWorkspace(0, Math.max(need.whole, bytes));
    for (let i = 1; i < this.threads; i++) this.ensureWorkspace(i, bytes);
  }

  /**
   * The packing rate of the matmul kernel against its arithmetic, measured once on this thread: a product, and
   * the same product in column chunks that each pack op(A) again, alternately and until the engine's optimised
   * code runs (the best time stops improving), the best of each. The product's rate seeds that of products.
   */
  private measurePacking(): void {
    // Operands of 192 KB (like a batch of 64 digits), a product of ~10 MFLOP; 650 KB in all, which fits the least
    // memory a threads build runs in.
    const [m, n, k, cols] = [96, 96, 512, 16];
    const ex = this.exports;
    const bytes = [4 * m * k, 4 * k * n, 4 * m * n, ex.matmul_block_ws_bytes(m, n, k)];
    const ptrs = bytes.map((b) => this.heap.alloc(b));
    try {
      const [a, b, c, ws] = ptrs as [number, number, number, number];
      ex.fill_f32(a, m * k, 0.5);
      ex.fill_f32(b, k * n, 0.25);
      const time = (fn: () => void) => {
        const t0 = performance.now();
        fn();
        return performance.now() - t0;
      };
      const whole = () => ex.matmul_f32_block(a, b, c, 0, m, n, k, 0, 0, 1, 0, 0, ws, 0, m, 0, n);
      const chunked = () => {
        for (let j = 0; j < n; j += cols) ex.matmul_f32_block(a, b, c, 0, m, n, k, 0, 0, 1, 0, 0, ws, 0, m, j, j + cols);
      };
      let [wholeMs, chunkedMs] = [Infinity, Infinity];
      for (let run = 0, sinceBest = 0; run < 50 && sinceBest < 8; run++, sinceBest++) {
        const w = time(whole), ch = time(chunked);
        if (w < wholeMs * 0.97 || ch < chunkedMs * 0.97) sinceBest = 0;
        [wholeMs, chunkedMs] = [Math.min(wholeMs, w), Math.min(chunkedMs, ch)];
      }
      const flops = 2 * m * n * k;
      const repacked = (n / cols - 1) * m * k;
      this.packFlops = Math.min(64, Math.max(1, ((chunkedMs - wholeMs) / wholeMs) * flops / repacked));
      this.scheduler!.seed('matmul', wholeMs / flops);
    } finally {
      ptrs.forEach((ptr, i) => this.heap.free(ptr, bytes[i]!));
    }
  }

  conv2d(x: Buf, weight: Buf, bias: Buf | null, out: Buf, p: ConvPlan): void {
    const px = this.ptr(x, 'conv2d'), pw = this.ptr(weight, 'conv2d'), po = this.ptr(out, 'conv2d');
    const pb = bias ? this.ptr(bias, 'conv2d') : 0;
    this.convolve('conv2d', 'conv2d_f32', [px, pw, pb, po], p);
  }

  conv2dInputGrad(dy: Buf, weight: Buf, dx: Buf, p: ConvPlan): void {
    const name = 'conv2dInputGrad';
    this.convolve(name, 'conv2d_input_grad_f32', [this.ptr(dy, name), this.ptr(weight, name), this.ptr(dx, name)], p);
  }

  conv2dWeightGrad(x: Buf, dy: Buf, dw: Buf, p: ConvPlan): void {
    const name = 'conv2dWeightGrad';
    this.convolve(name, 'conv2d_weight_grad_f32', [this.ptr(x, name), this.ptr(dy, name), this.ptr(dw, name)], p);
  }

  /**
   * A convolution kernel(...pointers, ...geometry, ws, r0, r1) on the range [r0, r1) of its units: batch items
   * for the forward and the input gradient, columns of dw viewed as [o, c/groups·kh·kw] for the weight gradient
   * (its sum over the batch keeps its order that way). Shared in ranges, each thread with scratch for its range;
   * each output element is computed by one thread as the whole call computes it (see assembly/kernels/conv.ts).
   * Cost: the FLOPs of its products.
   */
  private convolve(name: string, kernel: 'conv2d_f32' | 'conv2d_input_grad_f32' | 'conv2d_weight_grad_f32',
    pointers: number[], p: ConvPlan): void {
    const weightGrad = kernel === 'conv2d_weight_grad_f32';
    const kind = kernel === 'conv2d_f32' ? 0 : weightGrad ? 2 : 1;
    const geometry = convArgs(p);
    const depth = p.c / p.groups * p.kh * p.kw;
    const units = weightGrad ? depth : p.n;
    const args = [...pointers, ...geometry, 0, 0, units];
    const wsAt = pointers.length + geometry.length;
    const scratch = (count: number) => this.exports.conv2d_ws_bytes(kind, ...geometry, 0, count);
    const cuts = (): Cut[] => {
      if (!weightGrad) return [rangeCut(args, units, wsAt + 1, 1, 0, () => scratch(1))];
      // Columns of dw, when the product per item takes matmul's blocked path (the kernel's rule); each share
      // packs dy again.
      if (p.o / p.groups <= SKINNY || depth <= SKINNY) return [];
      return [rangeCut(args, units, wsAt + 1, TILE_COLUMNS, this.packFlops * p.n * p.o * p.oh * p.ow, scratch)];
    };
    this.share(name, kernel, 2 * p.n * p.o * p.oh * p.ow * depth, cuts,
      (ws) => (this.exports[kernel] as (...a: number[]) => void)(...put(args, [wsAt, ws])), { arg: wsAt, whole: scratch(units) });
  }

  attention(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, p: AttentionPlan): void {
    const pq = this.ptr(q, 'attention'), pk = this.ptr(k, 'attention'), pv = this.ptr(v, 'attention'),
      po = this.ptr(out, 'attention'), pl = this.ptr(lse, 'attention');
    const { heads, L, S, E, Ev } = p;
    const wsBytes = this.exports.attention_ws_bytes(L, S, E, Ev, +p.causal, 0);
    // attention_f32(q, k, v, out, lse, mask, offsets, kind, rowStride, colStride, heads, L, S, E, Ev, scale, causal, ws)
    const args = [pq, pk, pv, po, pl, ...this.maskArgs('attention', p), heads, L, S, E, Ev, p.scale, +p.causal, 0];
    const perItem: [number, number][] = [[0, L * E], [1, S * E], [2, S * Ev], [3, L * Ev], [4, L], [6, p.mask ? 1 : 0]];
    this.share('attention', 'attention_f32', 2 * heads * L * S * (E + Ev), () => itemCuts(args, heads, perItem, 10, wsBytes),
      (ws) => (this.exports.attention_f32 as (...a: number[]) => void)(...put(args, [17, ws])), { arg: 17, whole: wsBytes });
  }

  attentionGrad(q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, dout: Buf, dq: Buf | null, dk: Buf | null, dv: Buf | null,
    p: AttentionPlan): void {
    const pq = this.ptr(q, 'attentionGrad'), pk = this.ptr(k, 'attentionGrad'), pv = this.ptr(v, 'attentionGrad'),
      po = this.ptr(out, 'attentionGrad'), pl = this.ptr(lse, 'attentionGrad'), pdo = this.ptr(dout, 'attentionGrad');
    const pdq = this.ptrOrZero(dq, 'attentionGrad'), pdk = this.ptrOrZero(dk, 'attentionGrad'),
      pdv = this.ptrOrZero(dv, 'attentionGrad');
    const { heads, L, S, E, Ev } = p;
    const wsBytes = this.exports.attention_ws_bytes(L, S, E, Ev, +p.causal, 1);
    // attention_grad_f32(q, k, v, out, lse, dout, dq, dk, dv, mask, offsets, kind, rowStride, colStride, heads, L, S,
    //   E, Ev, scale, causal, ws)
    const args = [pq, pk, pv, po, pl, pdo, pdq, pdk, pdv, ...this.maskArgs('attentionGrad', p), heads, L, S, E, Ev,
      p.scale, +p.causal, 0];
    const perItem: [number, number][] = [[0, L * E], [1, S * E], [2, S * Ev], [3, L * Ev], [4, L], [5, L * Ev],
      [6, pdq ? L * E : 0], [7, pdk ? S * E : 0], [8, pdv ? S * Ev : 0], [10, p.mask ? 1 : 0]];
    this.share('attentionGrad', 'attention_grad_f32', 2 * heads * L * S * (3 * E + 2 * Ev),
      () => itemCuts(args, heads, perItem, 14, wsBytes),
      (ws) => (this.exports.attention_grad_f32 as (...a: number[]) => void)(...put(args, [21, ws])), { arg: 21, whole: wsBytes });
  }

  /** An attention plan's mask as the kernels' arguments: mask, offsets, kind (0 none, 1 add, 2 keep), rowStride, colStride. */
  private maskArgs(kernel: string, p: AttentionPlan): number[] {
    const m = p.mask;
    if (!m) return [0, 0, 0, 0, 0];
    const pm = this.ptr(m.buf, kernel), po = this.ptr(m.offsets, kernel);
    return [pm, po, m.kind === 'add' ? 1 : 2, m.rowStride, m.colStride];
  }

  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastPlan): void {
    const pa = this.ptr(a, op), pb = this.ptr(b, op), po = this.ptr(out, op);
    const code = BINARY.get(op)!;
    // int32 operands (comparisons only): compare_i32, same arguments, on this thread (accuracy counts are small)
    const int = a.dtype === 'int32';
    const { dims: d, aStrides: sa, bStrides: sb } = p;
    // Up to 4 dims on this thread: the kernel straight from the plan, with no arrays or closures (a tiny model's
    // step is mostly such calls). More dims, or a call the workers may share: forEach4 and share().
    if (int ? d.length <= 4 : this.alone(d)) {
      const k = d.length - 4;
      try {
        (int ? this.exports.compare_i32 : this.exports.binary_f32)(code, pa, pb, po,
          size(d, k), size(d, k + 1), size(d, k + 2), size(d, k + 3),
          stride(sa, k), stride(sa, k + 1), stride(sa, k + 2), stride(sa, k + 3),
          stride(sb, k), stride(sb, k + 1), stride(sb, k + 2), stride(sb, k + 3));
      } catch (e) {
        throw this.trapped(op, e);
      }
      return this.checkGuards(op);
    }
    forEach4(d, [sa, sb, denseStrides(d)], ([oa, ob, oo], d4, [sa4, sb4, so4]) => {
      const args = [code, pa + 4 * oa!, pb + 4 * ob!, po + 4 * oo!, ...d4, ...sa4!, ...sb4!] as Parameters<KernelExports['binary_f32']>;
      if (int) return this.run(op, () => this.exports.compare_i32(...args));
      this.share(op, 'binary_f32', 12 * product(d4), () => stridedCuts(args, 4, d4, [[1, sa4!], [2, sb4!], [3, so4!]], true),
        () => this.exports.binary_f32(...args));
    });
  }

  where(cond: Buf, a: Buf, b: Buf, out: Buf, p: WherePlan): void {
    const pc = this.ptr(cond, 'where'), pa = this.ptr(a, 'where'), pb = this.ptr(b, 'where'), po = this.ptr(out, 'where');
    const { dims: d, condStrides: sc, aStrides: sa, bStrides: sb } = p;
    if (this.alone(d)) { // as in binary()
      const k = d.length - 4;
      try {
        this.exports.where_f32(pc, pa, pb, po, size(d, k), size(d, k + 1), size(d, k + 2), size(d, k + 3),
          stride(sc, k), stride(sc, k + 1), stride(sc, k + 2), stride(sc, k + 3),
          stride(sa, k), stride(sa, k + 1), stride(sa, k + 2), stride(sa, k + 3),
          stride(sb, k), stride(sb, k + 1), stride(sb, k + 2), stride(sb, k + 3));
      } catch (e) {
        throw this.trapped('where', e);
      }
      return this.checkGuards('where');
    }
    forEach4(d, [sc, sa, sb, denseStrides(d)], ([oc, oa, ob, oo], d4, [sc4, sa4, sb4, so4]) => {
      const args = [pc + 4 * oc!, pa + 4 * oa!, pb + 4 * ob!, po + 4 * oo!, ...d4, ...sc4!, ...sa4!, ...sb4!] as
        Parameters<KernelExports['where_f32']>;
      this.share('where', 'where_f32', 16 * product(d4),
        () => stridedCuts(args, 4, d4, [[0, sc4!], [1, sa4!], [2, sb4!], [3, so4!]], true),
        () => this.exports.where_f32(...args));
    });
  }

  unary(op: UnaryOp, x: Buf, out: Buf, n: number, alpha: number): void {
    const px = this.ptr(x, op), po = this.ptr(out, op);
    const code = UNARY.get(op)!;
    this.share(op, 'unary_f32', 8 * n, () => elementCuts([code, px, po, n, alpha], n, [1, 2], 3),
      () => this.exports.unary_f32(code, px, po, n, alpha));
  }

  unaryGrad(op: UnaryGradOp, saved: Buf, dy: Buf, dx: Buf, n: number, alpha: number): void {
    const name = `${op}Grad`;
    const ps = this.ptr(saved, name), pdy = this.ptr(dy, name), pdx = this.ptr(dx, name);
    const code = UNARY.get(op)!;
    this.share(name, 'unary_grad_f32', 12 * n, () => elementCuts([code, ps, pdy, pdx, n, alpha], n, [1, 2, 3], 4),
      () => this.exports.unary_grad_f32(code, ps, pdy, pdx, n, alpha));
  }

  reduce(op: ReduceOp, x: Buf, out: Buf, outer: number, r: number, inner: number, argmax: Buf | null): void {
    const px = this.ptr(x, op), po = this.ptr(out, op);
    const pi = argmax ? this.ptr(argmax, op) : 0;
    // int32 data (max only): reduce_max_i32, on this thread
    if (x.dtype === 'int32') return this.run(op, () => this.exports.reduce_max_i32(px, po, outer, r, inner, pi));
    const code = REDUCE.get(op)!;
    // reduce_f32(op, x, out, outer, r, inner, argmax, i0, i1)
    this.share(op, 'reduce_f32', 4 * outer * (r + 1) * inner,
      () => slabCuts([code, px, po, outer, r, inner, pi, 0, inner], outer, r, inner,
        [[1, r * inner], [2, inner], [6, pi ? inner : 0]], 3, 7),
      () => this.exports.reduce_f32(code, px, po, outer, r, inner, pi, 0, inner));
  }

  softmax(x: Buf, out: Buf, outer: number, r: number, inner: number, log: boolean): void {
    const name = log ? 'logSoftmax' : 'softmax';
    const px = this.ptr(x, name), po = this.ptr(out, name);
    const slab = r * inner;
    // softmax_f32(x, out, outer, r, inner, log, i0, i1)
    this.share(name, 'softmax_f32', 8 * outer * slab,
      () => slabCuts([px, po, outer, r, inner, +log, 0, inner], outer, r, inner, [[0, slab], [1, slab]], 2, 6),
      () => this.exports.softmax_f32(px, po, outer, r, inner, +log, 0, inner));
  }

  softmaxGrad(y: Buf, dy: Buf, dx: Buf, outer: number, r: number, inner: number, log: boolean): void {
    const name = log ? 'logSoftmaxGrad' : 'softmaxGrad';
    const py = this.ptr(y, name), pdy = this.ptr(dy, name), pdx = this.ptr(dx, name);
    const slab = r * inner;
    // softmax_grad_f32(y, dy, dx, outer, r, inner, log, i0, i1)
    this.share(name, 'softmax_grad_f32', 12 * outer * slab,
      () => slabCuts([py, pdy, pdx, outer, r, inner, +log, 0, inner], outer, r, inner, [[0, slab], [1, slab], [2, slab]], 3, 7),
      () => this.exports.softmax_grad_f32(py, pdy, pdx, outer, r, inner, +log, 0, inner));
  }

  crossEntropy(logits: Buf, labels: Buf, losses: Buf, probs: Buf, n: number, c: number, smoothing: number,
    ignoreIndex: number): void {
    const pl = this.ptr(logits, 'crossEntropy'), py = this.ptr(labels, 'crossEntropy'),
      ploss = this.ptr(losses, 'crossEntropy'), pp = this.ptr(probs, 'crossEntropy');
    // cross_entropy_f32(logits, labels, losses, probs, n, c, smoothing, ignoreIndex), by rows
    this.share('crossEntropy', 'cross_entropy_f32', 8 * n * (c + 1),
      () => rowCuts([pl, py, ploss, pp, n, c, smoothing, ignoreIndex], n, c, [[0, c], [1, 1], [2, 1], [3, c]], 4),
      () => this.exports.cross_entropy_f32(pl, py, ploss, pp, n, c, smoothing, ignoreIndex));
  }

  crossEntropyGrad(probs: Buf, labels: Buf, dloss: Buf, dlossStride: number, scale: number, dx: Buf,
    n: number, c: number, smoothing: number, ignoreIndex: number): void {
    const pp = this.ptr(probs, 'crossEntropyGrad'), py = this.ptr(labels, 'crossEntropyGrad'),
      pd = this.ptr(dloss, 'crossEntropyGrad'), pdx = this.ptr(dx, 'crossEntropyGrad');
    // cross_entropy_grad_f32(probs, labels, dloss, dlossStride, scale, dx, n, c, smoothing, ignoreIndex), by rows
    this.share('crossEntropyGrad', 'cross_entropy_grad_f32', 8 * n * (c + 1),
      () => rowCuts([pp, py, pd, dlossStride, scale, pdx, n, c, smoothing, ignoreIndex], n, c,
        [[0, c], [1, 1], [2, dlossStride], [5, c]], 6),
      () => this.exports.cross_entropy_grad_f32(pp, py, pd, dlossStride, scale, pdx, n, c, smoothing, ignoreIndex));
  }

  cast(x: Buf, out: Buf, n: number): void {
    const px = this.ptr(x, 'cast'), po = this.ptr(out, 'cast');
    if (x.dtype === out.dtype) {
      return this.copy(x, out, { dims: [n], xStrides: [1], xOffset: 0, outStrides: [1], outOffset: 0 });
    }
    const kernel = x.dtype === 'int32' ? 'cast_i32_f32' : 'cast_f32_i32';
    this.run('cast', () => this.exports[kernel](px, po, n));
  }

  triangle(x: Buf, out: Buf, batch: number, rows: number, cols: number, diagonal: number, upper: boolean): void {
    const px = this.ptr(x, upper ? 'triu' : 'tril'), po = this.ptr(out, upper ? 'triu' : 'tril');
    this.run(upper ? 'triu' : 'tril', () => this.exports.triangle_32(px, po, batch, rows, cols, diagonal, +upper));
  }

  cumsum(x: Buf, out: Buf, outer: number, r: number, inner: number, reverse: boolean): void {
    const px = this.ptr(x, 'cumsum'), po = this.ptr(out, 'cumsum');
    this.run('cumsum', () => this.exports.cumsum_f32(px, po, outer, r, inner, +reverse));
  }

  copy(x: Buf, out: Buf, p: CopyPlan): void {
    const px = this.ptr(x, 'copy'), po = this.ptr(out, 'copy');
    const bx = px + 4 * p.xOffset, bo = po + 4 * p.outOffset;
    const { dims: d, xStrides: sx, outStrides: so } = p;
    if (this.alone(d)) { // as in binary()
      const k = d.length - 4;
      try {
        this.exports.copy_strided_32(bx, bo, size(d, k), size(d, k + 1), size(d, k + 2), size(d, k + 3),
          stride(sx, k), stride(sx, k + 1), stride(sx, k + 2), stride(sx, k + 3),
          stride(so, k), stride(so, k + 1), stride(so, k + 2), stride(so, k + 3));
      } catch (e) {
        throw this.trapped('copy', e);
      }
      return this.checkGuards('copy');
    }
    forEach4(d, [sx, so], ([ox, oo], d4, [sx4, so4]) => {
      const args = [bx + 4 * ox!, bo + 4 * oo!, ...d4, ...sx4!, ...so4!] as Parameters<KernelExports['copy_strided_32']>;
      this.share('copy', 'copy_strided_32', 8 * product(d4), () => stridedCuts(args, 2, d4, [[0, sx4!], [1, so4!]], false),
        () => this.exports.copy_strided_32(...args));
    });
  }

  fill(out: Buf, value: number, offset: number, n: number): void {
    const po = this.ptr(out, 'fill');
    const at = po + 4 * offset;
    const kernel = out.dtype === 'int32' ? 'fill_i32' : 'fill_f32';
    this.share('fill', kernel, 4 * n, () => elementCuts([at, n, value], n, [0], 1), () => this.exports[kernel](at, n, value));
  }

  scale(x: Buf, out: Buf, n: number, alpha: number): void {
    const px = this.ptr(x, 'scale'), po = this.ptr(out, 'scale');
    this.share('scale', 'scale_f32', 8 * n, () => elementCuts([px, po, n, alpha], n, [0, 1], 2),
      () => this.exports.scale_f32(px, po, n, alpha));
  }

  axpy(alpha: number, x: Buf, y: Buf, n: number): void {
    const px = this.ptr(x, 'axpy'), py = this.ptr(y, 'axpy');
    this.share('axpy', 'axpy_f32', 12 * n, () => elementCuts([alpha, px, py, n], n, [1, 2], 3),
      () => this.exports.axpy_f32(alpha, px, py, n));
  }

  gather(x: Buf, idx: Buf, out: Buf, outer: number, r: number, inner: number, nIdx: number): void {
    const px = this.ptr(x, 'gather'), pi = this.ptr(idx, 'gather'), po = this.ptr(out, 'gather');
    // gather_32(x, idx, out, outer, r, inner, nIdx): by outer slabs, or (one slab) by indices
    const cuts = () => {
      const args = [px, pi, po, outer, r, inner, nIdx];
      const elements = outer * nIdx * inner;
      return outer > 1 ? rowCuts(args, outer, elements / outer, [[0, r * inner], [2, nIdx * inner]], 3)
        : rowCuts(put(args, [3, 1]), nIdx, inner, [[1, 1], [2, inner]], 6);
    };
    this.share('gather', 'gather_32', 8 * outer * nIdx * inner, cuts,
      () => this.exports.gather_32(px, pi, po, outer, r, inner, nIdx));
  }

  scatterAdd(dy: Buf, idx: Buf, dx: Buf, outer: number, r: number, inner: number, nIdx: number): void {
    const pdy = this.ptr(dy, 'scatterAdd'), pi = this.ptr(idx, 'scatterAdd'), pdx = this.ptr(dx, 'scatterAdd');
    // scatter_add_f32(dy, idx, dx, outer, r, inner, nIdx): by outer slabs (indices may repeat within one)
    this.share('scatterAdd', 'scatter_add_f32', 12 * outer * nIdx * inner,
      () => rowCuts([pdy, pi, pdx, outer, r, inner, nIdx], outer, nIdx * inner, [[0, nIdx * inner], [2, r * inner]], 3),
      () => this.exports.scatter_add_f32(pdy, pi, pdx, outer, r, inner, nIdx));
  }

  // Pooling kernels work plane by plane (N·C planes): shared in ranges of whole planes. Batch norm kernels work
  // channel by channel: shared in ranges of channels. Either way each output is computed by one thread as the
  // whole call computes it.

  maxPool2d(x: Buf, out: Buf, indices: Buf, p: Pool2dPlan): void {
    const px = this.ptr(x, 'maxPool2d'), po = this.ptr(out, 'maxPool2d'), pi = this.ptr(indices, 'maxPool2d');
    const [inSize, outSize] = [p.h * p.w, p.oh * p.ow];
    const args = [px, po, pi, p.planes, p.h, p.w, p.oh, p.ow, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw,
      +p.ignoreNaN] as const;
    this.share('maxPool2d', 'max_pool2d_f32', 4 * p.planes * (inSize + 2 * outSize),
      () => rowCuts([...args], p.planes, inSize, [[0, inSize], [1, outSize], [2, outSize]], 3),
      () => this.exports.max_pool2d_f32(...args));
  }

  maxPool2dGrad(dy: Buf, indices: Buf, dx: Buf, s: PoolSizes): number {
    const pdy = this.ptr(dy, 'maxPool2dGrad'), pi = this.ptr(indices, 'maxPool2dGrad'), pdx = this.ptr(dx, 'maxPool2dGrad');
    const [inSize, outSize] = [s.h * s.w, s.oh * s.ow];
    const args = [pdy, pi, pdx, s.planes, inSize, outSize] as const;
    // The first bad index's position: a chunk's positions start at its first plane's.
    return this.share('maxPool2dGrad', 'max_pool2d_grad_f32', 4 * s.planes * (inSize + 2 * outSize),
      () => rowCuts([...args], s.planes, inSize, [[0, outSize], [1, outSize], [2, inSize]], 3),
      () => this.exports.max_pool2d_grad_f32(...args), undefined, outSize);
  }

  maxPool2dGather(x: Buf, indices: Buf, out: Buf, s: PoolSizes): number {
    const px = this.ptr(x, 'maxPool2dGather'), pi = this.ptr(indices, 'maxPool2dGather'), po = this.ptr(out, 'maxPool2dGather');
    const [inSize, outSize] = [s.h * s.w, s.oh * s.ow];
    const args = [px, pi, po, s.planes, inSize, outSize] as const;
    return this.share('maxPool2dGather', 'max_pool2d_gather_f32', 4 * s.planes * 3 * outSize,
      () => rowCuts([...args], s.planes, outSize, [[0, inSize], [1, outSize], [2, outSize]], 3),
      () => this.exports.max_pool2d_gather_f32(...args), undefined, outSize);
  }

  avgPool2d(x: Buf, out: Buf, p: Pool2dPlan): void {
    const px = this.ptr(x, 'avgPool2d'), po = this.ptr(out, 'avgPool2d');
    const [inSize, outSize] = [p.h * p.w, p.oh * p.ow];
    const args = [px, po, p.planes, p.h, p.w, p.oh, p.ow, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, +p.countIncludePad,
      p.divisor] as const;
    this.share('avgPool2d', 'avg_pool2d_f32', 4 * p.planes * (inSize + outSize),
      () => rowCuts([...args], p.planes, inSize, [[0, inSize], [1, outSize]], 2),
      () => this.exports.avg_pool2d_f32(...args));
  }

  avgPool2dGrad(dy: Buf, dx: Buf, p: Pool2dPlan): void {
    const pdy = this.ptr(dy, 'avgPool2dGrad'), pdx = this.ptr(dx, 'avgPool2dGrad');
    const [inSize, outSize] = [p.h * p.w, p.oh * p.ow];
    const args = [pdy, pdx, p.planes, p.h, p.w, p.oh, p.ow, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, +p.countIncludePad,
      p.divisor] as const;
    this.share('avgPool2dGrad', 'avg_pool2d_grad_f32', 4 * p.planes * (2 * inSize + outSize),
      () => rowCuts([...args], p.planes, inSize, [[0, outSize], [1, inSize]], 2),
      () => this.exports.avg_pool2d_grad_f32(...args));
  }

  adaptiveAvgPool2d(x: Buf, out: Buf, s: PoolSizes): void {
    const px = this.ptr(x, 'adaptiveAvgPool2d'), po = this.ptr(out, 'adaptiveAvgPool2d');
    const [inSize, outSize] = [s.h * s.w, s.oh * s.ow];
    const args = [px, po, s.planes, s.h, s.w, s.oh, s.ow] as const;
    this.share('adaptiveAvgPool2d', 'adaptive_avg_pool2d_f32', 4 * s.planes * (inSize + outSize),
      () => rowCuts([...args], s.planes, inSize, [[0, inSize], [1, outSize]], 2),
      () => this.exports.adaptive_avg_pool2d_f32(...args));
  }

  adaptiveAvgPool2dGrad(dy: Buf, dx: Buf, s: PoolSizes): void {
    const pdy = this.ptr(dy, 'adaptiveAvgPool2dGrad'), pdx = this.ptr(dx, 'adaptiveAvgPool2dGrad');
    const [inSize, outSize] = [s.h * s.w, s.oh * s.ow];
    const args = [pdy, pdx, s.planes, s.h, s.w, s.oh, s.ow] as const;
    this.share('adaptiveAvgPool2dGrad', 'adaptive_avg_pool2d_grad_f32', 4 * s.planes * (2 * inSize + outSize),
      () => rowCuts([...args], s.planes, inSize, [[0, outSize], [1, inSize]], 2),
      () => this.exports.adaptive_avg_pool2d_grad_f32(...args));
  }

  batchNormStats(x: Buf, mean: Buf, variance: Buf, runningMean: Buf | null, runningVar: Buf | null, momentum: number,
    p: BatchNormPlan): void {
    const px = this.ptr(x, 'batchNormStats'), pm = this.ptr(mean, 'batchNormStats'), pv = this.ptr(variance, 'batchNormStats');
    const prm = this.ptrOrZero(runningMean, 'batchNormStats'), prv = this.ptrOrZero(runningVar, 'batchNormStats');
    const args = [px, pm, pv, prm, prv, momentum, p.n, p.c, p.l, 0, p.c] as const;
    // Two passes over x.
    this.share('batchNormStats', 'batch_norm_stats_f32', 8 * p.n * p.c * p.l, () => channelCuts([...args], p, 9),
      () => this.exports.batch_norm_stats_f32(...args));
  }

  batchNorm(x: Buf, out: Buf, mean: Buf, variance: Buf, weight: Buf | null, bias: Buf | null, p: BatchNormPlan): void {
    const px = this.ptr(x, 'batchNorm'), po = this.ptr(out, 'batchNorm'), pm = this.ptr(mean, 'batchNorm'),
      pv = this.ptr(variance, 'batchNorm');
    const pw = this.ptrOrZero(weight, 'batchNorm'), pb = this.ptrOrZero(bias, 'batchNorm');
    const args = [px, po, pm, pv, pw, pb, p.eps, p.n, p.c, p.l, 0, p.c] as const;
    this.share('batchNorm', 'batch_norm_f32', 8 * p.n * p.c * p.l, () => channelCuts([...args], p, 10),
      () => this.exports.batch_norm_f32(...args));
  }

  batchNormGrad(x: Buf, dy: Buf, mean: Buf, variance: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, training: boolean, p: BatchNormPlan): void {
    const px = this.ptr(x, 'batchNormGrad'), pdy = this.ptr(dy, 'batchNormGrad'), pm = this.ptr(mean, 'batchNormGrad'),
      pv = this.ptr(variance, 'batchNormGrad');
    const pw = this.ptrOrZero(weight, 'batchNormGrad'), pdx = this.ptrOrZero(dx, 'batchNormGrad'),
      pdw = this.ptrOrZero(dweight, 'batchNormGrad'), pdb = this.ptrOrZero(dbias, 'batchNormGrad');
    const args = [px, pdy, pm, pv, pw, pdx, pdw, pdb, +training, p.eps, p.n, p.c, p.l, 0, p.c] as const;
    // In training, two passes over x and dy and one writing dx.
    this.share('batchNormGrad', 'batch_norm_grad_f32', 4 * p.n * p.c * p.l * (training ? 5 : 3),
      () => channelCuts([...args], p, 13), () => this.exports.batch_norm_grad_f32(...args));
  }

  layerNorm(x: Buf, out: Buf, mean: Buf | null, rstd: Buf, weight: Buf | null, bias: Buf | null, p: LayerNormPlan): void {
    const name = p.rms ? 'rmsNorm' : 'layerNorm';
    const px = this.ptr(x, name), po = this.ptr(out, name), pr = this.ptr(rstd, name);
    const pm = this.ptrOrZero(mean, name), pw = this.ptrOrZero(weight, name), pb = this.ptrOrZero(bias, name);
    const { rows, n, eps } = p;
    // layer_norm_f32(x, out, mean, rstd, weight, bias, n, eps, rows): by rows (x, out, and mean if any, rstd advance)
    const perRow: [number, number][] = [[0, n], [1, n], ...(pm ? [[2, 1] as [number, number]] : []), [3, 1]];
    this.share(name, 'layer_norm_f32', 8 * rows * n,
      () => rowCuts([px, po, pm, pr, pw, pb, n, eps, rows], rows, n, perRow, 8),
      () => this.exports.layer_norm_f32(px, po, pm, pr, pw, pb, n, eps, rows));
  }

  layerNormGrad(x: Buf, dy: Buf, mean: Buf | null, rstd: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, p: LayerNormPlan): void {
    const name = p.rms ? 'rmsNormGrad' : 'layerNormGrad';
    const px = this.ptr(x, name), pdy = this.ptr(dy, name), pr = this.ptr(rstd, name);
    const pm = this.ptrOrZero(mean, name), pw = this.ptrOrZero(weight, name), pdx = this.ptrOrZero(dx, name),
      pdw = this.ptrOrZero(dweight, name), pdb = this.ptrOrZero(dbias, name);
    const { rows, n } = p;
    if (pdx) {
      // layer_norm_grad_f32(x, dy, mean, rstd, weight, dx, n, rows): by rows (x, dy, mean if any, rstd, dx advance)
      const perRow: [number, number][] = [[0, n], [1, n], ...(pm ? [[2, 1] as [number, number]] : []), [3, 1], [5, n]];
      this.share(name, 'layer_norm_grad_f32', 12 * rows * n,
        () => rowCuts([px, pdy, pm, pr, pw, pdx, n, rows], rows, n, perRow, 7),
        () => this.exports.layer_norm_grad_f32(px, pdy, pm, pr, pw, pdx, n, rows));
    }
    if (pdw || pdb) {
      // layer_norm_params_grad_f32(x, dy, mean, rstd, dweight, dbias, rows, n, c0, c1): by columns
      this.share(`${name} (parameters)`, 'layer_norm_params_grad_f32', 8 * rows * n,
        () => columnCuts([px, pdy, pm, pr, pdw, pdb, rows, n, 0, n], n, rows * n, 8),
        () => this.exports.layer_norm_params_grad_f32(px, pdy, pm, pr, pdw, pdb, rows, n, 0, n));
    }
  }

  // Optimizer updates work element by element: shared as ranges of elements, bit-identical to one call (cost: 4
  // bytes per element of every buffer, and one more).

  sgd(p: Buf, g: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void {
    const pp = this.ptr(p, 'sgd'), pg = this.ptr(g, 'sgd'), pm = this.ptrOrZero(momentumBuf, 'sgd');
    const { lr, momentum, dampening, weightDecay } = h, nesterov = +h.nesterov, firstStep = +h.firstStep;
    this.share('sgd', 'sgd_f32', 16 * n,
      () => elementCuts([pp, pg, pm, n, lr, momentum, dampening, weightDecay, nesterov, firstStep], n, [0, 1, 2], 3),
      () => this.exports.sgd_f32(pp, pg, pm, n, lr, momentum, dampening, weightDecay, nesterov, firstStep));
  }

  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamParams): void {
    const pp = this.ptr(p, 'adam'), pg = this.ptr(g, 'adam'), pm = this.ptr(m, 'adam'), pv = this.ptr(v, 'adam');
    const { lr, beta1, beta2, eps, weightDecay, bc1, bc2 } = h, decoupled = +h.decoupled;
    this.share('adam', 'adam_f32', 20 * n,
      () => elementCuts([pp, pg, pm, pv, n, lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2], n, [0, 1, 2, 3], 4),
      () => this.exports.adam_f32(pp, pg, pm, pv, n, lr, beta1, beta2, eps, weightDecay, decoupled, bc1, bc2));
  }

  rmsprop(p: Buf, g: Buf, sq: Buf, momentumBuf: Buf | null, gradAvg: Buf | null, n: number, h: RmspropParams): void {
    const pp = this.ptr(p, 'rmsprop'), pg = this.ptr(g, 'rmsprop'), ps = this.ptr(sq, 'rmsprop');
    const pm = this.ptrOrZero(momentumBuf, 'rmsprop'), pa = this.ptrOrZero(gradAvg, 'rmsprop');
    const { lr, alpha, eps, weightDecay, momentum } = h, centered = +h.centered;
    this.share('rmsprop', 'rmsprop_f32', 24 * n,
      () => elementCuts([pp, pg, ps, pm, pa, n, lr, alpha, eps, weightDecay, momentum, centered], n, [0, 1, 2, 3, 4], 5),
      () => this.exports.rmsprop_f32(pp, pg, ps, pm, pa, n, lr, alpha, eps, weightDecay, momentum, centered));
  }

  adagrad(p: Buf, g: Buf, sum: Buf, n: number, h: AdagradParams): void {
    const pp = this.ptr(p, 'adagrad'), pg = this.ptr(g, 'adagrad'), ps = this.ptr(sum, 'adagrad');
    const { clr, eps, weightDecay } = h;
    this.share('adagrad', 'adagrad_f32', 16 * n,
      () => elementCuts([pp, pg, ps, n, clr, eps, weightDecay], n, [0, 1, 2], 3),
      () => this.exports.adagrad_f32(pp, pg, ps, n, clr, eps, weightDecay));
  }

  /** A fresh view: never cached, because memory.grow detaches the old buffer. */
  private view(b: WasmBuf, offset: number, length: number): TypedArray {
    const mem = this.exports.memory.buffer;
    const at = b.ptr + offset * 4;
    return b.dtype === 'int32' ? new Int32Array(mem, at, length) : new Float32Array(mem, at, length);
  }

  /** `buf` as this backend's own live buffer, else an Error that names `kernel`: nothing runs on a foreign or freed one. */
  private own(buf: Buf, kernel: string): WasmBuf {
    if (!(buf instanceof WasmBuf) || buf.backend !== this) {
      throw new Error(`${kernel}: a buffer of the '${buf.backend.name}' backend was passed to the wasm backend`);
    }
    if (!buf.live) throw new Error(`${kernel}: buffer used after it was freed`);
    return buf;
  }

  /** The checked pointer to `buf` for a kernel call (see own); one per argument, so a call allocates nothing. */
  private ptr(buf: Buf, kernel: string): number {
    return this.own(buf, kernel).ptr;
  }

  /** A checked pointer to an optional buffer: 0 (the kernels' "absent") for null. */
  private ptrOrZero(buf: Buf | null, kernel: string): number {
    return buf ? this.own(buf, kernel).ptr : 0;
  }

  /** Thread i's scratch space, grown to at least `bytes` and kept for the next calls. */
  private ensureWorkspace(i: number, bytes: number): number {
    const w = (this.workspaces[i] ??= { ptr: 0, bytes: 0 });
    if (bytes <= w.bytes) return w.ptr;
    if (w.bytes > 0) this.heap.free(w.ptr, w.bytes);
    w.bytes = 0; // until the allocation below succeeds
    w.ptr = this.heap.alloc(bytes);
    w.bytes = bytes;
    return w.ptr;
  }

  /**
   * Runs a kernel; a trap inside it becomes an Error that names the kernel. In the debug build, the guards of
   * every live block are checked afterwards, so a kernel that wrote outside its blocks is named at once.
   */
  private run<T>(kernel: string, fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      throw this.trapped(kernel, e);
    }
    this.checkGuards(kernel);
    return result;
  }

  /** The error to throw for what a kernel call threw: a trap marks the backend broken and says so. */
  private trapped(kernel: string, e: unknown): unknown {
    if (!(e instanceof WebAssembly.RuntimeError)) return e;
    this.broken = true;
    return new Error(`wasm kernel '${kernel}' trapped: ${e.message} (its tensors may hold partial results; ` +
      'call init() again for a fresh backend)', { cause: e });
  }

  /** After a kernel call: throws when it wrote outside its blocks (the guard words the debug build keeps). */
  private checkGuards(kernel: string): void {
    const broken = this.heap.checkGuards();
    if (broken) {
      this.broken = true;
      throw new Error(`wasm kernel '${kernel}' wrote outside the blocks it was handed: the guard words ${broken.side} ` +
        `the block of ${broken.bytes} bytes at offset ${broken.ptr} were overwritten (debug build; memory may be ` +
        'corrupt, call init() again for a fresh backend)');
    }
  }

  /**
   * Whether a strided call over `dims` runs whole on this thread straight from its plan: ≤ 4 dims, and no
   * workers or too few elements to share (the scheduler would run it alone, untimed: stridedCuts has no cut).
   */
  private alone(dims: readonly number[]): boolean {
    if (dims.length > 4) return false;
    return !this.scheduler || this.pool!.size === 0 || product(dims) < SHARE_MIN_ELEMENTS;
  }
}

/**
 * A kernel's scratch space (see share): the argument that takes it, the bytes the whole call needs on one thread,
 * and optionally a key that is the same for calls whose cuts have the same units, alignments and scratch (their
 * reservation is then worked out once).
 */
interface ScratchNeed {
  arg: number;
  whole: number;
  shape?: string;
}

/** Shapes whose scratch reservation is kept at most (see reserveScratch). */
const MAX_SHAPES = 256;

/** Worker threads of a backend nobody can reach any more are stopped. */
const closeWhenCollected = new FinalizationRegistry<ThreadPool>((pool) => pool.close());

/** A read or write of `length` elements at `offset` stays inside the buffer (a view would reach past it). */
function checkRange(what: 'read' | 'write', b: WasmBuf, offset: number, length: number): void {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= b.size)) {
    throw new Error(`wasm backend: ${what} of ${length} elements at ${offset} overflows a buffer of ${b.size}`);
  }
}

function denseStrides(dims: number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** A ConvPlan as the conv kernels' arguments, in their order. */
function convArgs(p: ConvPlan): ConvArgs {
  return [p.n, p.c, p.h, p.w, p.o, p.kh, p.kw, p.oh, p.ow, p.strideH, p.strideW, p.padH, p.padW, p.dilationH,
    p.dilationW, p.groups];
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** A copy of `args` with some replaced: [index, value] pairs. */
function put(args: readonly number[], ...pairs: [number, number][]): number[] {
  const out = [...args];
  for (const [i, v] of pairs) out[i] = v;
  return out;
}

// The cuts of each kind of kernel. `args` are the arguments of the whole call; a cut's base is those with its
// count (and range) arguments zeroed, since a chunk's are start·perStart + length·perCount.

/**
 * Whether matmulSgd's update can ride on the product's epilogue: plain SGD (the epilogue has no momentum or weight
 * decay) over the whole product.
 */
const fusesSgd = (p: MatmulPlan, momentumBuf: Buf | null, n: number, h: SgdParams) =>
  momentumBuf === null && h.momentum === 0 && h.weightDecay === 0 && n === p.m * p.n * p.batch;

/** A product's cost for the scheduler: its floating-point operations. */
const matmulFlops = (p: MatmulPlan) => 2 * p.m * p.n * p.k * p.batch;

/**
 * Whether a call of a method direct() has a shortcut for (other than matmul) is too small for any cut (see
 * elementCuts, rowCuts, slabCuts), so the method would run it alone, untimed.
 */
function unshareable(method: string, a: readonly unknown[]): boolean {
  const num = (i: number) => a[i] as number;
  switch (method) {
    case 'scale': return num(2) < SHARE_MIN_ELEMENTS;
    case 'unary': return num(3) < SHARE_MIN_ELEMENTS;
    case 'unaryGrad': return num(4) < SHARE_MIN_ELEMENTS;
    case 'sgd': return num(3) < SHARE_MIN_ELEMENTS;
    case 'reduce': return num(3) * num(4) * num(5) < SHARE_MIN_ELEMENTS;
    case 'crossEntropy': return num(4) * num(5) < SHARE_MIN_ELEMENTS;
    case 'crossEntropyGrad': return num(6) * num(7) < SHARE_MIN_ELEMENTS;
    default: return false;
  }
}

/**
 * The one cut of a kernel over n elements: pointers (argument indices in `pointers`) advance by 4 bytes per
 * element and argument `count` is the chunk's length. Chunks start at multiples of 16 elements (a cache line, and
 * a multiple of every SIMD loop's step, so each element takes the path it takes in the whole call). Calls of
 * fewer than SHARE_MIN_ELEMENTS elements have none.
 */
function elementCuts(args: number[], n: number, pointers: number[], count: number): Cut[] {
  if (n < SHARE_MIN_ELEMENTS) return [];
  const none = args.map(() => 0);
  // An absent buffer (pointer 0: an optimizer's momentum off) stays 0 in every chunk.
  const present = pointers.filter((at) => args[at] !== 0);
  return [{ units: n, align: 16, overhead: 0, base: put(args, [count, 0]),
    perStart: put(none, ...present.map((at): [number, number] => [at, 4])), perCount: put(none, [count, 1]) }];
}

/**
 * The cut along whole rows (outer slabs, samples) of `perRow` elements each: argument `count` is the number of
 * rows, and each pointer (argument index, elements per row) advances by its row. None for a small call.
 */
function rowCuts(args: number[], rows: number, perRow: number, pointers: [at: number, perRow: number][], count: number): Cut[] {
  if (rows * perRow < SHARE_MIN_ELEMENTS) return [];
  const none = args.map(() => 0);
  return [{ units: rows, align: 1, overhead: 0, base: put(args, [count, 0]),
    perStart: put(none, ...pointers.map(([at, per]): [number, number] => [at, 4 * per])), perCount: put(none, [count, 1]) }];
}

/**
 * The cut of a kernel over independent items (attention's batch·heads): argument `count` is the number of items,
 * each pointer (argument index, elements per item) advances by its item, and every thread needs `scratch` bytes.
 */
function itemCuts(args: number[], items: number, pointers: [at: number, perItem: number][], count: number,
  scratch: number): Cut[] {
  const none = args.map(() => 0);
  return [{ units: items, align: 1, overhead: 0, scratch: () => scratch, base: put(args, [count, 0]),
    perStart: put(none, ...pointers.map(([at, per]): [number, number] => [at, 4 * per])), perCount: put(none, [count, 1]) }];
}

/**
 * Cuts of a kernel over slabs [outer, r, inner] computed per output (o, i) (reductions, softmax): by whole outer
 * slabs (`pointers` advance by their elements per slab, `outerAt` is the count), or by columns i (arguments
 * `rangeAt` and rangeAt + 1 are the range [i0, i1), starting at multiples of 16 so every column takes the path it
 * takes in the whole call). Each output is computed by one thread in the single-thread order either way.
 */
function slabCuts(args: number[], outer: number, r: number, inner: number, pointers: [number, number][],
  outerAt: number, rangeAt: number): Cut[] {
  if (outer * r * inner < SHARE_MIN_ELEMENTS) return [];
  return [...rowCuts(args, outer, r * inner, pointers, outerAt), rangeCut(args, inner, rangeAt, 16)];
}

/**
 * The cut of a kernel that takes a range [r0, r1) of `units` as arguments rangeAt and rangeAt + 1 and finds its
 * data from the range (its pointers stay): chunk starts are multiples of `align`; `overhead` and `scratch` as
 * in Cut.
 */
function rangeCut(args: number[], units: number, rangeAt: number, align: number, overhead = 0,
  scratch?: (chunk: number) => number): Cut {
  const none = args.map(() => 0);
  return { units, align, overhead, scratch, base: put(args, [rangeAt, 0], [rangeAt + 1, 0]),
    perStart: put(none, [rangeAt, 1], [rangeAt + 1, 1]), perCount: put(none, [rangeAt + 1, 1]) };
}

/** The cut of a batch norm kernel over its channels [c0, c1) (arguments rangeAt, rangeAt + 1). None for a small call. */
function channelCuts(args: number[], p: BatchNormPlan, rangeAt: number): Cut[] {
  return p.n * p.c * p.l < SHARE_MIN_ELEMENTS ? [] : [rangeCut(args, p.c, rangeAt, 1)];
}

/**
 * The cut along columns of a kernel computed per column (arguments rangeAt and rangeAt + 1 are the range
 * [i0, i1)), starting at multiples of 16 so every column takes the path it takes in the whole call. None for a
 * call of fewer than SHARE_MIN_ELEMENTS elements in all.
 */
function columnCuts(args: number[], columns: number, elements: number, rangeAt: number): Cut[] {
  return elements < SHARE_MIN_ELEMENTS ? [] : [rangeCut(args, columns, rangeAt, 16)];
}

/**
 * Cuts of a kernel over a dense 4-d index space `d` (arguments dimsAt … dimsAt + 3) whose pointers (argument
 * index, strides in elements) advance along it: one per dimension, or (`denseOut`: the kernel writes its output
 * in order, without strides) only along the outermost dimension longer than 1, the one whose chunks are
 * contiguous ranges of the output. Chunks of the innermost dimension start at multiples of 8 (every SIMD loop's
 * step), of the one before at multiples of 4 (the copy's 4×4 tiles).
 */
function stridedCuts(args: number[], dimsAt: number, d: number[], pointers: [at: number, strides: number[]][],
  denseOut: boolean): Cut[] {
  if (product(d) < SHARE_MIN_ELEMENTS) return [];
  const none = args.map(() => 0);
  const outermost = d.findIndex((n) => n > 1);
  return d.flatMap((units, i) => (denseOut && i !== outermost ? [] : [{
    units, align: i === 3 ? 8 : i === 2 ? 4 : 1, overhead: 0, base: put(args, [dimsAt + i, 0]),
    perStart: put(none, ...pointers.map(([at, s]): [number, number] => [at, 4 * s[i]!])), perCount: put(none, [dimsAt + i, 1]),
  }]));
}
