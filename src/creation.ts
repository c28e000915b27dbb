// Creating tensors: from nested arrays or typed arrays, constants, ranges and seeded random values. Values are
// produced in TypeScript and written once, so the same call gives the same numbers on every backend. Constants,
// ranges and random values allocate their storage first (so memory limits apply before any work) and go straight
// to typed memory: a fill kernel, or chunks of at most CHUNK values, never one JavaScript array of every value.
import { withOrigin } from './autograd/census.js';
import { Tensor, type NestedArray } from './autograd/tensor.js';
import { getBackend } from './backend/registry.js';
import type { Backend, Buf, DType, TypedArray } from './backend/types.js';
import { checkShape, fmt, sizeOf } from './kernels/shape.js';
import { boolean, checkOptions, describe, given, instanceOf, integer, number, oneOf, string, type Check } from './options.js';
import { globalGenerator, Generator } from './random.js';

/** Options of the creation functions. D, the dtype asked for, is the dtype of the tensor's type (float32 if none). */
export interface TensorOptions<D extends DType = DType> {
  /** 'float32' (the default), 'float64' (ref backend) or 'int32'. */
  dtype?: D;
  /**
   * Record operations on this tensor so backward() gives it a `.grad` (a leaf, like a PyTorch parameter); default
   * false.
   */
  requiresGrad?: boolean;
  /** A label shown by graphOf, toDot, explain and error messages. */
  name?: string;
  /** Defaults to the current backend (see init / setBackend). */
  backend?: Backend;
}

/** Options of randn and rand: a tensor's options, and where the random values come from. */
export interface RandomOptions<D extends DType = DType> extends TensorOptions<D> {
  /** A seed for this call alone; otherwise the global generator (manualSeed) or `generator` is used. */
  seed?: number;
  /** Draw from this generator instead of the global one. */
  generator?: Generator;
}

/** What tensor() takes: a number, nested arrays of numbers, or a typed array (its dtype follows the array's). */
export type Data = NestedArray | TypedArray | readonly number[];

/** The dtype tensor() gives data when no dtype is asked for: a Float64Array's or Int32Array's own, else float32. */
export type DTypeOfData<T> = T extends Float64Array ? 'float64' : T extends Int32Array ? 'int32' : 'float32';

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

const isBackend: Check = {
  what: 'a backend (getBackend(), refBackend() or one from createWasmBackend)',
  ok: (v) => typeof (v as Backend | null)?.alloc === 'function',
};
const isShape: Check = { what: 'an array of integers ≥ 0', ok: (v) => Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0) };

const TENSOR_OPTIONS = { dtype: oneOf(...DTYPES), requiresGrad: boolean, name: string, backend: isBackend };
const RANDOM_OPTIONS = { ...TENSOR_OPTIONS, seed: integer(), generator: instanceOf(Generator) };
const NOT_HERE = { device: 'a tensor lives on a backend: pass { backend } (refBackend(), getBackend())' };

/** Checks a creation function's options (names and values) and returns them. */
function checked<T>(api: string, options: T, spec: Record<string, Check> = TENSOR_OPTIONS): T {
  checkOptions(api, options, spec, NOT_HERE);
  return options;
}

function inferShape(data: Data): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level) || ArrayBuffer.isView(level)) {
    shape.push((level as ArrayLike<unknown>).length);
    level = (level as ArrayLike<unknown>)[0];
  }
  return shape;
}

function flatten(data: Data, shape: readonly number[]): ArrayLike<number> {
  if (ArrayBuffer.isView(data)) return data as TypedArray;
  if (typeof data === 'number') return [data];
  const out: number[] = [];
  const walk = (v: unknown, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof v !== 'number') {
        throw new Error(`tensor: expected a number at ${path || 'the top'}, got ${describe(v)}` +
          (typeof v === 'bigint' ? '; convert BigInt values with Number()' : ''));
      }
      out.push(v);
      return;
    }
    const len = Array.isArray(v) || ArrayBuffer.isView(v) ? (v as ArrayLike<unknown>).length : -1;
    if (len !== shape[dim]) {
      throw new Error(`tensor: ragged nested array: expected length ${shape[dim]} at ${path || 'the top'}, got ${len < 0 ? typeof v : len}`);
    }
    for (let i = 0; i < len; i++) walk((v as ArrayLike<unknown>)[i], dim + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return out;
}

/** The number of elements of `shape`, after checking its dimensions are integers ≥ 0. */
function elements(shape: readonly number[], what: string): number {
  checkShape(shape, what);
  return sizeOf(shape);
}

/** The backend and dtype options ask for (float32 on the current backend by default), checked. */
function placement(api: string, options: TensorOptions): { backend: Backend; dtype: DType } {
  const dtype = options.dtype ?? 'float32';
  if (!DTYPES.includes(dtype)) throw new Error(`${api}: unknown dtype '${dtype}'; use ${DTYPES.map((d) => `'${d}'`).join(', ')}`);
  const backend = options.backend ?? getBackend();
  if (!backend.dtypes.includes(dtype)) {
    throw new Error(`${api}: the ${backend.name} backend does not store ${dtype} (it stores ${backend.dtypes.join(', ')})` +
      (dtype === 'float64' ? "; pass { backend: refBackend() } or setBackend('ref') for float64" : ''));
  }
  return { backend, dtype };
}

/** Writes values into new storage on the chosen backend and wraps it (float32 unless options.dtype says). */
export function fromValues(values: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
  const { backend, dtype } = placement('tensor', options);
  if (values.length !== elements(shape, 'tensor')) {
    throw new Error(`tensor: ${values.length} values do not fill shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
  }
  if (dtype === 'int32') for (let i = 0; i < values.length; i++) checkInt32('tensor', values[i]!, i);
  const buf = backend.alloc(dtype, values.length);
  try {
    backend.write(buf, values);
  } catch (e) {
    backend.free(buf);
    throw e;
  }
  return new Tensor(buf, shape, options);
}

/**
 * A tensor from a number, nested arrays or a typed array (shape inferred unless given). The dtype follows a
 * Float64Array / Int32Array, else float32.
 */
export function tensor<T extends Data, D extends DType = DTypeOfData<T>>(data: T,
  options: TensorOptions<D> & { shape?: readonly number[] } = {}): Tensor<D> {
  checkData(data);
  if (Array.isArray(options) || typeof options === 'string') {
    throw new Error(`tensor: options must be an object, got ${describe(options)}; pass { shape: [...], dtype: '...' }`);
  }
  checked('tensor', options, { ...TENSOR_OPTIONS, shape: isShape });
  const nested = inferShape(data);
  const dtype = options.dtype ?? (data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32');
  return fromValues(flatten(data, nested), options.shape ?? nested, { ...options, dtype }) as Tensor<D>;
}

/** Data that is not numbers (a Tensor, BigInt or DataView) is refused with what to do instead. */
function checkData(data: unknown): void {
  if (data instanceof Tensor) throw new Error('tensor: the data is already a Tensor; use x.clone() for a copy, or x.detach() to share its storage');
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    throw new Error(`tensor: ${data.constructor.name} data is not supported; convert it to numbers first, ` +
      'e.g. Int32Array.from(data, Number) or Float64Array.from(data, Number)');
  }
  if (data instanceof DataView) throw new Error('tensor: a DataView holds no typed values; pass a typed array such as new Float32Array(buffer)');
}

/** A tensor of `shape` filled with `value` (float32 unless options.dtype says). */
export function full<D extends DType = 'float32'>(shape: readonly number[], value: number, options: TensorOptions<D> = {}): Tensor<D> {
  if (typeof value !== 'number') throw new Error(`full: value must be a number, got ${describe(value)}`);
  return constant('full', shape, value, checked('full', options));
}

/** A tensor of `shape` filled with 0 (float32 unless options.dtype says). */
export const zeros = <D extends DType = 'float32'>(shape: readonly number[], options?: TensorOptions<D>) =>
  constant('zeros', shape, 0, checked('zeros', options));
/** A tensor of `shape` filled with 1 (float32 unless options.dtype says). */
export const ones = <D extends DType = 'float32'>(shape: readonly number[], options?: TensorOptions<D>) =>
  constant('ones', shape, 1, checked('ones', options));

/** A tensor of x's shape, dtype and backend filled with value. */
export function fullLike<D extends DType, E extends DType = D>(x: Tensor<D>, value: number, options: TensorOptions<E> = {}): Tensor<E> {
  checked('fullLike', options);
  // x's dtype (D, which E defaults to) unless options.dtype (E) says otherwise
  const like = { dtype: x.dtype, backend: x.backend, ...given(options) } as TensorOptions<E>;
  return constant('fullLike', x.shape, value, like);
}
/** A tensor of x's shape, dtype and backend filled with 0. */
export const zerosLike = <D extends DType, E extends DType = D>(x: Tensor<D>, options?: TensorOptions<E>) =>
  fullLike(x, 0, checked('zerosLike', options));
/** A tensor of x's shape, dtype and backend filled with 1. */
export const onesLike = <D extends DType, E extends DType = D>(x: Tensor<D>, options?: TensorOptions<E>) =>
  fullLike(x, 1, checked('onesLike', options));

/** start, start+step, … below stop (one argument: 0 … n−1). */
export function arange<D extends DType = 'float32'>(start: number, stop?: number, step = 1, options: TensorOptions<D> = {}): Tensor<D> {
  checked('arange', options);
  if (stop === undefined) [start, stop] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new Error(`arange: start and stop must be finite numbers, got ${start} and ${stop}`);
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a nonzero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return allocated('arange', [n], n, options, (buf) => writeInChunks(buf, n, (chunk, offset) => {
    for (let i = 0; i < chunk.length; i++) {
      chunk[i] = start + (offset + i) * step;
      if (buf.dtype === 'int32') checkInt32('arange', chunk[i]!, offset + i);
    }
  }));
}

/**
 * `steps` values evenly spaced from start to end, both included (PyTorch's torch.linspace; steps 1 gives [start]).
 * Value i is start + i·step in the first half and end − (steps − 1 − i)·step in the second, so both ends are exact;
 * computed in float64 and rounded once to the dtype (int32: truncated toward zero, as PyTorch).
 */
export function linspace<D extends DType = 'float32'>(start: number, end: number, steps: number, options: TensorOptions<D> = {}): Tensor<D> {
  checked('linspace', options);
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new Error(`linspace: start and end must be finite numbers, got ${describe(start)} and ${describe(end)}`);
  }
  if (!Number.isSafeInteger(steps) || steps < 0) {
    throw new Error(`linspace: steps must be an integer ≥ 0, got ${describe(steps)}`);
  }
  if (options.dtype === 'int32') for (const v of [start, end]) checkInt32('linspace', Math.trunc(v)); // and all between
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  const half = Math.floor(steps / 2);
  return allocated('linspace', [steps], steps, options, (buf) => writeInChunks(buf, steps, (chunk, offset) => {
    for (let i = 0; i < chunk.length; i++) {
      const k = offset + i;
      const v = steps === 1 ? start : k < half ? start + step * k : end - step * (steps - 1 - k);
      chunk[i] = buf.dtype === 'int32' ? Math.trunc(v) : v;
    }
  }));
}

function generatorFor(options: RandomOptions): Generator {
  if (options.seed !== undefined) return new Generator(options.seed);
  return options.generator ?? globalGenerator;
}

/** Normal N(mean, std²) values. */
export function randn<D extends DType = 'float32'>(shape: readonly number[],
  options: RandomOptions<D> & { mean?: number; std?: number } = {}): Tensor<D> {
  checked('randn', options, { ...RANDOM_OPTIONS, mean: number(), std: number({ ge: 0 }) });
  const { mean = 0, std = 1 } = options;
  return random('randn', shape, options, (g, chunk) => g.fillNormal(chunk, mean, std));
}

/** Uniform values in [low, high) (default [0, 1)). */
export function rand<D extends DType = 'float32'>(shape: readonly number[],
  options: RandomOptions<D> & { low?: number; high?: number } = {}): Tensor<D> {
  checked('rand', options, { ...RANDOM_OPTIONS, low: number(), high: number() });
  const { low = 0, high = 1 } = options;
  return random('rand', shape, options, (g, chunk) => g.fillUniform(chunk, low, high));
}

/** Values made and written this many at a time: even, so the normals' pairs never straddle two chunks. */
const CHUNK = 1 << 16;

/**
 * New storage for `n` elements (shape checked by the caller) on the backend and dtype the options ask for,
 * allocated before any value is made, then filled by `fill` and wrapped; freed again if filling throws.
 */
function allocated<D extends DType>(api: string, shape: readonly number[], n: number, options: TensorOptions<D>,
  fill: (buf: Buf) => void): Tensor<D> {
  const { backend, dtype } = placement(api, options);
  const buf = backend.alloc(dtype, n);
  try {
    fill(buf);
  } catch (e) {
    backend.free(buf);
    throw e;
  }
  // placement() chose options.dtype, else float32: the D of the options (float32 when not given)
  return withOrigin(`${api}()`, () => new Tensor(buf, shape, options) as Tensor<D>);
}

/** full, zeros, ones: one value everywhere, written by the backend's fill kernel. */
function constant<D extends DType>(api: string, shape: readonly number[], value: number, options: TensorOptions<D> = {}): Tensor<D> {
  return allocated(api, shape, elements(shape, api), options, (buf) => {
    if (buf.dtype === 'int32') checkInt32(api, value);
    buf.backend.fill(buf, value, 0, buf.size);
  });
}

/** randn, rand: float values from the options' generator, made in chunks in the order of one long stream. */
function random<D extends DType>(api: string, shape: readonly number[], options: RandomOptions<D>,
  generate: (g: Generator, chunk: Float64Array) => void): Tensor<D> {
  if (options.dtype === 'int32') throw new Error(`${api}: random values need a floating-point dtype (float32 or float64), not int32`);
  const n = elements(shape, api);
  return allocated(api, shape, n, options, (buf) => {
    const g = generatorFor(options);
    writeInChunks(buf, n, (chunk) => generate(g, chunk));
  });
}

/** Writes buf's n values in chunks: `make(chunk, offset)` puts the values of [offset, offset + chunk.length) in chunk. */
function writeInChunks(buf: Buf, n: number, make: (chunk: Float64Array, offset: number) => void): void {
  const chunk = new Float64Array(Math.min(n, CHUNK));
  for (let offset = 0; offset < n; offset += CHUNK) {
    const part = offset + CHUNK <= n ? chunk : chunk.subarray(0, n - offset);
    make(part, offset);
    buf.backend.write(buf, part, offset);
  }
}

/** Throws unless v is an int32: an integer in [−2³¹, 2³¹). */
function checkInt32(api: string, v: number, index?: number): void {
  if ((v | 0) !== v) {
    throw new Error(`${api}: int32 values must be integers in [-2147483648, 2147483647], got ${v}` +
      (index === undefined ? '' : ` at index ${index}`));
  }
}
