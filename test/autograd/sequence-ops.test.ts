// The ops for sequence models through the public API: crossEntropy over any leading dims with ignoreIndex (against
// the PyTorch tiny-GPT fixture and against its definition), cast / .float() / .int(), comparisons and argMax on
// int32, tril / triu, cumsum, sin / cos, linspace, multinomial and topK; values on the ref backend (float32,
// float64) and every wasm build, gradients by gradcheck in float64 (and second order where the backward is made of
// ops). Oracles are written out here (softmax, running sums, sorting in JavaScript), never the code under test.
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import {
  Generator, getBackend, grad, gradcheck, linspace, refBackend, setBackend, tensor, tidy, type DType, type Tensor,
} from '../../src/index.js';
import layers from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { expectNoLeaks } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, flat, type Nested } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

const configs = (await loadBackends()).flatMap(({ label, backend }) =>
  (backend.name === 'ref' ? ['float32', 'float64'] as DType[] : ['float32' as DType]).map((dtype) => ({ label: `${label} ${dtype}`, backend, dtype })));

const before = getBackend();
afterAll(() => setBackend(before));

const gpt = (layers as unknown as { models: { kind: string; logits: Nested; targets: number[][]; loss: number }[] })
  .models.find((m) => m.kind === 'tiny_gpt')!;

function randomValues(n: number, seed: number, lo = -2, hi = 2): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** −log softmax(row)[label], in float64. */
function nll(row: number[], label: number): number {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - row[label]!;
}

/** Rows [n, c] of a flat array. */
const rowsOf = (values: ArrayLike<number>, c: number) =>
  Array.from({ length: values.length / c }, (_, i) => Array.from(values).slice(i * c, (i + 1) * c));

const f64 = (values: number[] | Nested, shape?: number[]) => tensor(values as number[], { dtype: 'float64', backend: refBackend(), shape });
const i32 = (values: number[] | Nested, shape?: number[]) => tensor(values as number[], { dtype: 'int32', backend: refBackend(), shape });

function expectGradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const result = gradcheck(f, inputs, { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
  expect(result.failures).toEqual([]);
  expect(result.passed && result.checks > 0).toBe(true);
}

describe.each(configs)('on $label', ({ backend, dtype }) => {
  const tol: [number, number] = dtype === 'float64' ? [1e-10, 1e-12] : [1e-5, 1e-6];
  const t = (values: Nested, shape?: number[]) => tensor(values as number[], { dtype, backend, shape });
  const ints = (values: Nested, shape?: number[]) => tensor(values as number[], { dtype: 'int32', backend, shape });

  it("crossEntropy of the tiny GPT's [B, T, V] logits matches PyTorch, reshaped to [B·T, V] or permuted to [B, V, T]", () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const logits = t(gpt.logits); // [2, 6, 13]
      const [b, tt, v] = logits.shape as [number, number, number];
      const targets = ints(gpt.targets);
      expectClose(wg.crossEntropy(logits.reshape([b * tt, v]), targets.reshape([b * tt])).item(), gpt.loss, ...tol, 'rows');
      expectClose(wg.crossEntropy(logits.permute([0, 2, 1]), targets).item(), gpt.loss, ...tol, 'class dim 1');
      // its gradient: (softmax − onehot) / (B·T), computed here in float64
      const x = logits.permute([0, 2, 1]).detach().requiresGrad_();
      wg.crossEntropy(x, targets).backward();
      const want = rowsOf(flat(gpt.logits), v).flatMap((row, i) => {
        const m = Math.max(...row);
        const e = row.map((z) => Math.exp(z - m));
        const s = e.reduce((p, q) => p + q, 0);
        return e.map((z, j) => (z / s - (j === flat(gpt.targets)[i] ? 1 : 0)) / (b * tt));
      });
      expectClose(x.grad!.permute([0, 2, 1]).data(), want, ...tol, 'gradient');
    }));
  });

  it('crossEntropy takes [B, T, V] logits with [B, T] labels (classes last): the values and gradients of [B·T, V]', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const [b, tt, v] = [2, 3, 4];
      const values = randomValues(b * tt * v, 7);
      for (const options of [{}, { reduction: 'sum' as const, labelSmoothing: 0.1 }, { reduction: 'none' as const, ignoreIndex: 2 }]) {
        const ignored = options.ignoreIndex ?? -100;
        const labels = [[1, ignored, 3], [0, 2, ignored]];
        const x = t(values, [b, tt, v]).requiresGrad_();
        const rows = t(values, [b * tt, v]).requiresGrad_();
        const loss = wg.crossEntropy(x, ints(labels), options);
        const want = wg.crossEntropy(rows, ints(labels).reshape([b * tt]), options);
        expect(loss.shape).toEqual(options.reduction === 'none' ? [b, tt] : []);
        expectClose(loss.data(), Array.from(want.data()), ...tol, `value ${JSON.stringify(options)}`);
        loss.sum().backward();
        want.sum().backward();
        expect(x.grad!.shape).toEqual([b, tt, v]);
        expectClose(x.grad!.data(), Array.from(rows.grad!.data()), ...tol, `gradient ${JSON.stringify(options)}`);
      }
    }));
  });

  it('crossEntropy reads labels that fit both layouts as PyTorch does: classes on dim 1', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      // [B=2, T=3, V=3]: labels [2, 3] are [N, d1] for classes on dim 1 and [B, T] for classes last
      const values = randomValues(2 * 3 * 3, 8);
      const labels = [[0, 2, 1], [1, 1, 0]];
      const x = t(values, [2, 3, 3]);
      const want = flat(labels).map((y, k) => {
        const [n, p] = [Math.floor(k / 3), k % 3];
        return nll([0, 1, 2].map((c) => values[n * 9 + c * 3 + p]!), y);
      });
      expectClose(wg.crossEntropy(x, ints(labels), { reduction: 'none' }).data(), want, ...tol, 'classes on dim 1');
    }));
  });

  it('crossEntropy ignores labels equal to ignoreIndex: no loss, no gradient, the mean over the others', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const values = randomValues(5 * 4, 1);
      const labels = [2, -100, 0, 3, -100];
      const want = labels.map((y, i) => (y === -100 ? 0 : nll(values.slice(i * 4, i * 4 + 4), y)));
      const x = t(values, [5, 4]).requiresGrad_();
      expectClose(wg.crossEntropy(x, labels, { reduction: 'none' }).data(), want, ...tol, 'none');
      expectClose(wg.crossEntropy(x, labels, { reduction: 'sum' }).item(), want.reduce((p, q) => p + q), ...tol, 'sum');
      const mean = wg.crossEntropy(x, labels);
      expectClose(mean.item(), want.reduce((p, q) => p + q) / 3, ...tol, 'mean over the 3 that count');
      mean.backward();
      const g = rowsOf(x.grad!.data(), 4);
      expect([g[1], g[4]]).toEqual([[0, 0, 0, 0], [0, 0, 0, 0]]);
      expect(g[0]!.some((d) => d !== 0)).toBe(true);
      // another ignoreIndex: a class itself (a padding token); PyTorch gives NaN when every label is ignored
      expectClose(wg.crossEntropy(x, [1, 1, 0, 1, 1], { ignoreIndex: 1 }).item(), nll(values.slice(8, 12), 0), ...tol, 'ignoreIndex 1');
      expect(Number.isNaN(wg.crossEntropy(x, [-100, -100, -100, -100, -100]).item())).toBe(true);
    }));
  });

  it('crossEntropy takes [N, C, d1, d2] with labels [N, d1, d2], and [C] with a scalar label', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const values = randomValues(2 * 3 * 2 * 2, 2); // [N=2, C=3, 2, 2]
      const labels = [[[0, 2], [1, -100]], [[2, 2], [0, 1]]];
      const x = t(values, [2, 3, 2, 2]);
      const losses = wg.crossEntropy(x, ints(labels), { reduction: 'none' });
      expect(losses.shape).toEqual([2, 2, 2]);
      const want = flat(labels).map((y, k) => {
        const [n, p] = [Math.floor(k / 4), k % 4];
        return y === -100 ? 0 : nll([0, 1, 2].map((c) => values[n * 12 + c * 4 + p]!), y);
      });
      expectClose(losses.data(), want, ...tol, 'per position');
      const single = wg.crossEntropy(t([0.5, -1, 2]), ints(2), { reduction: 'none' });
      expect(single.shape).toEqual([]);
      expectClose(single.item(), nll([0.5, -1, 2], 2), ...tol, '[C]');
    }));
  });

  it('cast, .float() and .int(): truncation toward zero, rounding, a view for the same dtype', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const x = t([2.7, -2.7, 0.5, -0.5, 1e10, -1e10, 3]);
      const n = x.int();
      expect(n.dtype).toBe('int32');
      expect(Array.from(n.data())).toEqual([2, -2, 0, 0, 2147483647, -2147483648, 3]);
      const back = n.float();
      expect(back.dtype).toBe('float32');
      expect(Array.from(back.data())).toEqual([2, -2, 0, 0, 2147483648, -2147483648, 3]);
      expect(x.cast(dtype).dtype).toBe(dtype);
      expect(Array.from(x.cast(dtype).data())).toEqual(Array.from(x.data()));
      // gradient: through float → float it passes (cast back); through int32 nothing is recorded
      const w = t([1.5, -2]).requiresGrad_();
      w.float().mul(t([3, 4]).float()).sum().backward();
      expect(w.grad!.dtype).toBe(dtype);
      expect(Array.from(w.grad!.data())).toEqual([3, 4]);
      const cut = w.int();
      expect([cut.requiresGrad, cut.node]).toEqual([false, null]);
    }));
  });

  it('comparisons and argMax on int32: accuracy as pred.equal(y).float().mean()', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const logits = t([[1, 3, 2], [5, 0, 1], [0, 0, 4], [2, 9, 1]]);
      const y = ints([1, 0, 1, 1]);
      const pred = logits.argMax(-1);
      expect(pred.dtype).toBe('int32');
      const hit = pred.equal(y);
      expect([hit.dtype, Array.from(hit.data())]).toEqual(['int32', [1, 1, 0, 1]]);
      expect(hit.float().mean().item()).toBe(0.75);
      expect(Array.from(y.greater(0).data())).toEqual([1, 0, 1, 1]);
      expect(Array.from(ints([1, 2, 3]).lessEqual(ints([[2], [1]])).data())).toEqual([1, 1, 0, 1, 0, 0]);
      // argMax of int32 data: the first maximum
      const a = ints([[3, 7, 7, -1], [-5, -5, -9, -6]]);
      expect([Array.from(a.argMax(1).data()), Array.from(a.argMax(0).data())]).toEqual([[1, 0], [0, 0, 0, 0]]);
      // an int32 tensor against a float one, or a number that is not an int32, compares as a float (PyTorch's promotion)
      expect(Array.from(ints([1, 2, 3]).greater(2.5).data())).toEqual([0, 0, 1]);
      expect(Array.from(ints([1, 2, 3]).equal(2.5).data())).toEqual([0, 0, 0]);
      const mixed = ints([1, 2, 3]).equal(t([1, 2.5, 3]));
      expect([mixed.dtype, Array.from(mixed.data())]).toEqual([dtype, [1, 0, 1]]);
    }));
  });

  it('tril / triu: triangles of the last two dims, any dtype, a causal mask', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const x = t(Array.from({ length: 12 }, (_, i) => i + 1), [3, 4]);
      expect(x.tril().array()).toEqual([[1, 0, 0, 0], [5, 6, 0, 0], [9, 10, 11, 0]]);
      expect(x.tril(-1).array()).toEqual([[0, 0, 0, 0], [5, 0, 0, 0], [9, 10, 0, 0]]);
      expect(x.triu(1).array()).toEqual([[0, 2, 3, 4], [0, 0, 7, 8], [0, 0, 0, 12]]);
      expect(x.triu(-5).array()).toEqual(x.array());
      expect([x.tril(2 ** 40).array(), x.triu(-(2 ** 40)).array()]).toEqual([x.array(), x.array()]); // beyond int32
      expect(x.tril(-(2 ** 40)).sum().item()).toBe(0);
      expect(wg.tril(wg.ones([2, 2, 2], { dtype: 'int32' })).array()).toEqual([[[1, 0], [1, 1]], [[1, 0], [1, 1]]]);
      // the mask of causal attention: −∞ above the diagonal
      const scores = wg.zeros([3, 3], { dtype });
      const mask = wg.tril(wg.ones([3, 3], { dtype }));
      const masked = wg.where(mask, scores, -Infinity).softmax(-1);
      expectClose(masked.data(), [1, 0, 0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3], ...tol, 'causal softmax');
    }));
  });

  it('cumsum, sin, cos and linspace', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const x = t([[1, 2, 3], [4, 5, 6]]);
      expect(x.cumsum(1).array()).toEqual([[1, 3, 6], [4, 9, 15]]);
      expect(x.cumsum(-2).array()).toEqual([[1, 2, 3], [5, 7, 9]]);
      const angles = [0, 0.5, -1, 3, 100, -0];
      const s = t(angles).sin().data(), c = t(angles).cos().data();
      const round = (v: number) => (dtype === 'float32' ? Math.fround(v) : v);
      expect(Array.from(s)).toEqual(angles.map((a) => round(Math.sin(round(a)))));
      expect(Array.from(c)).toEqual(angles.map((a) => round(Math.cos(round(a)))));
      expect(Array.from(linspace(0, 1, 5, { dtype }).data())).toEqual([0, 0.25, 0.5, 0.75, 1]);
      expect(Array.from(linspace(-1, 2, 1, { dtype }).data())).toEqual([-1]);
      expect(linspace(3, 4, 0, { dtype }).shape).toEqual([0]);
      expect(Array.from(linspace(0, 10, 4, { dtype: 'int32' }).data())).toEqual([0, 3, 6, 10]);
      // both ends exact, as PyTorch: the second half counts back from the end
      const l = linspace(0.1, 0.7, 7, { dtype: 'float64', backend: refBackend() }).data();
      expect([l[0], l[6]]).toEqual([0.1, 0.7]);
    }));
  });

  it('topK: values and positions along a dim, as sorting in JavaScript gives them', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const values = randomValues(4 * 7 * 3, 3).map((v) => Math.round(v * 4) / 4); // ties
      const x = t(values, [4, 7, 3]);
      for (const [dim, largest, k] of [[1, true, 3], [-1, false, 2], [0, true, 4], [1, false, 0]] as const) {
        const { values: top, indices } = x.topK(k, { dim, largest });
        const a = dim < 0 ? dim + 3 : dim;
        const shape = [4, 7, 3].map((d, i) => (i === a ? k : d));
        expect([top.shape, indices.shape, indices.dtype]).toEqual([shape, shape, 'int32']);
        // the oracle: each line sorted (stable, so ties keep the lower index first)
        const strides = [21, 3, 1];
        const at = (idx: number[]) => idx.reduce((p, q, i) => p + q * strides[i]!, 0);
        const lines = shape.map((d, i) => (i === a ? 1 : d));
        const outIndex = (o: number[]) => o.reduce((p, q, i) => p * shape[i]! + q, 0);
        const wantV = new Array<number>(shape.reduce((p, q) => p * q, 1)), wantI = new Array<number>(wantV.length);
        for (let p = 0; p < lines[0]!; p++) {
          for (let q = 0; q < lines[1]!; q++) {
            for (let r = 0; r < lines[2]!; r++) {
              const base = [p, q, r];
              const line = Array.from({ length: [4, 7, 3][a]! }, (_, j) => j);
              const valueAt = (j: number) => values[at(base.map((b, i) => (i === a ? j : b)))]!;
              line.sort((i1, i2) => (largest ? valueAt(i2) - valueAt(i1) : valueAt(i1) - valueAt(i2)) || i1 - i2);
              for (let j = 0; j < k; j++) {
                const o = outIndex(base.map((b, i) => (i === a ? j : b)));
                wantV[o] = Math.fround(valueAt(line[j]!));
                wantI[o] = line[j]!;
              }
            }
          }
        }
        expect(Array.from(top.data()).map(Math.fround), `values dim ${dim} largest ${largest}`).toEqual(wantV);
        expect(Array.from(indices.data()), `indices dim ${dim} largest ${largest}`).toEqual(wantI);
      }
      // NaN counts as the largest; int32 data; a scalar
      const n = t([1, NaN, 3, 2]).topK(2);
      expect([Array.from(n.values.data()), Array.from(n.indices.data())]).toEqual([[NaN, 3], [1, 2]]);
      expect(Array.from(t([1, NaN, 3, 2]).topK(2, { largest: false }).indices.data())).toEqual([0, 3]);
      expect(Array.from(ints([4, 9, 9, 1]).topK(2).values.data())).toEqual([9, 9]);
      expect(t(5).topK(1).values.item()).toBe(5);
    }));
  });

  it('multinomial: reproducible from a seed, the same on every backend, never a category of weight 0', () => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => {
      const probs = t([[0.1, 0, 0.6, 0.3], [0, 0, 1, 0]]);
      const draws = probs.multinomial(3, { replacement: true, generator: new Generator(7) });
      expect([draws.shape, draws.dtype]).toEqual([[2, 3], 'int32']);
      expect(Array.from(draws.data())).toEqual(Array.from(wg.multinomial(probs, 3, { replacement: true, generator: new Generator(7) }).data()));
      // the reference: inverse CDF of the same uniforms, worked out here
      const g = new Generator(7);
      const want = [[0.1, 0, 0.6, 0.3], [0, 0, 1, 0]].flatMap((w) => [0, 1, 2].map(() => {
        const u = g.next() * w.reduce((p, q) => p + q);
        let acc = 0;
        return w.findIndex((v) => v > 0 && u < (acc += v));
      }));
      expect(Array.from(draws.data())).toEqual(want);
      // without replacement: distinct categories, all of those with weight
      const perm = wg.multinomial(t([1, 2, 3, 4, 0]), 4, { generator: new Generator(1) });
      expect(Array.from(perm.data()).sort()).toEqual([0, 1, 2, 3]);
    }));
  });
});

describe('multinomial frequencies', () => {
  it('follow the weights (100,000 draws with replacement; within 5 standard deviations)', () => {
    expectNoLeaks(() => tidy(() => {
      const w = [1, 0, 2, 7];
      const draws = wg.multinomial(f64(w), 100000, { replacement: true, generator: new Generator(3) }).data();
      const counts = [0, 0, 0, 0];
      for (const d of draws) counts[d]!++;
      w.forEach((wi, i) => {
        const p = wi / 10, mean = 100000 * p, sd = Math.sqrt(100000 * p * (1 - p));
        expect(Math.abs(counts[i]! - mean), `category ${i}: ${counts[i]}`).toBeLessThanOrEqual(5 * sd);
      });
      expect(counts[1]).toBe(0);
    }));
  });

  it('without replacement, draw the first pick in proportion to the weights', () => {
    expectNoLeaks(() => tidy(() => {
      const g = new Generator(11);
      const firsts = [0, 0, 0];
      for (let i = 0; i < 3000; i++) firsts[wg.multinomial(f64([1, 1, 2]), 2, { generator: g }).data()[0]!]!++;
      expect(Math.abs(firsts[2]! - 1500)).toBeLessThan(5 * Math.sqrt(3000 * 0.25));
    }));
  });
});

describe('gradients in float64 (gradcheck)', () => {
  const rows: [string, Tensor[], (...xs: Tensor[]) => Tensor][] = [];
  const make = () => {
    rows.length = 0;
    rows.push(
      ['crossEntropy [B, C, T], mean, ignoreIndex', [f64(randomValues(2 * 5 * 3, 4), [2, 5, 3]), i32([[1, -100, 4], [0, 2, 2]])],
        (x, y) => wg.crossEntropy(x, y!)],
      ['crossEntropy [N, C, d1, d2], none, smoothing, ignoreIndex 2', [f64(randomValues(2 * 3 * 2 * 2, 5), [2, 3, 2, 2]),
        i32([[[0, 2], [1, 2]], [[1, 0], [0, 1]]])], (x, y) => wg.crossEntropy(x, y!, { reduction: 'none', labelSmoothing: 0.2, ignoreIndex: 2 })],
      ['crossEntropy [B, T, V] classes last, mean, ignoreIndex', [f64(randomValues(2 * 3 * 4, 9), [2, 3, 4]), i32([[1, -100, 3], [0, 2, 2]])],
        (x, y) => wg.crossEntropy(x, y!)],
      ['crossEntropy rows, sum, ignoreIndex', [f64(randomValues(4 * 3, 6), [4, 3]), i32([2, -100, 0, 1])],
        (x, y) => wg.crossEntropy(x, y!, { reduction: 'sum' })],
      ['cast to its own dtype (a view)', [f64(randomValues(6, 7), [2, 3])], (x) => x.cast('float64').mul(x)],
      ['tril', [f64(randomValues(2 * 3 * 4, 8), [2, 3, 4])], (x) => wg.tril(x, 1)],
      ['triu', [f64(randomValues(4 * 3, 9), [4, 3])], (x) => wg.triu(x, -1)],
      ['cumsum (dim 1)', [f64(randomValues(2 * 5 * 3, 10), [2, 5, 3])], (x) => wg.cumsum(x, 1)],
      ['cumsum (last dim) of a product', [f64(randomValues(3 * 4, 11), [3, 4])], (x) => wg.cumsum(x.mul(x), -1)],
      ['sin', [f64(randomValues(7, 12, -4, 4))], wg.sin],
      ['cos', [f64(randomValues(7, 13, -4, 4))], wg.cos],
      ['topK values (dim 0)', [f64(randomValues(5 * 3, 14), [5, 3])], (x) => wg.topK(x, 2, { dim: 0 }).values],
      ['topK smallest values', [f64(randomValues(2 * 6, 15), [2, 6])], (x) => wg.topK(x, 3, { largest: false }).values],
    );
    return rows;
  };
  it.each(Array.from({ length: 12 }, (_, i) => i))('row %i', (i) => {
    expectNoLeaks(() => tidy(() => {
      const [name, inputs, f] = make()[i]!;
      expect(name).toBeTruthy();
      expectGradcheck(f, inputs);
    }));
  });

  it('second order: sin″ = −sin, cos″ = −cos, and tril/triu/cumsum of a gradient', () => {
    expectNoLeaks(() => tidy(() => {
      const x = f64([0.3, -1.2, 2.5]);
      const sin2 = grad((v) => grad((u) => u.sin().sum())(v).sum())(x);
      const cos2 = grad((v) => grad((u) => u.cos().sum())(v).sum())(x);
      expectClose(sin2.data(), [0.3, -1.2, 2.5].map((v) => -Math.sin(v)), 1e-12, 1e-14, 'sin″');
      expectClose(cos2.data(), [0.3, -1.2, 2.5].map((v) => -Math.cos(v)), 1e-12, 1e-14, 'cos″');
      // d/dx Σ cumsum(x²)·w = 2x·(reverse running sum of w), and once more: 2·(reverse running sum of w)
      const w = f64([1, 2, 3]);
      const second = grad((v) => grad((u) => wg.cumsum(u.square(), 0).mul(w).sum())(v).sum())(x);
      expectClose(second.data(), [12, 10, 6], 1e-12, 1e-14, 'cumsum″');
    }));
  });
});
