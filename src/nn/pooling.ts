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

/**
 * Max pooling over 2-D windows of [N, C, H, W] (or [C, H, W]) inputs (PyTorch's nn.MaxPool2d); see {@link maxPool2d}.
 */
export class MaxPool2d extends Module {
  /** Step between windows (default: the kernel size). */
  readonly stride: Size2;
  /** Implicit −∞ padding on both sides. */
  readonly padding: Size2;
  /** Spacing between the window's positions. */
  readonly dilation: Size2;
  /** Whether a partial window at the end counts. */
  readonly ceilMode: boolean;

  /** @param kernelSize The window: an integer or [height, width]. */
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

/**
 * Average pooling over 2-D windows of [N, C, H, W] (or [C, H, W]) inputs (PyTorch's nn.AvgPool2d); see {@link
 * avgPool2d}.
 */
export class AvgPool2d extends Module {
  /** Step between windows (default: the kernel size). */
  readonly stride: Size2;
  /** Implicit zero padding on both sides. */
  readonly padding: Size2;
  /** Whether a partial window at the end counts. */
  readonly ceilMode: boolean;
  /** Whether the zero padding counts in the divisor. */
  readonly countIncludePad: boolean;
  /** Divides every window by this instead of its size, when set. */
  readonly divisorOverride: number | undefined;

  /** @param kernelSize The window: an integer or [height, width]. */
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

/**
 * Averages [N, C, H, W] (or [C, H, W]) inputs to a fixed output size (PyTorch's nn.AdaptiveAvgPool2d); see {@link
 * adaptiveAvgPool2d}.
 */
export class AdaptiveAvgPool2d extends Module {
  /** @param outputSize An integer, or [height, width] where null keeps the input's size. */
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
