// Options and arguments across the public API (issue 11, classes 5 and 10). An unknown option name is refused
// with the name it meant (snake_case, other libraries' names, near misses); an option of PyTorch or
// TensorFlow.js that wasmgrad lacks is said to be unsupported; a value that is a string, NaN, ±Infinity or out of
// range is refused with the value as given; and the messages that used to come from the engine or mislead are
// ours. Each case checks that memory is unchanged and that the same tensors, model and optimizer keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arange, backward, concat, createWasmBackend, DataLoader, explain, full, grad, gradcheck, gradients, graphOf,
  init, isGradEnabled, keep, matmul, memory, nn, noGrad, ones, optim, rand, randn, reshape, seedNetwork, setBackend,
  slice, tensor, TensorDataset, tidy, toDot, zeros, type Tensor,
} from '../../src/index.js';
import { expectNoLeaks } from '../helpers/api.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.SGD(params, { lr: 0.1, momentum: 0.9 }));
});

afterAll(() => disposeWorld(world));

const stillUsable = () => stillUsableWorld(world);

const p = () => world.w;
const params = () => world.model.parameters();

// [what, the call, the message]
const OPTION_CASES: [string, () => unknown, string | RegExp][] = [
  // unknown names, with the name meant
  ['snake_case option of an optimizer', () => new optim.SGD(params(), { lr: 0.1, weight_decay: 1e-4 } as never),
    "SGD: unknown option 'weight_decay'; did you mean 'weightDecay'? (SGD's options: lr, momentum, dampening, weightDecay, nesterov)"],
  ['TensorFlow.js name of the learning rate', () => new optim.Adam(params(), { learningRate: 0.1 } as never),
    "Adam: unknown option 'learningRate'; did you mean 'lr'?"],
  ['a misspelt learning rate', () => new optim.Adam(params(), { lerning_rate: 0.1 } as never),
    "Adam: unknown option 'lerning_rate'; did you mean 'lr'?"],
  ['a near miss', () => new optim.SGD(params(), { lr: 0.1, momentun: 0.9 } as never), "SGD: unknown option 'momentun'; did you mean 'momentum'?"],
  ['TensorFlow.js beta1', () => new optim.Adam(params(), { beta1: 0.8 } as never), "Adam: unknown option 'beta1'; did you mean 'betas'?"],
  ['an option of another optimizer', () => new optim.Adam(params(), { momentum: 0.9 } as never),
    "Adam: unknown option 'momentum' (Adam's options: lr, betas, eps, weightDecay)"],
  ['an unknown name in a parameter group', () => new optim.SGD([{ params: params(), weight_decay: 0.1 }] as never, { lr: 0.1 }),
    "SGD: unknown option 'weight_decay'; did you mean 'weightDecay'?"],
  ['requires_grad', () => tensor([1], { requires_grad: true } as never), "tensor: unknown option 'requires_grad'; did you mean 'requiresGrad'?"],
  ['trainable (TensorFlow.js)', () => zeros([2], { trainable: true } as never), "zeros: unknown option 'trainable'; did you mean 'requiresGrad'?"],
  ['a misspelt dtype name', () => ones([2], { dtype: 'Float32' as never }), "ones: dtype must be 'float32', 'float64' or 'int32', got the string 'Float32'; did you mean 'float32'?"],
  ['randn options', () => randn([2], { seed: 1, sd: 2 } as never), "randn: unknown option 'sd'; did you mean 'std'?"],
  ['batch_size', () => new DataLoader(new TensorDataset(world.x, world.x), { batch_size: 1 } as never),
    "DataLoader: unknown option 'batch_size'; did you mean 'batchSize'?"],
  ['label_smoothing', () => nn.crossEntropy(world.x, [0, 1], { label_smoothing: 0.1 } as never),
    "crossEntropy: unknown option 'label_smoothing'; did you mean 'labelSmoothing'?"],
  ['ignore_index', () => nn.crossEntropy(world.x, [0, 1], { ignore_index: -100 } as never),
    "crossEntropy: unknown option 'ignore_index'; did you mean 'ignoreIndex'?"],
  ['retain_graph', () => world.w.sum().backward(undefined, { retain_graph: true } as never),
    "backward: unknown option 'retain_graph'; did you mean 'retainGraph'?"],
  ['transposeB (TensorFlow.js)', () => matmul(world.x, world.x, { transposeB: true } as never), "matmul: unknown option 'transposeB'; did you mean 'transB'?"],
  ['a ReduceLROnPlateau option', () => new optim.ReduceLROnPlateau(world.opt, { min_lr: 0.01 } as never),
    "ReduceLROnPlateau: unknown option 'min_lr'; did you mean 'minLr'?"],
  ['a Linear option', () => new nn.Linear(2, 2, { use_bias: false } as never), "Linear: unknown option 'use_bias'; did you mean 'bias'?"],
  ['a kaiming mode spelt as in PyTorch', () => nn.init.kaimingUniform(world.model.parameters()[0]!, { mode: 'fan_in' as never }),
    "init.kaimingUniform: mode must be 'fanIn' or 'fanOut', got the string 'fan_in'; did you mean 'fanIn'?"],
  ['gradcheck options', () => gradcheck((a) => a.sum(), [world.w], { atoll: 1 } as never), "gradcheck: unknown option 'atoll'; did you mean 'atol'?"],
  ['loadStateDict options', () => world.model.loadStateDict(world.model.stateDict(), { strcit: false } as never),
    "loadStateDict: unknown option 'strcit'; did you mean 'strict'?"],
  ['seedNetwork options', () => seedNetwork({ activation: 'Relu' as never }), "seedNetwork: activation must be 'relu', 'sigmoid', 'tanh' or 'gelu', got the string 'Relu'; did you mean 'relu'?"],

  // options wasmgrad knowingly lacks
  ['amsgrad', () => new optim.Adam(params(), { amsgrad: true } as never), "Adam: option 'amsgrad' is not supported (the AMSGrad variant is not implemented)"],
  ['maximize', () => new optim.SGD(params(), { lr: 0.1, maximize: true } as never), "SGD: option 'maximize' is not supported (minimise the negated objective instead)"],
  ['foreach', () => new optim.AdamW(params(), { foreach: true } as never), "AdamW: option 'foreach' is not supported (a PyTorch implementation switch"],
  ['capturable', () => new optim.RMSprop(params(), { capturable: false } as never), "RMSprop: option 'capturable' is not supported"],
  ['fused', () => new optim.Adagrad(params(), { fused: true } as never), "Adagrad: option 'fused' is not supported"],
  ['class weights', () => nn.crossEntropy(world.x, [0, 1], { weight: world.w } as never), "crossEntropy: option 'weight' is not supported (class weights"],
  ['pos_weight', () => nn.bceWithLogits(world.x, world.x, { pos_weight: world.x } as never), "bceWithLogits: option 'pos_weight' is not supported"],
  ['num_workers', () => new DataLoader(new TensorDataset(world.x, world.x), { num_workers: 4 } as never),
    "DataLoader: option 'num_workers' is not supported (batches are gathered on the backend in the calling thread)"],
  ['device', () => tensor([1], { device: 'cuda' } as never), "tensor: option 'device' is not supported (a tensor lives on a backend"],
  ['backward inputs', () => world.w.sum().backward(undefined, { inputs: [world.w] } as never), "backward: option 'inputs' is not supported"],
  ['threshold_mode', () => new optim.ReduceLROnPlateau(world.opt, { threshold_mode: 'abs' } as never),
    "ReduceLROnPlateau: option 'threshold_mode' is not supported (only PyTorch's default, 'rel', is implemented)"],

  // options that are not an object
  ['a learning rate in place of the options', () => new optim.SGD(params(), 0.1 as never), 'SGD: options must be an object such as { lr: … }, got 0.1'],
  ['TensorFlow.js-style shape argument', () => tensor([1, 2, 3, 4], [2, 2] as never),
    "tensor: options must be an object, got [2, 2]; pass { shape: [...], dtype: '...' }"],
  ['a dtype string in place of the options', () => zeros([2], 'int32' as never), "zeros: options must be an object such as { dtype: … }, got the string 'int32'"],
  ['TensorFlow.js-style matmul flags', () => matmul(world.x, world.x, true as never), 'matmul: options must be an object such as { transA: … }, got true'],

  // hyperparameter values: the value as given, and the allowed range
  ['a string learning rate', () => new optim.SGD(params(), { lr: '0.1' as never }), "SGD: lr must be a number ≥ 0, got the string '0.1'"],
  ['a NaN learning rate', () => new optim.Adam(params(), { lr: NaN }), 'Adam: lr must be a number ≥ 0, got NaN'],
  ['an infinite weight decay', () => new optim.AdamW(params(), { weightDecay: Infinity }), 'AdamW: weightDecay must be a number ≥ 0, got Infinity'],
  ['a string momentum', () => new optim.SGD(params(), { lr: 0.1, momentum: '0.9' as never }), "SGD: momentum must be a number ≥ 0, got the string '0.9'"],
  ['a negative momentum', () => new optim.RMSprop(params(), { momentum: -0.5 }), 'RMSprop: momentum must be a number ≥ 0, got -0.5'],
  ['dampening above 1', () => new optim.SGD(params(), { lr: 0.1, dampening: 2 }), 'SGD: dampening must be in [0, 1], got 2'],
  ['a string nesterov', () => new optim.SGD(params(), { lr: 0.1, momentum: 0.9, nesterov: 'yes' as never }), "SGD: nesterov must be true or false, got the string 'yes'"],
  ['betas of strings', () => new optim.Adam(params(), { betas: ['0.9', '0.999'] as never }),
    "Adam: betas must be a pair [β1, β2] of numbers in [0, 1), got ['0.9', '0.999']"],
  ['a single beta', () => new optim.Adam(params(), { betas: 0.9 as never }), 'Adam: betas must be a pair [β1, β2] of numbers in [0, 1), got 0.9'],
  ['a NaN eps', () => new optim.Adam(params(), { eps: NaN }), 'Adam: eps must be a number ≥ 0, got NaN'],
  ['alpha out of range', () => new optim.RMSprop(params(), { alpha: 1.5 }), 'RMSprop: alpha must be in [0, 1], got 1.5'],
  ['a string lrDecay', () => new optim.Adagrad(params(), { lrDecay: '0' as never }), "Adagrad: lrDecay must be a number ≥ 0, got the string '0'"],
  ['a bad lr in one group', () => new optim.SGD([{ params: params().slice(0, 2), lr: -1 }, { params: params().slice(2) }], { lr: 0.1 }),
    'SGD: lr must be a number ≥ 0, got -1'],
  ['StepLR: a NaN gamma', () => new optim.StepLR(world.opt, { stepSize: 10, gamma: NaN }), 'StepLR: gamma must be a number > 0, got NaN'],
  ['StepLR: a string step size', () => new optim.StepLR(world.opt, { stepSize: '10' as never }), "StepLR: stepSize must be a positive integer, got the string '10'"],
  ['StepLR: a positional step size', () => new optim.StepLR(world.opt, 10 as never),
    'StepLR: the second argument must be an options object such as { stepSize: 30, gamma: 0.1 }, got 10'],
  ['ExponentialLR: an infinite gamma', () => new optim.ExponentialLR(world.opt, { gamma: Infinity }), 'ExponentialLR: gamma must be a number > 0, got Infinity'],
  ['CosineAnnealingLR: a negative etaMin', () => new optim.CosineAnnealingLR(world.opt, { tMax: 10, etaMin: -1e-3 }), 'CosineAnnealingLR: etaMin must be a number ≥ 0, got -0.001'],
  ['CosineAnnealingLR: a NaN etaMin', () => new optim.CosineAnnealingLR(world.opt, { tMax: 10, etaMin: NaN }), 'CosineAnnealingLR: etaMin must be a number ≥ 0, got NaN'],
  ['CosineAnnealingLR: a fractional tMax', () => new optim.CosineAnnealingLR(world.opt, { tMax: 2.5 }), 'CosineAnnealingLR: tMax must be a positive integer, got 2.5'],
  ['LinearLR: a zero start factor', () => new optim.LinearLR(world.opt, { startFactor: 0 }), 'LinearLR: startFactor must be in (0, 1], got 0'],
  ['OneCycleLR: a zero divFactor', () => new optim.OneCycleLR(world.opt, { maxLr: 0.1, totalSteps: 100, divFactor: 0 }), 'OneCycleLR: divFactor must be a number > 0, got 0'],
  ['OneCycleLR: a NaN finalDivFactor', () => new optim.OneCycleLR(world.opt, { maxLr: 0.1, totalSteps: 100, finalDivFactor: NaN }), 'OneCycleLR: finalDivFactor must be a number > 0, got NaN'],
  ['OneCycleLR: a string maxLr', () => new optim.OneCycleLR(world.opt, { maxLr: '0.1' as never, totalSteps: 100 }), "OneCycleLR: maxLr must be a number > 0, got the string '0.1'"],
  ['ReduceLROnPlateau: a bad mode', () => new optim.ReduceLROnPlateau(world.opt, { mode: 'minimum' as never }),
    "ReduceLROnPlateau: mode must be 'min' or 'max', got the string 'minimum'"],
  ['ReduceLROnPlateau: a fractional patience', () => new optim.ReduceLROnPlateau(world.opt, { patience: 1.5 }), 'ReduceLROnPlateau: patience must be an integer ≥ 0, got 1.5'],
  ['ReduceLROnPlateau: a negative minLr', () => new optim.ReduceLROnPlateau(world.opt, { minLr: -1 }), 'ReduceLROnPlateau: minLr must be a number ≥ 0, got -1'],
  ['a scheduler without an optimizer', () => new optim.StepLR(undefined as never, { stepSize: 10 }),
    'StepLR: the first argument must be an optimizer (e.g. new optim.SGD(...)), got undefined'],
  ['clipGradNorm: a string maxNorm', () => optim.clipGradNorm(params(), '1' as never), "clipGradNorm: maxNorm must be a number ≥ 0 (or Infinity), got the string '1'"],
  ['clipGradNorm: a NaN normType', () => optim.clipGradNorm(params(), 1, NaN), 'clipGradNorm: normType must be a number > 0 (or Infinity), got NaN'],
  ['clipGradNorm: a model', () => optim.clipGradNorm(world.model as never, 1), 'clipGradNorm: params must be a Tensor or an array of tensors, got a Sequential; pass model.parameters()'],
  ['a loss option value', () => nn.crossEntropy(world.x, [0, 1], { labelSmoothing: '0.1' as never }), "crossEntropy: labelSmoothing must be in [0, 1], got the string '0.1'"],
  ['huberLoss: an infinite delta', () => nn.huberLoss(world.x, world.x, { delta: Infinity }), 'huberLoss: delta must be a number > 0, got Infinity'],
  ['DataLoader: a fractional batch size', () => new DataLoader(new TensorDataset(world.x, world.x), { batchSize: 2.5 }),
    'DataLoader: batchSize must be a positive integer, got 2.5'],
  ['Dropout: a string p', () => new nn.Dropout('0.5' as never), "Dropout: p must be in [0, 1), got the string '0.5'"],
  ['Linear: a string size', () => new nn.Linear('3' as never, 2), "Linear: inFeatures must be a positive integer, got the string '3'"],
  ['randn: a negative std', () => randn([2], { std: -1 }), 'randn: std must be a number ≥ 0, got -1'],
  ['rand: a string seed', () => rand([2], { seed: '1' as never }), "rand: seed must be an integer, got the string '1'"],
  ['tensor: requiresGrad as a string', () => tensor([1], { requiresGrad: 'true' as never }), "tensor: requiresGrad must be true or false, got the string 'true'"],
  ['tensor: a backend name', () => tensor([1], { backend: 'ref' as never }),
    "tensor: backend must be a backend (getBackend(), refBackend() or one from createWasmBackend), got the string 'ref'"],
  ['gradcheck: a zero eps', () => gradcheck((a) => a.sum(), [world.w], { eps: 0 }), 'gradcheck: eps must be a number > 0, got 0'],
  ['l2Penalty: a string lambda', () => nn.l2Penalty(params(), '0.1' as never), "l2Penalty: lambda must be a number ≥ 0, got the string '0.1'"],
  ['setBackend: an unknown name', () => setBackend('webgpu' as never), "setBackend: expected 'wasm', 'ref' or a backend object (e.g. from createWasmBackend), got the string 'webgpu'"],
];

// Class 10: messages that used to mislead or come from the engine, and what a probe found around them.
const MESSAGE_CASES: [string, () => unknown, string | RegExp][] = [
  ['a parameter listed twice', () => new optim.SGD([p(), p()], { lr: 0.1 }),
    "SGD: parameter 'w' is listed twice, as params[0] and as params[1]; list each parameter once"],
  ['a parameter in two groups', () => new optim.Adam([{ params: [p()] }, { params: [p()], lr: 0.1 }]),
    "Adam: parameter 'w' is listed twice, as group 0, params[0] and as group 1, params[0]; list each parameter once"],
  ['noGrad of an async function', () => noGrad(async () => 1),
    'noGrad: the function must be synchronous (it returned a Promise): the grad mode would end at its first await and the rest would run with gradients recorded'],
  ['grad of an async function', () => grad((async (a: Tensor) => a.sum()) as never)(world.w), 'grad: the function must be synchronous (it returned a Promise)'],
  ['a BigInt64Array', () => tensor(new BigInt64Array([1n, 2n]) as never),
    'tensor: BigInt64Array data is not supported; convert it to numbers first, e.g. Int32Array.from(data, Number) or Float64Array.from(data, Number)'],
  ['BigInt values', () => tensor([[1, 2], [3n, 4]] as never), 'tensor: expected a number at [1][0], got the BigInt 3n; convert BigInt values with Number()'],
  ['int32 data of 2³¹', () => tensor([0, 2147483648], { dtype: 'int32' }), 'tensor: int32 values must be integers in [-2147483648, 2147483647], got 2147483648 at index 1'],
  ['int32 data below −2³¹', () => tensor([-2147483649], { dtype: 'int32' }), 'tensor: int32 values must be integers in [-2147483648, 2147483647], got -2147483649 at index 0'],
  ['backward({ retainGraph }) after the graph was freed', () => {
    const J = world.w.square().sum();
    J.backward();
    J.backward({ retainGraph: true });
  }, "backward: the graph through op 'sum' was already freed by an earlier backward; pass { retainGraph: true } to the first backward() to run it twice"],
  ['a number as the upstream gradient', () => world.w.mul(2).backward(1 as never), 'backward: the gradient must be a Tensor, got 1'],
  // a Tensor where an array is expected
  ['a Tensor as tensor data', () => tensor(world.x as never), 'tensor: the data is already a Tensor; use x.clone() for a copy, or x.detach() to share its storage'],
  ['a Tensor as a shape', () => zeros(tensor([2]) as never), 'zeros: shape must be an array of integers ≥ 0, got a Tensor of shape [1]'],
  ['a Tensor as axes', () => world.x.sum(tensor([0]) as never), 'sum: axes must be an integer or an array of integers, got a Tensor of shape [1]'],
  ['a string axis', () => world.x.sum('0' as never), "sum: axes must be an integer or an array of integers, got the string '0'"],
  ['a Tensor as the list of concat', () => concat(world.x as never), 'concat: expected an array of tensors, got a Tensor of shape [2,3]'],
  ['a model as optimizer params', () => new optim.SGD(world.model as never, { lr: 0.1 }),
    'SGD: params must be an array of tensors (model.parameters()) or of parameter groups { params, ...options }, got a Sequential; pass model.parameters()'],
  ['an array in a Sequential', () => new nn.Sequential([new nn.ReLU()] as never),
    'Sequential: argument 0 must be a Module, got an array of length 1; pass the modules as separate arguments, new Sequential(a, b, …)'],
  // an array or a number where a Tensor is expected
  ['an array as an operand', () => world.x.add([1, 2, 3] as never), 'add: expected a tensor or a number, got [1, 2, 3] (make one with tensor(...))'],
  ['a nested array as a model input', () => world.model([[1, 2, 3]] as never), 'linear: input must be a Tensor, got an array of length 1 (make one with tensor(...))'],
  ['a number as a loss target', () => nn.mseLoss(world.x, 1 as never), 'mseLoss: target must be a Tensor, got 1'],
  ['an array as the input of grad', () => grad((a: Tensor) => a.sum())([1, 2] as never), 'grad: the input must be a Tensor, got [1, 2] (make one with tensor(...))'],
  ['an array in gradients()', () => gradients(world.w.sum(), [[1]] as never), 'gradients: xs[0] must be a Tensor, got [1]'],
  ['no crossEntropy target', () => nn.crossEntropy(world.x, undefined as never),
    'crossEntropy: target must be an int32 tensor or an array of class indices, got undefined'],
  ['arrays in a TensorDataset', () => new TensorDataset([[1]] as never, [1] as never), 'TensorDataset: features must be a Tensor, got an array of length 1'],
  ['a Tensor as a DataLoader dataset', () => new DataLoader(world.x as never), 'DataLoader: dataset must be a TensorDataset'],
  ['explain of a number', () => explain(3 as never), 'explain: J must be a Tensor, got 3'],
  ['graphOf(undefined)', () => graphOf(undefined as never), 'graphOf: expected a Tensor, got undefined'],
  ['toDot of a Tensor', () => toDot(world.w as never), 'toDot: expected a graph from graphOf(tensor), got a Tensor of shape [3]'],
  ['ReduceLROnPlateau.step() without a metric', () => new optim.ReduceLROnPlateau(world.opt).step(undefined as never),
    'ReduceLROnPlateau: step(metric) needs the metric to watch, a number or a one-element tensor, got undefined'],
  ['tidy of a value', () => tidy(3 as never), 'tidy: expected a function (or a name and a function), got 3'],
  ['keep of a number', () => keep(3 as never), 'keep: expected a Tensor, got 3'],
  ['memory of a string', () => memory('wasm' as never), "memory: expected a backend (or nothing for the current one), got the string 'wasm'"],
  // undefined shapes and shape-like arguments
  ['zeros(undefined)', () => zeros(undefined as never), 'zeros: shape must be an array of integers ≥ 0, got undefined'],
  ['randn(3)', () => randn(3 as never), 'randn: shape must be an array of integers ≥ 0, got 3'],
  ['a number as the tensor shape option', () => tensor([1, 2, 3], { shape: 3 as never }), 'tensor: shape must be an array of integers ≥ 0, got 3'],
  ['reshape(undefined)', () => reshape(world.x, undefined as never), 'reshape: shape must be an array of integers, got undefined'],
  ['permute(undefined)', () => world.x.permute(undefined as never), 'permute: perm must be an array of integers, got undefined'],
  ['slice without begin', () => slice(world.x, undefined as never), 'slice: begin must be an array of integers, got undefined'],
  ['broadcastTo(undefined)', () => world.w.broadcastTo(undefined as never), 'broadcastTo: shape must be an array of integers ≥ 0, got undefined'],
  ['full without a value', () => full([2], undefined as never), 'full: value must be a number, got undefined'],
];

describe('options and values are checked, with the name meant', () => {
  it.each(OPTION_CASES)('%s', (_name, bad, message) => {
    const before = memory();
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    stillUsable();
  });

  it('validate() checks names, types and ranges also when a state dict is loaded, and then changes nothing', () => {
    const sd = world.opt.stateDict();
    const group = sd.paramGroups[0]!;
    for (const [bad, message] of [
      [{ ...group, lr: '0.1' }, /lr must be a number ≥ 0, got the string '0\.1'/],
      [{ ...group, momentum: NaN }, /momentum must be a number ≥ 0, got NaN/],
      [{ ...group, weight_decay: 0 }, /unknown option 'weight_decay'; did you mean 'weightDecay'\?/],
      [{ ...group, nesterov: 1 }, /nesterov must be true or false, got 1/],
    ] as const) {
      expect(() => world.opt.loadStateDict({ ...sd, paramGroups: [bad as never] })).toThrow(message);
      expect(world.opt.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.9 });
      expect(Object.keys(world.opt.paramGroups[0]!)).not.toContain('weight_decay');
    }
    stillUsable();
  });

  it('accepts what PyTorch accepts: undefined means the default, one tensor, a loss tensor as the plateau metric', () => {
    p().grad?.dispose();
    p().grad = null;
    expectNoLeaks(() => {
      const opt = new optim.Adam(p(), { lr: undefined, weightDecay: undefined });
      expect(opt.paramGroups[0]).toMatchObject({ lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999] });
      const grouped = new optim.SGD([{ params: p(), lr: undefined }], { lr: 0.5 });
      expect(grouped.paramGroups[0]!.lr).toBe(0.5);
      const plateau = new optim.ReduceLROnPlateau(grouped, { patience: 0, factor: 0.5 });
      tidy(() => {
        plateau.step(tensor(1));
        plateau.step(tensor([2]));
      });
      expect(plateau.getLastLr()).toEqual([0.25]);
      tidy(() => {
        p().square().sum().backward();
        expect(optim.clipGradNorm(p(), Infinity)).toBeCloseTo(Math.sqrt(21), 5);
        expect(tidy(() => nn.l2Penalty(p(), 2).item())).toBeCloseTo(5.25, 5);
        expect(gradcheck((a) => a.square().sum(), p()).passed).toBe(true);
        p().grad!.dispose();
        p().grad = null;
      });
    });
  });
});

describe('messages that misled or came from the engine', () => {
  it.each(MESSAGE_CASES)('%s', (_name, bad, message) => {
    const gradMode = isGradEnabled();
    const before = memory();
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(isGradEnabled()).toBe(gradMode);
    stillUsable();
  });

  it('int32 keeps its whole range: −2³¹ and 2³¹ − 1 round-trip on both backends', async () => {
    for (const backend of ['ref', 'wasm'] as const) {
      await init(backend === 'ref' ? { backend: 'ref' } : { build: 'simd' });
      expectNoLeaks(() => tidy(() => {
        expect(Array.from(tensor([-2147483648, 2147483647], { dtype: 'int32' }).data())).toEqual([-2147483648, 2147483647]);
        expect(Array.from(tensor(new Float64Array([-2147483648]), { dtype: 'int32' }).data())).toEqual([-2147483648]);
      }));
    }
  });

  it('backward takes its options first, as PyTorch keywords read: y.backward({ retainGraph: true })', () => {
    world.w.grad?.dispose();
    world.w.grad = null;
    expectNoLeaks(() => tidy(() => {
      const J = world.w.square().sum();
      J.backward({ retainGraph: true });
      J.backward();
      expect(Array.from(world.w.grad!.data())).toEqual([2, -4, 8]);
      backward(world.w.sum(), { retainGraph: false });
      expect(Array.from(world.w.grad!.data())).toEqual([3, -3, 9]);
      world.w.grad!.dispose();
      world.w.grad = null;
    }));
  });

  it('noGrad refuses an async function and leaves the grad mode as it was, during and after', async () => {
    let inside: boolean | null = null;
    const pending: Promise<void>[] = [];
    expect(() => noGrad(() => {
      const run = (async () => {
        await null;
        inside = isGradEnabled();
      })();
      pending.push(run);
      return run;
    })).toThrow('noGrad: the function must be synchronous');
    expect(isGradEnabled()).toBe(true);
    await Promise.all(pending);
    expect(inside).toBe(true); // why it is refused: past the first await, gradients were recorded again
  });
});

describe('init and createWasmBackend', () => {
  it.each([
    [{ max_memory_mb: 64 }, "init: unknown option 'max_memory_mb'; did you mean 'maxMemoryMB'?"],
    [{ numThreads: 2 }, "init: unknown option 'numThreads'; did you mean 'threads'?"],
    [{ build: 'simd128' }, "init: build must be 'auto', 'relaxed', 'simd', 'scalar', 'simd-threads', 'relaxed-simd-threads' or 'debug', got the string 'simd128'"],
    [{ build: 'smid' }, "init: build must be 'auto', 'relaxed', 'simd', 'scalar', 'simd-threads', 'relaxed-simd-threads' or 'debug', got the string 'smid'; did you mean 'simd'?"],
    [{ backend: 'webgl' }, "init: backend must be 'wasm' or 'ref', got the string 'webgl'"],
    [{ backend: 'ref', threads: 2 }, "init: threads: options of the wasm backend, not of backend 'ref'"],
    [{ maxMemoryMB: '64' }, "init: maxMemoryMB must be in (0, 4096], got the string '64'"],
    [{ maxMemoryMB: NaN }, 'init: maxMemoryMB must be in (0, 4096], got NaN'],
    [{ threads: '2' }, "init: threads must be an integer from 1 to 16 or 'auto', got the string '2'"],
    [{ build: 'simd', maxMemoryMB: 0.0625 },
      "init: maxMemoryMB must be at least 0.125 for the 'simd' build (its own 64 KB of memory and a 64 KB page for tensors), got 0.0625"],
    [{ threads: 2, maxMemoryMB: 1 },
      "init: maxMemoryMB must be at least 1.0625 for the 'relaxed-simd-threads' build (its own 1024 KB of memory and a 64 KB page for tensors), got 1"],
    ['simd', "init: options must be an object such as { backend: … }, got the string 'simd'"],
  ])('init(%j) is refused and the backend in use stays', async (options, message) => {
    const before = memory();
    await expect(init(options as never)).rejects.toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    stillUsable();
  });

  it('createWasmBackend names itself; at the smallest limit a build runs kernels', async () => {
    await expect(createWasmBackend({ build: 'scalar', maxMemoryMB: 0.1 })).rejects
      .toThrow("createWasmBackend: maxMemoryMB must be at least 0.125 for the 'scalar' build");
    await expect(createWasmBackend({ memoryMB: 16 } as never)).rejects.toThrow("createWasmBackend: unknown option 'memoryMB'; did you mean 'maxMemoryMB'?");
    const small = await createWasmBackend({ build: 'simd', maxMemoryMB: 0.125 });
    setBackend(small);
    try {
      expect(memory().limitBytes).toBe(131072);
      tidy(() => {
        const a = randn([64, 64], { seed: 1 });
        expect(Number.isFinite(matmul(a, a).sum().item())).toBe(true);
      });
      expect(memory().bytes).toBe(0);
    } finally {
      await init({ build: 'simd' });
    }
    stillUsable();
  });

  it('arange and full check their options like the rest', () => {
    expect(() => arange(3, undefined, 1, { dtpye: 'int32' } as never)).toThrow("arange: unknown option 'dtpye'; did you mean 'dtype'?");
    expect(() => full([2], 1, { name: 3 } as never)).toThrow('full: name must be a string, got 3');
  });
});
