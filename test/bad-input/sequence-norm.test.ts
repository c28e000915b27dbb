// The bad-input catalogue of embedding, layer normalisation and RMS normalisation (ops and layers): every wrong call
// fails with a specific message naming the op and the shapes or the bad index, memory is unchanged, and the same
// tensors, model and optimizer keep working — a token model (Embedding, LayerNorm, RMSNorm, Linear) included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  embedding, init, keep, layerNorm, memory, nn, ones, optim, refBackend, rmsNorm, tensor, tidy, zeros, type Tensor,
} from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
/** Token indices [2,3] for a vocabulary of 5. */
let tokens: Tensor;
/** A [2,3,4] sequence batch. */
let seq: Tensor;
/** Embedding(5, 4) → LayerNorm(4) → RMSNorm(4) → Linear(4, 2), and its optimizer. */
let tokenModel: nn.Sequential;
let tokenOpt: optim.Adam;

/** Every state entry of a model, bit for bit. */
const stateOf = (m: nn.Module) => Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data())]);

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  tokens = keep(tensor([[0, 4, 2], [1, 1, 3]], { dtype: 'int32' }));
  seq = keep(tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i)), { shape: [2, 3, 4] }));
  tokenModel = new nn.Sequential(new nn.Embedding(5, 4, { paddingIdx: 0 }), new nn.LayerNorm(4), new nn.RMSNorm(4), new nn.Linear(4, 2));
  tokenOpt = new optim.Adam(tokenModel.parameters(), { lr: 0.01 });
});

afterAll(() => {
  disposeWorld(world);
  tokens.dispose();
  seq.dispose();
  tokenOpt.disposeState();
  tokenModel.dispose();
});

/** The objects still work: the shared world, and a training step of the token model that changes it. */
function stillUsable(): void {
  stillUsableWorld(world);
  tidy(() => {
    const before = stateOf(tokenModel);
    tokenOpt.zeroGrad();
    nn.crossEntropy(tokenModel(tokens).reshape([6, 2]), [0, 1, 0, 1, 1, 0]).backward();
    tokenOpt.step();
    expect(stateOf(tokenModel)).not.toEqual(before);
  });
}

/** Calls a fresh layer, disposing it afterwards (its parameters live outside every tidy scope). */
function withLayer<M extends nn.Module>(layer: M, call: (m: M) => unknown): unknown {
  try {
    return call(layer);
  } finally {
    layer.dispose();
  }
}

const table = () => tokenModel.at(0)!.parameters()[0]!;

const CASES: [string, () => unknown, string | RegExp][] = [
  // embedding
  ['an index past the table', () => embedding(tensor([[0, 1], [5, 2]], { dtype: 'int32' }), table()),
    'embedding: index 5 at indices[1,0] is out of range for weight [5,4]: indices must be in [0, 5)'],
  ['a negative index', () => embedding(tensor([3, -1], { dtype: 'int32' }), table()),
    'embedding: index -1 at indices[1] is out of range for weight [5,4]: indices must be in [0, 5)'],
  ['an index past the table, through the layer', () => tokenModel(tensor([[1, 2, 7]], { dtype: 'int32' })),
    'embedding: index 7 at indices[0,2] is out of range for weight [5,4]: indices must be in [0, 5)'],
  ['float indices', () => embedding(tensor([1, 2]), table()),
    "embedding: indices must be an int32 tensor, got float32 (make them with { dtype: 'int32' })"],
  ['float64 indices', () => tokenModel.at(0)!(tensor([1, 2], { dtype: 'float64', backend: refBackend() })),
    "embedding: indices must be an int32 tensor, got float64 (make them with { dtype: 'int32' })"],
  ['indices as an array', () => embedding([1, 2] as unknown as Tensor, table()), 'embedding: indices must be a Tensor, got [1, 2] (make one with tensor(...))'],
  ['a 1-D weight', () => embedding(tokens, ones([5])), 'embedding: weight must be a 2-D [numEmbeddings, embeddingDim] table, got [5]'],
  ['an integer weight', () => embedding(tokens, zeros([5, 4], { dtype: 'int32' })), 'embedding: expects float32 or float64 data, got int32'],
  ['paddingIdx past the table', () => embedding(tokens, table(), { paddingIdx: 5 }),
    'embedding: paddingIdx must be in [-5, 5) for weight [5,4], got 5'],
  ['a fractional paddingIdx', () => embedding(tokens, table(), { paddingIdx: 1.5 }), 'embedding: paddingIdx must be an integer or null, got 1.5'],
  ['PyTorch spelling of paddingIdx', () => embedding(tokens, table(), { padding_idx: 0 } as object),
    "embedding: unknown option 'padding_idx'; did you mean 'paddingIdx'?"],
  ['maxNorm', () => embedding(tokens, table(), { maxNorm: 1 } as object),
    "embedding: option 'maxNorm' is not supported (rows are never renormalised; clip the weight yourself)"],
  ['an Embedding of no rows', () => new nn.Embedding(0, 4), 'Embedding: numEmbeddings must be a positive integer, got 0'],
  ['an Embedding paddingIdx past the table', () => new nn.Embedding(5, 4, { paddingIdx: -6 }),
    'Embedding: paddingIdx must be an integer in [-5, 5) or null, got -6'],
  ['sparse gradients', () => new nn.Embedding(5, 4, { sparse: true } as object),
    "Embedding: option 'sparse' is not supported (the weight gradient is always dense)"],
  // layer and RMS normalisation
  ['normalizedShape not the trailing dims', () => layerNorm(seq, [3]),
    'layerNorm: input [2,3,4] does not end in normalizedShape [3] (expected an input [*,3])'],
  ['normalizedShape longer than the input', () => rmsNorm(seq, [1, 2, 3, 4]),
    'rmsNorm: input [2,3,4] does not end in normalizedShape [1,2,3,4] (expected an input [*,1,2,3,4])'],
  ['normalizedShape not matching, through the layer', () => withLayer(new nn.LayerNorm([2, 4]), (ln) => ln(seq)),
    'layerNorm: input [2,3,4] does not end in normalizedShape [2,4] (expected an input [*,2,4])'],
  ['RMSNorm of the wrong width', () => withLayer(new nn.RMSNorm(5), (n) => n(seq)),
    'rmsNorm: input [2,3,4] does not end in normalizedShape [5] (expected an input [*,5])'],
  ['weight of the wrong shape', () => layerNorm(seq, [3, 4], ones([4])), 'layerNorm: weight must have normalizedShape [3,4], got [4]'],
  ['bias of the wrong shape', () => layerNorm(seq, 4, ones([4]), zeros([1, 4])), 'layerNorm: bias must have normalizedShape [4], got [1,4]'],
  ['RMS weight of the wrong shape', () => rmsNorm(seq, 4, ones([3])), 'rmsNorm: weight must have normalizedShape [4], got [3]'],
  ['eps 0', () => layerNorm(seq, 4, null, null, { eps: 0 }), 'layerNorm: eps must be a number > 0, got 0'],
  ['a negative eps', () => rmsNorm(seq, 4, null, { eps: -1e-6 }), 'rmsNorm: eps must be a number > 0, got -0.000001'],
  ['eps 0 for a layer', () => new nn.LayerNorm(4, { eps: 0 }), 'LayerNorm: eps must be a number > 0, got 0'],
  ['a negative eps for an RMSNorm layer', () => new nn.RMSNorm(4, { eps: -1 }),
    "RMSNorm: eps must be a number > 0 or null (the machine epsilon of the input's dtype), got -1"],
  ['an empty normalizedShape', () => layerNorm(seq, []), 'layerNorm: normalizedShape must be a size or a non-empty list of sizes (integers ≥ 0), got []'],
  ['a negative size', () => new nn.LayerNorm([-4]), 'LayerNorm: normalizedShape must be a size or a non-empty list of sizes (integers ≥ 0), got [-4]'],
  ['a shape given as a string', () => rmsNorm(seq, '4' as unknown as number),
    "rmsNorm: normalizedShape must be a size or a non-empty list of sizes (integers ≥ 0), got the string '4'"],
  ['normalising integers', () => layerNorm(tokens, 3), 'layerNorm: expects float32 or float64 data, got int32'],
  ['weight as an array', () => layerNorm(seq, 4, [1, 1, 1, 1] as unknown as Tensor), 'layerNorm: weight must be a Tensor or null, got [1, 1, 1, 1]'],
  ['a weight of another dtype', () => layerNorm(tensor([[1, 2]], { backend: refBackend() }), 2, ones([2], { dtype: 'float64', backend: refBackend() })),
    'layerNorm: dtypes differ (float32 and float64)'],
  ['PyTorch spelling of elementwiseAffine', () => new nn.LayerNorm(4, { elementwise_affine: false } as object),
    "LayerNorm: unknown option 'elementwise_affine'; did you mean 'elementwiseAffine'?"],
  ['a bias option for RMSNorm', () => new nn.RMSNorm(4, { bias: false } as object), "RMSNorm: unknown option 'bias'"],
  ['a disposed weight', () => {
    const w = ones([4]);
    w.dispose();
    return layerNorm(seq, 4, w);
  }, 'layerNorm: input tensor was used after it was disposed'],
];

describe('bad input to embedding, layer and RMS normalisation', () => {
  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const state = stateOf(tokenModel);
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(stateOf(tokenModel)).toEqual(state);
    stillUsable();
  });
});
