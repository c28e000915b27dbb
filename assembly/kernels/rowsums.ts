// Row sums in f64 whose bits are the same on every build (simd, relaxed, scalar), shared by layer norm and batch
// norm: the row runs in eight f32 lanes (lane l takes the elements j ≡ l mod 8) over blocks of at most BLOCK
// elements, the lanes folded as ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)) in two f64 halves added to an f64
// total, the last n mod 8 elements added to it one by one. The SIMD build runs the lanes in two f32x4 vectors, the
// scalar build in eight locals.

// @ts-ignore: decorator
@inline export const BLOCK = 1024;

/** Σ_j (p[j] − m)² over a contiguous row of n f32 (m = 0: Σ p[j]²), in the lane order of the header. */
export function rowSquares(p: usize, n: i32, m: f32): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    while (j + 8 <= n) {
      const end = min(n, j + BLOCK);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      for (; j + 8 <= end; j += 8) {
        const q = p + (<usize>j << 2);
        const d0 = f32x4.sub(v128.load(q), mv);
        const d1 = f32x4.sub(v128.load(q, 16), mv);
        s0 = f32x4.add(s0, f32x4.mul(d0, d0));
        s1 = f32x4.add(s1, f32x4.mul(d1, d1));
      }
      const s = f32x4.add(s0, s1);
      total += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
  } else {
    while (j + 8 <= n) {
      const end = min(n, j + BLOCK);
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0, a4: f32 = 0, a5: f32 = 0, a6: f32 = 0, a7: f32 = 0;
      for (; j + 8 <= end; j += 8) {
        const q = p + (<usize>j << 2);
        const d0 = load<f32>(q) - m, d1 = load<f32>(q, 4) - m, d2 = load<f32>(q, 8) - m, d3 = load<f32>(q, 12) - m;
        const d4 = load<f32>(q, 16) - m, d5 = load<f32>(q, 20) - m, d6 = load<f32>(q, 24) - m, d7 = load<f32>(q, 28) - m;
        a0 += d0 * d0; a1 += d1 * d1; a2 += d2 * d2; a3 += d3 * d3;
        a4 += d4 * d4; a5 += d5 * d5; a6 += d6 * d6; a7 += d7 * d7;
      }
      total += <f64>((a0 + a4) + (a1 + a5)) + <f64>((a2 + a6) + (a3 + a7));
    }
  }
  for (; j < n; j++) {
    const d = load<f32>(p + (<usize>j << 2)) - m;
    total += <f64>(d * d);
  }
  return total;
}

/** Σ_j p[j] over a contiguous row of n f32, in the lane order of the header. */
export function rowSum(p: usize, n: i32): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    while (j + 8 <= n) {
      const end = min(n, j + BLOCK);
      let s0 = f32x4.splat(0);
      let s1 = f32x4.splat(0);
      for (; j + 8 <= end; j += 8) {
        const q = p + (<usize>j << 2);
        s0 = f32x4.add(s0, v128.load(q));
        s1 = f32x4.add(s1, v128.load(q, 16));
      }
      const s = f32x4.add(s0, s1);
      total += <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
        + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
    }
  } else {
    while (j + 8 <= n) {
      const end = min(n, j + BLOCK);
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0, a4: f32 = 0, a5: f32 = 0, a6: f32 = 0, a7: f32 = 0;
      for (; j + 8 <= end; j += 8) {
        const q = p + (<usize>j << 2);
        a0 += load<f32>(q); a1 += load<f32>(q, 4); a2 += load<f32>(q, 8); a3 += load<f32>(q, 12);
        a4 += load<f32>(q, 16); a5 += load<f32>(q, 20); a6 += load<f32>(q, 24); a7 += load<f32>(q, 28);
      }
      total += <f64>((a0 + a4) + (a1 + a5)) + <f64>((a2 + a6) + (a3 + a7));
    }
  }
  for (; j < n; j++) total += <f64>load<f32>(p + (<usize>j << 2));
  return total;
}
