// topK: the k largest (or smallest) entries along one dim and their positions (PyTorch's torch.topk), values in
// order from the largest (smallest) on; ties keep the lower index first, and NaN counts as larger than every
// number (as PyTorch). A sampling helper: the positions are found in JavaScript from the values read back; the
// values are then gathered with the differentiable gather op, so the gradient flows to the picked entries.
import { checkAlive, checkTensor } from '../autograd/op.js';
import { tidy } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { fmt, normalizeAxis, sizeOf } from '../kernels/shape.js';
import { boolean, checkOptions, checkValue, integer } from '../options.js';
import { gather } from './gather.js';
import { reshape } from './reshape.js';

/** Options of topK. */
export interface TopKOptions {
  /** The dim to select along (default −1, the last). */
  dim?: number;
  /** The largest entries (default) or the smallest. */
  largest?: boolean;
  /** Accepted for PyTorch's signature: the results are always in sorted order. */
  sorted?: boolean;
}

/**
 * The k largest (or smallest) entries of x along a dim, in order, and their int32 positions (PyTorch's torch.topk).
 * Ties keep the lower index first; NaN counts as larger than every number.
 */
export function topK(x: Tensor, k: number, options: TopKOptions = {}): {
  /** The k entries along the dim, in order (differentiable). */
  values: Tensor;
  /** Their int32 positions along the dim. */
  indices: Tensor;
} {
  checkTensor('topK', 'x', x);
  checkValue('topK', 'k', k, integer({ ge: 0 }));
  checkOptions('topK', options, { dim: integer(), largest: boolean, sorted: boolean });
  checkAlive('topK', [x]);
  const { dim = -1, largest = true } = options;
  const shape = x.rank === 0 ? [1] : x.shape; // a scalar is one entry along dim 0 or −1, as in PyTorch
  const a = normalizeAxis('topK', shape, dim);
  const r = shape[a]!;
  if (k > r) throw new Error(`topK: k = ${k} is larger than the ${r} entries along dim ${dim} of ${fmt(x.shape)}`);
  const outer = sizeOf(shape.slice(0, a)), inner = sizeOf(shape.slice(a + 1));
  const outShape = x.rank === 0 ? [] : shape.map((d, i) => (i === a ? k : d));
  const values = x.data();
  // before(p, q): entry p comes first (NaN above every number; on ties the lower index)
  const before = (p: number, q: number) => {
    const vp = values[p]!, vq = values[q]!;
    if (vp !== vp || vq !== vq) return vp !== vp && vq === vq ? largest : vp === vp && vq !== vq ? !largest : p < q;
    return vp === vq ? p < q : largest ? vp > vq : vp < vq;
  };
  const picked = new Int32Array(outer * k * inner); // positions along dim
  const flat = new Int32Array(outer * k * inner); // positions in x, for the gather
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const line = Array.from({ length: r }, (_, j) => (o * r + j) * inner + i);
      line.sort((p, q) => (p === q ? 0 : before(p, q) ? -1 : 1));
      for (let j = 0; j < k; j++) {
        const at = (o * k + j) * inner + i;
        flat[at] = line[j]!;
        picked[at] = (line[j]! - o * r * inner - i) / inner;
      }
    }
  }
  return tidy(() => ({
    values: gather(reshape(x, [x.size]), fromValues(flat, outShape, { dtype: 'int32', backend: x.backend }), 0),
    indices: fromValues(picked, outShape, { dtype: 'int32', backend: x.backend }),
  }));
}
