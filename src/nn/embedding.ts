// Embedding: PyTorch's nn.Embedding, a lookup table of numEmbeddings vectors of size embeddingDim. The weight
// [numEmbeddings, embeddingDim] is drawn from N(0, 1) as in PyTorch, and the row paddingIdx (if given) starts at
// zero and gets no gradient, so it stays what it is (a padding token's vector).
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { embedding } from '../ops/embedding.js';
import { checkOptions, checkValue, instanceOf, integer, type Check } from '../options.js';
import { globalGenerator, Generator } from '../random.js';
import { Module, parameter } from './module.js';

/** Options of Embedding. */
export interface EmbeddingOptions {
  /** A row that starts at zero and gets no gradient (negative counts from the end); default none. */
  paddingIdx?: number | null;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

/**
 * A lookup table of numEmbeddings vectors of size embeddingDim (PyTorch's nn.Embedding): int32 indices of any shape
 * give [...indices.shape, embeddingDim]. The weight starts N(0, 1); the paddingIdx row starts at zero and is never
 * trained.
 */
export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim]. */
  weight: Tensor;
  /** The padding row, counted from the start (PyTorch stores a negative paddingIdx so too), or null. */
  readonly paddingIdx: number | null;

  /**
   * @param numEmbeddings Rows of the table (the vocabulary size).
   * @param embeddingDim Size of each vector.
   */
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkValue('Embedding', 'numEmbeddings', numEmbeddings, integer({ ge: 1 }));
    checkValue('Embedding', 'embeddingDim', embeddingDim, integer({ ge: 1 }));
    const padding: Check = {
      what: `an integer in [${-numEmbeddings}, ${numEmbeddings}) or null`,
      ok: (v) => v === null || integer({ ge: -numEmbeddings, lt: numEmbeddings }).ok(v),
    };
    checkOptions('Embedding', options, { paddingIdx: padding, generator: instanceOf(Generator) }, {
      maxNorm: 'rows are never renormalised; clip the weight yourself',
      normType: 'rows are never renormalised',
      scaleGradByFreq: 'gradients are not scaled by how often an index occurs',
      sparse: 'the weight gradient is always dense',
      device: 'parameters live on the current backend (see setBackend)',
      dtype: 'parameters are float32 on the backend they are made on',
    });
    const given = options.paddingIdx ?? null;
    this.paddingIdx = given !== null && given < 0 ? given + numEmbeddings : given;
    const values = (options.generator ?? globalGenerator).normal(numEmbeddings * embeddingDim);
    if (this.paddingIdx !== null) values.fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
    this.weight = parameter(fromValues(values, [numEmbeddings, embeddingDim]), 'weight');
  }

  /** int32 indices of any shape → [...indices.shape, embeddingDim]. */
  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight, { paddingIdx: this.paddingIdx });
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`}`;
  }
}
