// Flatten: collapses dims from startDim on (default 1: keep the batch axis), e.g. [n, 28, 28] → [n, 784].
import type { Tensor } from '../autograd/tensor.js';
import { flatten } from '../ops/reshape.js';
import { Module } from './module.js';

/** Merges the dims from startDim on into one (PyTorch's nn.Flatten: [N, C, H, W] → [N, C·H·W] by default). */
export class Flatten extends Module {
  /** @param startDim The first dim merged (default 1, keeping the batch dim). */
  constructor(readonly startDim = 1) { super(); }
  forward(x: Tensor): Tensor { return flatten(x, this.startDim); }
  protected override extraRepr(): string { return `startDim=${this.startDim}`; }
}
