// Data movement (32-bit words: f32 and i32 alike, moved with integer / v128 loads and stores, never arithmetic)
// and the BLAS-1 helpers fill, scale, axpy, plus gather / scatter-add along the middle axis of [outer, r, inner].

/** Copies n contiguous 32-bit words from src to dst (the ranges do not overlap). */
// @ts-ignore: decorator
@inline function copyWords(src: usize, dst: usize, n: i32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 16 <= n; k += 16) {
      const o = <usize>k << 2;
      const v0 = v128.load(src + o);
      const v1 = v128.load(src + o, 16);
      const v2 = v128.load(src + o, 32);
      const v3 = v128.load(src + o, 48);
      v128.store(dst + o, v0);
      v128.store(dst + o, v1, 16);
      v128.store(dst + o, v2, 32);
      v128.store(dst + o, v3, 48);
    }
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      v128.store(dst + o, v128.load(src + o));
    }
  } else {
    for (; k + 2 <= n; k += 2) {
      const o = <usize>k << 2;
      store<u64>(dst + o, load<u64>(src + o));
    }
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<u32>(dst + o, load<u32>(src + o));
  }
}

/** Writes the 32-bit word w to n contiguous words at dst. */
// @ts-ignore: decorator
@inline function fillWords(dst: usize, n: i32, w: u32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const v = i32x4.splat(w);
    for (; k + 16 <= n; k += 16) {
      const o = dst + (<usize>k << 2);
      v128.store(o, v);
      v128.store(o, v, 16);
      v128.store(o, v, 32);
      v128.store(o, v, 48);
    }
    for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v);
  } else {
    const w2 = (<u64>w << 32) | <u64>w;
    for (; k + 2 <= n; k += 2) store<u64>(dst + (<usize>k << 2), w2);
  }
  for (; k < n; k++) store<u32>(dst + (<usize>k << 2), w);
}

/**
 * The plane out[i2·o2 + i3] = x[i2 + i3·x3] (x contiguous along dim 2, out contiguous along dim 3: a transpose of
 * the two inner dims) in 4×4 tiles: four v128 loads along x's rows, an in-register 4×4 transpose, four v128
 * stores along out's rows. Returns how many rows of dim 2 it covered (n2 rounded down to a multiple of 4); columns
 * past the last multiple of 4 of n3 are copied here too, one word at a time.
 */
function transposeTiles(x: usize, out: usize, n2: i32, n3: i32, x3: i32, o2: i32): i32 {
  const xStep = <usize>x3 << 2;
  const oStep = <usize>o2 << 2;
  const n2v = n2 & ~3;
  const n3v = n3 & ~3;
  // 16×16 blocks of 4×4 tiles: each 64-byte line of x and of out is used whole while it is in L1 (power-of-two
  // strides would otherwise evict it between tiles).
  for (let b2 = 0; b2 < n2v; b2 += 16) {
    const e2 = min(b2 + 16, n2v);
    for (let b3 = 0; b3 < n3v; b3 += 16) {
      const e3 = min(b3 + 16, n3v);
      for (let i2 = b2; i2 < e2; i2 += 4) {
        const xr = x + (<usize>i2 << 2);
        const orow = out + <usize>i2 * oStep;
        for (let i3 = b3; i3 < e3; i3 += 4) {
          const q = xr + <usize>i3 * xStep;
          const v0 = v128.load(q); // X(i2..i2+3, i3)
          const v1 = v128.load(q + xStep);
          const v2 = v128.load(q + 2 * xStep);
          const v3 = v128.load(q + 3 * xStep);
          const t0 = v128.shuffle<i32>(v0, v1, 0, 4, 1, 5);
          const t1 = v128.shuffle<i32>(v0, v1, 2, 6, 3, 7);
          const t2 = v128.shuffle<i32>(v2, v3, 0, 4, 1, 5);
          const t3 = v128.shuffle<i32>(v2, v3, 2, 6, 3, 7);
          const o = orow + (<usize>i3 << 2);
          v128.store(o, v128.shuffle<i64>(t0, t2, 0, 2)); // out row i2: X(i2, i3..i3+3)
          v128.store(o + oStep, v128.shuffle<i64>(t0, t2, 1, 3));
          v128.store(o + 2 * oStep, v128.shuffle<i64>(t1, t3, 0, 2));
          v128.store(o + 3 * oStep, v128.shuffle<i64>(t1, t3, 1, 3));
        }
      }
    }
    for (let i2 = b2; i2 < e2; i2 += 4) { // columns past the last multiple of 4
      const xr = x + (<usize>i2 << 2);
      const orow = out + <usize>i2 * oStep;
      for (let i3 = n3v; i3 < n3; i3++) {
        const q = xr + <usize>i3 * xStep;
        const o = orow + (<usize>i3 << 2);
        store<u32>(o, load<u32>(q));
        store<u32>(o + oStep, load<u32>(q, 4));
        store<u32>(o + 2 * oStep, load<u32>(q, 8));
        store<u32>(o + 3 * oStep, load<u32>(q, 12));
      }
    }
  }
  return n2v;
}

/**
 * out[Σ i_d·o_d] = x[Σ i_d·x_d] for every index of [n0,n1,n2,n3] (32-bit words; strides in elements, may be 0 or
 * negative; offsets already applied to x and out). Fast rows for x3 = o3 = 1 (contiguous) and x3 = 0, o3 = 1
 * (broadcast), 4×4 SIMD tiles when the two inner dims are transposed (x2 = 1, o3 = 1), one word at a time otherwise.
 */
export function copy_strided_32(x: usize, out: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  x0: i32, x1: i32, x2: i32, x3: i32, o0: i32, o1: i32, o2: i32, o3: i32): void {
  const dx = <usize>(<isize>x3 << 2); // negative strides wrap: usize arithmetic is modular
  const dout = <usize>(<isize>o3 << 2);
  const tiles = ASC_FEATURE_SIMD && o3 == 1 && x2 == 1 && x3 >= 4 && n2 >= 4 && n3 >= 4;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      const px1 = x + (<usize>(i0 * x0 + i1 * x1) << 2);
      const po1 = out + (<usize>(i0 * o0 + i1 * o1) << 2);
      let i2 = 0;
      if (ASC_FEATURE_SIMD && tiles) i2 = transposeTiles(px1, po1, n2, n3, x3, o2);
      for (; i2 < n2; i2++) {
        let px = px1 + (<usize>(i2 * x2) << 2);
        let po = po1 + (<usize>(i2 * o2) << 2);
        if (o3 == 1 && x3 == 1) {
          if (n3 >= 512) memory.copy(po, px, <usize>n3 << 2);
          else copyWords(px, po, n3);
        } else if (o3 == 1 && x3 == 0) {
          fillWords(po, n3, load<u32>(px));
        } else {
          for (let k = 0; k < n3; k++) {
            store<u32>(po, load<u32>(px));
            px += dx;
            po += dout;
          }
        }
      }
    }
  }
}

/** out[i] = value for i < n (f32). */
export function fill_f32(out: usize, n: i32, value: f64): void {
  fillWords(out, n, reinterpret<u32>(<f32>value));
}

/** out[i] = value for i < n (i32). */
export function fill_i32(out: usize, n: i32, value: i32): void {
  fillWords(out, n, <u32>value);
}

/** out[i] = alpha·x[i] for i < n (f32; out may alias x). */
export function scale_f32(x: usize, out: usize, n: i32, alpha: f64): void {
  const a = <f32>alpha;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const v0 = v128.load(x + o);
      const v1 = v128.load(x + o, 16);
      v128.store(out + o, f32x4.mul(v0, av));
      v128.store(out + o, f32x4.mul(v1, av), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(x + o), av));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) * a);
  }
}

/** y[i] += alpha·x[i] for i < n (f32). */
export function axpy_f32(alpha: f64, x: usize, y: usize, n: i32): void {
  const a = <f32>alpha;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const y0 = f32x4.add(v128.load(y + o), f32x4.mul(v128.load(x + o), av));
      const y1 = f32x4.add(v128.load(y + o, 16), f32x4.mul(v128.load(x + o, 16), av));
      v128.store(y + o, y0);
      v128.store(y + o, y1, 16);
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(v128.load(x + o), av)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + load<f32>(x + o) * a);
  }
}

/** out[o,j,i] = x[o, idx[j], i] for x [outer, r, inner], idx i32 [nIdx] (0 ≤ idx < r), out [outer, nIdx, inner] (words). */
export function gather_32(x: usize, idx: usize, out: usize, outer: i32, r: i32, inner: i32, nIdx: i32): void {
  const row = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>r * row;
    for (let j = 0; j < nIdx; j++) {
      const src = base + <usize>load<i32>(idx + (<usize>j << 2)) * row;
      if (inner == 1) store<u32>(out, load<u32>(src));
      else copyWords(src, out, inner);
      out += row;
    }
  }
}

/**
 * dx[o, idx[j], i] += dy[o,j,i] for dy [outer, nIdx, inner], idx i32 [nIdx] (0 ≤ idx < r; repeats accumulate in
 * order of j), dx [outer, r, inner] (f32).
 */
export function scatter_add_f32(dy: usize, idx: usize, dx: usize, outer: i32, r: i32, inner: i32, nIdx: i32): void {
  const row = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = dx + <usize>o * <usize>r * row;
    for (let j = 0; j < nIdx; j++) {
      const dst = base + <usize>load<i32>(idx + (<usize>j << 2)) * row;
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        for (; i + 4 <= inner; i += 4) {
          const q = <usize>i << 2;
          v128.store(dst + q, f32x4.add(v128.load(dst + q), v128.load(dy + q)));
        }
      }
      for (; i < inner; i++) {
        const q = <usize>i << 2;
        store<f32>(dst + q, load<f32>(dst + q) + load<f32>(dy + q));
      }
      dy += row;
    }
  }
}
