// What conv1d and conv2d share: their options (PyTorch's stride, padding, dilation, groups), resolved against the
// weight into an explicit geometry, and three differentiable ops over it.
//
// A convolution y = conv(x, W) is linear in x and in W, so both of its gradients are convolutions too:
//   dx = convInputGrad(dy, W)   (a transposed convolution: each output gradient spread back over its taps)
//   dW = convWeightGrad(x, dy)  (each tap's input correlated with the output gradient)
// and each of the three ops differentiates into the others (with h the upstream gradient of the op's result):
//   conv(x, W)            →  dx = convInputGrad(h, W),    dW = convWeightGrad(x, h)
//   convInputGrad(g, W)   →  dg = conv(h, W),             dW = convWeightGrad(h, g)
//   convWeightGrad(x, g)  →  dx = convInputGrad(g, h),    dg = conv(x, h)
// so gradients of gradients, to any order, are convolutions of the same geometry.
import { apply, checkAlive, checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { checkOptions, integer, type Check } from '../options.js';
import { sum } from './sum.js';

/**
 * Convolution padding: zeros per side (one number, or one per spatial dim), 'valid' (none) or 'same' (output size =
 * input size; stride 1 only).
 */
export type Padding = number | readonly number[] | 'same' | 'valid';

/** Options of conv1d and conv2d: a number applies to every spatial dim, an array gives one per dim. */
export interface ConvOptions {
  /** Step between windows (default 1). */
  stride?: number | readonly number[];
  /** Zeros on both sides of each spatial dim; 'valid' is 0, 'same' keeps the size (stride 1 only, as PyTorch). */
  padding?: Padding;
  /** Spacing between the kernel's taps (default 1). */
  dilation?: number | readonly number[];
  /** Split the channels into this many groups, each convolved with its own filters (default 1; `in` for depthwise). */
  groups?: number;
}

const DIMS = ['[length]', '[height, width]'];

const isInt = (v: unknown, min: number) => Number.isSafeInteger(v) && (v as number) >= min;

/** An integer ≥ min, or one per spatial dim (stride, dilation, a layer's kernel size). */
export function integersPerDim(rank: number, min: number): Check {
  return {
    what: `an integer ≥ ${min} or an array ${DIMS[rank - 1]} of them`,
    ok: (v) => isInt(v, min) || (Array.isArray(v) && v.length === rank && v.every((d) => isInt(d, min))),
  };
}

function paddingCheck(rank: number): Check {
  return {
    what: `an integer ≥ 0, an array ${DIMS[rank - 1]} of them, 'same' or 'valid'`,
    ok: (v) => v === 'same' || v === 'valid' || integersPerDim(rank, 0).ok(v),
    names: ['same', 'valid'],
  };
}

/** The option checks of conv1d / conv2d (and of nn.Conv1d / nn.Conv2d, which add their own). */
export function convOptionChecks(rank: number): Record<keyof ConvOptions, Check> {
  const positive = integersPerDim(rank, 1);
  return { stride: positive, padding: paddingCheck(rank), dilation: positive, groups: integer({ ge: 1 }) };
}

export const CONV_UNSUPPORTED = {
  paddingMode: "only zero padding is supported (PyTorch's padding_mode 'zeros')",
};

/** A per-dim option as one value per dim. */
export const perDimValues = (v: number | readonly number[], rank: number): number[] =>
  (typeof v === 'number' ? Array<number>(rank).fill(v) : [...v]);

/**
 * Resolves checked options against a kernel size: 'valid' is no padding; 'same' pads dilation·(k − 1) in total,
 * the odd one after the input (PyTorch's rule), and is refused with a stride other than 1, as PyTorch does.
 */
export function convGeometry(op: string, kernel: readonly number[], options: ConvOptions): K.ConvGeometry {
  const rank = kernel.length;
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  const strides = perDimValues(stride, rank);
  const dilations = perDimValues(dilation, rank);
  let pads: [number, number][];
  if (padding === 'same') {
    if (strides.some((s) => s !== 1)) {
      throw new Error(`${op}: padding 'same' needs stride 1 (as in PyTorch), got stride [${strides.join(',')}]; ` +
        'give the padding as numbers instead');
    }
    pads = kernel.map((k, i) => {
      const total = dilations[i]! * (k - 1);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  } else {
    pads = perDimValues(padding === 'valid' ? 0 : padding, rank).map((p) => [p, p]);
  }
  return { stride: strides, padding: pads, dilation: dilations, groups };
}

/** Spatial rank of a convolution (1 or 2) and its op name. */
type Rank = 1 | 2;
const opName = (rank: Rank, suffix = '') => `conv${rank}d${suffix}`;

/** conv1d / conv2d: checks the arguments and options, then the convolution op. */
export function convolution(rank: Rank, x: Tensor, weight: Tensor, bias: Tensor | null | undefined,
  options: ConvOptions): Tensor {
  const op = opName(rank);
  checkTensor(op, 'input', x);
  checkTensor(op, 'weight', weight);
  if (bias != null) checkTensor(op, 'bias', bias);
  checkOptions(op, options, convOptionChecks(rank), CONV_UNSUPPORTED);
  checkAlive(op, [x, weight, ...(bias ? [bias] : [])]);
  if (weight.rank !== rank + 2) {
    throw new Error(`${op}: weight must be ${rank + 2}-D [out_channels, in_channels/groups, ` +
      `${rank === 1 ? 'kernel_length' : 'kernel_height, kernel_width'}], got ${fmt(weight.shape)}`);
  }
  return conv(x, weight, bias ?? null, convGeometry(op, weight.shape.slice(2), options));
}

const rankOf = (g: K.ConvGeometry) => g.stride.length as Rank;

/** The convolution op over a resolved geometry. */
export function conv(x: Tensor, weight: Tensor, bias: Tensor | null, g: K.ConvGeometry): Tensor {
  const rank = rankOf(g);
  return apply({
    op: opName(rank),
    inputs: bias ? [x, weight, bias] : [x, weight],
    forward: ([t, w, b]) => K.conv(t!, w!, b ?? null, g),
    save: ([t, w]) => [t!, w!],
    backward: (h, [t, w], _, [needX, needW, needB]) => [
      needX ? convInputGrad(h, w!, t!.shape, g) : null,
      needW ? convWeightGrad(t!, h, w!.shape, g) : null,
      needB ? sum(h, rank === 1 ? [0, 2] : [0, 2, 3]) : null,
    ],
    attrs: { ...g },
  });
}

/** The gradient of sum(conv(x, weight)·dy) with respect to x (of shape inputShape): a transposed convolution. */
export function convInputGrad(dy: Tensor, weight: Tensor, inputShape: readonly number[], g: K.ConvGeometry): Tensor {
  return apply({
    op: opName(rankOf(g), 'InputGrad'),
    inputs: [dy, weight],
    forward: ([d, w]) => K.convInputGrad(d!, w!, inputShape, g),
    save: ([d, w]) => [d!, w!],
    backward: (h, [d, w], _, [needDy, needW]) => [
      needDy ? conv(h, w!, null, g) : null,
      needW ? convWeightGrad(h, d!, w!.shape, g) : null,
    ],
    attrs: { ...g, inputShape },
  });
}

/** The gradient of sum(conv(x, weight)·dy) with respect to weight (of shape weightShape). */
export function convWeightGrad(x: Tensor, dy: Tensor, weightShape: readonly number[], g: K.ConvGeometry): Tensor {
  return apply({
    op: opName(rankOf(g), 'WeightGrad'),
    inputs: [x, dy],
    forward: ([t, d]) => K.convWeightGrad(t!, d!, weightShape, g),
    save: ([t, d]) => [t!, d!],
    backward: (h, [t, d], _, [needX, needDy]) => [
      needX ? convInputGrad(d!, h, t!.shape, g) : null,
      needDy ? conv(t!, h, null, g) : null,
    ],
    attrs: { ...g, weightShape },
  });
}
