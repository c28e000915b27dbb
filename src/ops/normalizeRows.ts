// The machinery layerNorm and rmsNorm share: x [*, ...normalizedShape] normalised per row of the normalised size,
// y = (x − mean)·rstd·weight + bias with rstd = 1/√(var + eps), where RMS normalisation takes mean = 0 (so var is
// mean(x²)) and has no bias. The forward kernel returns the rows' mean and rstd, which the graph saves.
// Backward, with x̂ = (x − mean)·rstd and g = dy·weight: dx = (g − mean(g) − x̂·mean(g·x̂))·rstd (RMS: without
// mean(g)); dweight = Σ dy·x̂ and dbias = Σ dy over the leading dims. One fused kernel computes it; while a graph of
// the backward is being recorded (higher-order gradients) the same formulas are composed from differentiable ops.
import { apply, fromKernel } from '../autograd/op.js';
import { isGradEnabled } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { describe } from '../options.js';
import { add } from './add.js';
import { div } from './div.js';
import { mean } from './mean.js';
import { mul } from './mul.js';
import { sqrt } from './sqrt.js';
import { square } from './square.js';
import { sub } from './sub.js';
import { sum } from './sum.js';

export type RowNorm = 'layerNorm' | 'rmsNorm';

/** normalizedShape as a list of sizes: a size alone is the last dim's (PyTorch's int form). */
export function sizesOf(api: string, normalizedShape: unknown): number[] {
  const list = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new Error(`${api}: normalizedShape must be a size or a non-empty list of sizes (integers ≥ 0), got ` +
      `${describe(normalizedShape)}`);
  }
  return list as number[];
}

/** x normalised over its trailing `shape` (checked by the kernel layer); weight and bias have that shape. */
export function normalizeRows(api: RowNorm, x: Tensor, shape: readonly number[], weight: Tensor | null, bias: Tensor | null,
  eps: number): Tensor {
  const settings = { eps, rms: api === 'rmsNorm' };
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  // The statistics the forward kernel returned: arrays, wrapped in tensors only when the graph saves them (after the
  // forward succeeded; a failed forward frees them itself).
  let stats: { mean: K.NDArray | null; rstd: K.NDArray } | null = null;
  let saved: Tensor[] = [];
  try {
    return apply({
      op: api,
      inputs,
      forward: ([t, ...wb]) => {
        const r = K.layerNorm(t!, shape, weight && wb[0]!, bias && wb[weight ? 1 : 0]!, settings);
        stats = { mean: r.mean, rstd: r.rstd };
        return r.out;
      },
      save: ([t, ...wb]) => {
        saved = [fromKernel(stats!.rstd), ...(stats!.mean ? [fromKernel(stats!.mean)] : [])];
        return [t!, ...saved, ...(weight ? [wb[0]!] : [])];
      },
      backward: (g, [t, rstd, ...rest], _, [needX, ...needWB]) => {
        const mu = settings.rms ? null : rest[0]!;
        const w = weight ? rest[settings.rms ? 0 : 1]! : null;
        const need = { x: needX!, weight: weight ? needWB[0]! : false, bias: bias ? needWB[weight ? 1 : 0]! : false };
        const r = isGradEnabled()
          ? gradOps(g, t!, w, shape.length, eps, settings.rms, need)
          : gradKernel(g, t!, mu, rstd!, w, shape, settings, need);
        return [r.dx, ...(weight ? [r.dweight] : []), ...(bias ? [r.dbias] : [])];
      },
      attrs: { normalizedShape: shape, eps },
      local: () => [settings.rms ? '(1 − x̂·x̂ᵀ/n)·γ·rstd' : '(1 − 1/n − x̂·x̂ᵀ/n)·γ·rstd', ...(weight ? ['x̂'] : []),
        ...(bias ? ['1'] : [])],
    });
  } finally {
    const arrays = stats as { mean: K.NDArray | null; rstd: K.NDArray } | null;
    if (saved.length) for (const s of saved) s.dispose(); // the graph keeps its own handles
    else if (arrays) for (const a of [arrays.mean, arrays.rstd]) if (a?.buf.live) K.free(a); // no graph was recorded
  }
}

interface Grads { dx: Tensor | null; dweight: Tensor | null; dbias: Tensor | null }
type Needs = { x: boolean; weight: boolean; bias: boolean };

function gradKernel(g: Tensor, x: Tensor, mu: Tensor | null, rstd: Tensor, w: Tensor | null, shape: readonly number[],
  settings: K.LayerNormSettings, need: Needs): Grads {
  const r = K.layerNormGrad(x, g, mu, rstd, w, shape, settings, need);
  const wrap = (a: K.NDArray | null) => (a ? fromKernel(a) : null);
  return { dx: wrap(r.dx), dweight: wrap(r.dweight), dbias: wrap(r.dbias) };
}

/** The same gradients from differentiable ops (for gradients of gradients; the statistics recomputed from x). */
function gradOps(g: Tensor, x: Tensor, w: Tensor | null, d: number, eps: number, rms: boolean, need: Needs): Grads {
  const axes = x.shape.map((_, i) => i);
  const rows = axes.slice(0, x.rank - d); // the leading dims, which the parameter gradients sum over
  const trailing = axes.slice(x.rank - d);
  const xc = rms ? x : sub(x, mean(x, trailing, true));
  const rstd = div(1, sqrt(add(mean(square(xc), trailing, true), eps)));
  const xhat = mul(xc, rstd);
  const gw = w ? mul(g, w) : g;
  const centred = rms ? gw : sub(gw, mean(gw, trailing, true));
  const dx = need.x ? mul(sub(centred, mul(xhat, mean(mul(gw, xhat), trailing, true))), rstd) : null;
  const overRows = (t: Tensor) => (rows.length ? sum(t, rows) : t);
  return { dx, dweight: need.weight ? overRows(mul(g, xhat)) : null, dbias: need.bias ? overRows(g) : null };
}
