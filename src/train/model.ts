// The models the trainer builds, each described by a config that is saved with the model so `predict` and `sample`
// can rebuild it from the file alone: an MLP (Linear → φ → (Dropout) → … → Linear), a LeNet-style CNN (blocks of
// conv → BatchNorm2d → φ → 2×2 max pool, then flatten and an MLP head), and a character-level GPT (gpt.ts).
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Flatten } from '../nn/flatten.js';
import { GELU, LeakyReLU, ReLU, Sigmoid, Tanh } from '../nn/activations.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { MaxPool2d } from '../nn/pooling.js';
import { Sequential } from '../nn/sequential.js';
import type { Generator } from '../random.js';
import { buildGpt, gptParameterCount, type GptConfig } from './gpt.js';

export const MODEL_NAMES = ['mlp', 'cnn', 'gpt'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The activations the trainer's models take. */
export type ActivationName = 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid' | 'gelu';
export const ACTIVATION_NAMES: readonly ActivationName[] = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu'];

/** A multilayer perceptron: Linear → φ → (Dropout) per hidden width, then Linear to outputDim. */
export interface MlpConfig {
  /** Inputs per row. */
  inputDim: number;
  /** The hidden layers' widths. */
  hidden: number[];
  /** Outputs: classes, or 1 for regression. */
  outputDim: number;
  /** φ, after each hidden layer. */
  activation: ActivationName;
  /** Dropout after each hidden layer (0: none). */
  dropout: number;
}

/**
 * A LeNet-style convnet: per entry of `channels` a block conv kernelSize² with 'same' padding and no bias (the
 * batch norm's shift takes its place) → BatchNorm2d → φ → 2×2 max pool, which halves the image; then flatten,
 * dropout on the flattened features, and an MLP head (`hidden` widths, possibly none) to outputDim.
 */
export interface CnnConfig {
  /** One input image: [channels, height, width]. */
  inputShape: number[];
  /** Output channels of each convolution block. */
  channels: number[];
  /** The convolutions' kernel size. */
  kernelSize: number;
  /** The head's hidden widths, after flattening. */
  hidden: number[];
  /** Classes. */
  outputDim: number;
  /** φ, after each batch norm and each hidden layer. */
  activation: ActivationName;
  /** Dropout on the flattened features and after each hidden layer (0: none). */
  dropout: number;
}

/** The convolution blocks of the CNN the trainer builds: conv 5×5 with 16, then 32 channels. */
export const CNN_BLOCKS: Pick<CnnConfig, 'channels' | 'kernelSize'> = { channels: [16, 32], kernelSize: 5 };

/** What a saved model is: one of the architectures, under its name. */
export type ModelDescription =
  | {
    /** An MLP. */
    mlp: MlpConfig;
  }
  | {
    /** A convnet. */
    cnn: CnnConfig;
  }
  | {
    /** A character-level GPT. */
    gpt: GptConfig;
  };

const ACTIVATION: Record<ActivationName, () => Module> = {
  relu: () => new ReLU(), leakyRelu: () => new LeakyReLU(), tanh: () => new Tanh(), sigmoid: () => new Sigmoid(), gelu: () => new GELU(),
};

function mlpLayers(c: MlpConfig, generator: Generator, dropoutGenerator: Generator): Module[] {
  const layers: Module[] = [];
  let width = c.inputDim;
  for (const h of c.hidden) {
    layers.push(new Linear(width, h, { generator }), ACTIVATION[c.activation]());
    if (c.dropout > 0) layers.push(new Dropout(c.dropout, { generator: dropoutGenerator }));
    width = h;
  }
  layers.push(new Linear(width, c.outputDim, { generator }));
  return layers;
}

export function buildMlp(c: MlpConfig, generator: Generator, dropoutGenerator: Generator): Sequential {
  return new Sequential(...mlpLayers(c, generator, dropoutGenerator));
}

/** The size of the image after the CNN's blocks: each 2×2 max pool halves height and width (rounding down). */
export function cnnFeatures(c: Pick<CnnConfig, 'inputShape' | 'channels'>): { channels: number; height: number; width: number } {
  const [channels, height, width] = c.inputShape as [number, number, number];
  const pools = 2 ** c.channels.length;
  return { channels: c.channels[c.channels.length - 1] ?? channels, height: Math.floor(height / pools), width: Math.floor(width / pools) };
}

export function buildCnn(c: CnnConfig, generator: Generator, dropoutGenerator: Generator): Sequential {
  const layers: Module[] = [];
  let inChannels = c.inputShape[0]!;
  for (const out of c.channels) {
    layers.push(new Conv2d(inChannels, out, c.kernelSize, { padding: 'same', bias: false, generator }), new BatchNorm2d(out),
      ACTIVATION[c.activation](), new MaxPool2d(2));
    inChannels = out;
  }
  layers.push(new Flatten());
  if (c.dropout > 0) layers.push(new Dropout(c.dropout, { generator: dropoutGenerator }));
  const f = cnnFeatures(c);
  const head = { inputDim: f.channels * f.height * f.width, hidden: c.hidden, outputDim: c.outputDim, activation: c.activation, dropout: c.dropout };
  return new Sequential(...layers, ...mlpLayers(head, generator, dropoutGenerator));
}

export function buildModel(d: ModelDescription, generator: Generator, dropoutGenerator: Generator): Module {
  if ('gpt' in d) return buildGpt(d.gpt, generator, dropoutGenerator);
  return 'mlp' in d ? buildMlp(d.mlp, generator, dropoutGenerator) : buildCnn(d.cnn, generator, dropoutGenerator);
}

/**
 * The shape of one input of the model: [features] for the MLP, [channels, height, width] for the CNN, [context]
 * token ids for the GPT.
 */
export function inputShapeOf(d: ModelDescription): number[] {
  if ('gpt' in d) return [d.gpt.context];
  return 'mlp' in d ? [d.mlp.inputDim] : d.cnn.inputShape;
}

/** The weights the seed's L2 term covers (not the biases, nor batch norm's scales). */
export function weightsOf(model: Module): import('../autograd/tensor.js').Tensor[] {
  return model.namedParameters().filter(([k, p]) => k.endsWith('weight') && p.rank > 1).map(([, p]) => p);
}

/** The architecture in a few words, for the CLI's header: '784-512-10 relu', 'conv5×5(16)-bn-relu-pool, …'. */
export function architecture(d: ModelDescription): string {
  if ('gpt' in d) {
    const g = d.gpt;
    return `gpt ${g.layers} layer${g.layers === 1 ? '' : 's'} × ${g.heads} head${g.heads === 1 ? '' : 's'}, width ${g.width}, ` +
      `context ${g.context}, vocabulary ${g.vocabSize}${g.dropout ? `, dropout ${g.dropout}` : ''} ` +
      `(${gptParameterCount(g).toLocaleString('en-US')} parameters)`;
  }
  if ('mlp' in d) return `${[d.mlp.inputDim, ...d.mlp.hidden, d.mlp.outputDim].join('-')} ${d.mlp.activation}`;
  const c = d.cnn, f = cnnFeatures(c);
  const blocks = c.channels.map((n) => `conv${c.kernelSize}×${c.kernelSize}(${n})-bn-${c.activation}-pool`);
  return `cnn ${c.inputShape.join('×')} → ${blocks.join(' → ')} → ${[f.channels * f.height * f.width, ...c.hidden, c.outputDim].join('-')}`;
}
