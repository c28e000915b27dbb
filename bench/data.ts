// Seeded inputs shared by every contender, and the checks that compare their outputs before anything is timed.
// The generator is a small xorshift-multiply stream (independent of wasmgrad's own), so the inputs do not depend
// on the code under test.

export function stream(seed: number): () => number {
  let s = (seed * 0x9e3779b9 + 0x6d2b79f5) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(n: number, seed: number, std = 1): Float32Array {
  const u = stream(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u())) * std;
    const a = 2 * Math.PI * u();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const u = stream(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

export function labels(n: number, classes: number, seed: number): Int32Array {
  const u = stream(seed);
  return Int32Array.from({ length: n }, () => Math.floor(u() * classes));
}

export function oneHot(y: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(y.length * classes);
  y.forEach((c, i) => (out[i * classes + c] = 1));
  return out;
}

/** out[j·rows + i] = a[i·cols + j]: the layout change between wasmgrad's [out, in] weights and tfjs's [in, out]. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return out;
}

export class MismatchError extends Error {
  override name = 'MismatchError';
}

/**
 * Throws a MismatchError naming the first element where |got − want| > atol + rtol·|want| (or the per-element
 * tolerance `tol(i)` when given). `index` maps a position of `got` to the index reported (sampled checks).
 */
export function assertClose(
  what: string, got: ArrayLike<number>, want: ArrayLike<number>,
  tol: { atol?: number; rtol?: number; at?: (i: number) => number } = {},
): void {
  if (got.length !== want.length) throw new MismatchError(`${what}: ${got.length} values, expected ${want.length}`);
  const { atol = 0, rtol = 0, at } = tol;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const limit = at ? at(i) : atol + rtol * Math.abs(w);
    if (!(Math.abs(g - w) <= limit)) {
      throw new MismatchError(`${what}: element ${i} is ${g}, expected ${w} (|difference| ${Math.abs(g - w).toExponential(2)} ` +
        `> tolerance ${limit.toExponential(2)})`);
    }
  }
}
