// concat: joins tensors along an axis. Each input's gradient is its own slice of the upstream gradient.
import { apply } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { normalizeAxis } from '../kernels/shape.js';
import { describe } from '../options.js';
import { slice } from './slice.js';

/**
 * Joins tensors along `axis` (default 0; negative counts from the end), PyTorch's torch.cat. Every other dim must
 * match.
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs)) throw new Error(`concat: expected an array of tensors, got ${describe(xs)}`);
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  return apply({
    op: 'concat',
    inputs: xs,
    forward: (ts) => K.concat(ts, axis),
    backward: (g, _, inputs, needs) => {
      const a = normalizeAxis('concat', g.shape, axis);
      let at = 0;
      return inputs.map((t, i) => {
        const begin = g.shape.map((_, d) => (d === a ? at : 0));
        at += t.shape[a]!;
        return needs[i] ? slice(g, begin, t.shape) : null;
      });
    },
    attrs: { axis },
  });
}
