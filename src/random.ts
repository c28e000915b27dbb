// Seeded random numbers that are the same on every backend and in every JavaScript engine: a 32-bit
// xoshiro128** generator (integer arithmetic only) for uniforms, Box–Muller for normals. The global generator's
// state can be saved and restored (checkpoints resume the exact random stream).
import { tracing } from './compile/trace.js';
import { describe } from './options.js';
import { staged, type Staged } from './staging.js';

/** A generator's state: four unsigned 32-bit integers, not all 0. */
export type RngState = [number, number, number, number];

/**
 * A seeded random stream that is the same on every backend and engine (xoshiro128**; normals by Box–Muller),
 * PyTorch's torch.Generator. `new Generator(seed)`.
 */
export class Generator {
  private s: Uint32Array;

  constructor(seed = 0) {
    this.s = new Uint32Array(4);
    this.seed(seed);
  }

  /** Resets the stream; the state is expanded from the seed with splitmix32, so nearby seeds diverge at once. */
  seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** The next 32-bit unsigned integer of the stream. */
  nextUint32(): number {
    tracing.active?.draw();
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** n raw 32-bit draws — the same values as n calls of nextUint32(), in a loop on local variables (fast). */
  uint32s(n: number): Uint32Array {
    tracing.active?.draw();
    const out = new Uint32Array(n);
    let [s0, s1, s2, s3] = this.s as unknown as [number, number, number, number];
    for (let i = 0; i < n; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 = (s2 ^ s0) >>> 0;
      s3 = (s3 ^ s1) >>> 0;
      s1 = (s1 ^ s2) >>> 0;
      s0 = (s0 ^ s3) >>> 0;
      s2 = (s2 ^ t) >>> 0;
      s3 = rotl(s3, 11);
    }
    this.s.set([s0, s1, s2, s3]);
    return out;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** n uniforms in [lo, hi). */
  uniform(n: number, lo = 0, hi = 1): Float64Array {
    return this.fillUniform(new Float64Array(n), lo, hi);
  }

  /** Fills out with uniforms in [lo, hi): the next out.length values of the stream uniform() draws from. */
  fillUniform(out: Float64Array, lo = 0, hi = 1): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  /** n normals N(mean, std²) by Box–Muller, two per pair of uniforms. */
  normal(n: number, mean = 0, std = 1): Float64Array {
    return this.fillNormal(new Float64Array(n), mean, std);
  }

  /**
   * Fills out with normals N(mean, std²), two per pair of uniforms (an odd length drops the last pair's second).
   * Filling even-length arrays one after another gives the same values as one normal() call of their total length.
   */
  fillNormal(out: Float64Array, mean = 0, std = 1): Float64Array {
    const n = out.length;
    for (let i = 0; i < n; i += 2) {
      const u1 = 1 - this.next(); // (0, 1]: log never sees 0
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }

  /** A random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  /** The four 32-bit words of the state (save them to resume the stream with setState). */
  getState(): RngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  /**
   * Restores a state from getState(); throws, changing nothing, when it is not four 32-bit words that are not all
   * zero.
   */
  setState(state: readonly number[]): void {
    this.stageState(state).commit();
  }

  /** setState's validation and staging (see Staged): a checkpoint restores generators with its other objects. */
  stageState(state: unknown): Staged {
    const next = checkRngState(state, 'setState');
    return staged(() => this.s.set(next));
  }
}

/** `state` as a generator state (4 unsigned 32-bit integers, not all zero), or an error starting with `what`. */
export function checkRngState(state: unknown, what: string): Uint32Array {
  const valid = (Array.isArray(state) || state instanceof Uint32Array) && state.length === 4 &&
    Array.prototype.every.call(state, (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff);
  if (!valid) throw new Error(`${what}: expected 4 unsigned 32-bit integers, got ${describe(state)}`);
  const next = Uint32Array.from(state as ArrayLike<number>);
  // xoshiro's one forbidden state: it would draw zeros forever (seed() never produces it).
  if (next.every((v) => v === 0)) throw new Error(`${what}: the state [0,0,0,0] is invalid (the generator would only draw zeros)`);
  return next;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** The generator behind randn/rand/init/dropout/shuffling when no seed or generator is given. */
export const globalGenerator = new Generator(0);

/** Seeds the global generator, like torch.manual_seed. */
export function manualSeed(seed: number): void {
  globalGenerator.seed(seed);
}
