// BatchMatMul and _FusedMatMul on wasmgrad's matmul: transposes are flags of the kernel (never copies), a [n]
// bias is added inside it, batch dims broadcast as in NumPy (a single matrix is shared without a copy).
import { BatchMatMul, broadcast_util, _FusedMatMul, type TensorInfo } from '@tensorflow/tfjs-core';
import { binary, broadcastTo, matmul, unary, type NDArray } from '../../kernels/index.js';
import type { WasmgradBackend } from '../backend.js';
import { runOnCpu } from '../fallback.js';
import { clip, elu } from './unary.js';
import { kernel, view, withScratch } from './util.js';

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** op(a)·op(b) over broadcast batch dims, with an optional [n] bias; the result has shape [...batch, m, n]. */
function batchMatMul(backend: WasmgradBackend, a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean,
  bias: NDArray | null): NDArray {
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new Error(`BatchMatMul: operands must have rank ≥ 2, got [${a.shape.join(',')}] and [${b.shape.join(',')}]`);
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const m = transA ? ac : ar;
  const n = transB ? br : bc;
  return withScratch((tmp) => {
    // One matrix is a 2-D operand (shared over the batch); equal batches are [B, r, c]; anything else broadcasts.
    const operand = (t: TensorInfo, own: number[], r: number, c: number): NDArray => {
      const x = backend.nd(t);
      if (size(own) === 1) return view(x, [r, c]);
      if (size(own) === size(batch)) return view(x, [size(batch), r, c]); // then own is batch with 1s added or removed
      return view(tmp(broadcastTo(view(x, [...own, r, c]), [...batch, r, c])), [size(batch), r, c]);
    };
    const x = operand(a, batchA, ar, ac);
    const y = operand(b, batchB, br, bc);
    return view(matmul(x, y, { transA, transB, bias }), [...batch, m, n]);
  });
}

export const batchMatMulConfig = kernel(BatchMatMul, (args) => {
  const { inputs, attrs, backend } = args;
  if (inputs.a!.dtype !== 'float32') return runOnCpu(BatchMatMul, args);
  return backend.output(batchMatMul(backend, inputs.a!, inputs.b!, !!attrs.transposeA, !!attrs.transposeB, null), 'float32');
});

/** The activations applied natively; prelu is listed in src/tfjs/fallback.ts. */
export const ACTIVATIONS: Record<string, ((x: NDArray, backend: WasmgradBackend, alpha: number) => NDArray) | null> = {
  linear: null,
  relu: (x) => unary('relu', x),
  relu6: (x, backend) => clip(backend, x, 0, 6),
  sigmoid: (x) => unary('sigmoid', x),
  leakyrelu: (x, _, alpha) => unary('leakyRelu', x, alpha),
  elu: (x, backend) => elu(backend, x),
};

export const fusedMatMulConfig = kernel(_FusedMatMul, (args) => {
  const { inputs, attrs, backend } = args;
  const { a, b, bias } = inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (!(activation in ACTIVATIONS) || a.dtype !== 'float32') return runOnCpu(_FusedMatMul, args);
  const transA = !!attrs.transposeA;
  const transB = !!attrs.transposeB;
  const n = transB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
  return backend.output(withScratch((tmp) => {
    // A [n] bias (a Dense layer's) is added inside the product; any other broadcastable shape afterwards.
    const inside = bias && bias.shape.length === 1 && bias.shape[0] === n ? backend.nd(bias) : null;
    let y = batchMatMul(backend, a, b, transA, transB, inside);
    if (bias && !inside) y = binary('add', tmp(y), backend.nd(bias));
    const f = ACTIVATIONS[activation];
    return f ? f(tmp(y), backend, (attrs.leakyreluAlpha as number | undefined) ?? 0.2) : y;
  }), 'float32');
});
