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

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return relu(x); }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return sigmoid(x); }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return tanh(x); }
}
export class GELU extends Module {
  forward(x: Tensor): Tensor { return gelu(x); }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkValue('LeakyReLU', 'negativeSlope', negativeSlope, number());
  }
  forward(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
  protected override extraRepr(): string { return `negativeSlope=${this.negativeSlope}`; }
}
export class Softplus extends Module {
  constructor(readonly beta = 1) {
    super();
    checkValue('Softplus', 'beta', beta, number({ gt: 0 }));
  }
  forward(x: Tensor): Tensor { return softplus(x, this.beta); }
  protected override extraRepr(): string { return `beta=${this.beta}`; }
}
