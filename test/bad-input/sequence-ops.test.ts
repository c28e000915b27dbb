// Bad input to the ops for sequence models (crossEntropy's layouts and ignoreIndex, cast, int32 data, tril/triu,
// cumsum, sin/cos, linspace, topK, multinomial): each wrong call fails with a message that names the op and says
// what was wrong, memory is unchanged, a refused draw leaves its generator where it was, and the same tensors, model
// and optimizer keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cast, crossEntropy, cumsum, Generator, init, keep, linspace, memory, multinomial, optim, tensor, tidy, topK, tril, triu,
  type Tensor,
} from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
/** Logits [2, 4, 5] as a language model gives them ([B, T, V]), their labels [2, 4], and int32 class indices [3]. */
let logits: Tensor, labels: Tensor, ints: Tensor;
/** The generator of the sampling cases. */
const generator = new Generator(5);

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  logits = keep(tensor(Array.from({ length: 40 }, (_, i) => Math.sin(i)), { shape: [2, 4, 5] }));
  labels = keep(tensor([[0, 1, 2, 3], [4, 0, 1, 2]], { dtype: 'int32' }));
  ints = keep(tensor([2, 0, 1], { dtype: 'int32' }));
});

afterAll(() => {
  disposeWorld(world);
  [logits, labels, ints].forEach((t) => t.dispose());
});

/** The objects still work: the loss over [B·T, V], a draw and a top-k of the same tensors, and the world's step. */
function stillUsable(): void {
  tidy(() => {
    expect(Number.isFinite(crossEntropy(logits.reshape([8, 5]), labels.reshape([8])).item())).toBe(true);
    expect(topK(logits, 2).indices.shape).toEqual([2, 4, 2]);
    expect(multinomial(logits.reshape([8, 5]).softmax(-1), 1, { generator: new Generator(1) }).shape).toEqual([8, 1]);
    expect(ints.equal(tensor([2, 1, 1], { dtype: 'int32' })).float().mean().item()).toBeCloseTo(2 / 3, 6);
  });
  stillUsableWorld(world);
}

const probs = (values: number[], shape?: number[]) => tensor(values, { shape });

const CASES: [string, () => unknown, string | RegExp][] = [
  // crossEntropy
  ['[N, C, d] logits with labels of another shape', () => crossEntropy(logits, tensor([[0, 1]], { dtype: 'int32' })),
    'crossEntropy: labels must have shape [2,5] (classes on dim 1, as in PyTorch: logits [N, C, d…], labels [N, d…]) ' +
    'or [2,4] (classes last: logits [d…, C], labels [d…]) for logits [2,4,5], got [1,2]'],
  ['[C] logits with a label of rank 1', () => crossEntropy(world.w, [1]),
    'crossEntropy: labels must have shape [] for logits [3], got [1]'],
  ['scalar logits', () => crossEntropy(tensor(1), [0]), 'crossEntropy: logits must have a class dimension, got a scalar (shape [])'],
  ['a label out of range that is not ignoreIndex', () => crossEntropy(world.x, [0, 3]),
    'crossEntropy: label 3 at row 1 is out of range [0, 3) and is not ignoreIndex (-100)'],
  ['the default ignoreIndex with another one set', () => crossEntropy(world.x, [-100, 1], { ignoreIndex: 0 }),
    'crossEntropy: label -100 at row 0 is out of range [0, 3) and is not ignoreIndex (0)'],
  ['a label out of range in [N, C, d] logits', () => crossEntropy(logits.permute([0, 2, 1]), tensor([[0, 1, 5, 3], [4, 0, 1, 2]], { dtype: 'int32' })),
    'crossEntropy: label 5 at row 2 is out of range [0, 5) and is not ignoreIndex (-100)'],
  ['a fractional ignoreIndex', () => crossEntropy(world.x, [0, 1], { ignoreIndex: 1.5 }),
    'crossEntropy: ignoreIndex must be an integer from -2147483648 to 2147483647, got 1.5'],
  ['an ignoreIndex past int32 (the labels are int32)', () => crossEntropy(world.x, [0, 1], { ignoreIndex: 2 ** 32 + 1 }),
    'crossEntropy: ignoreIndex must be an integer from -2147483648 to 2147483647, got 4294967297'],
  ["PyTorch's spelling of ignoreIndex", () => crossEntropy(world.x, [0, 1], { ignore_index: -100 } as object),
    "crossEntropy: unknown option 'ignore_index'; did you mean 'ignoreIndex'?"],
  ['float labels', () => crossEntropy(world.x, tensor([0, 1])), 'crossEntropy: labels must be int32, got float32'],
  // cast and int32 data
  ['an unknown dtype', () => cast(world.x, 'int64' as never), "cast: dtype must be 'float32', 'float64' or 'int32', got the string 'int64'"],
  ['float64 on the wasm backend', () => world.x.cast('float64'), 'cast: the wasm backend does not store float64 (it stores float32, int32)'],
  ['arithmetic on int32', () => ints.add(ints), 'add: expects float32 or float64 data, got int32 (x.float() casts it)'],
  ['the mean of int32 comparisons', () => ints.equal(ints).mean(), 'mean: expects float32 or float64 data, got int32 (x.float() casts it)'],
  ['sin of int32', () => ints.sin(), 'sin: expects float32 or float64 data, got int32 (x.float() casts it)'],
  ['a comparison with a disposed tensor', () => {
    const y = tensor([1, 2, 3], { dtype: 'int32' });
    y.dispose();
    return ints.equal(y);
  }, 'equal: input tensor was used after it was disposed'],
  ['int32 compared with a float tensor of another shape (promoted first)', () => ints.less(tensor([1, 2])),
    'less: shapes [3] and [2] are not broadcastable'],
  // tril / triu
  ['tril of a vector', () => tril(world.w), 'tril: expected a tensor of rank ≥ 2 (matrices in the last two dims), got [3]'],
  ['a fractional diagonal', () => triu(world.x, 0.5), 'triu: diagonal must be an integer, got 0.5'],
  // cumsum
  ['cumsum without a dim', () => cumsum(world.x, undefined as never), 'cumsum: dim must be an integer, got undefined'],
  ['cumsum dim out of range', () => world.x.cumsum(2), 'cumsum: axis 2 is out of range for shape [2,3]'],
  ['cumsum of int32', () => ints.cumsum(0), 'cumsum: expects float32 or float64 data, got int32 (x.float() casts it)'],
  // linspace
  ['linspace with steps < 0', () => linspace(0, 1, -1), 'linspace: steps must be an integer ≥ 0, got -1'],
  ['linspace with fractional steps', () => linspace(0, 1, 2.5), 'linspace: steps must be an integer ≥ 0, got 2.5'],
  ['linspace to Infinity', () => linspace(0, Infinity, 3), 'linspace: start and end must be finite numbers, got 0 and Infinity'],
  ['linspace past int32', () => linspace(0, 3e9, 3, { dtype: 'int32' }), 'linspace: int32 values must be integers in [-2147483648, 2147483647], got 3000000000'],
  ['linspace with an option it lacks', () => linspace(0, 1, 3, { requires_grad: true } as object), "linspace: unknown option 'requires_grad'; did you mean 'requiresGrad'?"],
  // topK
  ['k larger than the dim', () => topK(world.x, 5), 'topK: k = 5 is larger than the 3 entries along dim -1 of [2,3]'],
  ['k larger than dim 0', () => world.x.topK(3, { dim: 0 }), 'topK: k = 3 is larger than the 2 entries along dim 0 of [2,3]'],
  ['a negative k', () => topK(world.x, -1), 'topK: k must be an integer ≥ 0, got -1'],
  ['a topK dim out of range', () => topK(world.x, 1, { dim: 2 }), 'topK: axis 2 is out of range for shape [2,3]'],
  ['an unknown topK option', () => topK(world.x, 1, { axis: 0 } as object), "topK: unknown option 'axis'"],
  ['topK of an array', () => topK([1, 2] as never, 1), 'topK: x must be a Tensor, got [1, 2] (make one with tensor(...))'],
  // multinomial
  ['a negative probability', () => multinomial(probs([0.5, -0.1, 0.6]), 1, { generator }),
    'multinomial: probabilities must be finite and ≥ 0, got -0.1'],
  ['NaN in the second row', () => multinomial(probs([0.5, 0.5, 0.1, NaN], [2, 2]), 1, { generator }),
    'multinomial: probabilities must be finite and ≥ 0, got NaN at category 1 in row 1'],
  ['Infinity', () => multinomial(probs([Infinity, 1]), 1, { generator }), 'multinomial: probabilities must be finite and ≥ 0, got Infinity at category 0'],
  ['probabilities that sum to 0', () => multinomial(probs([0, 0, 0]), 1, { replacement: true, generator }),
    'multinomial: the probabilities sum to 0; at least one must be positive'],
  ['more samples than categories without replacement', () => multinomial(probs([0.2, 0.8]), 3, { generator }),
    'multinomial: cannot draw 3 samples without replacement from 2 categories (pass replacement: true)'],
  ['more samples than categories with weight', () => multinomial(probs([0.2, 0, 0.8, 0]), 3, { generator }),
    'multinomial: cannot draw 3 samples without replacement: only 2 categories have a probability above 0'],
  ['more samples than memory holds', () => multinomial(probs([1, 1]), 2 ** 31, { replacement: true, generator }), /out of memory/],
  ['zero samples', () => multinomial(probs([1, 1]), 0, { generator }), 'multinomial: numSamples must be a positive integer, got 0'],
  ['probs of rank 3', () => multinomial(logits, 1, { generator }),
    'multinomial: probs must be 1-D [categories] or 2-D [rows, categories], got [2,4,5]'],
  ['int32 weights', () => multinomial(ints, 1, { generator }), 'multinomial: probs must be float32 or float64, got int32 (x.float() casts it)'],
  ['no categories', () => multinomial(probs([], [2, 0]), 1, { replacement: true, generator }), 'multinomial: probs [2,0] has no categories'],
  ['a seed instead of a generator', () => multinomial(probs([1, 1]), 1, { seed: 3 } as object),
    "multinomial: unknown option 'seed'"],
  ['a generator that is not one', () => multinomial(probs([1, 1]), 1, { generator: { next: () => 0.5 } as never }),
    'multinomial: generator must be a Generator, got an object'],
];

describe('bad input to the ops for sequence models', () => {
  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const state = generator.getState();
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(generator.getState()).toEqual(state); // nothing was drawn
    stillUsable();
  });
});
