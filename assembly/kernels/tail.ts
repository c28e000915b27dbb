// The last n mod 4 elements of a SIMD loop as a partial vector, so the tail is computed by the same v128 form as
// the rest: an element's value then never depends on its position (the relaxed build's fused forms differ from
// the scalar twins in the last bit). Lanes past k are zero on load and never stored; nothing past p + 4k is
// touched.

/** The k ∈ [1, 3] floats at p in lanes 0..k−1, zeros in the rest. */
// @ts-ignore: decorator
@inline export function loadTail(p: usize, k: i32): v128 {
  let v = v128.load32_zero(p);
  if (k > 1) v = v128.load32_lane(p, v, 1, 4);
  if (k > 2) v = v128.load32_lane(p, v, 2, 8);
  return v;
}

/** Stores lanes 0..k−1 (k ∈ [1, 3]) of v at p. */
// @ts-ignore: decorator
@inline export function storeTail(p: usize, v: v128, k: i32): void {
  v128.store32_lane(p, v, 0);
  if (k > 1) v128.store32_lane(p, v, 1, 4);
  if (k > 2) v128.store32_lane(p, v, 2, 8);
}
