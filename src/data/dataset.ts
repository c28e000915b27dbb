// Datasets and batching. A TensorDataset keeps its features and targets as tensors on the backend (for the wasm
// backend: in linear memory, uploaded once); a DataLoader picks each batch with the gather kernel, so a training
// step moves only the batch's indices from JavaScript, never the data.
import { checkTensor } from '../autograd/op.js';
import { noGrad } from '../autograd/scope.js';
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { fmt } from '../kernels/shape.js';
import { gather } from '../ops/gather.js';
import { boolean, checkOptions, describe, instanceOf, integer } from '../options.js';
import { Generator } from '../random.js';

/**
 * Features and targets kept as tensors on the backend (PyTorch's TensorDataset); a DataLoader gathers batches of its
 * rows there.
 */
export class TensorDataset {
  /** Number of rows (features.shape[0]). */
  readonly length: number;

  /**
   * @param features [n, ...]
   * @param targets [n] int32 class indices, or [n, ...] float regression targets.
   */
  constructor(readonly features: Tensor, readonly targets: Tensor) {
    checkTensor('TensorDataset', 'features', features);
    checkTensor('TensorDataset', 'targets', targets);
    if (features.rank === 0 || targets.rank === 0 || features.shape[0] !== targets.shape[0]) {
      throw new Error(`TensorDataset: features ${fmt(features.shape)} and targets ${fmt(targets.shape)} need the same first dimension`);
    }
    this.length = features.shape[0]!;
  }

  /** The rows at `indices`, as new tensors. */
  take(indices: Int32Array): {
    /** The features' rows. */
    x: Tensor;
    /** The targets' rows. */
    y: Tensor;
  } {
    const idx = fromValues(indices, [indices.length], { dtype: 'int32', backend: this.features.backend });
    try {
      return noGrad(() => ({ x: gather(this.features, idx), y: gather(this.targets, idx) }));
    } finally {
      idx.dispose();
    }
  }

  /** Frees the features and targets. */
  dispose(): void {
    this.features.dispose();
    this.targets.dispose();
  }
}

/** Options of DataLoader (PyTorch's names, in camelCase). */
export interface DataLoaderOptions {
  /** Rows per batch (default 32). */
  batchSize?: number;
  /** Reshuffle at the start of every pass (seeded by `generator`, or `seed`). */
  shuffle?: boolean;
  /** Skip the last batch if it is smaller than batchSize. */
  dropLast?: boolean;
  /** The generator that shuffles (default: a new one of this loader's, seeded by `seed`). */
  generator?: Generator;
  /** Seed of the loader's own generator (default 0), when no `generator` is given. */
  seed?: number;
}

const NO_WORKERS = 'batches are gathered on the backend in the calling thread';
const NOT_IN_DATALOADER = {
  numWorkers: NO_WORKERS, prefetchFactor: NO_WORKERS, persistentWorkers: NO_WORKERS, workerInitFn: NO_WORKERS, timeout: NO_WORKERS,
  pinMemory: 'tensors already live in backend memory',
  sampler: 'use shuffle (and seed or generator) for the order',
  batchSampler: 'use batchSize, shuffle and dropLast',
  collateFn: 'batches are gathered rows of the TensorDataset; transform them in the training loop',
};

/**
 * Batches of a TensorDataset (PyTorch's DataLoader): `for (const { x, y } of loader)` is one pass; the rows are
 * gathered on the backend, so only their indices move from JavaScript.
 */
export class DataLoader {
  /** Rows per batch. */
  readonly batchSize: number;
  /** Whether every pass reshuffles. */
  readonly shuffle: boolean;
  /** Whether a last batch smaller than batchSize is skipped. */
  readonly dropLast: boolean;
  /** The generator that shuffles. */
  readonly generator: Generator;

  /** @param dataset The rows to batch. */
  constructor(readonly dataset: TensorDataset, options: DataLoaderOptions = {}) {
    if (!(dataset instanceof TensorDataset)) {
      throw new Error(`DataLoader: dataset must be a TensorDataset (new TensorDataset(features, targets)), got ${describe(dataset)}`);
    }
    checkOptions('DataLoader', options, {
      batchSize: integer({ ge: 1 }), shuffle: boolean, dropLast: boolean, generator: instanceOf(Generator), seed: integer(),
    }, NOT_IN_DATALOADER);
    this.batchSize = options.batchSize ?? 32;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = options.generator ?? new Generator(options.seed ?? 0);
  }

  /** Batches per pass. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The index order of one pass (advances the generator when shuffling). */
  order(): Int32Array {
    const n = this.dataset.length;
    return this.shuffle ? this.generator.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  }

  /**
   * One pass over the data. A batch's tensors live until the next batch is requested or the loop ends (they
   * are disposed then, unless already disposed or kept with keep()/clone()).
   */
  *[Symbol.iterator](): IterableIterator<{
    /** The batch's features. */
    x: Tensor;
    /** The batch's targets. */
    y: Tensor;
    /** The dataset rows in the batch. */
    indices: Int32Array;
  }> {
    const order = this.order();
    let current: { x: Tensor; y: Tensor } | null = null;
    const release = () => {
      for (const t of current ? [current.x, current.y] : []) if (!t.isDisposed && !t.isKept) t.dispose();
    };
    try {
      for (let b = 0; b < this.length; b++) {
        const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
        release();
        current = this.dataset.take(indices);
        yield { ...current, indices };
      }
    } finally {
      release();
    }
  }
}
