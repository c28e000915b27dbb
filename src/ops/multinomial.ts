// multinomial: draws category indices from the non-negative weights in each row of probs (PyTorch's
// torch.multinomial: [C] gives [numSamples], [B, C] gives [B, numSamples]; the weights need not sum to 1). The draws
// come from a Generator (the global one unless given), so a seed reproduces them on every backend. Without
// replacement (the default, as PyTorch) a category is drawn at most once per row, by PyTorch's method: the
// categories with the largest w / q, q ~ Exp(1) one per category, in that order (the same distribution as drawing
// one at a time in proportion to the weights left). With replacement each draw inverts the cumulative weights.
// A sampling helper, not a kernel: the weights are read into JavaScript and checked, the output is allocated, and
// only then is anything drawn, so a refused call leaves the generator where it was.
import { withOrigin } from '../autograd/census.js';
import { checkAlive, checkTensor, fromKernel } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { boolean, checkOptions, checkValue, describe, instanceOf, integer } from '../options.js';
import { Generator, globalGenerator } from '../random.js';

/** Draws written to the output this many at a time. */
const CHUNK = 1 << 16;

/** Options of multinomial. */
export interface MultinomialOptions {
  /** Draw with replacement (default false, as PyTorch). */
  replacement?: boolean;
  /** The generator to draw from (default: the global generator, seeded by manualSeed). */
  generator?: Generator;
}

/**
 * Draws numSamples category indices (int32) from the non-negative weights in each row of `probs` (PyTorch's
 * torch.multinomial): [C] gives [numSamples], [B, C] gives [B, numSamples]; the weights need not sum to 1. Rows are
 * checked before anything is drawn.
 */
export function multinomial(probs: Tensor, numSamples: number, options: MultinomialOptions = {}): Tensor {
  checkTensor('multinomial', 'probs', probs);
  checkValue('multinomial', 'numSamples', numSamples, integer({ ge: 1 }));
  checkOptions('multinomial', options, { replacement: boolean, generator: instanceOf(Generator) });
  checkAlive('multinomial', [probs]);
  const { replacement = false, generator = globalGenerator } = options;
  if (probs.rank !== 1 && probs.rank !== 2) {
    throw new Error(`multinomial: probs must be 1-D [categories] or 2-D [rows, categories], got ${fmt(probs.shape)}`);
  }
  if (probs.dtype === 'int32') {
    throw new Error('multinomial: probs must be float32 or float64, got int32 (x.float() casts it)');
  }
  const c = probs.shape[probs.rank - 1]!;
  const rows = probs.rank === 2 ? probs.shape[0]! : 1;
  if (c === 0) throw new Error(`multinomial: probs ${fmt(probs.shape)} has no categories`);
  if (!replacement && numSamples > c) {
    throw new Error(`multinomial: cannot draw ${numSamples} samples without replacement from ${c} categories ` +
      '(pass replacement: true)');
  }
  const values = probs.data();
  for (let r = 0; r < rows; r++) {
    checkRow(values.subarray(r * c, (r + 1) * c), r, probs.rank === 2, replacement ? 1 : numSamples);
  }
  const shape = probs.rank === 2 ? [rows, numSamples] : [numSamples];
  const out = K.freeOnError(() => {
    const drawn = K.empty(probs.backend, 'int32', shape); // before any draw: too large is an out-of-memory error
    for (let r = 0; r < rows; r++) {
      const weights = values.subarray(r * c, (r + 1) * c);
      const write = (draws: Int32Array, at: number) => probs.backend.write(drawn.buf, draws, r * numSamples + at);
      // one sample is a draw without replacement (PyTorch's fast path too)
      if (replacement && numSamples > 1) drawWithReplacement(weights, numSamples, generator, write);
      else write(drawWithoutReplacement(weights, numSamples, generator), 0);
    }
    return drawn;
  });
  return withOrigin('multinomial', () => fromKernel(out));
}

/** Throws unless a row of weights is finite, non-negative and has at least `needed` positive entries. */
function checkRow(w: ArrayLike<number>, r: number, named: boolean, needed: number): void {
  const where = named ? ` in row ${r}` : '';
  let positive = 0;
  for (let j = 0; j < w.length; j++) {
    const v = w[j]!;
    if (!(v >= 0 && v < Infinity)) {
      throw new Error(`multinomial: probabilities must be finite and ≥ 0, got ${describe(v)} at category ${j}${where}`);
    }
    if (v > 0) positive++;
  }
  if (positive === 0) throw new Error(`multinomial: the probabilities${where} sum to 0; at least one must be positive`);
  if (positive < needed) {
    throw new Error(`multinomial: cannot draw ${needed} samples without replacement: only ${positive} categories${where} ` +
      'have a probability above 0');
  }
}

/** numSamples indices, each drawn with probability weight / Σ weights (the inverse of the cumulative weights). */
function drawWithReplacement(weights: ArrayLike<number>, numSamples: number, generator: Generator,
  write: (draws: Int32Array, at: number) => void): void {
  const cdf = new Float64Array(weights.length);
  let total = 0;
  let last = 0; // the last category with weight: where a uniform rounded up to the total lands
  for (let j = 0; j < weights.length; j++) {
    cdf[j] = total += weights[j]!;
    if (weights[j]! > 0) last = j;
  }
  const draws = new Int32Array(Math.min(numSamples, CHUNK));
  for (let at = 0; at < numSamples; at += CHUNK) {
    const chunk = at + CHUNK <= numSamples ? draws : draws.subarray(0, numSamples - at);
    for (let s = 0; s < chunk.length; s++) {
      const u = generator.next() * total;
      // the first j with cdf[j] > u (never a category of weight 0: its cdf equals the one before)
      let lo = 0, hi = last;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      chunk[s] = lo;
    }
    write(chunk, at);
  }
}

/**
 * numSamples distinct indices: the largest keys w / q, q ~ Exp(1) drawn per category (−log(1 − u)), largest first;
 * categories of weight 0 are never drawn (enough others have weight, as checked).
 */
function drawWithoutReplacement(weights: ArrayLike<number>, numSamples: number, generator: Generator): Int32Array {
  const keys = Float64Array.from(weights, (w) => {
    const q = -Math.log(1 - generator.next());
    return w > 0 ? w / q : -1;
  });
  const order = Array.from(keys.keys()).sort((a, b) => keys[b]! - keys[a]! || a - b);
  return Int32Array.from(order.slice(0, numSamples));
}
