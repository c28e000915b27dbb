// Flatten: collapses dims from startDim on (default 1: keep the batch axis), e.g. [n, 28, 28] → [n, 784].
import type { Tensor } from '../autograd/tensor.js';
import { flatten } from '../ops/reshape.js';
import { Module } from './module.js';

export class Flatten extends Module {
  constructor(readonly startDim = 1) { super(); }
  forward(x: Tensor): Tensor { return flatten(x, this.startDim); }
  protected override extraRepr(): string { return `startDim=${this.startDim}`; }
}
