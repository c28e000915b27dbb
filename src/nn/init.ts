// Weight initialisation, seeded: Xavier/Glorot and Kaiming/He in their uniform and normal forms, with
// PyTorch's formulas (torch.nn.init). Each fills a tensor in place and returns it.
import type { Tensor } from '../autograd/tensor.js';
import { fmt } from '../kernels/shape.js';
import { globalGenerator, type Generator } from '../random.js';

export interface InitOptions { generator?: Generator }

/** fan_in and fan_out of a weight [out, in, ...receptive field] as PyTorch computes them. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
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

export function uniform(t: Tensor, low: number, high: number, o: InitOptions = {}): Tensor {
  return fill(t, (o.generator ?? globalGenerator).uniform(t.size, low, high));
}

export function normal(t: Tensor, mean: number, std: number, o: InitOptions = {}): Tensor {
  return fill(t, (o.generator ?? globalGenerator).normal(t.size, mean, std));
}

/** U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(t: Tensor, o: InitOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const a = (o.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a, o);
}

/** N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(t: Tensor, o: InitOptions & { gain?: number } = {}): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  return normal(t, 0, (o.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), o);
}

interface KaimingOptions extends InitOptions {
  /** The negative slope of a leaky ReLU that follows (a in PyTorch); 0 for ReLU. */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: 'relu' | 'leakyRelu';
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t.shape);
  const gain = calculateGain(o.nonlinearity ?? 'leakyRelu', o.a ?? 0);
  return gain / Math.sqrt(o.mode === 'fanOut' ? fanOut : fanIn);
}

/** U(−b, b) with b = gain·√(3 / fan), gain = √(2 / (1 + a²)). */
export function kaimingUniform(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform(t, -bound, bound, o);
}

/** N(0, σ²) with σ = gain / √fan. */
export function kaimingNormal(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, o), o);
}
