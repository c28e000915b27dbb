// mean over axes (default all): the sum divided by the number of reduced elements n, so each input element
// gets 1/n of the upstream gradient.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { broadcastTo } from './broadcastTo.js';
import { div } from './div.js';
import { reshape } from './reshape.js';
import { keptShape, type Axes } from './sum.js';

/** The mean over `axes` (default all), keeping them as size 1 when keepdims is true. */
export function mean(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  return apply({
    op: 'mean',
    inputs: [x],
    forward: ([t]) => K.reduce('mean', t!, axes, keepdims).out,
    backward: (g, _, [t]) => {
      const kept = keptShape('mean', t!.shape, axes);
      const n = t!.size / kept.reduce((a, b) => a * b, 1);
      return [broadcastTo(div(reshape(g, kept), n), t!.shape)];
    },
    attrs: { axes, keepdims },
    local: () => ['1/n'],
  });
}
