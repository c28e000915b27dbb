// max over axes (default all). The gradient goes to the maximal elements, split evenly among ties (like
// torch.amax): dx = dy · [x = max] / #ties. argMax gives the positions (int32, no gradient).
import { apply } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { broadcastTo } from './broadcastTo.js';
import { equal } from './compare.js';
import { div } from './div.js';
import { mul } from './mul.js';
import { reshape } from './reshape.js';
import { sum, keptShape, type Axes } from './sum.js';

/**
 * The maximum over `axes` (default all), keeping them as size 1 when keepdims is true. The gradient goes to the
 * maximal elements, split evenly among ties (as torch.amax).
 */
export function max(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  return apply({
    op: 'max',
    inputs: [x],
    forward: ([t]) => {
      const { out, argmax } = K.reduce('max', t!, axes, keepdims);
      K.free(argmax!);
      return out;
    },
    save: ([t], out) => [t!, out],
    backward: (g, [t, out]) => {
      const kept = keptShape('max', t!.shape, axes);
      const mask = equal(t!, reshape(out!, kept));
      const ties = sum(mask, axes, true);
      return [mul(broadcastTo(reshape(g, kept), t!.shape), div(mask, ties))];
    },
    attrs: { axes, keepdims },
    local: ([x]) => [`[${x} = max]`],
  });
}

/** Index of the maximum along one axis (int32; the first one on ties). */
export function argMax(x: Tensor, axis = -1, keepdims = false): Tensor {
  return noGrad(() => {
    const { out, argmax } = K.reduce('max', x, axis, keepdims);
    K.free(out);
    return new Tensor(argmax!.buf, argmax!.shape);
  });
}
