// Conv1d, Conv2d: convolution layers with PyTorch's parameters — weight [out, in/groups, ...kernel] and bias
// [out] — and PyTorch's default init: kaiming-uniform with a = √5 for the weight, which is U(±1/√fanIn), and
// U(±1/√fanIn) for the bias, with fanIn = in/groups · ∏kernel. Options are those of conv1d / conv2d plus `bias`
// (false: none) and a `generator` for the init.
import type { Tensor } from '../autograd/tensor.js';
import { zeros } from '../creation.js';
import {
  CONV_UNSUPPORTED, convGeometry, convolution, convOptionChecks, integersPerDim, perDimValues, type ConvOptions,
} from '../ops/convolution.js';
import { boolean, checkOptions, checkValue, instanceOf, integer } from '../options.js';
import { globalGenerator, Generator } from '../random.js';
import { fans, kaimingUniform, uniform } from './init.js';
import { Module, parameter } from './module.js';

export interface ConvLayerOptions extends ConvOptions {
  /** Learn a bias [out] (default true). */
  bias?: boolean;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

const list = (v: readonly number[]) => `[${v.join(', ')}]`;

/** What Conv1d and Conv2d share; `rank` is the number of spatial dims. */
abstract class ConvNd extends Module {
  /** [out, in/groups, ...kernelSize], initialised U(±1/√fanIn) as in PyTorch. */
  weight: Tensor;
  /** [out], or null with `bias: false`. */
  bias: Tensor | null;
  /** The kernel's size per spatial dim. */
  readonly kernelSize: number[];
  /** Step between windows, per spatial dim. */
  readonly stride: number[];
  /** As given: per dim, or 'same' / 'valid'. */
  readonly padding: number[] | 'same' | 'valid';
  /** Spacing between the kernel's taps, per spatial dim. */
  readonly dilation: number[];
  /** Channel groups (in and out channels are split into this many). */
  readonly groups: number;

  /**
   * @param inChannels Channels of the input.
   * @param outChannels Channels of the output.
   */
  protected constructor(private readonly rank: 1 | 2, readonly inChannels: number, readonly outChannels: number,
    kernelSize: number | readonly number[], options: ConvLayerOptions) {
    super();
    const api = `Conv${rank}d`;
    checkValue(api, 'inChannels', inChannels, integer({ ge: 1 }));
    checkValue(api, 'outChannels', outChannels, integer({ ge: 1 }));
    checkValue(api, 'kernelSize', kernelSize, integersPerDim(rank, 1));
    checkOptions(api, options, { ...convOptionChecks(rank), bias: boolean, generator: instanceOf(Generator) }, {
      ...CONV_UNSUPPORTED,
      device: 'parameters live on the current backend (see setBackend)',
      dtype: 'parameters are float32 on the backend they are made on',
    });
    const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
    for (const [name, channels] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (channels % groups !== 0) throw new Error(`${api}: ${name} ${channels} is not divisible by groups=${groups}`);
    }
    this.kernelSize = perDimValues(kernelSize, rank);
    convGeometry(api, this.kernelSize, options); // refuses 'same' with a stride, as PyTorch does
    this.stride = perDimValues(stride, rank);
    this.padding = typeof padding === 'string' ? padding : perDimValues(padding, rank);
    this.dilation = perDimValues(dilation, rank);
    this.groups = groups;

    const g = options.generator ?? globalGenerator;
    const weight = zeros([outChannels, inChannels / groups, ...this.kernelSize]);
    this.weight = parameter(kaimingUniform(weight, { a: Math.sqrt(5), generator: g }), 'weight');
    const bound = 1 / Math.sqrt(fans(weight.shape).fanIn);
    this.bias = options.bias === false ? null : parameter(uniform(zeros([outChannels]), -bound, bound, { generator: g }), 'bias');
  }

  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, groups } = this;
    return convolution(this.rank, x, this.weight, this.bias, { stride, padding, dilation, groups });
  }

  /** PyTorch's repr: the stride always, the rest when not the default. */
  protected override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=${list(this.kernelSize)}, stride=${list(this.stride)}`];
    if (typeof this.padding === 'string') parts.push(`padding='${this.padding}'`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${list(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${list(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** 1-D convolution over [batch, inChannels, length]; kernelSize is a number or [length]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-D convolution over [batch, inChannels, height, width]; kernelSize is a number or [height, width]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvLayerOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}
