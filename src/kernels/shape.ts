// Pure shape arithmetic: broadcasting (NumPy rules), strides, and collapsing an iteration space to as few
// dimensions as possible so the kernels see ≤ 4 dims in nearly every case.
import { describe } from '../options.js';

export type Shape = readonly number[];

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export const fmt = (shape: Shape): string => `[${shape.join(',')}]`;

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function checkShape(shape: Shape, what: string): void {
  if (!Array.isArray(shape)) throw new Error(`${what}: shape must be an array of integers ≥ 0, got ${describe(shape)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${what}: invalid shape ${fmt(shape)} (dimensions must be integers ≥ 0)`);
  }
}

/** Throws unless `value` is an array of integers (a shape, a permutation, slice bounds), naming the op. */
export function checkInts(op: string, name: string, value: unknown): void {
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v))) {
    throw new Error(`${op}: ${name} must be an array of integers, got ${describe(value)}`);
  }
}

/** The broadcast of several shapes (NumPy rules), or an Error naming the kernel and the shapes. */
export function broadcastShapes(kernel: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let i = 0; i < rank; i++) {
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === out[i] || d === 1) continue;
      if (out[i] === 1) out[i] = d;
      else throw new Error(`${kernel}: shapes ${shapes.map(fmt).join(' and ')} are not broadcastable`);
    }
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `out` (0 along broadcast dims). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const own = stridesOf(shape);
  const lead = out.length - shape.length;
  return out.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

/**
 * Drops size-1 dims and merges neighbours that every operand walks contiguously (stride[i] = stride[i+1]·dim[i+1]),
 * so [64,128] + [128] stays 2-D but [8,16,32] + [8,16,32] becomes 1-D.
 */
export function collapse(dims: Shape, strides: number[][]): { dims: number[]; strides: number[][] } {
  const d: number[] = [];
  const s: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const last = d.length - 1;
    if (last >= 0 && strides.every((st, k) => s[k]![last] === st[i]! * dims[i]!)) {
      d[last] = d[last]! * dims[i]!;
      strides.forEach((st, k) => (s[k]![last] = st[i]!));
    } else {
      d.push(dims[i]!);
      strides.forEach((st, k) => s[k]!.push(st[i]!));
    }
  }
  if (d.length === 0) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims: d, strides: s };
}

/** Normalises reduction axes (negative allowed; undefined = all), rejecting out-of-range and repeated ones. */
export function normalizeAxes(kernel: string, shape: Shape, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  if (typeof axes !== 'number' && !(Array.isArray(axes) && axes.every((a) => typeof a === 'number'))) {
    throw new Error(`${kernel}: axes must be an integer or an array of integers, got ${describe(axes)}`);
  }
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -shape.length || a >= Math.max(shape.length, 1)) {
      throw new Error(`${kernel}: axis ${a} is out of range for shape ${fmt(shape)}`);
    }
    return a < 0 ? a + shape.length : a;
  });
  if (new Set(out).size !== out.length) throw new Error(`${kernel}: repeated axis in [${list.join(',')}]`);
  return out.sort((a, b) => a - b);
}

export function normalizeAxis(kernel: string, shape: Shape, axis: number): number {
  return normalizeAxes(kernel, shape, axis)[0]!;
}
