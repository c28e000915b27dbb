// Pure shape arithmetic: broadcasting (NumPy rules), strides, and collapsing an iteration space to as few
// dimensions as possible so the kernels see ≤ 4 dims in nearly every case.
import { describe } from '../options.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

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
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
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
  const lead = out.length - shape.length;
  const s = new Array<number>(out.length);
  let acc = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    const d = i < lead ? 1 : shape[i - lead]!;
    s[i] = d === 1 ? 0 : acc;
    acc *= d;
  }
  return s;
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
    let merges = last >= 0;
    for (let k = 0; merges && k < strides.length; k++) merges = s[k]![last] === strides[k]![i]! * dims[i]!;
    if (merges) d[last] = d[last]! * dims[i]!;
    else d.push(dims[i]!);
    for (let k = 0; k < strides.length; k++) {
      if (merges) s[k]![last] = strides[k]![i]!;
      else s[k]!.push(strides[k]![i]!);
    }
  }
  if (d.length === 0) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims: d, strides: s };
}

/** An elementwise iteration: the broadcast output shape, and the collapsed dims and each operand's strides. */
export interface BroadcastPlan { shape: number[]; dims: number[]; strides: number[][] }

/**
 * broadcastShapes + broadcastStrides + collapse for the operands of an elementwise kernel. The cases of nearly
 * every call — operands of one shape, and single elements (scalars) against them — are one flat walk ([n], strides
 * 1 or 0), known without the general rules: small models make thousands of such calls a second, and there the
 * plan, not the arithmetic, was the cost. The plan is the one collapse() gives, so results are identical.
 */
export function broadcastPlan(kernel: string, shapes: Shape[]): BroadcastPlan {
  // The operand that could be the output's shape: the highest rank, then the most elements.
  let full = shapes[0]!;
  let n = sizeOf(full);
  for (const s of shapes) {
    if (s.length > full.length || (s.length === full.length && sizeOf(s) > n)) {
      full = s;
      n = sizeOf(s);
    }
  }
  let flat = n > 1;
  for (let k = 0; flat && k < shapes.length; k++) flat = sameShape(shapes[k]!, full) || sizeOf(shapes[k]!) === 1;
  if (flat) return { shape: [...full], dims: [n], strides: shapes.map((s) => [sameShape(s, full) ? 1 : 0]) };
  const shape = broadcastShapes(kernel, ...shapes);
  return { shape, ...collapse(shape, shapes.map((s) => broadcastStrides(s, shape))) };
}

/** Whether two shapes are equal, dim by dim (no strings built: kernels compare shapes on every call). */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
