// reshape: the same values under another shape of the same size (one dim may be −1: inferred). It shares
// storage with x instead of copying. Its gradient is the upstream gradient reshaped back.
import { census } from '../autograd/census.js';
import { apply, checkAlive } from '../autograd/op.js';
import { engine } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import { checkInts, fmt, sameShape, sizeOf } from '../kernels/shape.js';

/** The same values under another shape of the same size, sharing storage (one dim may be −1: inferred). Alias: view. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape(x, shape);
  // Same shape: x itself (a no-op is not worth a node). `view` always makes a new tensor.
  return sameShape(target, x.shape) ? x : view(x, target);
}

/** A new tensor on x's storage with another shape (recorded as a reshape node when x requires grad). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape(x, shape);
  if (!(engine.gradEnabled && x.requiresGrad) && !engine.checkNumerics) {
    // Nothing to record (a backward pass's reshapes and aliases, data): the tensor apply() would make, without
    // its bookkeeping.
    checkAlive('reshape', [x]);
    const outer = census.origin;
    census.origin = 'reshape';
    try {
      return new Tensor(x, target);
    } finally {
      census.origin = outer;
    }
  }
  return apply({
    op: 'reshape',
    inputs: [x],
    forward: ([t]) => new Tensor(t!, target),
    backward: (g, _, [t]) => [reshape(g, t!.shape)],
    attrs: { shape: target },
  });
}

/** Collapses x to 1-D. */
export function flatten(x: Tensor, startDim = 0): Tensor {
  const start = startDim < 0 ? startDim + x.rank : startDim;
  return reshape(x, [...x.shape.slice(0, start), -1]);
}

function inferShape(x: Tensor, shape: readonly number[]): number[] {
  checkInts('reshape', 'shape', shape);
  const unknown = shape.filter((d) => d === -1).length;
  const known = sizeOf(shape.filter((d) => d !== -1));
  const bad = unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1) ||
    (unknown === 1 ? known === 0 || x.size % known !== 0 : known !== x.size);
  if (bad) throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  return shape.map((d) => (d === -1 ? x.size / known : d));
}
