// The multilayer perceptron the trainer builds: Linear → φ → (Dropout) → … → Linear, described by a config that
// is saved with the model so `predict` can rebuild it from the file alone.
import { Dropout } from '../nn/dropout.js';
import { GELU, LeakyReLU, ReLU, Sigmoid, Tanh } from '../nn/activations.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import type { Generator } from '../random.js';

export const ACTIVATION_NAMES = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export interface MlpConfig {
  inputDim: number;
  hidden: number[];
  outputDim: number;
  activation: ActivationName;
  dropout: number;
}

const ACTIVATION: Record<ActivationName, () => Module> = {
  relu: () => new ReLU(), leakyRelu: () => new LeakyReLU(), tanh: () => new Tanh(), sigmoid: () => new Sigmoid(), gelu: () => new GELU(),
};

export function buildMlp(c: MlpConfig, generator: Generator, dropoutGenerator: Generator): Sequential {
  const layers: Module[] = [];
  let width = c.inputDim;
  for (const h of c.hidden) {
    layers.push(new Linear(width, h, { generator }), ACTIVATION[c.activation]());
    if (c.dropout > 0) layers.push(new Dropout(c.dropout, { generator: dropoutGenerator }));
    width = h;
  }
  layers.push(new Linear(width, c.outputDim, { generator }));
  return new Sequential(...layers);
}

/** The weights the seed's L2 term covers (not the biases). */
export function weightsOf(model: Module): import('../autograd/tensor.js').Tensor[] {
  return model.namedParameters().filter(([k]) => k.endsWith('weight')).map(([, p]) => p);
}
