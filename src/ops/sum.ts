// sum over axes (default all), keeping them as size 1 or dropping them. An empty list of axes reduces nothing
// (NumPy's and TensorFlow.js's rule; old PyTorch summed everything). Every input element contributes with
// weight 1, so the gradient is the upstream gradient broadcast back over the reduced axes.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { normalizeAxes } from '../kernels/shape.js';
import { broadcastTo } from './broadcastTo.js';
import { reshape } from './reshape.js';

/**
 * The axes a reduction runs over: one axis, a list (negative counts from the end), or undefined for all. An empty
 * list reduces nothing.
 */
export type Axes = number | readonly number[] | undefined;

/** The shape of a reduction's result with the reduced axes kept as 1 (to broadcast a gradient back). */
export function keptShape(op: string, shape: readonly number[], axes: Axes): number[] {
  const ax = normalizeAxes(op, shape, axes);
  return shape.map((d, i) => (ax.includes(i) ? 1 : d));
}

/** The sum over `axes` (default all), keeping them as size 1 when keepdims is true (PyTorch's keepdim). */
export function sum(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  return apply({
    op: 'sum',
    inputs: [x],
    forward: ([t]) => K.reduce('sum', t!, axes, keepdims).out,
    backward: (g, _, [t]) => [broadcastTo(reshape(g, keptShape('sum', t!.shape, axes)), t!.shape)],
    attrs: { axes, keepdims },
    local: () => ['1'],
  });
}
