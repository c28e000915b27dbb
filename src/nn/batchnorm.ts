// BatchNorm1d ([N,C] or [N,C,L]) and BatchNorm2d ([N,C,H,W]), PyTorch's modules over the batchNorm op: weight
// (ones) and bias (zeros) when affine; the buffers running_mean (zeros), running_var (ones) and num_batches_tracked
// (an int32 scalar) when trackRunningStats, under PyTorch's state-dict names. In training mode the batch's
// statistics normalise and the running ones move towards them by momentum, or towards their cumulative average
// when momentum is null (1/num_batches_tracked); in eval mode the running statistics normalise (the batch's
// when the module keeps none).
import { checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import { replayed } from '../compile/trace.js';
import { fromValues } from '../creation.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { batchNorm } from '../ops/batchNorm.js';
import { boolean, checkOptions, checkValue, integer, number, type Check } from '../options.js';
import { buffer, Module, parameter } from './module.js';

/** Options of BatchNorm1d and BatchNorm2d (PyTorch's names). */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** How far the running statistics move towards each batch's (default 0.1); null: their cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel weight and bias (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  trackRunningStats?: boolean;
}

const MOMENTUM = number({ ge: 0, le: 1 });
const MOMENTUM_OR_NULL: Check = { what: `${MOMENTUM.what} or null (a cumulative average)`, ok: (v) => v === null || MOMENTUM.ok(v) };

abstract class BatchNorm extends Module {
  /** Added to the variance. */
  readonly eps: number;
  /** How far the running statistics move towards each batch's; null: their cumulative average. */
  readonly momentum: number | null;
  /** Whether weight and bias are learnt. */
  readonly affine: boolean;
  /** Whether running statistics are kept (and used in eval mode). */
  readonly trackRunningStats: boolean;
  /** γ [C], ones at the start; null unless affine. */
  weight: Tensor | null;
  /** β [C], zeros at the start; null unless affine. */
  bias: Tensor | null;
  /** Running mean [C] (a buffer), or null without trackRunningStats. */
  running_mean: Tensor | null;
  /** Running unbiased variance [C] (a buffer), or null without trackRunningStats. */
  running_var: Tensor | null;
  /** Batches seen in training, an int32 scalar buffer (or null without trackRunningStats). */
  num_batches_tracked: Tensor | null;

  /** @param numFeatures C, the channels of the input. */
  constructor(readonly numFeatures: number, options: BatchNormOptions, api: string) {
    super();
    checkValue(api, 'numFeatures', numFeatures, integer({ ge: 1 }));
    checkOptions(api, options, { eps: number({ ge: 0 }), momentum: MOMENTUM_OR_NULL, affine: boolean, trackRunningStats: boolean }, {
      device: 'parameters and buffers live on the current backend (see setBackend)',
      dtype: 'parameters and buffers are float32 on the backend they are made on',
    });
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const filled = (value: number) => fromValues(new Float32Array(numFeatures).fill(value), [numFeatures]);
    this.weight = this.affine ? parameter(filled(1), 'weight') : null;
    this.bias = this.affine ? parameter(filled(0), 'bias') : null;
    const track = this.trackRunningStats;
    this.running_mean = track ? buffer(filled(0), 'running_mean') : null;
    this.running_var = track ? buffer(filled(1), 'running_var') : null;
    this.num_batches_tracked = track ? buffer(fromValues([0], [], { dtype: 'int32' }), 'num_batches_tracked') : null;
  }

  /** Throws unless x has the rank this layer takes. */
  protected abstract checkRank(x: Tensor): void;

  forward(x: Tensor): Tensor {
    checkTensor(this.constructor.name, 'input', x);
    this.checkRank(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.constructor.name}: expected ${this.numFeatures} channels (dim 1), got input ${fmt(x.shape)}`);
    }
    const counter = this.training ? this.num_batches_tracked : null;
    const batches = () => (counter ? counter.item() + 1 : 0);
    // A compiled step reads the counter again each call: it sets the cumulative average's momentum and the count.
    return replayed(() => this.normalize(x, counter, batches()), (calls) => {
      const n = batches();
      for (const c of calls) {
        if (c.method === 'batchNormStats') c.args[5] = this.momentumAt(n);
        if (c.method === 'fill' && c.args[0] === counter?.buf) c.args[1] = n;
      }
    });
  }

  private normalize(x: Tensor, counter: Tensor | null, batches: number): Tensor {
    const out = batchNorm(x, this.running_mean, this.running_var, {
      weight: this.weight, bias: this.bias, eps: this.eps,
      training: this.training || !this.running_mean, momentum: this.momentumAt(batches),
    });
    if (counter) K.fill(counter, batches); // only once the step has run: a refused batch counts for nothing
    return out;
  }

  /** How far the running statistics move at the `batches`-th batch: momentum, or 1/batches (a cumulative average). */
  private momentumAt(batches: number): number {
    return this.momentum ?? (batches ? 1 / batches : 0);
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, ` +
      `trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch normalisation of [N,C] or [N,C,L] inputs over N (and L). */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, 'BatchNorm1d');
  }

  protected checkRank(x: Tensor): void {
    if (x.rank !== 2 && x.rank !== 3) throw new Error(`BatchNorm1d: expected a 2-D [N,C] or 3-D [N,C,L] input, got ${fmt(x.shape)}`);
  }
}

/** Batch normalisation of [N,C,H,W] inputs over N, H and W. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options, 'BatchNorm2d');
  }

  protected checkRank(x: Tensor): void {
    if (x.rank !== 4) throw new Error(`BatchNorm2d: expected a 4-D [N,C,H,W] input, got ${fmt(x.shape)}`);
  }
}
