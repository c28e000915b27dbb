// cast: x converted to another dtype, as PyTorch's x.to(dtype), x.float(), x.int(). float → int32 truncates toward
// zero like PyTorch's .int() (saturating at int32's range, NaN → 0, where PyTorch's result is undefined); int32 →
// float32 rounds to nearest (exact below 2²⁴). The same dtype gives a view of x (PyTorch returns x itself). The
// gradient of a float → float cast is the upstream gradient cast back; an int32 result has none.
import { apply, checkAlive, checkTensor } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import type { DType } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { checkValue, oneOf } from '../options.js';
import { view } from './reshape.js';

const DTYPE = oneOf('float32', 'float64', 'int32');

/**
 * x converted to `dtype`, as PyTorch's x.to(dtype): float → int32 truncates toward zero, int32 → float32 rounds to
 * nearest; the same dtype gives a view. An int32 result has no gradient.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', 'x', x);
  checkValue('cast', 'dtype', dtype, DTYPE);
  checkAlive('cast', [x]);
  if (dtype === x.dtype) return view(x, x.shape);
  if (!x.backend.dtypes.includes(dtype)) {
    const stores = x.backend.dtypes.join(', ');
    throw new Error(`cast: the ${x.backend.name} backend does not store ${dtype} (it stores ${stores})`);
  }
  const run = () => apply({
    op: 'cast',
    inputs: [x],
    forward: ([t]) => K.cast(t!, dtype),
    backward: (g, _, [t]) => [cast(g, t!.dtype)],
    attrs: { dtype },
    local: () => ['1'],
  });
  // An int32 result cannot require a gradient: nothing is recorded.
  return dtype === 'int32' ? noGrad(run) : run();
}
