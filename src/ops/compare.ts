// Comparisons (broadcasting): 1 where the relation holds, else 0, in the inputs' float dtype. They are piecewise
// constant, so no gradient flows through them (they record no node).
import { toTensors, type TensorLike } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import type { BinaryOp } from '../backend/types.js';
import * as K from '../kernels/index.js';

function compare(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  return noGrad(() => {
    const { tensors: [x, y], temps } = toTensors(op, [a, b]);
    try {
      const r = K.binary(op, x!, y!);
      return new Tensor(r.buf, r.shape);
    } finally {
      for (const t of temps) t.dispose();
    }
  });
}

export const equal = (a: TensorLike, b: TensorLike) => compare('equal', a, b);
export const greater = (a: TensorLike, b: TensorLike) => compare('greater', a, b);
export const greaterEqual = (a: TensorLike, b: TensorLike) => compare('greaterEqual', a, b);
export const less = (a: TensorLike, b: TensorLike) => compare('less', a, b);
export const lessEqual = (a: TensorLike, b: TensorLike) => compare('lessEqual', a, b);
