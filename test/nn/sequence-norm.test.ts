// Embedding, LayerNorm and RMSNorm layers: PyTorch's parameter names and initialisation, what they print, that they
// compute their functional ops, state dicts through safetensors, and a small token model that learns on both
// backends without leaking, its padding row untouched.
import { describe, expect, it } from 'vitest';
import {
  embedding, fromSafetensors, Generator, layerNorm, memory, nn, optim, randn, rmsNorm, tensor, tidy, toSafetensors,
  type Tensor,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';

describe.each(BACKENDS)('Embedding, LayerNorm and RMSNorm on %s', (name) => {
  it('have PyTorch\'s parameters, initialisation and state-dict names', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const layers = [
        new nn.Embedding(100, 50, { generator: new Generator(3) }), new nn.Embedding(5, 3, { paddingIdx: -2 }),
        new nn.LayerNorm(8), new nn.LayerNorm([2, 3], { eps: 1e-6, bias: false }), new nn.LayerNorm(4, { elementwiseAffine: false }),
        new nn.RMSNorm([4]), new nn.RMSNorm(3, { eps: 1e-6, elementwiseAffine: false }),
      ] as const;
      expect(layers.map((l) => Object.entries(l.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual([
        [['weight', [100, 50]]], [['weight', [5, 3]]],
        [['weight', [8]], ['bias', [8]]], [['weight', [2, 3]]], [],
        [['weight', [4]]], [],
      ]);
      expect(layers.map(String)).toEqual([
        'Embedding(100, 50)', 'Embedding(5, 3, paddingIdx=3)',
        'LayerNorm([8], eps=0.00001, elementwiseAffine=true, bias=true)', 'LayerNorm([2,3], eps=0.000001, elementwiseAffine=true, bias=false)',
        'LayerNorm([4], eps=0.00001, elementwiseAffine=false)',
        'RMSNorm([4], eps=null, elementwiseAffine=true)', 'RMSNorm([3], eps=0.000001, elementwiseAffine=false)',
      ]);
      // N(0, 1) like PyTorch's nn.Embedding, from the generator given
      const w = Array.from(layers[0].weight.data());
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
      expect(Math.abs(mean)).toBeLessThan(0.05);
      expect(Math.abs(sd - 1)).toBeLessThan(0.03);
      const again = new nn.Embedding(100, 50, { generator: new Generator(3) });
      expect(Array.from(again.weight.data())).toEqual(w);
      again.dispose();
      // the padding row starts at zero; the others do not
      const padded = Array.from(layers[1].weight.data());
      expect(padded.slice(9, 12)).toEqual([0, 0, 0]);
      expect(padded.slice(0, 9).every((v) => v !== 0)).toBe(true);
      expect([layers[2].weight!.data(), layers[2].bias!.data(), layers[5].weight!.data()])
        .toEqual([new Float32Array(8).fill(1), new Float32Array(8), new Float32Array(4).fill(1)]);
      expect(layers.map((l) => l.parameters().every((p) => p.requiresGrad))).toEqual(layers.map(() => true));
      layers.forEach((l) => l.dispose());
    });
  });

  it('compute their functional ops', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const g = new Generator(5);
      const emb = new nn.Embedding(7, 4, { paddingIdx: 0, generator: g });
      const ln = new nn.LayerNorm([2, 4], { eps: 1e-3 });
      const rms = new nn.RMSNorm(4, { eps: 1e-4 });
      const idx = tensor([[0, 3], [6, 3], [1, 0]], { dtype: 'int32' });
      const x = randn([3, 2, 4], { generator: g });
      expect(Array.from(emb(idx).data())).toEqual(Array.from(embedding(idx, emb.weight, { paddingIdx: 0 }).data()));
      expect(Array.from(ln(x).data())).toEqual(Array.from(layerNorm(x, [2, 4], ln.weight, ln.bias, { eps: 1e-3 }).data()));
      expect(Array.from(rms(x).data())).toEqual(Array.from(rmsNorm(x, [4], rms.weight, { eps: 1e-4 }).data()));
      for (const l of [emb, ln, rms]) l.dispose();
    }));
  });

  it('state dicts round-trip through safetensors under PyTorch\'s names', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const make = (seed: number) => new nn.Sequential(new nn.Embedding(9, 6, { generator: new Generator(seed) }), new nn.LayerNorm(6),
        new nn.RMSNorm(6), new nn.Linear(6, 3, { generator: new Generator(seed + 1) }));
      const a = make(1), b = make(7);
      tidy(() => { // move a's norms away from their initial values (ones and zeros), so that loading them shows
        const g = new Generator(3);
        a.loadStateDict(Object.fromEntries(Object.entries(a.stateDict()).map(([k, t]) =>
          [k, /^[12]\./.test(k) ? randn(t.shape, { generator: g }) : t])));
      });
      const file = fromSafetensors(toSafetensors(a.stateDict()));
      expect(Object.entries(file.tensors).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
        ['0.weight', 'F32', [9, 6]], ['1.weight', 'F32', [6]], ['1.bias', 'F32', [6]], ['2.weight', 'F32', [6]],
        ['3.weight', 'F32', [3, 6]], ['3.bias', 'F32', [3]],
      ]);
      b.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
      tidy(() => {
        const idx = tensor([[1, 8, 2], [0, 0, 5]], { dtype: 'int32' });
        expect(Array.from(b(idx).data())).toEqual(Array.from(a(idx).data()));
      });
      a.dispose();
      b.dispose();
    });
  });

  it('a small token model learns (Embedding with padding, LayerNorm, RMSNorm, Linear; Adam), memory flat, the padding row untouched', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const g = new Generator(11);
      // sequences of 6 tokens from a vocabulary of 8 (0 is padding); each token's class is its parity
      const tokens = Array.from({ length: 48 }, () => Math.floor(g.uniform(1)[0]! * 8));
      const idx = tensor(tokens, { shape: [8, 6], dtype: 'int32' });
      const labels = tokens.map((t) => t % 2);
      const model = new nn.Sequential(new nn.Embedding(8, 16, { paddingIdx: 0, generator: g }), new nn.LayerNorm(16),
        new nn.RMSNorm(16), new nn.Linear(16, 2, { generator: g }));
      const emb = model.at(0) as nn.Embedding;
      const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
      const lossAt = () => tidy(() => nn.crossEntropy(model(idx).reshape([48, 2]), labels).item());
      const first = lossAt();
      const before = Array.from(emb.weight.data());
      let bytes = 0;
      for (let s = 0; s < 40; s++) {
        tidy(() => {
          opt.zeroGrad();
          nn.crossEntropy(model(idx).reshape([48, 2]), labels).backward();
          opt.step();
        });
        if (s === 1) bytes = memory().bytes;
      }
      expect(memory().bytes).toBe(bytes);
      expect(lossAt()).toBeLessThan(first / 4);
      const after = Array.from(emb.weight.data());
      expect(after.slice(0, 16)).toEqual(new Array(16).fill(0)); // the padding row: no gradient, so Adam never moves it
      expect(after.slice(16)).not.toEqual(before.slice(16));
      opt.disposeState();
      model.dispose();
      (idx as Tensor).dispose();
    });
  });
});
