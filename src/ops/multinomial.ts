// multinomial: draws category indices from the non-negative weights in each row of probs (PyTorch's
// torch.multinomial: [C] gives [numSamples], [B, C] gives [B, numSamples]; the weights need not sum to 1). Without
// replacement (the default, as PyTorch) a category is drawn at most once per row. The draws come from a Generator
// (the global one unless given), so a seed reproduces them on every backend. A sampling helper, not a kernel: the
// weights are read into JavaScript, checked, and the indices written back as an int32 tensor. Nothing is drawn
// before every row has been checked, so a refused call leaves the generator where it was.
import { checkAlive, checkTensor } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import { fmt } from '../kernels/shape.js';
import { boolean, checkOptions, checkValue, describe, instanceOf, integer } from '../options.js';
import { Generator, globalGenerator } from '../random.js';

export interface MultinomialOptions {
  /** Draw with replacement (default false, as PyTorch). */
  replacement?: boolean;
  /** The generator to draw from (default: the global generator, seeded by manualSeed). */
  generator?: Generator;
}

export function multinomial(probs: Tensor, numSamples: number, options: MultinomialOptions = {}): Tensor {
  checkTensor('multinomial', 'probs', probs);
  checkValue('multinomial', 'numSamples', numSamples, integer({ ge: 1 }));
  checkOptions('multinomial', options, { replacement: boolean, generator: instanceOf(Generator) });
  checkAlive('multinomial', [probs]);
  const { replacement = false, generator = globalGenerator } = options;
  if (probs.rank !== 1 && probs.rank !== 2) {
    throw new Error(`multinomial: probs must be 1-D [categories] or 2-D [rows, categories], got ${fmt(probs.shape)}`);
  }
  if (probs.dtype === 'int32') throw new Error('multinomial: probs must be float32 or float64, got int32 (x.float() casts it)');
  const c = probs.shape[probs.rank - 1]!;
  const rows = probs.rank === 2 ? probs.shape[0]! : 1;
  if (c === 0) throw new Error(`multinomial: probs ${fmt(probs.shape)} has no categories`);
  if (!replacement && numSamples > c) {
    throw new Error(`multinomial: cannot draw ${numSamples} samples without replacement from ${c} categories ` +
      '(pass replacement: true)');
  }
  const values = probs.data();
  for (let r = 0; r < rows; r++) checkRow(values.subarray(r * c, (r + 1) * c), r, probs.rank === 2, replacement ? 1 : numSamples);
  const out = new Int32Array(rows * numSamples);
  for (let r = 0; r < rows; r++) {
    const weights = Float64Array.from(values.subarray(r * c, (r + 1) * c));
    for (let s = 0; s < numSamples; s++) {
      const k = draw(weights, generator);
      out[r * numSamples + s] = k;
      if (!replacement) weights[k] = 0;
    }
  }
  return fromValues(out, probs.rank === 2 ? [rows, numSamples] : [numSamples], { dtype: 'int32', backend: probs.backend });
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

/** One index drawn with probability weight / Σ weights (some weight is positive). */
function draw(weights: Float64Array, generator: Generator): number {
  let total = 0;
  for (const v of weights) total += v;
  const u = generator.next() * total;
  let acc = 0;
  let last = 0;
  for (let j = 0; j < weights.length; j++) {
    if (weights[j]! === 0) continue;
    acc += weights[j]!;
    last = j;
    if (u < acc) return j;
  }
  return last; // u rounded up to the total: the last category with a positive weight
}
