// Activations as modules, for Sequential.
import type { Tensor } from '../autograd/tensor.js';
import { gelu } from '../ops/gelu.js';
import { leakyRelu } from '../ops/leakyRelu.js';
import { relu } from '../ops/relu.js';
import { sigmoid } from '../ops/sigmoid.js';
import { softplus } from '../ops/softplus.js';
import { tanh } from '../ops/tanh.js';
import { checkValue, number } from '../options.js';
import { Module } from './module.js';

/** Elementwise max(x, 0) as a module (PyTorch's nn.ReLU). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}
/** Elementwise σ(x) = 1/(1 + e⁻ˣ) as a module (PyTorch's nn.Sigmoid). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return sigmoid(x); }
}
/** Elementwise tanh as a module (PyTorch's nn.Tanh). */
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}
/** Elementwise GELU, exact erf form, as a module (PyTorch's nn.GELU). */
export class GELU extends Module {
  forward(x: Tensor): Tensor { return gelu(x); }
}
/** x for x > 0, negativeSlope·x otherwise, as a module (PyTorch's nn.LeakyReLU). */
export class LeakyReLU extends Module {
  /** @param negativeSlope The slope for x ≤ 0 (default 0.01). */
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkValue('LeakyReLU', 'negativeSlope', negativeSlope, number());
  }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
  protected override extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}
/** ln(1 + e^(βx))/β elementwise (x where βx > 20), as a module (PyTorch's nn.Softplus). */
export class Softplus extends Module {
  /** @param beta β (default 1), > 0. */
  constructor(readonly beta = 1) {
    super();
    checkValue('Softplus', 'beta', beta, number({ gt: 0 }));
  }
  forward(x: Tensor): Tensor { return softplus(x, this.beta); }
  protected override extraRepr(): string { return `beta=${this.beta}`; }
}
