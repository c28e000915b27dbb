// The wasm backend: tensor storage in linear memory (heap.ts) and a binding per kernel export. Pointers handed to
// a kernel are computed right before the call, and typed-array views are created per read/write, so no view is
// ever used after memory.grow has detached it.
import type {
  AdagradParams, AdamParams, Backend, BatchNormPlan, BinaryOp, BroadcastPlan, Buf, BuildName, ConvPlan, CopyPlan,
  DType, MatmulPlan, MemoryStats, Pool2dPlan, PoolSizes, ReduceOp, RmspropParams, SgdParams, TypedArray, UnaryGradOp,
  UnaryOp, WherePlan,
} from '../types.js';
import { BYTES_PER_ELEMENT } from '../types.js';
import { any, checkOptions, integer, number, oneOf } from '../../options.js';
import { BINARY_CODES, REDUCE_CODES, UNARY_CODES } from './codes.js';
import type { ConvArgs, KernelExports } from './exports.js';
import { ALIGN, Heap } from './heap.js';
import { chooseBuild, compileBuild, isThreadsBuild, missingFeatures, supportedBuilds, type WasmSource } from './loader.js';
import { ThreadPool } from './threads.js';

export class WasmBuf implements Buf {
  live = true;
  constructor(
    readonly backend: WasmBackend,
    readonly dtype: DType,
    readonly size: number,
    readonly ptr: number,
  ) {}
}

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
   * Threads that share large matrix products and optimizer updates (default 1): more than 1 loads a threads
   * build (shared memory; in browsers only on cross-origin-isolated pages) and starts threads − 1 workers.
   * Results are bit-identical to one thread of the same build without threads (relaxed-simd-threads: relaxed;
   * simd-threads: simd).
   */
  threads?: number;
}

const WASM32_MAX_MB = 4096;
const MAX_THREADS = 16;
/** Products smaller than this (2·m·n·k·batch) run on one thread: below it, handing out work costs more. */
const SPLIT_MIN_FLOPS = 1 << 20;
/** The narrowest share of columns: wider than the skinny-product limit (8), a multiple of the tile width. */
const SPLIT_MIN_COLUMNS = 16;
/** Optimizer updates of fewer elements run on one thread. */
const SPLIT_MIN_ELEMENTS = 1 << 16;

/** Column ranges [j0, j1) of one product, or element ranges [offset, offset + count) of an update. */
type Range = [start: number, end: number];
const BINARY = new Map(BINARY_CODES.map((op, i) => [op, i]));
const UNARY = new Map(UNARY_CODES.map((op, i) => [op, i]));
const REDUCE = new Map(REDUCE_CODES.map((op, i) => [op, i]));

/** The threads a set of options asks for: `threads`, else 2 for a threads build and 1 for the others. */
export function requestedThreads(options: WasmOptions): number {
  return options.threads ?? (isThreadsBuild(options.build) ? 2 : 1);
}

/** The options of createWasmBackend (and of init, which adds `backend`), checked before anything loads. */
export const WASM_OPTIONS = {
  build: oneOf(...(['auto', 'relaxed', 'simd', 'scalar', 'simd-threads', 'relaxed-simd-threads', 'debug'] satisfies (BuildName | 'auto')[])),
  maxMemoryMB: number({ gt: 0, le: WASM32_MAX_MB }),
  wasm: any,
  threads: integer({ ge: 1, le: MAX_THREADS }),
};

export function createWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  return loadWasmBackend('createWasmBackend', options);
}

/** createWasmBackend, with errors that start with `api` (init passes its own name). */
export async function loadWasmBackend(api: string, options: WasmOptions): Promise<WasmBackend> {
  checkOptions(api, options, WASM_OPTIONS);
  const threads = requestedThreads(options);
  const build = chooseBuild(options.build ?? 'auto', threads);
  if (threads > 1 && !isThreadsBuild(build)) {
    throw new Error(`${api}: threads need a threads build ('relaxed-simd-threads' or 'simd-threads'), not ` +
      `'${build}' (leave build out, or pass one of those)`);
  }
  const missing = missingFeatures(build);
  if (missing.length) {
    throw new Error(`${api}: this engine cannot run the '${build}' build (it runs: ${supportedBuilds().join(', ')}); ` +
      `it needs ${missing.join(' and ')}`);
  }
  const maxMB = options.maxMemoryMB ?? WASM32_MAX_MB;
  const module = await compileBuild(build, options.wasm);
  const limitBytes = Math.floor(maxMB * 16) * 65536;
  if (!isThreadsBuild(build)) {
    const instance = await WebAssembly.instantiate(module, {});
    checkLimit(api, build, maxMB, limitBytes, (instance.exports as unknown as KernelExports).memory);
    return new WasmBackend(instance.exports as unknown as KernelExports, build, limitBytes);
  }
  // The shared memory is declared at its wasm32 maximum (it cannot be raised later); the heap enforces the limit.
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  checkLimit(api, build, maxMB, limitBytes, memory);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelExports;
  const pool = threads > 1 ? await ThreadPool.start(module, memory, exports, threads - 1) : null;
  return new WasmBackend(exports, build, limitBytes, pool);
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

/** Pads a plan to exactly 4 dims, or calls `fn` once per index of the leading dims when there are more. */
function forEach4(dims: number[], strides: number[][], fn: (offsets: number[], d: number[], s: number[][]) => void): void {
  const extra = dims.length - 4;
  if (extra <= 0) {
    const pad = -extra;
    fn(strides.map(() => 0), [...Array<number>(pad).fill(1), ...dims], strides.map((s) => [...Array<number>(pad).fill(0), ...s]));
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

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly dtypes: readonly DType[] = ['float32', 'int32'];
  private readonly heap: Heap;
  private buffers = 0;
  private bytesInUse = 0;
  private peakBytes = 0;
  /** Scratch space for matmul's packed panels, one per thread. */
  private workspaces: { ptr: number; bytes: number }[] = [];
  /** Set when a kernel trapped: memory may hold half-written results; init() replaces a broken backend. */
  broken = false;

  constructor(
    readonly exports: KernelExports,
    readonly build: BuildName,
    limitBytes: number,
    private readonly pool: ThreadPool | null = null,
  ) {
    const base = Math.ceil(exports.heap_base() / ALIGN) * ALIGN;
    // The debug build guards every block and checks the guards after every kernel (see heap.ts).
    this.heap = new Heap(exports.memory, base, limitBytes, build === 'debug');
    if (pool) closeWhenCollected.register(this, pool);
  }

  /** Threads that share large products and updates: 1 + running workers. */
  get threads(): number {
    return 1 + (this.pool?.size ?? 0);
  }

  /** Stops the worker threads (if any); the backend and its tensors keep working on the calling thread. */
  close(): void {
    this.pool?.close();
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

  matmul(a: Buf, b: Buf, c: Buf, p: MatmulPlan): void {
    const [pa, pb, pc] = this.ptrs('matmul', a, b, c);
    const bias = p.bias ? this.own(p.bias, 'matmul').ptr : 0;
    const ta = +p.transA, tb = +p.transB;
    const parts = this.split(p);
    if (parts.length < 2) {
      const ws = this.ensureWorkspace(0, this.exports.matmul_ws_bytes(p.m, p.n, p.k, ta, tb));
      this.run('matmul', () =>
        this.exports.matmul_f32(pa, pb, pc, bias, p.m, p.n, p.k, ta, tb, p.batch, p.strideA, p.strideB, ws));
      return;
    }
    // Every share gets its own scratch space.
    const shares = parts.map(([j0, j1], i) => [pa, pb, pc, bias, p.m, p.n, p.k, ta, tb, p.batch, p.strideA, p.strideB,
      this.ensureWorkspace(i, this.exports.matmul_ws_bytes(p.m, j1 - j0, p.k, ta, tb)), j0, j1]);
    this.run('matmul', () => this.pool!.run('matmul_f32_cols', shares));
  }

  /**
   * How a product is shared between threads: column ranges, each wider than 8 so that every share takes the
   * blocked path, as the whole product would (then the split result is bit-identical to the unsplit one).
   */
  private split(p: MatmulPlan): Range[] {
    const threads = this.threads;
    if (threads < 2 || p.k === 0 || p.m <= 8 || 2 * p.m * p.n * p.k * p.batch < SPLIT_MIN_FLOPS) return [];
    const count = Math.min(threads, Math.floor(p.n / SPLIT_MIN_COLUMNS));
    if (count < 2) return [];
    const width = Math.ceil(p.n / count / 8) * 8;
    const parts: Range[] = [];
    for (let j = 0; j < p.n; j += width) parts.push([j, Math.min(p.n, j + width)]);
    const last = parts[parts.length - 1]!;
    if (last[1] - last[0] <= 8) {
      parts.pop();
      parts[parts.length - 1]![1] = p.n; // a thin remainder joins the share before it
    }
    return parts;
  }

  conv2d(x: Buf, weight: Buf, bias: Buf | null, out: Buf, p: ConvPlan): void {
    const [px, pw, po] = this.ptrs('conv2d', x, weight, out);
    const pb = bias ? this.own(bias, 'conv2d').ptr : 0;
    const args = convArgs(p);
    const ws = this.ensureWorkspace(0, this.exports.conv2d_ws_bytes(0, ...args, 0, p.n));
    this.run('conv2d', () => this.exports.conv2d_f32(px, pw, pb, po, ...args, ws, 0, p.n));
  }

  conv2dInputGrad(dy: Buf, weight: Buf, dx: Buf, p: ConvPlan): void {
    const [pdy, pw, pdx] = this.ptrs('conv2dInputGrad', dy, weight, dx);
    const args = convArgs(p);
    const ws = this.ensureWorkspace(0, this.exports.conv2d_ws_bytes(1, ...args, 0, p.n));
    this.run('conv2dInputGrad', () => this.exports.conv2d_input_grad_f32(pdy, pw, pdx, ...args, ws, 0, p.n));
  }

  conv2dWeightGrad(x: Buf, dy: Buf, dw: Buf, p: ConvPlan): void {
    const [px, pdy, pdw] = this.ptrs('conv2dWeightGrad', x, dy, dw);
    const args = convArgs(p);
    const cols = p.c / p.groups * p.kh * p.kw; // all columns of dw viewed as [o, c/groups·kh·kw]
    const ws = this.ensureWorkspace(0, this.exports.conv2d_ws_bytes(2, ...args, 0, cols));
    this.run('conv2dWeightGrad', () => this.exports.conv2d_weight_grad_f32(px, pdy, pdw, ...args, ws, 0, cols));
  }

  binary(op: BinaryOp, a: Buf, b: Buf, out: Buf, p: BroadcastPlan): void {
    const [pa, pb, po] = this.ptrs(op, a, b, out);
    const code = BINARY.get(op)!;
    const outStrides = denseStrides(p.dims);
    this.run(op, () => forEach4(p.dims, [p.aStrides, p.bStrides, outStrides], ([oa, ob, oo], d, [sa, sb]) =>
      this.exports.binary_f32(code, pa + 4 * oa!, pb + 4 * ob!, po + 4 * oo!, d[0]!, d[1]!, d[2]!, d[3]!,
        sa![0]!, sa![1]!, sa![2]!, sa![3]!, sb![0]!, sb![1]!, sb![2]!, sb![3]!)));
  }

  where(cond: Buf, a: Buf, b: Buf, out: Buf, p: WherePlan): void {
    const [pc, pa, pb, po] = this.ptrs('where', cond, a, b, out);
    const outStrides = denseStrides(p.dims);
    this.run('where', () => forEach4(p.dims, [p.condStrides, p.aStrides, p.bStrides, outStrides],
      ([oc, oa, ob, oo], d, [sc, sa, sb]) =>
        this.exports.where_f32(pc + 4 * oc!, pa + 4 * oa!, pb + 4 * ob!, po + 4 * oo!, d[0]!, d[1]!, d[2]!, d[3]!,
          sc![0]!, sc![1]!, sc![2]!, sc![3]!, sa![0]!, sa![1]!, sa![2]!, sa![3]!, sb![0]!, sb![1]!, sb![2]!, sb![3]!)));
  }

  unary(op: UnaryOp, x: Buf, out: Buf, n: number, alpha: number): void {
    const [px, po] = this.ptrs(op, x, out);
    this.run(op, () => this.exports.unary_f32(UNARY.get(op)!, px, po, n, alpha));
  }

  unaryGrad(op: UnaryGradOp, saved: Buf, dy: Buf, dx: Buf, n: number, alpha: number): void {
    const [ps, pdy, pdx] = this.ptrs(`${op}Grad`, saved, dy, dx);
    this.run(`${op}Grad`, () => this.exports.unary_grad_f32(UNARY.get(op)!, ps, pdy, pdx, n, alpha));
  }

  reduce(op: ReduceOp, x: Buf, out: Buf, outer: number, r: number, inner: number, argmax: Buf | null): void {
    const [px, po] = this.ptrs(op, x, out);
    const pi = argmax ? this.own(argmax, op).ptr : 0;
    this.run(op, () => this.exports.reduce_f32(REDUCE.get(op)!, px, po, outer, r, inner, pi));
  }

  softmax(x: Buf, out: Buf, outer: number, r: number, inner: number, log: boolean): void {
    const name = log ? 'logSoftmax' : 'softmax';
    const [px, po] = this.ptrs(name, x, out);
    this.run(name, () => this.exports.softmax_f32(px, po, outer, r, inner, +log));
  }

  softmaxGrad(y: Buf, dy: Buf, dx: Buf, outer: number, r: number, inner: number, log: boolean): void {
    const name = log ? 'logSoftmaxGrad' : 'softmaxGrad';
    const [py, pdy, pdx] = this.ptrs(name, y, dy, dx);
    this.run(name, () => this.exports.softmax_grad_f32(py, pdy, pdx, outer, r, inner, +log));
  }

  crossEntropy(logits: Buf, labels: Buf, losses: Buf, probs: Buf, n: number, c: number, smoothing: number): void {
    const [pl, py, ploss, pp] = this.ptrs('crossEntropy', logits, labels, losses, probs);
    this.run('crossEntropy', () => this.exports.cross_entropy_f32(pl, py, ploss, pp, n, c, smoothing));
  }

  crossEntropyGrad(probs: Buf, labels: Buf, dloss: Buf, dlossStride: number, scale: number, dx: Buf,
    n: number, c: number, smoothing: number): void {
    const [pp, py, pd, pdx] = this.ptrs('crossEntropyGrad', probs, labels, dloss, dx);
    this.run('crossEntropyGrad', () =>
      this.exports.cross_entropy_grad_f32(pp, py, pd, dlossStride, scale, pdx, n, c, smoothing));
  }

  copy(x: Buf, out: Buf, p: CopyPlan): void {
    const [px, po] = this.ptrs('copy', x, out);
    const bx = px + 4 * p.xOffset, bo = po + 4 * p.outOffset;
    this.run('copy', () => forEach4(p.dims, [p.xStrides, p.outStrides], ([ox, oo], d, [sx, so]) =>
      this.exports.copy_strided_32(bx + 4 * ox!, bo + 4 * oo!, d[0]!, d[1]!, d[2]!, d[3]!,
        sx![0]!, sx![1]!, sx![2]!, sx![3]!, so![0]!, so![1]!, so![2]!, so![3]!)));
  }

  fill(out: Buf, value: number, offset: number, n: number): void {
    const [po] = this.ptrs('fill', out);
    const at = po + 4 * offset;
    this.run('fill', () => (out.dtype === 'int32' ? this.exports.fill_i32(at, n, value) : this.exports.fill_f32(at, n, value)));
  }

  scale(x: Buf, out: Buf, n: number, alpha: number): void {
    const [px, po] = this.ptrs('scale', x, out);
    this.run('scale', () => this.exports.scale_f32(px, po, n, alpha));
  }

  axpy(alpha: number, x: Buf, y: Buf, n: number): void {
    const [px, py] = this.ptrs('axpy', x, y);
    this.run('axpy', () => this.exports.axpy_f32(alpha, px, py, n));
  }

  gather(x: Buf, idx: Buf, out: Buf, outer: number, r: number, inner: number, nIdx: number): void {
    const [px, pi, po] = this.ptrs('gather', x, idx, out);
    this.run('gather', () => this.exports.gather_32(px, pi, po, outer, r, inner, nIdx));
  }

  scatterAdd(dy: Buf, idx: Buf, dx: Buf, outer: number, r: number, inner: number, nIdx: number): void {
    const [pdy, pi, pdx] = this.ptrs('scatterAdd', dy, idx, dx);
    this.run('scatterAdd', () => this.exports.scatter_add_f32(pdy, pi, pdx, outer, r, inner, nIdx));
  }

  maxPool2d(x: Buf, out: Buf, indices: Buf, p: Pool2dPlan): void {
    const [px, po, pi] = this.ptrs('maxPool2d', x, out, indices);
    this.run('maxPool2d', () => this.exports.max_pool2d_f32(px, po, pi, p.planes, p.h, p.w, p.oh, p.ow,
      p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw));
  }

  maxPool2dGrad(dy: Buf, indices: Buf, dx: Buf, s: PoolSizes): number {
    const [pdy, pi, pdx] = this.ptrs('maxPool2dGrad', dy, indices, dx);
    let bad = -1;
    this.run('maxPool2dGrad', () => {
      bad = this.exports.max_pool2d_grad_f32(pdy, pi, pdx, s.planes, s.h * s.w, s.oh * s.ow);
    });
    return bad;
  }

  maxPool2dGather(x: Buf, indices: Buf, out: Buf, s: PoolSizes): number {
    const [px, pi, po] = this.ptrs('maxPool2dGather', x, indices, out);
    let bad = -1;
    this.run('maxPool2dGather', () => {
      bad = this.exports.max_pool2d_gather_f32(px, pi, po, s.planes, s.h * s.w, s.oh * s.ow);
    });
    return bad;
  }

  avgPool2d(x: Buf, out: Buf, p: Pool2dPlan): void {
    const [px, po] = this.ptrs('avgPool2d', x, out);
    this.run('avgPool2d', () => this.exports.avg_pool2d_f32(px, po, p.planes, p.h, p.w, p.oh, p.ow, p.kh, p.kw,
      p.sh, p.sw, p.ph, p.pw, +p.countIncludePad, p.divisor));
  }

  avgPool2dGrad(dy: Buf, dx: Buf, p: Pool2dPlan): void {
    const [pdy, pdx] = this.ptrs('avgPool2dGrad', dy, dx);
    this.run('avgPool2dGrad', () => this.exports.avg_pool2d_grad_f32(pdy, pdx, p.planes, p.h, p.w, p.oh, p.ow,
      p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, +p.countIncludePad, p.divisor));
  }

  adaptiveAvgPool2d(x: Buf, out: Buf, s: PoolSizes): void {
    const [px, po] = this.ptrs('adaptiveAvgPool2d', x, out);
    this.run('adaptiveAvgPool2d', () => this.exports.adaptive_avg_pool2d_f32(px, po, s.planes, s.h, s.w, s.oh, s.ow));
  }

  adaptiveAvgPool2dGrad(dy: Buf, dx: Buf, s: PoolSizes): void {
    const [pdy, pdx] = this.ptrs('adaptiveAvgPool2dGrad', dy, dx);
    this.run('adaptiveAvgPool2dGrad', () =>
      this.exports.adaptive_avg_pool2d_grad_f32(pdy, pdx, s.planes, s.h, s.w, s.oh, s.ow));
  }

  batchNormStats(x: Buf, mean: Buf, variance: Buf, runningMean: Buf | null, runningVar: Buf | null, momentum: number,
    p: BatchNormPlan): void {
    const [px, pm, pv] = this.ptrs('batchNormStats', x, mean, variance);
    const [prm, prv] = [runningMean, runningVar].map((b) => (b ? this.own(b, 'batchNormStats').ptr : 0));
    this.run('batchNormStats', () =>
      this.exports.batch_norm_stats_f32(px, pm, pv, prm!, prv!, momentum, p.n, p.c, p.l, 0, p.c));
  }

  batchNorm(x: Buf, out: Buf, mean: Buf, variance: Buf, weight: Buf | null, bias: Buf | null, p: BatchNormPlan): void {
    const [px, po, pm, pv] = this.ptrs('batchNorm', x, out, mean, variance);
    const [pw, pb] = [weight, bias].map((b) => (b ? this.own(b, 'batchNorm').ptr : 0));
    this.run('batchNorm', () => this.exports.batch_norm_f32(px, po, pm, pv, pw!, pb!, p.eps, p.n, p.c, p.l, 0, p.c));
  }

  batchNormGrad(x: Buf, dy: Buf, mean: Buf, variance: Buf, weight: Buf | null, dx: Buf | null, dweight: Buf | null,
    dbias: Buf | null, training: boolean, p: BatchNormPlan): void {
    const [px, pdy, pm, pv] = this.ptrs('batchNormGrad', x, dy, mean, variance);
    const [pw, pdx, pdw, pdb] = [weight, dx, dweight, dbias].map((b) => (b ? this.own(b, 'batchNormGrad').ptr : 0));
    this.run('batchNormGrad', () => this.exports.batch_norm_grad_f32(px, pdy, pm, pv, pw!, pdx!, pdw!, pdb!, +training,
      p.eps, p.n, p.c, p.l, 0, p.c));
  }

  sgd(p: Buf, g: Buf, momentumBuf: Buf | null, n: number, h: SgdParams): void {
    const [pp, pg] = this.ptrs('sgd', p, g);
    const pm = momentumBuf ? this.own(momentumBuf, 'sgd').ptr : 0;
    this.update('sgd', 'sgd_f32', [pp, pg, pm], n,
      [h.lr, h.momentum, h.dampening, h.weightDecay, +h.nesterov, +h.firstStep]);
  }

  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamParams): void {
    const [pp, pg, pm, pv] = this.ptrs('adam', p, g, m, v);
    this.update('adam', 'adam_f32', [pp, pg, pm, pv], n,
      [h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, +h.decoupled, h.bc1, h.bc2]);
  }

  rmsprop(p: Buf, g: Buf, sq: Buf, momentumBuf: Buf | null, gradAvg: Buf | null, n: number, h: RmspropParams): void {
    const [pp, pg, ps] = this.ptrs('rmsprop', p, g, sq);
    const pm = momentumBuf ? this.own(momentumBuf, 'rmsprop').ptr : 0;
    const pa = gradAvg ? this.own(gradAvg, 'rmsprop').ptr : 0;
    this.update('rmsprop', 'rmsprop_f32', [pp, pg, ps, pm, pa], n,
      [h.lr, h.alpha, h.eps, h.weightDecay, h.momentum, +h.centered]);
  }

  adagrad(p: Buf, g: Buf, sum: Buf, n: number, h: AdagradParams): void {
    const [pp, pg, ps] = this.ptrs('adagrad', p, g, sum);
    this.update('adagrad', 'adagrad_f32', [pp, pg, ps], n, [h.clr, h.eps, h.weightDecay]);
  }

  /**
   * An optimizer update kernel(...pointers, n, ...hyper), element by element, so large ones are shared between
   * threads as ranges of elements (each pointer advanced, 0 = absent stays 0): bit-identical to one call.
   */
  private update(name: string, kernel: 'sgd_f32' | 'adam_f32' | 'rmsprop_f32' | 'adagrad_f32', pointers: number[],
    n: number, hyper: number[]): void {
    const ranges = this.ranges(n);
    if (ranges.length < 2) {
      this.run(name, () => (this.exports[kernel] as (...args: number[]) => void)(...pointers, n, ...hyper));
      return;
    }
    const shares = ranges.map(([from, to]) =>
      [...pointers.map((ptr) => (ptr ? ptr + 4 * from : 0)), to - from, ...hyper]);
    this.run(name, () => this.pool!.run(kernel, shares));
  }

  /**
   * How an update is shared between threads: element ranges, one per thread, each a multiple of 16 elements (a
   * cache line) but the last; none for one thread or a small update.
   */
  private ranges(n: number): Range[] {
    const threads = this.threads;
    if (threads < 2 || n < SPLIT_MIN_ELEMENTS) return [];
    const width = Math.ceil(n / threads / 16) * 16;
    const out: Range[] = [];
    for (let from = 0; from < n; from += width) out.push([from, Math.min(n, from + width)]);
    return out;
  }

  /** A fresh view: never cached, because memory.grow detaches the old buffer. */
  private view(b: WasmBuf, offset: number, length: number): TypedArray {
    const mem = this.exports.memory.buffer;
    const at = b.ptr + offset * 4;
    return b.dtype === 'int32' ? new Int32Array(mem, at, length) : new Float32Array(mem, at, length);
  }

  private own(buf: Buf, kernel: string): WasmBuf {
    if (!(buf instanceof WasmBuf) || buf.backend !== this) {
      throw new Error(`${kernel}: a buffer of the '${buf.backend.name}' backend was passed to the wasm backend`);
    }
    if (!buf.live) throw new Error(`${kernel}: buffer used after it was freed`);
    return buf;
  }

  private ptrs(kernel: string, ...bufs: Buf[]): number[] {
    return bufs.map((b) => this.own(b, kernel).ptr);
  }

  /** Thread i's scratch space for packed matmul panels, grown on demand and kept for the next call. */
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
  private run(kernel: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.broken = true;
        throw new Error(`wasm kernel '${kernel}' trapped: ${e.message} (its tensors may hold partial results; ` +
          'call init() again for a fresh backend)', { cause: e });
      }
      throw e;
    }
    const broken = this.heap.checkGuards();
    if (broken) {
      this.broken = true;
      throw new Error(`wasm kernel '${kernel}' wrote outside the blocks it was handed: the guard words ${broken.side} ` +
        `the block of ${broken.bytes} bytes at offset ${broken.ptr} were overwritten (debug build; memory may be ` +
        'corrupt, call init() again for a fresh backend)');
    }
  }
}

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
