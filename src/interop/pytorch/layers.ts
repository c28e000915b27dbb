// The PyTorch layer for each wasmgrad layer the trainer's Sequential models use: the same constructor arguments,
// so the parameters and buffers get the same names and shapes. A layer without an entry is an error naming it.
import { GELU, LeakyReLU, ReLU, Sigmoid, Tanh } from '../../nn/activations.js';
import { BatchNorm2d } from '../../nn/batchnorm.js';
import { Conv2d } from '../../nn/conv.js';
import { Dropout } from '../../nn/dropout.js';
import { Flatten } from '../../nn/flatten.js';
import { Linear } from '../../nn/linear.js';
import type { Module } from '../../nn/module.js';
import { MaxPool2d } from '../../nn/pooling.js';
import { call } from './python.js';

type Translate<M> = (m: M) => string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const entry = <M extends Module>(cls: abstract new (...args: any[]) => M, translate: Translate<M>) => ({ cls, translate });

const LAYERS = [
  entry(Linear, (m) => call('nn.Linear', [m.inFeatures, m.outFeatures], [['bias', m.bias !== null, true]])),
  entry(Conv2d, (m) => call('nn.Conv2d', [m.inChannels, m.outChannels, m.kernelSize], [
    ['stride', m.stride, [1, 1]], ['padding', m.padding, [0, 0]], ['dilation', m.dilation, [1, 1]],
    ['groups', m.groups, 1], ['bias', m.bias !== null, true],
  ])),
  entry(BatchNorm2d, (m) => call('nn.BatchNorm2d', [m.numFeatures], [
    ['eps', m.eps, 1e-5], ['momentum', m.momentum, 0.1], ['affine', m.affine, true], ['track_running_stats', m.trackRunningStats, true],
  ])),
  entry(MaxPool2d, (m) => call('nn.MaxPool2d', [m.kernelSize], [
    ['stride', m.stride, m.kernelSize], ['padding', m.padding, 0], ['dilation', m.dilation, 1], ['ceil_mode', m.ceilMode, false],
  ])),
  entry(Flatten, (m) => call('nn.Flatten', [], [['start_dim', m.startDim, 1]])),
  entry(Dropout, (m) => call('nn.Dropout', [m.p])),
  entry(ReLU, () => 'nn.ReLU()'),
  entry(LeakyReLU, (m) => call('nn.LeakyReLU', [], [['negative_slope', m.negativeSlope, 0.01]])),
  entry(Sigmoid, () => 'nn.Sigmoid()'),
  entry(Tanh, () => 'nn.Tanh()'),
  entry(GELU, () => 'nn.GELU()'), // wasmgrad's gelu is the exact (erf) form, PyTorch's default
];

/** The PyTorch constructor call for a layer, e.g. `nn.Conv2d(1, 16, (5, 5), padding="same", bias=False)`. */
export function torchLayer(m: Module, name: string): string {
  const found = LAYERS.find((l) => m instanceof l.cls);
  if (!found) {
    throw new Error(`exportPyTorch: layer '${name}' is a ${m.constructor.name}, which the PyTorch export does not translate ` +
      `(it translates ${LAYERS.map((l) => l.cls.name).join(', ')})`);
  }
  return (found.translate as Translate<Module>)(m);
}
