// nn.Conv1d / nn.Conv2d: PyTorch's parameter names, shapes, default init and repr; the same numbers as the
// functional ops; state dicts through safetensors; a small convnet that learns, on both backends, without leaking.
import { describe, expect, it } from 'vitest';
import {
  conv1d, conv2d, fromSafetensors, Generator, memory, nn, optim, randn, tensor, tidy, toSafetensors,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';

describe.each(BACKENDS)('nn.Conv1d / nn.Conv2d on %s', (name) => {
  it('parameters are named and shaped as in PyTorch (weight [out, in/groups, ...kernel], bias [out])', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const model = new nn.Sequential(new nn.Conv2d(3, 6, 5), new nn.ReLU(), new nn.Conv2d(6, 8, [3, 2], { groups: 2, bias: false }),
        new nn.Conv1d(4, 6, 3, { groups: 2 }));
      expect(model.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
        ['0.weight', [6, 3, 5, 5]], ['0.bias', [6]], ['2.weight', [8, 3, 3, 2]], ['3.weight', [6, 2, 3]], ['3.bias', [6]],
      ]);
      model.dispose();
    });
  });

  it("PyTorch's default init: U(±1/√fanIn) for weight (kaiming-uniform, a = √5) and bias, seeded", async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const make = () => new nn.Conv2d(8, 64, 3, { groups: 2, generator: new Generator(5) });
      const a = make(), b = make();
      const bound = 1 / Math.sqrt((8 / 2) * 3 * 3); // fanIn = in/groups · kH · kW = 36
      for (const p of [a.weight, a.bias!]) {
        const v = Array.from(p.data()).map(Math.abs);
        expect(Math.max(...v)).toBeLessThanOrEqual(bound);
        expect(Math.max(...v)).toBeGreaterThan(bound * (p === a.weight ? 0.99 : 0.8));
      }
      expect(Array.from(b.weight.data())).toEqual(Array.from(a.weight.data()));
      expect(Array.from(b.bias!.data())).toEqual(Array.from(a.bias!.data()));
      a.dispose();
      b.dispose();
    });
  });

  it('computes what conv1d / conv2d compute with its parameters and options', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const c2 = new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2 });
      const x2 = randn([2, 4, 7, 6]);
      expect(Array.from(c2(x2).data())).toEqual(Array.from(conv2d(x2, c2.weight, c2.bias, {
        stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2,
      }).data()));
      const c1 = new nn.Conv1d(3, 5, 4, { padding: 'same', bias: false });
      const x1 = randn([2, 3, 9]);
      expect(c1(x1).shape).toEqual([2, 5, 9]);
      expect(Array.from(c1(x1).data())).toEqual(Array.from(conv1d(x1, c1.weight, null, { padding: 'same' }).data()));
      c1.dispose();
      c2.dispose();
    }));
  });

  it("prints like PyTorch's repr", async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const layers = [
        new nn.Conv2d(1, 16, 5, { padding: 2 }),
        new nn.Conv2d(16, 32, [3, 1], { stride: 2, dilation: [2, 1], groups: 4, bias: false }),
        new nn.Conv1d(4, 8, 3, { padding: 'same' }),
        new nn.Conv1d(4, 8, [3]),
      ];
      expect(layers.map(String)).toEqual([
        'Conv2d(1, 16, kernelSize=[5, 5], stride=[1, 1], padding=[2, 2])',
        'Conv2d(16, 32, kernelSize=[3, 1], stride=[2, 2], dilation=[2, 1], groups=4, bias=false)',
        "Conv1d(4, 8, kernelSize=[3], stride=[1], padding='same')",
        'Conv1d(4, 8, kernelSize=[3], stride=[1])',
      ]);
      layers.forEach((l) => l.dispose());
    });
  });

  it('state dicts round-trip through safetensors under the names weight and bias', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const make = (seed: number) => new nn.Sequential(new nn.Conv2d(2, 4, 3, { generator: new Generator(seed) }), new nn.ReLU(),
        new nn.Conv1d(4, 3, 2, { bias: false, generator: new Generator(seed + 1) }));
      const a = make(1), b = make(7);
      const file = fromSafetensors(toSafetensors(a.stateDict()));
      expect(Object.entries(file.tensors).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
        ['0.weight', 'F32', [4, 2, 3, 3]], ['0.bias', 'F32', [4]], ['2.weight', 'F32', [3, 4, 2]],
      ]);
      b.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
      tidy(() => {
        const x = randn([2, 2, 5, 5]);
        // Conv1d after Conv2d: view the 3×3 output as 4 channels of length 9.
        const run = (m: nn.Sequential) => Array.from(m.at(2)!(m.at(1)!(m.at(0)!(x)).reshape([2, 4, 9])).data());
        expect(run(b)).toEqual(run(a));
      });
      a.dispose();
      b.dispose();
    });
  });

  it('a small convnet learns (conv, ReLU, conv with stride, flatten, linear; Adam)', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const g = new Generator(3);
      const model = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1, generator: g }), new nn.ReLU(),
        new nn.Conv2d(4, 4, 3, { stride: 2, generator: g }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(36, 2, { generator: g }));
      const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
      // Two classes of 8×8 images: a bright left half or a bright right half, with noise.
      const images = Array.from({ length: 16 }, (_, i) => Array.from({ length: 64 }, (_, p) =>
        ((p % 8 < 4) === (i % 2 === 0) ? 1 : 0) + 0.3 * Math.sin(i * 7 + p)));
      const x = tensor(images.flat(), { shape: [16, 1, 8, 8] });
      const y = tensor(images.map((_, i) => i % 2), { dtype: 'int32' });
      const losses: number[] = [];
      const heap: number[] = [];
      for (let step = 0; step < 30; step++) {
        losses.push(tidy(() => {
          opt.zeroGrad();
          const loss = nn.crossEntropy(model(x), y);
          loss.backward();
          opt.step();
          return loss.item();
        }));
        heap.push(memory().heapBytes);
      }
      expect(losses[29]!).toBeLessThan(losses[0]! / 4);
      // The kernels' scratch is kept from call to call: the heap stops growing after the first step.
      expect(new Set(heap.slice(1)).size).toBe(1);
      opt.disposeState();
      model.dispose();
      x.dispose();
      y.dispose();
    });
  });
});
