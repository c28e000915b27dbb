// linear: y = x·Wᵀ + b with W of shape [out, in] (PyTorch's convention), as one fused kernel call. Leading dims
// of x are folded into rows. Backward: dx = g·W, dW = gᵀ·x, db = Σ_rows g — straight from the kernels, unless the
// backward is being recorded (higher-order gradients): then from differentiable ops. The kernels see the same
// operands either way; the direct path skips five ops' bookkeeping (tensors, scopes) per linear.
import { apply, checkAlive, checkTensor, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { matmul } from './matmul.js';
import { reshape } from './reshape.js';
import { sum } from './sum.js';

/**
 * y = x·Wᵀ + b with weight W [out, in] (PyTorch's F.linear) and an optional bias [out], as one fused kernel; x [...,
 * in] gives [..., out].
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkTensor('linear', 'input', x);
  checkTensor('linear', 'weight', weight);
  if (bias !== null) checkTensor('linear', 'bias', bias);
  checkAlive('linear', [x, weight, ...(bias ? [bias] : [])]);
  if (weight.rank !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${fmt(weight.shape)}`);
  const [outF, inF] = weight.shape as [number, number];
  if (x.rank === 0 || x.shape[x.rank - 1] !== inF) {
    throw new Error(`linear: input ${fmt(x.shape)} should end in ${inF} features to match weight ${fmt(weight.shape)}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias must have shape [${outF}] for weight ${fmt(weight.shape)}, got ${fmt(bias.shape)}`);
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return apply({
    op: 'linear',
    inputs,
    forward: ([t, w, b]) => {
      const rows = t!.rank > 2 ? { buf: t!.buf, shape: [t!.size / t!.shape[t!.rank - 1]!, t!.shape[t!.rank - 1]!] } : t!;
      const out = K.matmul(rows, w!, { transB: true, bias: b ?? null });
      return t!.rank > 2 ? { buf: out.buf, shape: [...t!.shape.slice(0, -1), w!.shape[0]!] } : out;
    },
    save: ([t, w]) => [t!, w!],
    backward: (g, [t, w], _, [needX, needW, needB]) => {
      const [out, inp] = w!.shape as [number, number];
      if (!isGradEnabled()) return gradKernel(g, t!, w!, [needX!, needW!, needB ?? false]);
      const g2 = reshape(g, [-1, out]);
      return [
        needX ? reshape(matmul(g2, w!), t!.shape) : null,
        needW ? matmul(g2, reshape(t!, [-1, inp]), { transA: true }) : null,
        needB ? sum(g2, 0) : null,
      ];
    },
    local: ([x, w]) => [w!, `${x}ᵀ`, '1'],
  });
}

/** The gradients by kernel calls on row views of g and x (the same products and sum as the ops'). */
function gradKernel(g: Tensor, x: Tensor, w: Tensor, [needX, needW, needB]: boolean[]): (Tensor | null)[] {
  const [out, inp] = w.shape as [number, number];
  const rows = x.size / inp;
  const g2 = { buf: g.buf, shape: [rows, out] };
  // Each result is a tensor at once, so the backward's tidy() frees it if a later call fails.
  return [
    needX ? fromKernel({ buf: K.matmul(g2, w).buf, shape: x.shape }) : null,
    needW ? fromKernel(K.matmul(g2, { buf: x.buf, shape: [rows, inp] }, { transA: true })) : null,
    needB ? fromKernel(K.reduce('sum', g2, 0).out) : null,
  ];
}
