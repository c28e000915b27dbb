// Pooling and batch normalisation pass gradcheck (backward against central differences, float64, ref backend),
// and so do their gradients (the backward ops' own backward, and batch norm's gradient composed from ops), which
// is what gradients of gradients run through.
import { describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { grad, grads, gradcheck, refBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';

/** Distinct values in [−2, 2) (no ties: a max's gradient is defined), float64 on the ref backend. */
function input(shape: number[], seed: number, lo = -2, hi = 2): Tensor {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => lo + (hi - lo) * rand()), { shape, dtype: 'float64', backend: refBackend() });
}

interface Row { name: string; shapes: number[][]; ranges?: [number, number][]; f: (...xs: Tensor[]) => Tensor }

/** batchNorm with weight and bias; its running statistics are constants (no gradient flows into them). */
const bn = (training: boolean, eps = 1e-5) => (x: Tensor, w: Tensor, b: Tensor) => {
  const channels = x.shape[1]!;
  const constant = (values: number[]) => tensor(values.slice(0, channels), { dtype: 'float64', backend: refBackend() });
  return wg.batchNorm(x, constant([0.3, -0.5, 1.1]), constant([0.7, 1.6, 2.2]), { weight: w, bias: b, training, eps });
};

/** x, weight, bias. */
const BN_RANGES: [number, number][] = [[-2, 2], [0.5, 1.5], [-1, 1]];

const rows: Row[] = [
  { name: 'maxPool2d 2×2', shapes: [[2, 3, 4, 4]], f: (x) => wg.maxPool2d(x, 2) },
  { name: 'maxPool2d 3×3 stride 2 pad 1, ceilMode', shapes: [[1, 2, 6, 5]], f: (x) => wg.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
  { name: 'maxPool2d overlapping, dilated', shapes: [[1, 2, 7, 7]], f: (x) => wg.maxPool2d(x, [2, 3], { stride: 1, dilation: [2, 1], padding: [1, 1] }) },
  { name: 'avgPool2d 3×3 stride 2 pad 1', shapes: [[2, 2, 5, 5]], f: (x) => wg.avgPool2d(x, 3, { stride: 2, padding: 1 }) },
  { name: 'avgPool2d ceilMode, padding not counted', shapes: [[1, 3, 6, 7]], f: (x) => wg.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }) },
  { name: 'avgPool2d divisorOverride, 3-D input', shapes: [[3, 5, 4]], f: (x) => wg.avgPool2d(x, [2, 3], { stride: 1, divisorOverride: 4 }) },
  { name: 'adaptiveAvgPool2d to sizes that do not divide', shapes: [[2, 2, 7, 5]], f: (x) => wg.adaptiveAvgPool2d(x, [3, 2]) },
  { name: 'adaptiveAvgPool2d up, one axis kept', shapes: [[1, 2, 3, 4]], f: (x) => wg.adaptiveAvgPool2d(x, [5, null]) },
  { name: 'batchNorm training [N,C,H,W]', shapes: [[3, 2, 3, 3], [2], [2]], ranges: BN_RANGES, f: bn(true) },
  { name: 'batchNorm training [N,C]', shapes: [[5, 3], [3], [3]], ranges: BN_RANGES, f: bn(true) },
  { name: 'batchNorm training [N,C,L], eps 0.1', shapes: [[2, 3, 4], [3], [3]], ranges: BN_RANGES, f: bn(true, 0.1) },
  { name: 'batchNorm evaluation', shapes: [[3, 2, 2, 3], [2], [2]], ranges: BN_RANGES, f: bn(false) },
  { name: 'batchNorm training without weight and bias', shapes: [[4, 3, 2]], f: (x) => wg.batchNorm(x, null, null, { training: true }) },
];

function inputs(row: Row): Tensor[] {
  return row.shapes.map((s, i) => input(s, 17 + 31 * i, ...(row.ranges?.[i] ?? [-2, 2])));
}

describe('pooling and batch norm pass gradcheck (float64)', () => {
  it.each(rows.map((r) => [r.name, r] as [string, Row]))('%s', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const result = gradcheck(row.f, inputs(row), { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
      expect(result.checks).toBeGreaterThan(0);
    }));
  });

  // The gradient as a function of the input and of the upstream gradient G: its own gradient runs through the
  // backward ops' backward (the max's gather, the averages' pooling) and batch norm's composed gradient.
  it.each(rows.map((r) => [r.name, r] as [string, Row]))('%s: its gradient passes too', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const xs = inputs(row);
      const outShape = wg.noGrad(() => row.f(...xs)).shape as number[];
      const G = input(outShape, 5);
      // d/dx and d/dG of ⟨∂(f·v)/∂x, u⟩ for fixed random u: every input of f and G in one scalar
      const u = input(xs[0]!.shape as number[], 7);
      const secondOrder = (g: Tensor, ...args: Tensor[]) =>
        grads((...ys: Tensor[]) => row.f(...ys))(args, g)[0]!.mul(u).sum();
      const result = gradcheck(secondOrder, [G, ...xs], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }));
  });

  it('gradients of gradients reach the weight through the composed batch-norm gradient', () => {
    expectNoLeaks(() => tidy(() => {
      const x = input([4, 2, 3], 1).requiresGrad_(); // (so that grad records the graph of its result)
      const w = input([2], 2, 0.5, 1.5);
      // ‖∂L/∂x‖² as a function of w, with L the batch norm's output weighted by fixed v
      const v = input([4, 2, 3], 3);
      const penalty = (wt: Tensor) => grad((xt: Tensor) => wg.batchNorm(xt, null, null, { weight: wt, training: true }).mul(v).sum())(x)
        .square().sum();
      const result = gradcheck(penalty, [w], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }));
  });
});
