// Linear: y = x·Wᵀ + b with weight [out, in] and bias [out], initialised as PyTorch does (kaiming uniform
// with a = √5, i.e. U(−1/√in, 1/√in), for both).
import { fromValues } from '../creation.js';
import type { Tensor } from '../autograd/tensor.js';
import { linear } from '../ops/linear.js';
import { boolean, checkOptions, checkValue, instanceOf, integer } from '../options.js';
import { globalGenerator, Generator } from '../random.js';
import { Module, parameter } from './module.js';

/** Options of Linear. */
export interface LinearOptions {
  /** Learn a bias (default true). */
  bias?: boolean;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

/**
 * y = x·Wᵀ + b (PyTorch's nn.Linear): x [..., inFeatures] gives [..., outFeatures]. Weight and bias start
 * U(−1/√inFeatures, 1/√inFeatures), as in PyTorch.
 */
export class Linear extends Module {
  /** W, [outFeatures, inFeatures]. */
  weight: Tensor;
  /** b, [outFeatures], or null with `bias: false`. */
  bias: Tensor | null;

  /**
   * @param inFeatures Size of each input row.
   * @param outFeatures Size of each output row.
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    checkValue('Linear', 'inFeatures', inFeatures, integer({ ge: 1 }));
    checkValue('Linear', 'outFeatures', outFeatures, integer({ ge: 1 }));
    checkOptions('Linear', options, { bias: boolean, generator: instanceOf(Generator) }, {
      device: 'parameters live on the current backend (see setBackend)',
      dtype: 'parameters are float32 on the backend they are made on',
    });
    const g = options.generator ?? globalGenerator;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = parameter(fromValues(g.uniform(outFeatures * inFeatures, -bound, bound), [outFeatures, inFeatures]), 'weight');
    this.bias = options.bias === false ? null : parameter(fromValues(g.uniform(outFeatures, -bound, bound), [outFeatures]), 'bias');
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
