// Weight initialisation, seeded: Xavier/Glorot and Kaiming/He in their uniform and normal forms, with
// PyTorch's formulas (torch.nn.init). Each fills a tensor in place and returns it.
import { checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import { fmt } from '../kernels/shape.js';
import { checkOptions, checkValue, instanceOf, number, oneOf, type Check } from '../options.js';
import { globalGenerator, Generator } from '../random.js';

/** Options of the initialisers. */
export interface InitOptions {
  /** The generator to draw from (default: the global one). */
  generator?: Generator;
}

const generator = instanceOf(Generator);
/** Checks an initialiser's tensor and options. */
function checkInit(api: string, t: unknown, options: unknown, spec: Record<string, Check> = {}): void {
  checkTensor(`init.${api}`, 'the tensor', t);
  checkOptions(`init.${api}`, options, { generator, ...spec });
}

/** fan_in and fan_out of a weight [out, in, ...receptive field], as PyTorch computes them. */
export function fans(shape: readonly number[]): {
  /** in · receptive field size. */
  fanIn: number;
  /** out · receptive field size. */
  fanOut: number;
} {
  if (shape.length < 2) throw new Error(`init: fan in/out need a tensor with at least 2 dims, got ${fmt(shape)}`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu', param = 0.01): number {
  switch (nonlinearity) {
    case 'linear': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leakyRelu': return Math.sqrt(2 / (1 + param * param));
  }
}

function fill(t: Tensor, values: Float64Array): Tensor {
  t.backend.write(t.buf, values);
  return t;
}

/** Fills t in place with U(low, high) and returns it (torch.nn.init.uniform_). */
export function uniform(t: Tensor, low: number, high: number, o: InitOptions = {}): Tensor {
  checkInit('uniform', t, o);
  checkValue('init.uniform', 'low', low, number());
  checkValue('init.uniform', 'high', high, number({ ge: low }));
  return fill(t, (o.generator ?? globalGenerator).uniform(t.size, low, high));
}

/** Fills t in place with N(mean, std²) and returns it (torch.nn.init.normal_). */
export function normal(t: Tensor, mean: number, std: number, o: InitOptions = {}): Tensor {
  checkInit('normal', t, o);
  checkValue('init.normal', 'mean', mean, number());
  checkValue('init.normal', 'std', std, number({ ge: 0 }));
  return fill(t, (o.generator ?? globalGenerator).normal(t.size, mean, std));
}

/** U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, o: InitOptions & { gain?: number } = {}): Tensor {
  checkInit('xavierUniform', t, o, { gain: number({ ge: 0 }) });
  const { fanIn, fanOut } = fans(t.shape);
  const a = (o.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a, { generator: o.generator });
}

/** N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, o: InitOptions & { gain?: number } = {}): Tensor {
  checkInit('xavierNormal', t, o, { gain: number({ ge: 0 }) });
  const { fanIn, fanOut } = fans(t.shape);
  return normal(t, 0, (o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), { generator: o.generator });
}

/** Options of kaimingUniform and kaimingNormal (torch.nn.init.kaiming_*'s a, mode, nonlinearity). */
export interface KaimingOptions extends InitOptions {
  /** The negative slope of a leaky ReLU that follows (a in PyTorch); 0 for ReLU. */
  a?: number;
  /** Preserve the variance of the forward pass ('fanIn', default) or of the backward pass ('fanOut'). */
  mode?: 'fanIn' | 'fanOut';
  /** The nonlinearity whose gain scales the bound (default 'leakyRelu', with slope `a`). */
  nonlinearity?: 'relu' | 'leakyRelu';
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t.shape);
  const gain = calculateGain(o.nonlinearity ?? 'leakyRelu', o.a ?? 0);
  return gain / Math.sqrt(o.mode === 'fanOut' ? fanOut : fanIn);
}

const KAIMING = { a: number(), mode: oneOf('fanIn', 'fanOut'), nonlinearity: oneOf('relu', 'leakyRelu') };

/** U(−b, b) with b = gain·√(3 / fan), gain = √(2 / (1 + a²)). */
export function kaimingUniform(t: Tensor, o: KaimingOptions = {}): Tensor {
  checkInit('kaimingUniform', t, o, KAIMING);
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform(t, -bound, bound, { generator: o.generator });
}

/** N(0, σ²) with σ = gain / √fan. */
export function kaimingNormal(t: Tensor, o: KaimingOptions = {}): Tensor {
  checkInit('kaimingNormal', t, o, KAIMING);
  return normal(t, 0, kaimingStd(t, o), { generator: o.generator });
}
