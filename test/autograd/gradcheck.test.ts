// Every op passes gradcheck: backward against central differences, in float64 on the reference backend.
import { describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { gradcheck, refBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';

type Gen = 'any' | 'positive' | 'awayFromZero' | 'labels';

interface Row { name: string; shapes: number[][]; gen?: Gen[]; f: (...xs: Tensor[]) => Tensor }

const rows: Row[] = [
  { name: 'add (broadcast)', shapes: [[3, 4], [4]], f: wg.add },
  { name: 'sub (broadcast)', shapes: [[2, 1, 4], [3, 1]], f: wg.sub },
  { name: 'mul (broadcast)', shapes: [[2, 3, 4], [3, 4]], f: wg.mul },
  { name: 'div', shapes: [[3, 4], [1, 4]], gen: ['any', 'awayFromZero'], f: wg.div },
  { name: 'pow', shapes: [[3, 4], [4]], gen: ['positive', 'any'], f: wg.pow },
  { name: 'maximum', shapes: [[3, 4], [3, 4]], f: wg.maximum },
  { name: 'minimum', shapes: [[3, 4], [4]], f: wg.minimum },
  { name: 'neg', shapes: [[5]], f: wg.neg },
  { name: 'exp', shapes: [[3, 4]], f: wg.exp },
  { name: 'log', shapes: [[3, 4]], gen: ['positive'], f: wg.log },
  { name: 'sqrt', shapes: [[5]], gen: ['positive'], f: wg.sqrt },
  { name: 'abs', shapes: [[6]], gen: ['awayFromZero'], f: wg.abs },
  { name: 'square', shapes: [[6]], f: wg.square },
  { name: 'relu', shapes: [[4, 5]], gen: ['awayFromZero'], f: wg.relu },
  { name: 'leakyRelu', shapes: [[4, 5]], gen: ['awayFromZero'], f: (x) => wg.leakyRelu(x, 0.1) },
  { name: 'sigmoid', shapes: [[4, 5]], f: wg.sigmoid },
  { name: 'tanh', shapes: [[4, 5]], f: wg.tanh },
  { name: 'gelu', shapes: [[4, 5]], f: wg.gelu },
  { name: 'softplus', shapes: [[4, 5]], f: (x) => wg.softplus(x, 2) },
  { name: 'softmax', shapes: [[3, 6]], f: (x) => wg.softmax(x, -1) },
  { name: 'softmax (axis 0)', shapes: [[3, 4, 2]], f: (x) => wg.softmax(x, 0) },
  { name: 'logSoftmax', shapes: [[3, 6]], f: (x) => wg.logSoftmax(x, 1) },
  { name: 'sum (axes, keepdims)', shapes: [[3, 4, 5]], f: (x) => wg.sum(x, [0, 2], true) },
  { name: 'mean', shapes: [[3, 4]], f: (x) => wg.mean(x, 0) },
  { name: 'max', shapes: [[4, 7]], f: (x) => wg.max(x, -1) },
  { name: 'max (two axes)', shapes: [[3, 4, 5]], f: (x) => wg.max(x, [0, 2]) },
  { name: 'matmul', shapes: [[3, 5], [5, 2]], f: (a, b) => wg.matmul(a, b) },
  { name: 'matmul transA transB', shapes: [[5, 3], [2, 5]], f: (a, b) => wg.matmul(a, b, { transA: true, transB: true }) },
  { name: 'matmul batched + broadcast', shapes: [[4, 3, 5], [5, 6]], f: (a, b) => wg.matmul(a, b) },
  { name: 'matmul broadcast left, transA', shapes: [[5, 3], [2, 5, 4]], f: (a, b) => wg.matmul(a, b, { transA: true }) },
  { name: 'matmul batched', shapes: [[2, 3, 4], [2, 4, 5]], f: (a, b) => wg.matmul(a, b) },
  { name: 'matmul vector', shapes: [[4, 3], [3]], f: (a, b) => wg.matmul(a, b) },
  { name: 'linear', shapes: [[5, 4], [3, 4], [3]], f: (x, w, b) => wg.linear(x, w, b) },
  { name: 'linear 3-D input', shapes: [[2, 5, 4], [3, 4], [3]], f: (x, w, b) => wg.linear(x, w, b) },
  { name: 'reshape', shapes: [[3, 4]], f: (x) => wg.reshape(x, [2, -1]) },
  { name: 'permute', shapes: [[2, 3, 4]], f: (x) => wg.permute(x, [2, 0, 1]) },
  { name: 'transpose', shapes: [[3, 5]], f: (x) => wg.transpose(x) },
  { name: 'broadcastTo', shapes: [[3, 1]], f: (x) => wg.broadcastTo(x, [2, 3, 4]) },
  { name: 'slice', shapes: [[4, 5]], f: (x) => wg.slice(x, [1, 2], [2, -1]) },
  { name: 'concat', shapes: [[2, 3], [4, 3]], f: (a, b) => wg.concat([a, b], 0) },
  { name: 'gather (repeated indices)', shapes: [[5, 3], [4]], gen: ['any', 'labels'], f: (x, i) => wg.gather(x, i, 0) },
  { name: 'where', shapes: [[3, 4], [3, 4], [4]], gen: ['awayFromZero', 'any', 'any'], f: (c, a, b) => wg.where(c.greater(0), a, b) },
  { name: 'crossEntropy rows (smoothing)', shapes: [[4, 5], [4]], gen: ['any', 'labels'], f: (x, y) => wg.crossEntropy(x, y, { reduction: 'none', labelSmoothing: 0.1 }) },
  { name: 'crossEntropy mean', shapes: [[4, 5], [4]], gen: ['any', 'labels'], f: (x, y) => wg.crossEntropy(x, y) },
  { name: 'crossEntropy sum (smoothing)', shapes: [[3, 4], [3]], gen: ['any', 'labels'], f: (x, y) => wg.crossEntropy(x, y, { reduction: 'sum', labelSmoothing: 0.3 }) },
  { name: 'mseLoss', shapes: [[3, 4], [3, 4]], f: (a, b) => wg.mseLoss(a, b) },
  { name: 'l2Penalty', shapes: [[3, 4], [2, 3]], f: (a, b) => wg.l2Penalty([a, b], 0.3) },
  { name: 'sumTo', shapes: [[2, 3, 4]], f: (x) => wg.sumTo(x, [3, 1]) },
  { name: 'clone', shapes: [[3]], f: wg.clone },
  { name: 'scatterAdd', shapes: [[4, 3], [4]], gen: ['any', 'labels'], f: (g, i) => wg.scatterAdd(g, i, [5, 3]) },
];

function input(shape: number[], gen: Gen, seed: number): Tensor {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    const u = rand() * 2 - 1;
    if (gen === 'positive') return 0.2 + 2 * Math.abs(u);
    if (gen === 'awayFromZero') return Math.sign(u || 1) * (0.1 + Math.abs(u));
    if (gen === 'labels') return Math.floor(rand() * 4) - (shape.length > 1 ? 2 : 0);
    return 2 * u;
  });
  const labels = gen === 'labels' && shape.length === 1;
  return tensor(values, { shape, dtype: labels ? 'int32' : 'float64', backend: refBackend() });
}

describe('gradcheck in float64 on the reference backend', () => {
  it.each(rows.map((r) => [r.name, r] as [string, Row]))('%s', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const xs = row.shapes.map((s, i) => input(s, row.gen?.[i] ?? 'any', 17 + 31 * i));
      const result = gradcheck(row.f, xs, { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
      expect(result.checks).toBeGreaterThan(0);
    }));
  });

  it('checks large inputs along random directions, and catches a wrong gradient', () => {
    expectNoLeaks(() => tidy(() => {
      const x = input([40, 50], 'any', 3);
      const ok = gradcheck((t) => t.tanh().mul(t), [x], { maxElements: 64, directions: 4 });
      expect(ok).toMatchObject({ passed: true, checks: 4 });
      // A deliberately wrong rule: the value of exp with the gradient of x (identity).
      const wrong = (t: Tensor) => t.add(t.exp().sub(t).detach());
      const bad = gradcheck(wrong, [input([5], 'any', 4)]);
      expect(bad.passed).toBe(false);
      expect(bad.failures[0]).toMatch(/^input 0, element 0: analytic/);
    }));
  });
});
