// l2Penalty: the seed's regularisation term s = λ/2 · Σᵢ ‖Wᵢ‖² (squared Frobenius norms), one "ℓ₂" node over
// all the weights it covers. ∂s/∂Wᵢ = λ·Wᵢ — the extra stream the seed merges into the weight gradients.
import { apply, tensorList } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { checkValue, number } from '../options.js';
import { mul } from './mul.js';

/** params: a tensor or an array of them. */
export function l2Penalty(params: Tensor | readonly Tensor[], lambda: number): Tensor {
  params = tensorList('l2Penalty', 'params', params);
  if (params.length === 0) throw new Error('l2Penalty: needs at least one tensor');
  checkValue('l2Penalty', 'lambda', lambda, number({ ge: 0 }));
  return apply({
    op: 'l2Penalty',
    inputs: params,
    forward: (ws) => {
      let total: K.NDArray | null = null;
      for (const w of ws) {
        const sq = K.unary('square', w);
        const s = K.reduce('sum', sq).out;
        K.free(sq);
        if (total) {
          const next = K.binary('add', total, s);
          K.free(total);
          K.free(s);
          total = next;
        } else total = s;
      }
      const out = K.scale(total!, lambda / 2);
      K.free(total!);
      return out;
    },
    save: (ws) => ws,
    backward: (g, ws, _, needs) => ws.map((w, i) => (needs[i] ? mul(w, mul(g, lambda)) : null)),
    attrs: { lambda },
    local: (names) => names.map((n) => `${lambda}·${n}`),
  });
}
