// FusedBatchNorm (tf.batchNorm): offset + (x − mean)·scale / √(variance + ε). As on tfjs-backend-cpu, each of mean,
// variance, scale and offset is read cyclically over x's elements in memory order (element i takes p[i mod p.size]):
// x is seen as rows of p.size and p broadcast over the rows, which for the usual per-channel [c] parameters of an
// NHWC x is broadcasting along the last axis.
import { FusedBatchNorm, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BinaryOp } from '../../backend/types.js';
import { binary, unary, type NDArray } from '../../kernels/index.js';
import { constant, kernel, view, withScratch } from './util.js';

/** a op p with p read cyclically over a's elements (a's size a multiple of p's; else NumPy broadcasting decides). */
function cyclic(op: BinaryOp, a: NDArray, p: NDArray): NDArray {
  const [n, m] = [util.sizeFromShape([...a.shape]), util.sizeFromShape([...p.shape])];
  if (m === 0 || n % m !== 0) return binary(op, a, p);
  return view(binary(op, view(a, [n / m, m]), view(p, [m])), a.shape);
}

export const fusedBatchNormConfig = kernel(FusedBatchNorm, ({ inputs, attrs, backend }) => {
  const { x, mean, variance, scale, offset } = inputs as Record<string, TensorInfo | undefined>;
  const eps = (attrs.varianceEpsilon as number | undefined) ?? 0.001;
  const nd = (t: TensorInfo | undefined) => (t ? backend.nd(t) : null);
  return backend.output(withScratch((tmp) => {
    const inv = tmp(unary('reciprocal', tmp(unary('sqrt', tmp(binary('add', nd(variance)!, tmp(constant(backend, eps))))))));
    const y = cyclic('mul', tmp(cyclic('sub', nd(x)!, nd(mean)!)), inv);
    const scaled = scale ? cyclic('mul', tmp(y), nd(scale)!) : y;
    return offset ? cyclic('add', tmp(scaled), nd(offset)!) : scaled;
  }), 'float32');
});
