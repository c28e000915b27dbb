// Creating tensors: from nested arrays or typed arrays, constants, ranges and seeded random values. Values are
// produced in TypeScript and written once, so the same call gives the same numbers on every backend.
import { Tensor, type NestedArray } from './autograd/tensor.js';
import { getBackend } from './backend/registry.js';
import type { Backend, DType, TypedArray } from './backend/types.js';
import { checkShape, fmt, sizeOf } from './kernels/shape.js';
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
      if (typeof v !== 'number') throw new Error(`tensor: expected a number at ${path || 'the top'}, got ${Array.isArray(v) ? 'an array' : typeof v}`);
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

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

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
      if (!Number.isInteger(values[i]) || Math.abs(values[i]!) > 2147483647) {
        throw new Error(`tensor: int32 data must be integers, got ${values[i]} at index ${i}`);
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
  const nested = inferShape(data);
  const dtype = options.dtype ?? (data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32');
  return fromValues(flatten(data, nested), options.shape ?? nested, { ...options, dtype });
}

export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  return fromValues(new Array<number>(elements(shape, 'full')).fill(value), shape, options);
}

export const zeros = (shape: readonly number[], options?: TensorOptions) => full(shape, 0, options);
export const ones = (shape: readonly number[], options?: TensorOptions) => full(shape, 1, options);

/** A tensor of x's shape, dtype and backend filled with value. */
export function fullLike(x: Tensor, value: number, options: TensorOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, backend: x.backend, ...options });
}
export const zerosLike = (x: Tensor, options?: TensorOptions) => fullLike(x, 0, options);
export const onesLike = (x: Tensor, options?: TensorOptions) => fullLike(x, 1, options);

/** start, start+step, … below stop (one argument: 0 … n−1). */
export function arange(start: number, stop?: number, step = 1, options: TensorOptions = {}): Tensor {
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
  return fromValues(generatorFor(options).normal(elements(shape, 'randn'), options.mean ?? 0, options.std ?? 1), shape,
    { dtype: 'float32', ...options });
}

/** Uniform values in [low, high) (default [0, 1)). */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  return fromValues(generatorFor(options).uniform(elements(shape, 'rand'), options.low ?? 0, options.high ?? 1), shape,
    { dtype: 'float32', ...options });
}
