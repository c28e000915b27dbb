// Dropout: in training, zeroes each element with probability p and scales the rest by 1/(1 − p) (inverted
// dropout, as PyTorch); the identity in eval mode. The mask comes from a seeded generator.
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { mul } from '../ops/mul.js';
import { checkOptions, checkValue, instanceOf, number } from '../options.js';
import { globalGenerator, Generator } from '../random.js';
import { Module } from './module.js';

export class Dropout extends Module {
  private readonly generator: Generator;

  constructor(readonly p = 0.5, options: { generator?: Generator } = {}) {
    super();
    checkValue('Dropout', 'p', p, number({ ge: 0, lt: 1 }));
    checkOptions('Dropout', options, { generator: instanceOf(Generator) }, { inplace: 'ops never overwrite their inputs' });
    this.generator = options.generator ?? globalGenerator;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const keepScale = 1 / (1 - this.p);
    // One 32-bit draw per element: kept when u ≥ p·2³² (probability 1 − p).
    const threshold = this.p * 4294967296;
    const u = this.generator.uint32s(x.size);
    const m = new Float32Array(x.size);
    for (let i = 0; i < m.length; i++) m[i] = u[i]! >= threshold ? keepScale : 0;
    const mask = fromValues(m, x.shape, { dtype: x.dtype, backend: x.backend });
    try {
      return mul(x, mask);
    } finally {
      mask.dispose();
    }
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
