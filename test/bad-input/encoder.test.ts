// Bad input to nn.TransformerEncoderLayer, nn.ModuleList and crossEntropy's classes-last layout: each wrong call
// fails with a message that names the API and says what was wrong, memory is unchanged, and the same layer, tensors,
// model and optimizer keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, Generator, init, keep, memory, nn, optim, refBackend, tensor, tidy, type Tensor } from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
let layer: nn.TransformerEncoderLayer;
/** src [2, 5, 8] for the batch-first layer; logits [2, 4, 5] ([B, T, V]) with labels [2, 4]. */
let src: Tensor, logits: Tensor, labels: Tensor;

const fill = (shape: number[]) => Array.from({ length: shape.reduce((a, c) => a * c, 1) }, (_, i) => Math.sin(i));
const t = (shape: number[]) => tensor(fill(shape), { shape });
const ints = (values: number[][]) => tensor(values, { dtype: 'int32' });
const E = 'TransformerEncoderLayer';

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
  src = keep(t([2, 5, 8]));
  logits = keep(t([2, 4, 5]));
  labels = keep(ints([[0, 1, 2, 3], [4, 0, 1, 2]]));
});

afterAll(() => {
  disposeWorld(world);
  [src, logits, labels].forEach((a) => a.dispose());
  layer.dispose();
});

/** The objects still work: the layer, the classes-last loss, and the world's training step. */
function stillUsable(): void {
  tidy(() => {
    expect(layer(src, { isCausal: true }).shape).toEqual([2, 5, 8]);
    expect(crossEntropy(logits, labels, { reduction: 'none' }).shape).toEqual([2, 4]);
  });
  stillUsableWorld(world);
}

const CASES: [string, () => unknown, string | RegExp][] = [
  // the layer's arguments and options
  ['dModel 0', () => new nn.TransformerEncoderLayer(0, 2), `${E}: dModel must be a positive integer, got 0`],
  ['nhead 1.5', () => new nn.TransformerEncoderLayer(8, 1.5), `${E}: nhead must be a positive integer, got 1.5`],
  ['nhead not dividing dModel', () => new nn.TransformerEncoderLayer(8, 3),
    `${E}: dModel 8 is not divisible by nhead 3 (each head gets dModel / nhead features); choose a number of heads that divides it`],
  ['an unknown activation', () => new nn.TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' }),
    `${E}: activation must be 'relu' or 'gelu', got the string 'tanh'`],
  ['an activation function', () => new nn.TransformerEncoderLayer(8, 2, { activation: ((x: Tensor) => x) as unknown as 'relu' }),
    `${E}: activation must be 'relu' or 'gelu', got a function`],
  ['dropout 1', () => new nn.TransformerEncoderLayer(8, 2, { dropout: 1 }), `${E}: dropout must be in [0, 1), got 1`],
  ['dimFeedforward 0', () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 0 }),
    `${E}: dimFeedforward must be a positive integer, got 0`],
  ['layerNormEps 0', () => new nn.TransformerEncoderLayer(8, 2, { layerNormEps: 0 }), `${E}: layerNormEps must be a number > 0, got 0`],
  ["PyTorch's batch_first", () => new nn.TransformerEncoderLayer(8, 2, { batch_first: true } as object),
    `${E}: unknown option 'batch_first'; did you mean 'batchFirst'?`],
  ['device', () => new nn.TransformerEncoderLayer(8, 2, { device: 'cpu' } as object), `${E}: option 'device' is not supported`],
  ['a generator that is not one', () => new nn.TransformerEncoderLayer(8, 2, { generator: 3 as unknown as Generator }),
    `${E}: generator must be a Generator, got 3`],
  // forward
  ['src an array', () => layer([1, 2] as unknown as Tensor), `${E}: src must be a Tensor, got [1, 2]`],
  ['src with other features', () => layer(t([2, 5, 6])),
    `${E}: src must be [N, S, dModel] (batchFirst: true) or unbatched [S, dModel] with dModel 8, got [2,5,6]`],
  ['src of rank 4', () => layer(t([1, 2, 5, 8])),
    `${E}: src must be [N, S, dModel] (batchFirst: true) or unbatched [S, dModel] with dModel 8, got [1,2,5,8]`],
  ['srcMask of another shape', () => layer(src, { srcMask: t([4, 5]) }),
    `${E}: srcMask must be [S, S] = [5,5] or [N·nhead, S, S] = [4,5,5] for src [2,5,8], got [4,5]`],
  ['srcKeyPaddingMask without the batch', () => layer(src, { srcKeyPaddingMask: tensor([0, 0, 0, 1, 1], { dtype: 'int32' }) }),
    `${E}: srcKeyPaddingMask must be [N, S] = [2,5] for src [2,5,8], got [5]`],
  ['isCausal 1', () => layer(src, { isCausal: 1 as unknown as boolean }), `${E}.forward: isCausal must be true or false, got 1`],
  ["PyTorch's src_mask", () => layer(src, { src_mask: null } as object),
    `${E}.forward: unknown option 'src_mask'; did you mean 'srcMask'?`],
  ['srcMask an array', () => layer(src, { srcMask: [[0]] } as object),
    `${E}.forward: srcMask must be a Tensor or null, got an array of length 1`],
  ['srcKeyPaddingMask on another backend', () => layer(src, { srcKeyPaddingMask: tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], { dtype: 'int32', backend: refBackend() }) }),
    'MultiheadAttention: keyPaddingMask lives on another backend (ref) than the query (wasm); make it on the query\'s backend'],
  // MultiheadAttention's int32 masks, now made additive on the backend
  ['an int32 attnMask on another backend', () => layer.self_attn(src, src, src, { attnMask: tensor(fill([5, 5]).map((v) => (v > 0 ? 1 : 0)), { shape: [5, 5], dtype: 'int32', backend: refBackend() }) }),
    'MultiheadAttention: attnMask lives on another backend (ref) than the query (wasm); make it on the query\'s backend'],
  ['a float keyPaddingMask on another backend', () => layer.self_attn(src, src, src, { keyPaddingMask: tensor(fill([2, 5]), { shape: [2, 5], backend: refBackend() }) }),
    'MultiheadAttention: keyPaddingMask lives on another backend (ref) than the query (wasm); make it on the query\'s backend'],
  // crossEntropy, classes last
  ['a label out of range, classes last', () => crossEntropy(logits, ints([[0, 1, 2, 3], [4, 0, 7, 2]])),
    'crossEntropy: label 7 at row 6 is out of range [0, 5) and is not ignoreIndex (-100)'],
  ['[N, C, d1, d2] logits with labels of neither layout', () => crossEntropy(t([2, 3, 2, 2]), tensor([0, 1], { dtype: 'int32' })),
    'crossEntropy: labels must have shape [2,2,2] (classes on dim 1, as in PyTorch: logits [N, C, d…], labels [N, d…]) ' +
    'or [2,3,2] (classes last: logits [d…, C], labels [d…]) for logits [2,3,2,2], got [2]'],
  // ModuleList
  ['a ModuleList item that is not a module', () => new nn.ModuleList([new nn.ReLU(), 3 as unknown as nn.ReLU]),
    'ModuleList: item 1 must be a Module, got 3'],
  ['ModuleList of a number', () => new nn.ModuleList(3 as unknown as nn.ReLU[]), 'ModuleList: modules must be an array of Modules, got 3'],
  ['ModuleList.at past the end', () => new nn.ModuleList([new nn.ReLU()]).at(2), 'ModuleList: no module at index 2 (it has 1)'],
  ['calling a ModuleList', () => (new nn.ModuleList([new nn.ReLU()]) as unknown as (x: Tensor) => Tensor)(src),
    'ModuleList: it has no forward; call its modules in turn'],
  ['appending an object', () => new nn.ModuleList().append({} as nn.ReLU), 'ModuleList: item 0 must be a Module, got an object'],
];

describe('bad input to the encoder layer, ModuleList and classes-last crossEntropy', () => {
  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const refBefore = memory(refBackend());
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(memory(refBackend()).bytes).toBe(refBefore.bytes);
    stillUsable();
  });
});
