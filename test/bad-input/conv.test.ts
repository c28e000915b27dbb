// Bad input to the convolutions (conv1d, conv2d, nn.Conv1d, nn.Conv2d, and their kernel entry points): each wrong
// call fails with a message that names the op and the shapes, memory is unchanged, and the same tensors, layers,
// model and optimizer keep working. And running out of memory anywhere in a convnet's training step (an output,
// the kernels' scratch, a gradient of a gradient) leaks nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Heap, OutOfMemoryError } from '../../src/backend/wasm/heap.js';
import {
  conv1d, conv2d, createWasmBackend, grads, init, kernels, keep, memory, nn, optim, randn, refBackend, setBackend, tensor,
  tidy, type Tensor,
} from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
/** An image batch [2,3,6,6], a weight [4,3,3,3] named 'w' and a bias [4]; a 1-D batch [2,3,8] and weight [4,3,3]. */
let x: Tensor, w: Tensor, b: Tensor, x1: Tensor, w1: Tensor;
let layer: nn.Conv2d;

const fill = (shape: number[]) => Array.from({ length: shape.reduce((a, c) => a * c, 1) }, (_, i) => Math.sin(i));

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  x = keep(tensor(fill([2, 3, 6, 6]), { shape: [2, 3, 6, 6] }));
  w = keep(tensor(fill([4, 3, 3, 3]), { shape: [4, 3, 3, 3], requiresGrad: true, name: 'w' }));
  b = keep(tensor([0.1, 0.2, 0.3, 0.4], { requiresGrad: true }));
  x1 = keep(tensor(fill([2, 3, 8]), { shape: [2, 3, 8] }));
  w1 = keep(tensor(fill([4, 3, 3]), { shape: [4, 3, 3] }));
  layer = new nn.Conv2d(3, 4, 3, { padding: 1 });
});

afterAll(() => {
  disposeWorld(world);
  [x, w, b, x1, w1].forEach((t) => t.dispose());
  layer.dispose();
});

/** The objects still work: a convolution with its gradients, the layer, and the world's training step. */
function stillUsable(): void {
  tidy(() => {
    w.grad?.dispose();
    w.grad = null;
    const y = conv2d(x, w, b, { padding: 1 });
    expect(y.shape).toEqual([2, 4, 6, 6]);
    y.square().sum().backward();
    expect(w.grad!.shape).toEqual([4, 3, 3, 3]);
    expect(layer(x).shape).toEqual([2, 4, 6, 6]);
    expect(conv1d(x1, w1).shape).toEqual([2, 4, 6]);
  });
  stillUsableWorld(world);
}

const t = (shape: number[], options = {}) => tensor(fill(shape), { shape, ...options });

const CASES: [string, () => unknown, string | RegExp][] = [
  // ranks
  ['conv2d of a 3-D input', () => conv2d(t([3, 6, 6]), w),
    'conv2d: input must be 4-D [batch, channels, height, width], got [3,6,6]'],
  ['conv2d with a 3-D weight', () => conv2d(x, w1),
    'conv2d: weight must be 4-D [out_channels, in_channels/groups, kernel_height, kernel_width], got [4,3,3]'],
  ['conv1d of a 4-D input', () => conv1d(x, w1), 'conv1d: input must be 3-D [batch, channels, length], got [2,3,6,6]'],
  ['conv1d with a 4-D weight', () => conv1d(x1, w),
    'conv1d: weight must be 3-D [out_channels, in_channels/groups, kernel_length], got [4,3,3,3]'],
  // channels and groups
  ['input channels ≠ weight in·groups', () => conv2d(t([2, 5, 6, 6]), w),
    'conv2d: input [2,5,6,6] has 5 channels, but weight [4,3,3,3] with groups=1 expects 3 (weight.shape[1]·groups)'],
  ['input channels ≠ weight in·groups, grouped', () => conv2d(t([2, 4, 6, 6]), t([4, 1, 3, 3]), null, { groups: 2 }),
    'conv2d: input [2,4,6,6] has 4 channels, but weight [4,1,3,3] with groups=2 expects 2 (weight.shape[1]·groups)'],
  ['in not divisible by groups', () => conv2d(x, w, null, { groups: 2 }),
    'conv2d: input [2,3,6,6] has 3 channels, which groups=2 does not divide'],
  ['out not divisible by groups', () => conv2d(t([2, 6, 6, 6]), t([5, 2, 3, 3]), null, { groups: 3 }),
    'conv2d: weight [5,2,3,3] has 5 output channels, which groups=3 does not divide'],
  ['conv1d channel mismatch', () => conv1d(t([2, 2, 8]), w1),
    'conv1d: input [2,2,8] has 2 channels, but weight [4,3,3] with groups=1 expects 3 (weight.shape[1]·groups)'],
  ['a bias of the wrong shape', () => conv2d(x, w, t([3])), 'conv2d: bias must have shape [4] for weight [4,3,3,3], got [3]'],
  // sizes
  ['kernel larger than the padded input', () => conv2d(t([1, 3, 2, 6]), w),
    'conv2d: kernel [3,3] (dilation [1,1], so spanning [3,3]) is larger than the padded input [2,6] (input [1,3,2,6], ' +
    'padding [[0,0],[0,0]]): the output would be empty'],
  ['dilated kernel larger than the padded input', () => conv2d(x, w, null, { dilation: [4, 1], padding: 1 }),
    'conv2d: kernel [3,3] (dilation [4,1], so spanning [9,3]) is larger than the padded input [8,8] (input [2,3,6,6], ' +
    'padding [[1,1],[1,1]]): the output would be empty'],
  ['conv1d kernel larger than its input', () => conv1d(t([1, 3, 2]), w1),
    'conv1d: kernel [3] (dilation [1], so spanning [3]) is larger than the padded input [2] (input [1,3,2], padding [[0,0]]): ' +
    'the output would be empty'],
  ['an input with a channel dimension of 0', () => conv2d(t([2, 0, 6, 6]), t([4, 0, 3, 3])),
    'conv2d: input [2,0,6,6] has a dimension of size 0 other than the batch'],
  ['an image of height 0', () => conv2d(t([2, 3, 0, 6]), w), 'conv2d: input [2,3,0,6] has a dimension of size 0 other than the batch'],
  ['a weight with a kernel of size 0', () => conv2d(x, t([4, 3, 0, 3])), 'conv2d: weight [4,3,0,3] has a dimension of size 0'],
  // options
  ['negative stride', () => conv2d(x, w, null, { stride: -1 }),
    'conv2d: stride must be an integer ≥ 1 or an array [height, width] of them, got -1'],
  ['zero stride', () => conv1d(x1, w1, null, { stride: 0 }), 'conv1d: stride must be an integer ≥ 1 or an array [length] of them, got 0'],
  ['zero dilation', () => conv2d(x, w, null, { dilation: [1, 0] }),
    'conv2d: dilation must be an integer ≥ 1 or an array [height, width] of them, got [1, 0]'],
  ['fractional stride', () => conv2d(x, w, null, { stride: 1.5 }),
    'conv2d: stride must be an integer ≥ 1 or an array [height, width] of them, got 1.5'],
  ['a stride pair for conv1d', () => conv1d(x1, w1, null, { stride: [1, 1] }),
    'conv1d: stride must be an integer ≥ 1 or an array [length] of them, got [1, 1]'],
  ['negative padding', () => conv2d(x, w, null, { padding: -1 }),
    "conv2d: padding must be an integer ≥ 0, an array [height, width] of them, 'same' or 'valid', got -1"],
  ["PyTorch's 4-number padding", () => conv2d(x, w, null, { padding: [1, 1, 1, 1] }),
    "conv2d: padding must be an integer ≥ 0, an array [height, width] of them, 'same' or 'valid', got [1, 1, 1, 1]"],
  ['a misspelt padding string', () => conv2d(x, w, null, { padding: 'sme' as 'same' }),
    "conv2d: padding must be an integer ≥ 0, an array [height, width] of them, 'same' or 'valid', got the string 'sme'; did you mean 'same'?"],
  ['an unknown padding string', () => conv1d(x1, w1, null, { padding: 'full' as 'same' }),
    "conv1d: padding must be an integer ≥ 0, an array [length] of them, 'same' or 'valid', got the string 'full'"],
  ["'same' with stride 2", () => conv2d(x, w, null, { padding: 'same', stride: 2 }),
    "conv2d: padding 'same' needs stride 1 (as in PyTorch), got stride [2,2]; give the padding as numbers instead"],
  ["'same' with stride [1, 2]", () => conv2d(x, w, null, { padding: 'same', stride: [1, 2] }),
    "conv2d: padding 'same' needs stride 1 (as in PyTorch), got stride [1,2]; give the padding as numbers instead"],
  ['groups 0', () => conv2d(x, w, null, { groups: 0 }), 'conv2d: groups must be a positive integer, got 0'],
  ["PyTorch's padding_mode", () => conv2d(x, w, null, { padding_mode: 'reflect' } as object),
    "conv2d: option 'padding_mode' is not supported (only zero padding is supported (PyTorch's padding_mode 'zeros'))"],
  ['a misspelt option', () => conv2d(x, w, null, { strides: 2 } as object),
    "conv2d: unknown option 'strides'; did you mean 'stride'? (conv2d's options: stride, padding, dilation, groups)"],
  ['options in place of the bias', () => conv2d(x, w, { padding: 1 } as unknown as Tensor),
    'conv2d: bias must be a Tensor, got an object'],
  // tensors
  ['an array as input', () => conv2d([[1]] as unknown as Tensor, w), 'conv2d: input must be a Tensor, got an array of length 1 (make one with tensor(...))'],
  ['int32 input', () => conv2d(tensor(new Int32Array(108), { shape: [1, 3, 6, 6] }), w), 'conv2d: expects float32 or float64 data, got int32'],
  ['mixed float dtypes', () => conv2d(t([1, 3, 6, 6], { backend: refBackend() }), t([4, 3, 3, 3], { dtype: 'float64', backend: refBackend() })),
    'conv2d: dtypes differ (float32 and float64)'],
  ['tensors on two backends', () => conv2d(t([1, 3, 6, 6], { backend: refBackend() }), w),
    'conv2d: inputs live on different backends (ref, wasm)'],
  ['a disposed weight', () => {
    const v = t([4, 3, 3, 3], { name: 'gone' });
    v.dispose();
    return conv2d(x, v);
  }, "conv2d: input tensor 'gone' was used after it was disposed"],
  // layers
  ['Conv2d on an input with other channels', () => layer(t([1, 5, 6, 6])),
    /^conv2d: input \[1,5,6,6\] has 5 channels, but weight \[4,3,3,3\] with groups=1 expects 3/],
  ['Conv2d kernelSize 0', () => new nn.Conv2d(3, 4, 0),
    'Conv2d: kernelSize must be an integer ≥ 1 or an array [height, width] of them, got 0'],
  ['Conv1d kernelSize given as options', () => new nn.Conv1d(3, 4, { kernelSize: 3 } as unknown as number),
    'Conv1d: kernelSize must be an integer ≥ 1 or an array [length] of them, got an object'],
  ['Conv2d inChannels not divisible by groups', () => new nn.Conv2d(3, 4, 3, { groups: 2 }),
    'Conv2d: inChannels 3 is not divisible by groups=2'],
  ['Conv2d outChannels not divisible by groups', () => new nn.Conv2d(4, 6, 3, { groups: 4 }),
    'Conv2d: outChannels 6 is not divisible by groups=4'],
  ['Conv2d zero channels', () => new nn.Conv2d(0, 4, 3), 'Conv2d: inChannels must be a positive integer, got 0'],
  ["Conv2d 'same' with a stride", () => new nn.Conv2d(3, 4, 3, { padding: 'same', stride: 2 }),
    "Conv2d: padding 'same' needs stride 1 (as in PyTorch), got stride [2,2]; give the padding as numbers instead"],
  ["Conv2d with PyTorch's padding_mode", () => new nn.Conv2d(3, 4, 3, { paddingMode: 'circular' } as object),
    "Conv2d: option 'paddingMode' is not supported (only zero padding is supported (PyTorch's padding_mode 'zeros'))"],
  ['Conv1d with a negative dilation', () => new nn.Conv1d(3, 4, 3, { dilation: -2 }),
    'Conv1d: dilation must be an integer ≥ 1 or an array [length] of them, got -2'],
  // the kernel entry points, for libraries that call them directly
  ['kernels.conv with a bad geometry', () => kernels.conv(x, w, null, { stride: [0, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 }),
    /^conv: the geometry must hold stride and dilation \(1 or 2 integers ≥ 1, one per spatial dim\)/],
  ['kernels.convInputGrad with a gradient of the wrong shape', () => kernels.convInputGrad(t([2, 4, 5, 5]), w, [2, 3, 6, 6],
    { stride: [1, 1], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 }),
  'conv2dInputGrad: gradient [2,4,5,5] should be [2,4,4,4]'],
  ['kernels.convWeightGrad with a gradient of the wrong shape', () => kernels.convWeightGrad(x, t([2, 4, 4, 4]), [4, 3, 3, 3],
    { stride: [2, 2], padding: [[0, 0], [0, 0]], dilation: [1, 1], groups: 1 }),
  'conv2dWeightGrad: gradient [2,4,4,4] should be [2,4,2,2]'],
];

describe('bad input to convolutions', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const refBefore = memory(refBackend());
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(memory(refBackend()).bytes).toBe(refBefore.bytes);
    stillUsable();
  });
});

/** A convnet step: conv2d (+bias), a strided grouped conv2d, conv1d, linear, a second-order term, and Adam. */
function convStep(ps: Tensor[], x: Tensor, y: Tensor, opt: optim.Optimizer<{ lr: number }>): number {
  return tidy(() => {
    opt.zeroGrad();
    const [w1, b1, w2, w3, w4] = ps as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const h = conv2d(x, w1, b1, { padding: 'same' }).relu();
    const h2 = conv2d(h, w2, null, { stride: 2, groups: 2 }).relu(); // [4, 4, 3, 3]
    const h3 = conv1d(h2.reshape([4, 4, 9]), w3, null, { dilation: 2 }); // [4, 3, 5]
    const logits = h3.flatten(1).matmul(w4);
    const penalty = grads((a: Tensor, w: Tensor) => conv2d(a, w).square().sum())([x, w1])[1]!.square().mean();
    const loss = nn.crossEntropy(logits, y).add(penalty.mul(1e-4));
    loss.backward();
    opt.step();
    return loss.item();
  });
}

describe('out of memory in a convnet training step', () => {
  it('at any allocation: leaks nothing, and the same parameters and optimizer train on', async () => {
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
      const ps = [randn([4, 2, 4, 3], { seed: 1 }), randn([4], { seed: 2 }), randn([4, 2, 2, 2], { seed: 3 }),
        randn([3, 4, 3], { seed: 4 }), randn([15, 3], { seed: 5 })].map((p) => keep(p.requiresGrad_()));
      const x = keep(randn([4, 2, 6, 6], { seed: 6 }));
      const y = keep(tensor([0, 1, 2, 1], { dtype: 'int32' }));
      const opt = new optim.Adam(ps, { lr: 1e-3 });
      const values = ps.map((p) => Array.from(p.data()));
      const before = memory();
      countdown = k;
      let failed = true;
      try {
        convStep(ps, x, y, opt);
        failed = false;
      } catch (e) {
        expect((e as Error).message, `allocation ${k}`).toBe(`allocation ${k} fails`);
      }
      countdown = -1;
      if (failed) {
        expect(ps.map((p) => Array.from(p.data())), `allocation ${k}`).toEqual(values);
        opt.zeroGrad();
        expect(memory(), `allocation ${k}`).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
        expect(Number.isFinite(convStep(ps, x, y, opt)), `allocation ${k}`).toBe(true);
      }
      opt.disposeState();
      for (const t of [...ps, x, y]) t.dispose();
      if (!failed) break; // k is past the step's last allocation
    }
    expect(k).toBeGreaterThan(50); // the step allocates that often, the kernels' scratch included
    await init({ build: 'simd' });
  });

  it('a kernel entry point whose scratch does not fit frees its output (called directly, outside any op)', async () => {
    const be = await createWasmBackend({ build: 'simd' });
    setBackend(be);
    try {
      const g: kernels.ConvGeometry = { stride: [1, 1], padding: [[1, 1], [1, 1]], dilation: [1, 1], groups: 1 };
      const [a, v, dy] = [randn([2, 3, 6, 6]), randn([4, 3, 3, 3]), randn([2, 4, 6, 6])];
      const heap = (be as unknown as { heap: Heap }).heap;
      const alloc = heap.alloc.bind(heap);
      heap.alloc = (bytes) => {
        if (bytes > 4096) throw new OutOfMemoryError('no room for the scratch');
        return alloc(bytes);
      };
      const before = memory();
      for (const call of [() => kernels.conv(a, v, null, g), () => kernels.convInputGrad(dy, v, a.shape, g),
        () => kernels.convWeightGrad(a, dy, v.shape, g)]) {
        expect(call).toThrow('no room for the scratch');
        expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
      }
      heap.alloc = alloc;
      const out = kernels.conv(a, v, null, g);
      expect(out.shape).toEqual([2, 4, 6, 6]);
      kernels.free(out);
      [a, v, dy].forEach((t) => t.dispose());
    } finally {
      await init({ build: 'simd' });
    }
  });
});
