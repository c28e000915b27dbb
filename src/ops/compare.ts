// Comparisons (broadcasting): 1 where the relation holds, else 0, in the inputs' dtype (int32 for int32 inputs, so
// accuracy is pred.equal(y).float().mean()). An int32 operand compared with a float one (a float tensor, or a
// number that is not an int32) is compared as a float, as PyTorch promotes it (to float32 for a number). They are
// piecewise constant, so no gradient flows through them (they record no node).
import { checkAlive, toTensors, type TensorLike } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import { Tensor } from '../autograd/tensor.js';
import type { CompareOp, FloatDType } from '../backend/types.js';
import * as K from '../kernels/index.js';
import { cast } from './cast.js';

function compare(op: CompareOp, a: TensorLike, b: TensorLike): Tensor {
  return noGrad(() => {
    checkAlive(op, [a, b]);
    const float = promotedDtype(a, b);
    const operands = [a, b];
    const promoted = operands.map((v) => (float && v instanceof Tensor && v.dtype === 'int32' ? cast(v, float) : v));
    const { tensors: [x, y], temps } = toTensors(op, promoted);
    try {
      const r = K.binary(op, x!, y!);
      return new Tensor(r.buf, r.shape);
    } finally {
      for (const t of temps) t.dispose();
      promoted.forEach((v, i) => {
        if (v !== operands[i]) (v as Tensor).dispose();
      });
    }
  });
}

/** The float dtype an int32 tensor operand is compared in, or null when no operand is a float. */
function promotedDtype(a: TensorLike, b: TensorLike): FloatDType | null {
  const operands = [a, b];
  if (!operands.some((v) => v instanceof Tensor && v.dtype === 'int32')) return null;
  const floatTensor = operands.find((v): v is Tensor => v instanceof Tensor && v.dtype !== 'int32');
  if (floatTensor) return floatTensor.dtype as FloatDType;
  return operands.some((v) => typeof v === 'number' && (v | 0) !== v) ? 'float32' : null;
}

/**
 * 1 where a = b, else 0 (broadcasting), in the inputs' dtype: `pred.equal(y).float().mean()` is an accuracy. No
 * gradient flows through comparisons.
 */
export const equal = (a: TensorLike, b: TensorLike) => compare('equal', a, b);
/** 1 where a > b, else 0 (broadcasting), in the inputs' dtype. No gradient. */
export const greater = (a: TensorLike, b: TensorLike) => compare('greater', a, b);
/** 1 where a ≥ b, else 0 (broadcasting), in the inputs' dtype. No gradient. */
export const greaterEqual = (a: TensorLike, b: TensorLike) => compare('greaterEqual', a, b);
/** 1 where a < b, else 0 (broadcasting), in the inputs' dtype. No gradient. */
export const less = (a: TensorLike, b: TensorLike) => compare('less', a, b);
/** 1 where a ≤ b, else 0 (broadcasting), in the inputs' dtype. No gradient. */
export const lessEqual = (a: TensorLike, b: TensorLike) => compare('lessEqual', a, b);
