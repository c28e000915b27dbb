// nn.TransformerEncoderLayer and nn.ModuleList: the layer against the same computation written with its own
// submodules' parameters and plain ops (layer norm from means, linear as matmul, the self-attention submodule), in
// both norm orders and with both activations, in eval mode on ref and wasm, with masks; PyTorch's state-dict names
// through safetensors; gradcheck in float64 of a small layer; a short training run that lowers the loss without
// leaking; ModuleList names its items 0, 1, … as PyTorch does.
import { afterAll, describe, expect, it } from 'vitest';
import {
  cast, fromSafetensors, Generator, getBackend, gelu, gradcheck, matmul, nn, optim, randn, refBackend, relu, setBackend,
  tensor, tidy, toSafetensors, type Tensor,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose } from '../helpers/fixtures.js';

const before = getBackend();
afterAll(() => setBackend(before));

/** PyTorch's state_dict keys of nn.TransformerEncoderLayer, in its order. */
const TORCH_NAMES = [
  'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
  'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
];

/** Layer norm over the last dim from its definition: (x − mean) / √(var + eps) · weight + bias. */
function plainNorm(x: Tensor, n: nn.LayerNorm): Tensor {
  const centred = x.sub(x.mean(-1, true));
  const normed = centred.div(centred.square().mean(-1, true).add(n.eps).sqrt());
  return normed.mul(n.weight!).add(n.bias!);
}

const plainLinear = (x: Tensor, l: nn.Linear) => matmul(x, l.weight, { transB: true }).add(l.bias!);

/** The encoder layer as PyTorch writes it, with the layer's parameters (eval: no dropout). */
function plainEncoder(x: Tensor, m: nn.TransformerEncoderLayer, attend: (x: Tensor) => Tensor): Tensor {
  const act = m.activation === 'gelu' ? gelu : relu;
  const ff = (y: Tensor) => plainLinear(act(plainLinear(y, m.linear1)), m.linear2);
  if (m.normFirst) {
    const y = x.add(attend(plainNorm(x, m.norm1)));
    return y.add(ff(plainNorm(y, m.norm2)));
  }
  const y = plainNorm(x.add(attend(x)), m.norm1);
  return plainNorm(y.add(ff(y)), m.norm2);
}

describe.each(BACKENDS)('TransformerEncoderLayer on %s', (name) => {
  const cases = [false, true].flatMap((normFirst) => (['relu', 'gelu'] as const).map((activation) => ({ normFirst, activation })));
  it.each(cases)('normFirst $normFirst, $activation: the computation written with its submodules, with masks', async (o) => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const m = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 12, ...o, generator: new Generator(3) }).eval();
      // LayerNorm starts at weight 1, bias 0: give each norm its own values so a swapped norm would show.
      [m.norm1, m.norm2].forEach((n, i) =>
        n.loadStateDict({ weight: randn([8], { seed: 11 + i }).add(1), bias: randn([8], { seed: 21 + i }) }));
      const x = randn([5, 2, 8], { seed: 4 }); // [S, N, E], PyTorch's default layout
      const padding = tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], { dtype: 'int32' });
      const close = (a: Tensor, b: Tensor, what: string) => expectClose(a.data(), Array.from(b.data()), 1e-5, 1e-5, what);
      close(m(x), plainEncoder(x, m, (y) => m.self_attn(y, y, y)), 'no mask');
      close(m(x, { srcKeyPaddingMask: padding, isCausal: true }),
        plainEncoder(x, m, (y) => m.self_attn(y, y, y, { keyPaddingMask: padding, isCausal: true })), 'padding, causal');
      const unbatched = x.slice([0, 0, 0], [5, 1, 8]).reshape([5, 8]);
      close(m(unbatched), plainEncoder(unbatched, m, (y) => m.self_attn(y, y, y)), 'unbatched');
      m.dispose();
    }));
  });

  it('batchFirst takes [N, S, E]; state dicts keep PyTorch names through safetensors; training lowers the loss', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const g = new Generator(9);
      const m = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, normFirst: true, activation: 'gelu', generator: g });
      const copy = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, normFirst: true, activation: 'gelu' });
      const file = fromSafetensors(toSafetensors(m.stateDict()));
      expect(Object.keys(file.tensors)).toEqual(TORCH_NAMES);
      copy.loadStateDict(Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
      tidy(() => {
        const x = randn([2, 3, 8], { seed: 1 });
        m.eval();
        copy.eval();
        expect(Array.from(copy(x).data())).toEqual(Array.from(m(x).data()));
        const seqFirst = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, activation: 'gelu' }).eval();
        seqFirst.loadStateDict(m.stateDict());
        expectClose(m(x).data(), Array.from(seqFirst(x.permute([1, 0, 2])).permute([1, 0, 2]).data()), 1e-6, 1e-6, 'batchFirst');
        seqFirst.dispose();
      });
      // Learn to map random sequences to their reversal's sum, with dropout on (training mode).
      m.train();
      const opt = new optim.Adam(m.parameters(), { lr: 0.01 });
      const x = randn([4, 5, 8], { generator: g });
      const target = randn([4, 5, 8], { generator: g });
      const losses: number[] = [];
      for (let step = 0; step < 40; step++) {
        tidy(() => {
          opt.zeroGrad();
          const loss = m(x, { isCausal: true }).sub(target).square().mean();
          loss.backward();
          opt.step();
          losses.push(loss.item());
        });
      }
      expect(losses[39]!).toBeLessThan(0.5 * losses[0]!);
      [x, target].forEach((t) => t.dispose());
      opt.disposeState();
      m.dispose();
      copy.dispose();
    });
  });
});

describe('TransformerEncoderLayer passes gradcheck (float64)', () => {
  it.each([false, true])('normFirst %s, gelu, causal: the input and every parameter', (normFirst) => {
    setBackend(refBackend());
    expectNoLeaks(() => {
      const m = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, normFirst, activation: 'gelu', generator: new Generator(2) }).eval();
      const named = m.namedParameters();
      tidy(() => {
        // The layer's parameters swapped for float64 copies that gradcheck perturbs (layers hold float32).
        const place = (values: Tensor[]) => named.forEach(([path], i) => {
          const keys = path.split('.');
          const owner = keys.slice(0, -1).reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, m as unknown as Record<string, unknown>);
          owner[keys[keys.length - 1]!] = values[i];
        });
        const params = named.map(([, p]) => cast(p, 'float64').add(randn(p.shape, { seed: 5, dtype: 'float64', std: 0.3 })));
        const x = randn([3, 2, 4], { seed: 6, dtype: 'float64' });
        const f = (input: Tensor, ...ps: Tensor[]) => {
          place(ps);
          return m(input, { isCausal: true });
        };
        const result = gradcheck(f, [x, ...params], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
        place(named.map(([, p]) => p));
        expect(result.failures).toEqual([]);
        expect(result.passed && result.checks > 0).toBe(true);
      });
      m.dispose();
    });
  });
});

describe('ModuleList', () => {
  it('names its items 0, 1, … so a stack of layers reads layers.<i>.… as in PyTorch', () => {
    expectNoLeaks(() => {
      class Encoder extends nn.Module {
        layers = new nn.ModuleList([0, 1].map(() => new nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 4 })));
        forward(x: Tensor): Tensor {
          let y = x;
          for (const layer of this.layers) y = (layer as nn.TransformerEncoderLayer)(y);
          return y;
        }
      }
      const e = new Encoder();
      expect(e.layers.length).toBe(2);
      expect(Object.keys(e.stateDict())).toEqual([0, 1].flatMap((i) => TORCH_NAMES.map((k) => `layers.${i}.${k}`)));
      expect(e.layers.at(-1)).toBe(e.layers.at(1));
      tidy(() => expect(e(randn([3, 2, 4], { seed: 1 })).shape).toEqual([3, 2, 4]));
      e.dispose();
    });
  });
});
