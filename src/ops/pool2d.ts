// The options of the 2-D pooling ops and layers, as PyTorch takes them: a size is an integer or a pair
// [height, width]; stride defaults to the kernel size.
import type { Pool2dWindow } from '../kernels/index.js';
import { boolean, checkOptions, checkValue, integer, type Check } from '../options.js';

/** An integer for both spatial axes, or a pair [height, width]. */
export type Size2 = number | readonly [number, number];

/** A Size2 whose integers are ≥ min. */
export function size2(min: number): Check {
  const one = integer({ ge: min });
  return {
    what: `${one.what} or a pair [height, width] of them`,
    ok: (v) => one.ok(v) || (Array.isArray(v) && v.length === 2 && v.every((d) => one.ok(d))),
  };
}

export const pair = (v: Size2): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Options of maxPool2d and nn.MaxPool2d (PyTorch's names). */
export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Size2;
  /** Implicit −∞ padding on both sides (default 0), at most half the kernel. */
  padding?: Size2;
  /** Spacing between the window's positions (default 1). */
  dilation?: Size2;
  /** Round the output size up, so a partial window at the end counts (default false). */
  ceilMode?: boolean;
}

/** Options of avgPool2d and nn.AvgPool2d (PyTorch's names). */
export interface AvgPool2dOptions {
  /** Default: the kernel size. */
  stride?: Size2;
  /** Implicit zero padding on both sides (default 0), at most half the kernel. */
  padding?: Size2;
  /** Round the output size up, so a partial window at the end counts (default false). */
  ceilMode?: boolean;
  /** Whether the zero padding counts in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window by this instead of its size. */
  divisorOverride?: number;
}

const WINDOW = { stride: size2(1), padding: size2(0), ceilMode: boolean };

/** The checked window of a max pooling. */
export function maxPoolWindow(api: string, kernelSize: Size2, options: MaxPool2dOptions): Pool2dWindow {
  checkValue(api, 'kernelSize', kernelSize, size2(1));
  checkOptions(api, options, { ...WINDOW, dilation: size2(1) }, {
    returnIndices: 'the indices stay inside the op, which keeps them for its backward',
  });
  return window(kernelSize, options.stride, options.padding, options.dilation ?? 1, options.ceilMode);
}

/** The checked window, countIncludePad and divisor (0 = none) of an average pooling. */
export function avgPoolWindow(api: string, kernelSize: Size2, options: AvgPool2dOptions):
  { win: Pool2dWindow; countIncludePad: boolean; divisor: number } {
  checkValue(api, 'kernelSize', kernelSize, size2(1));
  checkOptions(api, options, { ...WINDOW, countIncludePad: boolean, divisorOverride: integer({ ge: 1 }) });
  return {
    win: window(kernelSize, options.stride, options.padding, 1, options.ceilMode),
    countIncludePad: options.countIncludePad ?? true,
    divisor: options.divisorOverride ?? 0,
  };
}

function window(kernelSize: Size2, stride: Size2 | undefined, padding: Size2 = 0, dilation: Size2 = 1, ceilMode = false): Pool2dWindow {
  return { kernel: pair(kernelSize), stride: pair(stride ?? kernelSize), padding: pair(padding), dilation: pair(dilation), ceilMode };
}
