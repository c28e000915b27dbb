// Creating tensors: from nested arrays or typed arrays, constants, ranges and seeded random values. Values are
// produced in TypeScript and written once, so the same call gives the same numbers on every backend.
import { Tensor, type NestedArray } from './autograd/tensor.js';
import { getBackend } from './backend/registry.js';
import type { Backend, DType, TypedArray } from './backend/types.js';
import { checkShape, fmt, sizeOf } from './kernels/shape.js';
import { boolean, checkOptions, describe, given, instanceOf, integer, number, oneOf, string, type Check } from './options.js';
import { globalGenerator, Generator } from './random.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  name?: string;
  /** Defaults to the current backend (see init / setBackend). */
  backend?: Backend;
}

export interface RandomOptions extends TensorOptions {
  /** A seed for this call alone; otherwise the global generator (manualSeed) or `generator` is used. */
  seed?: number;
  generator?: Generator;
}

type Data = NestedArray | TypedArray | readonly number[];

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

/** Writes values into new storage on the chosen backend and wraps it (float32 unless options.dtype says). */
export function fromValues(values: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  if (!DTYPES.includes(dtype)) throw new Error(`tensor: unknown dtype '${dtype}'; use ${DTYPES.map((d) => `'${d}'`).join(', ')}`);
  if (values.length !== elements(shape, 'tensor')) {
    throw new Error(`tensor: ${values.length} values do not fill shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
  }
  if (dtype === 'int32') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v)) throw new Error(`tensor: int32 data must be integers, got ${v} at index ${i}`);
      if (v < -2147483648 || v > 2147483647) {
        throw new Error(`tensor: int32 data must be in [-2147483648, 2147483647], got ${v} at index ${i}`);
      }
    }
  }
  const backend = options.backend ?? getBackend();
  if (!backend.dtypes.includes(dtype)) {
    throw new Error(`tensor: the ${backend.name} backend does not store ${dtype} (it stores ${backend.dtypes.join(', ')})` +
      (dtype === 'float64' ? "; pass { backend: refBackend() } or setBackend('ref') for float64" : ''));
  }
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
export function tensor(data: Data, options: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  checkData(data);
  if (Array.isArray(options) || typeof options === 'string') {
    throw new Error(`tensor: options must be an object, got ${describe(options)}; pass { shape: [...], dtype: '...' }`);
  }
  checked('tensor', options, { ...TENSOR_OPTIONS, shape: isShape });
  const nested = inferShape(data);
  const dtype = options.dtype ?? (data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32');
  return fromValues(flatten(data, nested), options.shape ?? nested, { ...options, dtype });
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

export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  if (typeof value !== 'number') throw new Error(`full: value must be a number, got ${describe(value)}`);
  checked('full', options);
  return fromValues(new Array<number>(elements(shape, 'full')).fill(value), shape, options);
}

export const zeros = (shape: readonly number[], options?: TensorOptions) => full(shape, 0, checked('zeros', options));
export const ones = (shape: readonly number[], options?: TensorOptions) => full(shape, 1, checked('ones', options));

/** A tensor of x's shape, dtype and backend filled with value. */
export function fullLike(x: Tensor, value: number, options: TensorOptions = {}): Tensor {
  checked('fullLike', options);
  return full(x.shape, value, { dtype: x.dtype, backend: x.backend, ...given(options) });
}
export const zerosLike = (x: Tensor, options?: TensorOptions) => fullLike(x, 0, checked('zerosLike', options));
export const onesLike = (x: Tensor, options?: TensorOptions) => fullLike(x, 1, checked('onesLike', options));

/** start, start+step, … below stop (one argument: 0 … n−1). */
export function arange(start: number, stop?: number, step = 1, options: TensorOptions = {}): Tensor {
  checked('arange', options);
  if (stop === undefined) [start, stop] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new Error(`arange: start and stop must be finite numbers, got ${start} and ${stop}`);
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a nonzero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return fromValues(Array.from({ length: n }, (_, i) => start + i * step), [n], options);
}

function generatorFor(options: RandomOptions): Generator {
  if (options.seed !== undefined) return new Generator(options.seed);
  return options.generator ?? globalGenerator;
}

/** Normal N(mean, std²) values. */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checked('randn', options, { ...RANDOM_OPTIONS, mean: number(), std: number({ ge: 0 }) });
  return fromValues(generatorFor(options).normal(elements(shape, 'randn'), options.mean ?? 0, options.std ?? 1), shape,
    { dtype: 'float32', ...options });
}

/** Uniform values in [low, high) (default [0, 1)). */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checked('rand', options, { ...RANDOM_OPTIONS, low: number(), high: number() });
  return fromValues(generatorFor(options).uniform(elements(shape, 'rand'), options.low ?? 0, options.high ?? 1), shape,
    { dtype: 'float32', ...options });
}
