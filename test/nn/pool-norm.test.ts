// Pooling and batch-norm layers, and module buffers: PyTorch's names and state-dict order, buffers outside
// parameters(), train()/eval(), the running statistics (momentum and the cumulative average), the windows at the
// border worked out by hand, and a small convnet-shaped model that learns without leaking.
import { describe, expect, it } from 'vitest';
import { Heap, OutOfMemoryError } from '../../src/backend/wasm/heap.js';
import {
  createWasmBackend, Generator, grad, keep, memory, nn, noGrad, optim, randn, setBackend, tensor, tidy, type Tensor,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose } from '../helpers/fixtures.js';

const arange = (n: number, shape: number[]) => tensor(Array.from({ length: n }, (_, i) => i), { shape });

describe.each(BACKENDS)('pooling and batch-norm layers on %s', (name) => {
  it('buffers are state but not parameters, in PyTorch\'s state-dict order, and disposed with the module', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const model = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.ReLU(), new nn.BatchNorm1d(3, { affine: false }));
      expect(Object.keys(model.stateDict())).toEqual([
        '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked',
        '3.running_mean', '3.running_var', '3.num_batches_tracked',
      ]);
      expect(model.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
      expect(model.namedBuffers().map(([k, b]) => [k, b.shape, b.dtype, b.requiresGrad])).toEqual([
        ['1.running_mean', [3], 'float32', false], ['1.running_var', [3], 'float32', false], ['1.num_batches_tracked', [], 'int32', false],
        ['3.running_mean', [3], 'float32', false], ['3.running_var', [3], 'float32', false], ['3.num_batches_tracked', [], 'int32', false],
      ]);
      const bn = model.at(1) as nn.BatchNorm1d;
      expect([bn.weight!.data(), bn.bias!.data(), bn.running_mean!.data(), bn.running_var!.data(), bn.num_batches_tracked!.item()])
        .toEqual([new Float32Array([1, 1, 1]), new Float32Array(3), new Float32Array(3), new Float32Array([1, 1, 1]), 0]);
      const untracked = new nn.BatchNorm2d(2, { trackRunningStats: false });
      expect(Object.keys(untracked.stateDict())).toEqual(['weight', 'bias']);
      expect(String(bn)).toBe('BatchNorm1d(3, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)');
      const cumulative = new nn.BatchNorm2d(8, { momentum: null, eps: 1e-3 });
      expect(String(cumulative)).toBe('BatchNorm2d(8, eps=0.001, momentum=null, affine=true, trackRunningStats=true)');
      cumulative.dispose();
      const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
      expect(opt.paramGroups[0]!.params.length).toBe(4);
      model.dispose();
      untracked.dispose();
      expect(bn.running_mean!.isDisposed && bn.num_batches_tracked!.isDisposed).toBe(true);
    });
  });

  it('training updates the running statistics (unbiased variance) and counts batches; eval uses them and changes nothing', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const bn = new nn.BatchNorm2d(2, { momentum: 0.25 });
      tidy(() => {
        // channel 0 holds 0..7, channel 1 holds 10·(0..7): mean 3.5 / 35, unbiased variance 6 / 600
        const x = tensor([[[[0, 1], [2, 3]], [[0, 10], [20, 30]]], [[[4, 5], [6, 7]], [[40, 50], [60, 70]]]]);
        const y = bn(x);
        const biased0 = 5.25;
        expectClose(y.data().slice(0, 4), [0, 1, 2, 3].map((v) => (v - 3.5) / Math.sqrt(biased0 + 1e-5)), 1e-5, 1e-6, 'training output');
        expectClose(bn.running_mean!.data(), [0.25 * 3.5, 0.25 * 35], 1e-6, 0, 'running_mean');
        expectClose(bn.running_var!.data(), [0.75 + 0.25 * 6, 0.75 + 0.25 * 600], 1e-6, 0, 'running_var');
        expect(bn.num_batches_tracked!.item()).toBe(1);
        bn(x);
        expect(bn.num_batches_tracked!.item()).toBe(2);
        bn.eval();
        const rm = Array.from(bn.running_mean!.data()), rv = Array.from(bn.running_var!.data());
        const z = noGrad(() => bn(x)); // no graph: the op frees the statistics it used itself
        expectClose(z.data().slice(4, 8), [0, 10, 20, 30].map((v) => (v - rm[1]!) / Math.sqrt(rv[1]! + 1e-5)), 1e-5, 1e-6, 'eval output');
        expect([Array.from(bn.running_mean!.data()), Array.from(bn.running_var!.data()), bn.num_batches_tracked!.item()]).toEqual([rm, rv, 2]);
        // without running statistics, evaluation normalises with the batch's, as in PyTorch
        const plain = new nn.BatchNorm2d(2, { trackRunningStats: false }).eval();
        expectClose(Array.from(plain(x).data()), Array.from(y.data()), 1e-6, 1e-6, 'untracked eval');
        plain.dispose();
      });
      bn.dispose();
    });
  });

  it('momentum null keeps the cumulative average of the batch statistics', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const bn = new nn.BatchNorm1d(3, { momentum: null });
      const g = new Generator(4);
      const means: number[][] = [], vars: number[][] = [];
      tidy(() => {
        for (let k = 0; k < 4; k++) {
          const x = randn([6, 3], { generator: g, mean: k, std: 1 + k });
          const cols = [0, 1, 2].map((c) => Array.from(x.data()).filter((_, i) => i % 3 === c));
          means.push(cols.map((v) => v.reduce((a, b) => a + b, 0) / v.length));
          vars.push(cols.map((v, c) => v.reduce((a, b) => a + (b - means[k]![c]!) ** 2, 0) / (v.length - 1)));
          bn(x);
        }
      });
      const average = (rows: number[][]) => [0, 1, 2].map((c) => rows.reduce((a, r) => a + r[c]!, 0) / rows.length);
      // the first batch replaces the initial values (factor 1/1), later ones average in with 1/k
      expectClose(bn.running_mean!.data(), average(means), 1e-5, 1e-6, 'running_mean');
      expectClose(bn.running_var!.data(), average(vars), 1e-5, 1e-6, 'running_var');
      bn.dispose();
    });
  });

  it('pooling windows at the border, worked out by hand (ceilMode, padding counted or not)', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = arange(9, [1, 1, 3, 3]);
      // ceilMode keeps the partial windows at the right and bottom: [[4,5],[7,8]] instead of [[4]]
      expect(new nn.MaxPool2d(2, { ceilMode: true })(x).array()).toEqual([[[[4, 5], [7, 8]]]]);
      expect(new nn.MaxPool2d(2)(x).array()).toEqual([[[[4]]]]);
      // padding is −∞ for the max: a 3×3 window with padding 1 around each element is the max of its neighbours
      expect(new nn.MaxPool2d(3, { stride: 1, padding: 1 })(x).array()).toEqual([[[[4, 5, 5], [7, 8, 8], [7, 8, 8]]]]);
      // dilation 2: the corners of each 3×3 block
      expect(new nn.MaxPool2d(2, { stride: 1, dilation: 2 })(arange(16, [1, 1, 4, 4])).array()).toEqual([[[[10, 11], [14, 15]]]]);
      // AvgPool2d(3, stride 2, padding 1, ceilMode) on 4×4 ones: windows clipped to the padded border (rows
      // [−1,2), [1,4), [3,5)) divide by their padded size 3, 3, 2 per axis when the padding counts
      const ones = tensor(new Array(16).fill(1), { shape: [1, 1, 4, 4] });
      const counted = new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true })(ones);
      expectClose(counted.data(), [4 / 9, 6 / 9, 2 / 6, 6 / 9, 1, 3 / 6, 2 / 6, 3 / 6, 1 / 4], 1e-6, 0, 'countIncludePad');
      const notCounted = new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false })(ones);
      expect(Array.from(notCounted.data())).toEqual(new Array(9).fill(1));
      expect(Array.from(new nn.AvgPool2d(2, { divisorOverride: 3 })(arange(4, [1, 1, 2, 2])).data())).toEqual([2]);
      // AdaptiveAvgPool2d 3 → 2 along an axis: windows [0,2) and [1,3) overlap in the middle
      const pooled = new nn.AdaptiveAvgPool2d([2, null])(x);
      expect(pooled.shape).toEqual([1, 1, 2, 3]);
      expect(Array.from(pooled.data())).toEqual([1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
      expect(String(new nn.MaxPool2d([2, 3], { stride: 1 })))
        .toBe('MaxPool2d(kernelSize=[2, 3], stride=1, padding=0, dilation=1, ceilMode=false)');
      expect(String(new nn.AvgPool2d(2))).toBe('AvgPool2d(kernelSize=2, stride=2, padding=0)');
      expect(String(new nn.AdaptiveAvgPool2d([5, null]))).toBe('AdaptiveAvgPool2d(outputSize=[5, null])');
    }));
  });

  it('a small convnet-shaped model (batch norm, pooling, linear) learns, memory flat over steps', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const g = new Generator(7);
      // 16 images 1×6×6: class 1 has a bright top-left quadrant, class 0 a bright bottom-right one, plus noise
      const noise = randn([16, 1, 6, 6], { generator: g, std: 0.3 });
      const labels = Array.from({ length: 16 }, (_, i) => i % 2);
      const pattern = tensor(labels.flatMap((c) => Array.from({ length: 36 }, (_, k) => {
        const [r, col] = [Math.floor(k / 6), k % 6];
        return c === 1 ? (r < 3 && col < 3 ? 2 : 0) : (r >= 3 && col >= 3 ? 2 : 0);
      })), { shape: [16, 1, 6, 6] });
      const x = noGrad(() => pattern.add(noise));
      const model = new nn.Sequential(
        new nn.BatchNorm2d(1), new nn.MaxPool2d(2), new nn.AvgPool2d(3, { stride: 1, padding: 1 }), new nn.AdaptiveAvgPool2d(2),
        new nn.Flatten(), new nn.Linear(4, 8, { generator: g }), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 2, { generator: g }),
      );
      const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
      const lossAt = () => tidy(() => nn.crossEntropy(model(x), labels).item());
      const first = lossAt();
      let bytes = 0;
      for (let s = 0; s < 60; s++) {
        tidy(() => {
          opt.zeroGrad();
          nn.crossEntropy(model(x), labels).backward();
          opt.step();
        });
        if (s === 1) bytes = memory().bytes;
      }
      expect(memory().bytes).toBe(bytes);
      expect(lossAt()).toBeLessThan(first / 4);
      model.eval();
      const accuracy = tidy(() => {
        const predicted = Array.from(model(x).argMax(1).data());
        return predicted.filter((p, i) => p === labels[i]).length / labels.length;
      });
      expect(accuracy).toBe(1);
      expect((model.at(0) as nn.BatchNorm2d).num_batches_tracked!.item()).toBe(62);
      opt.disposeState();
      model.dispose();
      for (const t of [noise, pattern, x] as Tensor[]) t.dispose();
    });
  });
});

describe('out of memory at any allocation of a step through pooling and batch norm', () => {
  it('leaks nothing, and the same model and optimizer train on', async () => {
    let k = 0;
    for (; ; k++) {
      const be = await createWasmBackend({ build: 'simd' });
      setBackend(be);
      const heap = (be as unknown as { heap: Heap }).heap;
      const alloc = heap.alloc.bind(heap);
      let countdown = -1;
      heap.alloc = (bytes) => {
        if (countdown >= 0 && countdown-- === 0) throw new OutOfMemoryError(`allocation ${k} fails`);
        return alloc(bytes);
      };
      const g = new Generator(3);
      const model = new nn.Sequential(
        new nn.BatchNorm2d(2), new nn.MaxPool2d(2, { stride: 1 }), new nn.AvgPool2d(2, { padding: 1 }), new nn.AdaptiveAvgPool2d([2, 3]),
        new nn.Flatten(), new nn.Linear(12, 3, { generator: g }), new nn.BatchNorm1d(3),
      );
      const x = keep(randn([4, 2, 5, 5], { generator: g }));
      const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
      const step = () => tidy(() => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model(x), [0, 1, 2, 0]);
        // a gradient of a gradient: the backward ops' own backward and batch norm's composed gradient
        const penalty = grad((t: Tensor) => model(t).square().sum())(x.detach().requiresGrad_()).square().mean();
        loss.add(penalty.mul(1e-3)).backward();
        opt.step();
        return loss.item();
      });
      const params = () => model.parameters().map((p) => Array.from(p.data()));
      const values = params();
      const before = memory();
      countdown = k;
      let failed = true;
      try {
        step();
        failed = false;
      } catch (e) {
        expect((e as Error).message, `allocation ${k}`).toBe(`allocation ${k} fails`);
      }
      countdown = -1;
      if (failed) {
        expect(params(), `allocation ${k}`).toEqual(values);
        opt.zeroGrad();
        expect(memory(), `allocation ${k}`).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
        expect(Number.isFinite(step()), `allocation ${k}`).toBe(true);
      }
      opt.disposeState();
      model.dispose();
      x.dispose();
      if (!failed) break; // k is past the step's last allocation
    }
    expect(k).toBeGreaterThan(100);
    await useBackend('wasm');
  });
});
