// matmul: C = op(A)·op(B), where op transposes when transA / transB is set (no transposed copy is ever made:
// the kernel reads the operand the other way). Batched [..., m, k]·[..., k, n], a 2-D operand broadcast over the
// other's batch, and 1-D operands (a row vector on the left, a column vector on the right) as in PyTorch.
//
// Backward (PyTorch's derivatives.yaml, with the flags): for C = A·B, dA = G·Bᵀ and dB = Aᵀ·G — the seed's
// "multiply by the transpose of the other input". A 2-D operand broadcast over a batch sums its gradient over it.
import { apply } from '../autograd/op.js';
import { boolean, checkOptions } from '../options.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { reshape } from './reshape.js';
import { sum } from './sum.js';

/** Transpose flags of matmul: the kernel reads the operand transposed, no copy is made. */
export interface MatmulOptions {
  /** Use a's last two dims transposed (default false). */
  transA?: boolean;
  /** Use b's last two dims transposed (default false): x·Wᵀ is matmul(x, W, { transB: true }). */
  transB?: boolean;
}

/**
 * Matrix product op(a)·op(b), where op transposes the last two dims when transA / transB is set. Batched [..., m,
 * k]·[..., k, n] with the batch dims broadcast; a 1-D operand is a row vector on the left and a column vector on the
 * right, as in PyTorch's torch.matmul. Throws, naming the shapes, when the inner dims differ.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkOptions('matmul', options, { transA: boolean, transB: boolean });
  const { transA = false, transB = false } = options;
  return apply({
    op: 'matmul',
    inputs: [a, b],
    forward: ([x, y]) => K.matmul(x!, y!, { transA, transB }),
    save: ([x, y]) => [x!, y!],
    backward: (g, [x, y], _, [needA, needB]) => {
      // View every operand as a (batched) matrix; 1-D operands become [1,k] / [k,1] (or transposed).
      const A = x!.rank === 1 ? reshape(x!, transA ? [x!.size, 1] : [1, x!.size]) : x!;
      const B = y!.rank === 1 ? reshape(y!, transB ? [1, y!.size] : [y!.size, 1]) : y!;
      const m = transA ? A.shape[A.rank - 1]! : A.shape[A.rank - 2]!;
      const n = transB ? B.shape[B.rank - 2]! : B.shape[B.rank - 1]!;
      const batch = (A.rank > 2 ? A : B).shape.slice(0, -2);
      const G = reshape(g, [...batch, m, n]);
      return [
        needA ? reshape(gradA(G, A, B, transA, transB), x!.shape) : null,
        needB ? reshape(gradB(G, A, B, transA, transB), y!.shape) : null,
      ];
    },
    attrs: { transA, transB },
    local: ([a, b]) => [`${b}ᵀ`, `${a}ᵀ`],
  });
}

/** Sums a batched gradient over its batch axes when its operand was a broadcast 2-D matrix. */
function unbatch(g: Tensor, operand: Tensor): Tensor {
  return g.rank > operand.rank ? sum(g, g.shape.slice(0, g.rank - operand.rank).map((_, i) => i)) : g;
}

function gradA(G: Tensor, A: Tensor, B: Tensor, tA: boolean, tB: boolean): Tensor {
  const d = tA
    ? matmul(B, G, { transA: tB, transB: true }) // A is [k,m]: dA = op(B)·Gᵀ
    : matmul(G, B, { transB: !tB }); // dA = G·op(B)ᵀ
  return unbatch(d, A);
}

function gradB(G: Tensor, A: Tensor, B: Tensor, tA: boolean, tB: boolean): Tensor {
  if (A.rank > 2 && B.rank === 2 && !tA) {
    // Fold the batch into rows: Σᵢ Aᵢᵀ·Gᵢ = [A₀;A₁;…]ᵀ·[G₀;G₁;…], one large product instead of a batch and a sum.
    const k = A.shape[A.rank - 1]!;
    const rowsA = reshape(A, [-1, k]);
    const rowsG = reshape(G, [-1, G.shape[G.rank - 1]!]);
    return tB ? matmul(rowsG, rowsA, { transA: true }) : matmul(rowsA, rowsG, { transA: true });
  }
  const d = tB
    ? matmul(G, A, { transA: true, transB: tA }) // B is [n,k]: dB = Gᵀ·op(A)
    : matmul(A, G, { transA: !tA }); // dB = op(A)ᵀ·G
  return unbatch(d, B);
}
