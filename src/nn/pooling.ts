// Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, PyTorch's modules over the ops of the same names
// (src/ops/maxPool2d.ts and friends). The options are checked when the layer is made.
import type { Tensor } from '../autograd/tensor.js';
import { adaptiveAvgPool2d, checkAdaptiveSize, type AdaptiveSize } from '../ops/adaptiveAvgPool2d.js';
import { avgPool2d } from '../ops/avgPool2d.js';
import { maxPool2d } from '../ops/maxPool2d.js';
import { avgPoolWindow, maxPoolWindow, type AvgPool2dOptions, type MaxPool2dOptions, type Size2 } from '../ops/pool2d.js';
import { Module } from './module.js';

/** A size as PyTorch prints it: 2, or [2, 3]. */
const show = (v: Size2 | AdaptiveSize): string => (typeof v === 'number' ? String(v) : `[${v.map(String).join(', ')}]`);

export class MaxPool2d extends Module {
  readonly stride: Size2;
  readonly padding: Size2;
  readonly dilation: Size2;
  readonly ceilMode: boolean;

  constructor(readonly kernelSize: Size2, options: MaxPool2dOptions = {}) {
    super();
    maxPoolWindow('MaxPool2d', kernelSize, options);
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.ceilMode = options.ceilMode ?? false;
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  protected override extraRepr(): string {
    return `kernelSize=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}, ` +
      `dilation=${show(this.dilation)}, ceilMode=${this.ceilMode}`;
  }
}

export class AvgPool2d extends Module {
  readonly stride: Size2;
  readonly padding: Size2;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | undefined;

  constructor(readonly kernelSize: Size2, options: AvgPool2dOptions = {}) {
    super();
    avgPoolWindow('AvgPool2d', kernelSize, options);
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride;
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  protected override extraRepr(): string {
    return `kernelSize=${show(this.kernelSize)}, stride=${show(this.stride)}, padding=${show(this.padding)}`;
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) {
    super();
    checkAdaptiveSize('AdaptiveAvgPool2d', outputSize);
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  protected override extraRepr(): string {
    return `outputSize=${show(this.outputSize)}`;
  }
}
