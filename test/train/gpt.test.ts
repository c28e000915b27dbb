// The character GPT against PyTorch: models[kind=tiny_gpt] of the layer fixtures (token and position embeddings,
// one pre-LN causal block, final LayerNorm, linear head) loaded with PyTorch's weights must give PyTorch's logits,
// loss and the gradient of every parameter, by state-dict name, on the ref backend and every wasm build. The
// fixture's one block is PyTorch's `block`; ours are a list, `blocks.0`, `blocks.1`, …
import { describe, expect, it } from 'vitest';
import { crossEntropy, IGNORE_INDEX, memory, noGrad, setBackend, tensor, tidy } from '../../src/index.js';
import { Generator } from '../../src/random.js';
import { GPT, type GptConfig } from '../../src/train/gpt.js';
import { textData } from '../../src/train/text-data.js';
import { GPT_DEFAULTS, Trainer } from '../../src/train/trainer.js';
import data from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { expectNoLeaks, expectNoLeaksAsync } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, flat, type Nested } from '../helpers/fixtures.js';

interface GptCase {
  kind: 'tiny_gpt'; layers: string; idx: number[][]; targets: number[][];
  params: Record<string, Nested>; logits: Nested; loss: number; grads: Record<string, Nested>;
}

const fixture = (data as unknown as { models: { kind: string }[] }).models.find((m) => m.kind === 'tiny_gpt') as GptCase;
const backends = await loadBackends();

const shapeOf = (x: Nested): number[] => (Array.isArray(x) ? [x.length, ...shapeOf(x[0]!)] : []);
const ours = (name: string) => name.replace(/^block\./, 'blocks.0.');

/** The fixture's sizes, read from its weights (the head count from its description: "…causal, 2 heads…"). */
function fixtureConfig(): GptConfig {
  const [vocabSize, width] = shapeOf(fixture.params['tok.weight']!) as [number, number];
  const heads = Number(/(\d+) heads/.exec(fixture.layers)![1]);
  return { vocabSize, context: shapeOf(fixture.params['pos.weight']!)[0]!, layers: 1, heads, width, dropout: 0 };
}

function loadFixtureModel(): GPT {
  const model = new GPT(fixtureConfig(), new Generator(0), new Generator(1));
  model.loadStateDict(Object.fromEntries(Object.entries(fixture.params).map(([k, v]) => [ours(k), { shape: shapeOf(v), data: flat(v) }])));
  return model;
}

describe('the GPT has PyTorch state-dict names', () => {
  it("its parameters are the fixture's, name for name and shape for shape", () => {
    setBackend('ref');
    expectNoLeaks(() => {
      const model = new GPT(fixtureConfig(), new Generator(0), new Generator(1));
      const shapes = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, p.shape]));
      expect(shapes).toEqual(Object.fromEntries(Object.entries(fixture.params).map(([k, v]) => [ours(k), shapeOf(v)])));
      model.dispose();
    });
  });
});

describe.each(backends.map((b) => [b.label, b.backend] as const))('PyTorch tiny GPT fixture on %s', (_label, backend) => {
  it('logits, loss and the gradient of every parameter', () => {
    setBackend(backend);
    expectNoLeaks(() => {
      const model = loadFixtureModel();
      tidy(() => {
        const idx = tensor(fixture.idx, { dtype: 'int32' });
        const logits = model(idx);
        expect(logits.shape).toEqual(shapeOf(fixture.logits));
        expectClose(logits.data(), fixture.logits, 1e-4, 1e-6, 'logits');
        const vocab = logits.shape[2]!;
        const loss = crossEntropy(logits.reshape([-1, vocab]), tensor(fixture.targets.flat(), { dtype: 'int32' }));
        expectClose(loss.item(), fixture.loss, 1e-4, 1e-6, 'loss');
        loss.backward();
        for (const [name, grad] of Object.entries(fixture.grads)) {
          const p = model.namedParameters().find(([k]) => k === ours(name))![1];
          expectClose(p.grad!.data(), grad, 1e-4, 1e-6, `gradient of ${name}`);
        }
      });
      model.dispose();
    });
  });
});

describe('GPT.generate', () => {
  it('continues a sequence past the context, reproducibly for a seed, leaving memory and the mode as they were', () => {
    setBackend('ref');
    const model = loadFixtureModel();
    const before = memory();
    const a = model.generate([1, 2], 10, { temperature: 0.8, generator: new Generator(7) });
    const b = model.generate([1, 2], 10, { temperature: 0.8, generator: new Generator(7) });
    expect(a.length).toBe(12);
    expect(Array.from(a.subarray(0, 2))).toEqual([1, 2]);
    expect(a.every((t) => t >= 0 && t < 13)).toBe(true);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(memory().tensors).toBe(before.tensors);
    expect(model.training).toBe(true);
    model.dispose();
  });

  it('a low temperature picks the most likely token', () => {
    setBackend('ref');
    const model = loadFixtureModel();
    const greedy = tidy(() => {
      const logits = model.eval()(tensor([[3, 4, 5]], { dtype: 'int32' }));
      return Array.from(logits.data().slice(2 * 13, 3 * 13)).reduce((best, v, i, all) => (v > all[best]! ? i : best), 0);
    });
    expect(model.generate([3, 4, 5], 1, { temperature: 1e-4, generator: new Generator(0) })[3]).toBe(greedy);
    model.dispose();
  });
});

describe('the trainer on text', () => {
  it.each([0, 0.1])('reports the validation loss per character of the held-out lines: padding counts for nothing, nor the L2 term (l2 %s)', async (l2) => {
    setBackend('ref');
    // 23 lines: 21 train, 2 held out, whose stream ('\nabcab\nbca\n', 10 characters after the first) fills one window
    // of 8 and two places of a padded second one.
    const lines = [...Array.from({ length: 21 }, (_, i) => ['abc', 'cab', 'bca'][i % 3]!), 'abcab', 'bca'];
    const data = textData(lines, { context: 8 });
    await expectNoLeaksAsync(async () => {
      const t = new Trainer({ ...GPT_DEFAULTS, context: 8, layers: 1, heads: 2, width: 8, epochs: 1, batchSize: 4, l2 }, data);
      await t.trainEpoch();
      const { loss } = t.evaluate(data.test);
      // The same by hand: −log softmax of each real target, averaged over the 10 of them.
      const logits = tidy(() => noGrad(() => t.model.eval()(data.test.features).data()));
      const targets = data.test.targets.data();
      const V = data.tokenizer.vocabSize;
      let sum = 0, n = 0;
      targets.forEach((y, i) => {
        if (y === IGNORE_INDEX) return;
        const row = Array.from(logits.subarray(i * V, (i + 1) * V));
        const max = Math.max(...row);
        sum += max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)) - row[y]!;
        n++;
      });
      expect(n).toBe(10);
      expect(loss).toBeCloseTo(sum / n, 5);
      t.dispose();
    });
    data.train.dispose();
    data.test.dispose();
  });
});
