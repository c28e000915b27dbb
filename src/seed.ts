// The seed document's two examples, built with the library itself: the worked example ŷ = w·x + b (x = 2,
// y = 3, w = 0.5, b = 0.1, L = ½(ŷ − y)²) and the two-layer network z = W1·x, h = φ(z), o = W2·h,
// L = l(o, y), s = λ/2(‖W1‖² + ‖W2‖²), J = L + s. The CLI's `explain` and `graph` and the demo page show them.
import type { Tensor } from './autograd/tensor.js';
import { randn, tensor } from './creation.js';
import { crossEntropy } from './ops/crossEntropy.js';
import { gelu } from './ops/gelu.js';
import { l2Penalty } from './ops/l2Penalty.js';
import { matmul } from './ops/matmul.js';
import { mseLoss } from './ops/mseLoss.js';
import { checkOptions, integer, number, oneOf } from './options.js';
import { relu } from './ops/relu.js';
import { sigmoid } from './ops/sigmoid.js';
import { tanh } from './ops/tanh.js';

/** The seed's worked example ŷ = w·x + b with L = ½(ŷ − y)², as tensors named as in the seed. */
export interface SeedLinear {
  /** The weight (requires grad). */
  w: Tensor;
  /** The bias (requires grad). */
  b: Tensor;
  /** The input. */
  x: Tensor;
  /** The label. */
  y: Tensor;
  /** The prediction ŷ. */
  yhat: Tensor;
  /** The loss. */
  L: Tensor;
}

/** The worked example: forward pass only (call L.backward() or explain(L) next). */
export function seedLinear(values = { x: 2, y: 3, w: 0.5, b: 0.1 }): SeedLinear {
  checkOptions('seedLinear', values, { x: number(), y: number(), w: number(), b: number() });
  const w = tensor(values.w, { requiresGrad: true, name: 'w' });
  const b = tensor(values.b, { requiresGrad: true, name: 'b' });
  const x = tensor(values.x, { name: 'x' });
  const y = tensor(values.y, { name: 'y' });
  const yhat = w.mul(x).named('wx').add(b).named('ŷ');
  const L = mseLoss(yhat, y, { reduction: 'sum', scale: 0.5 }).named('L');
  return { w, b, x, y, yhat, L };
}

export const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = { relu, sigmoid, tanh, gelu };

/** Options of seedNetwork: the sizes, φ, the loss l and λ. */
export interface SeedNetworkOptions {
  /** Input size (default 3). */
  d?: number;
  /** Hidden size (default 4). */
  h?: number;
  /** Output size (default 2). */
  q?: number;
  /** φ: 'relu' (default), 'sigmoid', 'tanh' or 'gelu'. */
  activation?: keyof typeof ACTIVATIONS;
  /** l: ½‖o − y‖² ('mse', default) or cross-entropy against class 0. */
  loss?: 'mse' | 'crossEntropy';
  /** λ of the L2 term (default 0.1). */
  lambda?: number;
  /** Seed of the random x, W1, W2 and y (default 0). */
  seed?: number;
}

/** The seed's two-layer network z = W1·x, h = φ(z), o = W2·h, L = l(o, y), s = λ/2(‖W1‖² + ‖W2‖²), J = L + s. */
export interface SeedNetwork {
  /** Input [d]. */
  x: Tensor;
  /** Label: [q] for mse, an int32 class for crossEntropy. */
  y: Tensor;
  /** First-layer weights [h, d] (a parameter). */
  W1: Tensor;
  /** Second-layer weights [q, h] (a parameter). */
  W2: Tensor;
  /** W1·x. */
  z: Tensor;
  /** φ(z). */
  h: Tensor;
  /** W2·h. */
  o: Tensor;
  /** The data loss l(o, y). */
  L: Tensor;
  /** The L2 term. */
  s: Tensor;
  /** The objective L + s. */
  J: Tensor;
}

/** The seed's two-layer network with the L2 term, on random values (seeded). */
export function seedNetwork(options: SeedNetworkOptions = {}): SeedNetwork {
  checkOptions('seedNetwork', options, {
    d: integer({ ge: 1 }), h: integer({ ge: 1 }), q: integer({ ge: 1 }), activation: oneOf(...Object.keys(ACTIVATIONS)),
    loss: oneOf('mse', 'crossEntropy'), lambda: number({ ge: 0 }), seed: integer(),
  });
  const { d = 3, h: hidden = 4, q = 2, activation = 'relu', loss = 'mse', lambda = 0.1, seed = 0 } = options;
  const phi = ACTIVATIONS[activation]!;
  const x = randn([d], { seed, name: 'x' });
  const W1 = randn([hidden, d], { seed: seed + 1, std: 0.5, requiresGrad: true, name: 'W1' });
  const W2 = randn([q, hidden], { seed: seed + 2, std: 0.5, requiresGrad: true, name: 'W2' });
  const z = matmul(W1, x).named('z');
  const h = phi(z).named('h');
  const o = matmul(W2, h).named('o');
  let y: Tensor;
  let L: Tensor;
  if (loss === 'mse') {
    y = randn([q], { seed: seed + 3, name: 'y' });
    L = mseLoss(o, y, { reduction: 'sum', scale: 0.5 });
  } else {
    y = tensor([0], { dtype: 'int32', name: 'y' });
    L = crossEntropy(o.reshape([1, q]), y, { reduction: 'sum' });
  }
  L.named('L');
  const s = l2Penalty([W1, W2], lambda).named('s');
  const J = L.add(s).named('J');
  return { x, y, W1, W2, z, h, o, L, s, J };
}
