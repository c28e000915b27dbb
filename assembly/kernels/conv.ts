// 2-D convolution in PyTorch's layouts (conv1d is the case H = KH = 1): x [N, C, H, W], weight
// [O, C/groups, KH, KW], out [N, O, OH, OW]; float32. Each kernel lowers the convolution to products on the matmul
// path (matmul_f32: the same packing and micro-kernels, so its speed follows matmul's) over im2col scratch
//   col[q][r·OW + ow] = x[n, g·Cg + c, r·sH − padH + i·dH, ow·sW − padW + j·dW]   (0 outside the image)
// for q = (c·KH + i)·KW + j < K = Cg·KH·KW, per batch item n and group g (Cg = C/groups, Og = O/groups):
//   forward          out[n, g] (Og × OH·OW) = W[g] (Og × K) · col (K × OH·OW), + bias per row
//   input gradient   dcol (K × OH·OW)       = W[g]ᵀ · dy[n, g], then dx[n, g] += col2im(dcol)
//   weight gradient  dW[g] (Og × K)         = Σn dy[n, g] · colᵀ, each item's product added in batch order
// Padding before the image (padH, padW) is given; padding after it is implied by OH and OW, so asymmetric
// padding ('same' with an even kernel) needs nothing special. Everything is in elements but pointers (bytes).
//
// Scratch (ws, from conv2d_ws_bytes): the im2col block, a staging block, the weight gradient's per-item product
// and matmul's own scratch; the caller keeps it from call to call. The im2col block covers a chunk of output rows
// chosen so that it stays under COL_FLOATS (at least one row); when a chunk is not all of OH·OW, the rows of out /
// dy it maps to are not contiguous, so the product goes through the staging block. Chunks depend on the shape
// alone, never on the range a call is given.
//
// Threads: a call can be split into shares that give the same bits as one call.
//   conv2d_f32, conv2d_input_grad_f32 take a range of batch items [r0, r1): an item's work is the same calls
//   whatever the range.
//   conv2d_weight_grad_f32 takes a range of columns [r0, r1) of dW viewed as [O, K] (input channels × taps):
//   each share computes those columns of every item's product and sums them in batch order. When the whole
//   call's product (Og × K) takes matmul's blocked path, every share's product takes it too, however narrow
//   the share (matmul_f32_block), and the blocked path sums each element over the depth in an order that does
//   not depend on the columns around it, so the sums are identical. A skinny product (Og or K ≤ 8) groups its
//   columns by the share's edges and may turn round when the share is narrower than Og: such a call is not
//   shared. dW starts from +0, so a product's −0 (which the tile stores may or may not turn into +0) never shows.
import { matmul_f32, matmul_f32_block, matmul_block_ws_bytes, matmul_ws_bytes } from './matmul';

const FORWARD: i32 = 0;
const INPUT_GRAD: i32 = 1;
const WEIGHT_GRAD: i32 = 2;

/** matmul_f32 computes products with at most this many rows or columns on its skinny path (SIMD builds). */
const SKINNY: i32 = 8;

/** The most floats an im2col chunk holds (1 MB) unless a single output row needs more. */
const COL_FLOATS: i64 = 1 << 18;

// The geometry of the current call, set by every export on entry (wasm globals belong to an instance, so each
// worker thread has its own), and what follows from it.
let N: i32, C: i32, H: i32, W: i32, O: i32, KH: i32, KW: i32, OH: i32, OW: i32;
let strideH: i32, strideW: i32, padH: i32, padW: i32, dilationH: i32, dilationW: i32, groups: i32;
/** Channels per group in and out, im2col rows (Cg·KH·KW), output rows per im2col chunk. */
let Cg: i32, Og: i32, K: i32, chunkRows: i32;

function setGeometry(n: i32, c: i32, h: i32, w: i32, o: i32, kh: i32, kw: i32, oh: i32, ow: i32,
                     sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, g: i32): void {
  N = n; C = c; H = h; W = w; O = o; KH = kh; KW = kw; OH = oh; OW = ow;
  strideH = sH; strideW = sW; padH = pH; padW = pW; dilationH = dH; dilationW = dW; groups = g;
  Cg = c / g;
  Og = o / g;
  K = Cg * kh * kw;
  chunkRows = <i32>max<i64>(1, min<i64>(oh, COL_FLOATS / (<i64>K * ow)));
}

// @ts-ignore: decorator
@inline function align64(bytes: usize): usize {
  return (bytes + 63) & ~(<usize>63);
}

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

// ---------------------------------------------------------------------------------------------------------
// Rows of floats

/** dst[0..n) = src[0..n) (no overlap). */
// @ts-ignore: decorator
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
  }
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
}

/** dst[0..n) = 0. */
// @ts-ignore: decorator
@inline function zeroF32(dst: usize, n: i32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), z);
  }
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
}

/** dst[0..n) += src[0..n). */
// @ts-ignore: decorator
@inline function addF32(dst: usize, src: usize, n: i32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

// Stride 2: a vector of 4 floats meets 8 floats of the strided row, so the vector loops stop while the last of
// those 8 is still one the row uses (x + 4 < n), never touching a float past the row's last element (another
// thread's block, or the end of memory).

/** dst[x] = src[2x] for x < n. */
// @ts-ignore: decorator
@inline function copyEvenF32(dst: usize, src: usize, n: i32): void {
  let x = 0;
  if (ASC_FEATURE_SIMD) {
    for (; x + 4 < n; x += 4) {
      const s = src + (<usize>x << 3);
      v128.store(dst + (<usize>x << 2), v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
    }
  }
  for (; x < n; x++) store<f32>(dst + (<usize>x << 2), load<f32>(src + (<usize>x << 3)));
}

/**
 * dst[2x] += src[x] for x < n. The vector loop adds +0 to the odd floats between, which leaves them as they are:
 * dx starts at +0 and a sum that starts at +0 never becomes −0.
 */
// @ts-ignore: decorator
@inline function addEvenF32(dst: usize, src: usize, n: i32): void {
  let x = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; x + 4 < n; x += 4) {
      const v = v128.load(src + (<usize>x << 2));
      const d = dst + (<usize>x << 3);
      v128.store(d, f32x4.add(v128.load(d), v128.shuffle<f32>(v, z, 0, 4, 1, 4)));
      v128.store(d, f32x4.add(v128.load(d, 16), v128.shuffle<f32>(v, z, 2, 4, 3, 4)), 16);
    }
  }
  for (; x < n; x++) {
    const d = dst + (<usize>x << 3);
    store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>x << 2)));
  }
}

/** rows × cols floats from src to dst (row strides srcLd, dstLd in floats). */
function copyRows(src: usize, srcLd: i32, dst: usize, dstLd: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    copyF32(dst + (<usize>r * <usize>dstLd << 2), src + (<usize>r * <usize>srcLd << 2), cols);
  }
}

/** dst rows += src rows (rows × cols, row strides in floats). */
function addRows(src: usize, srcLd: i32, dst: usize, dstLd: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    addF32(dst + (<usize>r * <usize>dstLd << 2), src + (<usize>r * <usize>srcLd << 2), cols);
  }
}

/** Row r of the rows × cols block at c (row stride ld floats) += bias[r]. */
function addBias(c: usize, ld: i32, rows: i32, cols: i32, bias: usize): void {
  for (let r = 0; r < rows; r++) {
    const d = c + (<usize>r * <usize>ld << 2);
    const b = load<f32>(bias + (<usize>r << 2));
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      const vb = f32x4.splat(b);
      for (; k + 4 <= cols; k += 4) {
        const o = <usize>k << 2;
        v128.store(d + o, f32x4.add(v128.load(d + o), vb));
      }
    }
    for (; k < cols; k++) {
      const o = <usize>k << 2;
      store<f32>(d + o, load<f32>(d + o) + b);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// im2col and its adjoint

/** The first output column whose input column first + ow·stride is ≥ 0. */
// @ts-ignore: decorator
@inline function insideFrom(first: i32, stride: i32): i32 {
  return first >= 0 ? 0 : min(OW, ceilDiv(-first, stride));
}

/** One past the last output column whose input column first + ow·stride is < W (at least `from`). */
// @ts-ignore: decorator
@inline function insideTo(first: i32, stride: i32, from: i32): i32 {
  return first >= W ? from : max(from, min(OW, (W - 1 - first) / stride + 1));
}

/**
 * Rows [q0, q1) of the im2col block of output rows [r0, r1) for one image group xg (Cg planes of H×W):
 * col[q − q0][(r − r0)·OW + ow], zero where the tap falls in the padding.
 */
function im2col(xg: usize, q0: i32, q1: i32, r0: i32, r1: i32, col: usize): void {
  const h = H, w = W, ow = OW, kw = KW, taps = KH * KW, sH = strideH, sW = strideW;
  const plane = <usize>h * <usize>w << 2;
  const rowBytes = <usize>ow << 2;
  let dst = col;
  for (let q = q0; q < q1; q++) {
    const c = q / taps, i = q % taps / kw, j = q % kw;
    const xc = xg + <usize>c * plane;
    const first = j * dilationW - padW; // the input column of output column 0
    const from = insideFrom(first, sW);
    const to = insideTo(first, sW, from);
    let ih = r0 * sH - padH + i * dilationH;
    for (let r = r0; r < r1; r++, ih += sH, dst += rowBytes) {
      if (<u32>ih >= <u32>h || from == to) {
        zeroF32(dst, ow);
        continue;
      }
      // Output columns from ≤ x < to read input columns first + x·sW of row ih, the first of them at src.
      const src = xc + (<usize>(ih * w + first + from * sW) << 2);
      const d = dst + (<usize>from << 2);
      zeroF32(dst, from);
      if (sW == 1) copyF32(d, src, to - from);
      else if (sW == 2) copyEvenF32(d, src, to - from);
      else {
        for (let x = 0; x < to - from; x++) store<f32>(d + (<usize>x << 2), load<f32>(src + (<usize>(x * sW) << 2)));
      }
      zeroF32(dst + (<usize>to << 2), ow - to);
    }
  }
}

/** The adjoint of im2col over all K rows: dxg[c][ih][iw] += dcol[q][(r − r0)·OW + ow] for every tap inside. */
function col2im(dcol: usize, r0: i32, r1: i32, dxg: usize): void {
  const h = H, w = W, ow = OW, kw = KW, taps = KH * KW, sH = strideH, sW = strideW;
  const plane = <usize>h * <usize>w << 2;
  const rowBytes = <usize>ow << 2;
  let src = dcol;
  for (let q = 0; q < K; q++) {
    const c = q / taps, i = q % taps / kw, j = q % kw;
    const dc = dxg + <usize>c * plane;
    const first = j * dilationW - padW;
    const from = insideFrom(first, sW);
    const to = insideTo(first, sW, from);
    let ih = r0 * sH - padH + i * dilationH;
    for (let r = r0; r < r1; r++, ih += sH, src += rowBytes) {
      if (<u32>ih >= <u32>h || from == to) continue;
      const dst = dc + (<usize>(ih * w + first + from * sW) << 2);
      const s = src + (<usize>from << 2);
      if (sW == 1) addF32(dst, s, to - from);
      else if (sW == 2) addEvenF32(dst, s, to - from);
      else {
        for (let x = 0; x < to - from; x++) {
          const d = dst + (<usize>(x * sW) << 2);
          store<f32>(d, load<f32>(d) + load<f32>(s + (<usize>x << 2)));
        }
      }
    }
  }
}

/**
 * col2im for the 3-wide, stride-2 taps of a downsampling layer (KW = 3, stride and padding 1 across, no dilation):
 * the three taps j of one (c, i) and output row meet the same dx row, tap 1 on its even columns 2e (from output
 * column e), taps 0 and 2 on its odd columns 2e + 1 (from output columns e + 1, then e). Adding the three there
 * at once loads and stores the dx row once instead of three times. Each element still takes its taps in the order
 * of q, with +0 added where a tap misses it, which changes nothing (a dx sum that starts at +0 is never −0).
 */
function col2imStride2K3(dcol: usize, r0: i32, r1: i32, dxg: usize): void {
  const h = H, w = W, ow = OW, sH = strideH, taps = KH * 3;
  const plane = <usize>h * <usize>w << 2;
  const qBytes = <usize>(r1 - r0) * <usize>ow << 2;
  for (let q = 0; q < K; q += 3) {
    const c = q / taps, i = q % taps / 3;
    const dc = dxg + <usize>c * plane;
    let ih = r0 * sH - padH + i * dilationH;
    for (let r = r0; r < r1; r++, ih += sH) {
      if (<u32>ih >= <u32>h) continue;
      const drow = dc + (<usize>(ih * w) << 2);
      const s1 = dcol + <usize>(q + 1) * qBytes + (<usize>((r - r0) * ow) << 2);
      const s0 = s1 - qBytes, s2 = s1 + qBytes;
      let e = 0;
      if (ASC_FEATURE_SIMD) {
        const z = f32x4.splat(0);
        // Columns 2e … 2e + 7 inside the row, output columns e … e + 4 inside OW (tap 0 reads one ahead).
        for (; 2 * e + 8 <= w && e + 5 <= ow; e += 4) {
          const d = drow + (<usize>e << 3);
          const o = <usize>e << 2;
          const v0 = v128.load(s0 + o, 4), v1 = v128.load(s1 + o), v2 = v128.load(s2 + o);
          let lo = v128.load(d), hi = v128.load(d, 16);
          lo = f32x4.add(lo, v128.shuffle<f32>(v0, z, 4, 0, 4, 1));
          hi = f32x4.add(hi, v128.shuffle<f32>(v0, z, 4, 2, 4, 3));
          lo = f32x4.add(lo, v128.shuffle<f32>(v1, z, 0, 4, 1, 4));
          hi = f32x4.add(hi, v128.shuffle<f32>(v1, z, 2, 4, 3, 4));
          lo = f32x4.add(lo, v128.shuffle<f32>(v2, z, 4, 0, 4, 1));
          hi = f32x4.add(hi, v128.shuffle<f32>(v2, z, 4, 2, 4, 3));
          v128.store(d, lo);
          v128.store(d, hi, 16);
        }
      }
      for (; 2 * e < w && e < ow; e++) {
        const o = <usize>e << 2;
        const d = drow + (<usize>e << 3);
        store<f32>(d, load<f32>(d) + load<f32>(s1 + o));
        if (2 * e + 1 < w) {
          let acc = load<f32>(d, 4);
          if (e + 1 < ow) acc += load<f32>(s0 + o, 4);
          acc += load<f32>(s2 + o);
          store<f32>(d, acc, 4);
        }
      }
    }
  }
}

/**
 * col2im for stride 1, gathering instead of scattering: each element of dx takes all its taps at once in a
 * register (one load and one store of dx instead of one per tap). It still adds its taps one by one in the order
 * of q, as col2im does, so the sums are the same bits.
 */
function col2imStride1(dcol: usize, r0: i32, r1: i32, dxg: usize): void {
  const h = H, w = W, ow = OW, kh = KH, kw = KW, dH = dilationH, dW = dilationW, pH = padH, pW = padW;
  const plane = <usize>h * <usize>w << 2;
  const qBytes = <usize>(r1 - r0) * <usize>ow << 2; // one row q of dcol
  // From tap (i, j) to tap (i + 1, j): KW rows of dcol on, dH output rows back.
  const iStep = <usize>kw * qBytes - (<usize>(dH * ow) << 2);
  const jStep = qBytes - (<usize>dW << 2); // from tap j to j + 1: one row of dcol on, dW columns back
  // dx columns [lo, hi) are inside every tap's range (tap j covers columns j·dW − padW + [0, OW), within [0, W)).
  const lo = max(0, (kw - 1) * dW - pW);
  const hi = min(w, ow - pW);
  for (let c = 0; c < Cg; c++) {
    const dc = dxg + <usize>c * plane;
    const dq = dcol + <usize>(c * kh * kw) * qBytes;
    for (let ih = 0; ih < h; ih++) {
      // Tap row i reaches dx row ih from output row r = ih + padH − i·dH, which must be in [r0, r1): i in [i0, i1).
      const t = ih + pH - r0;
      const i0 = t >= r1 - r0 ? (t - (r1 - r0)) / dH + 1 : 0;
      const i1 = t < 0 ? 0 : min(kh, t / dH + 1);
      if (i0 >= i1) continue;
      const drow = dc + (<usize>(ih * w) << 2);
      // dcol element (q, r − r0, ow) of tap (i0, 0) for dx column 0 (ow = padW).
      const base = dq + <usize>(i0 * kw) * qBytes + (<usize>((t - i0 * dH) * ow + pW) << 2);
      let x = 0;
      if (ASC_FEATURE_SIMD && lo < hi) {
        for (; x < lo; x++) col2imAt(drow, x, base, i1 - i0, iStep, jStep, dW);
        for (; x + 4 <= hi; x += 4) {
          let acc = v128.load(drow + (<usize>x << 2));
          let si = base + (<usize>x << 2);
          for (let i = i0; i < i1; i++, si += iStep) {
            let s = si;
            for (let j = 0; j < kw; j++, s += jStep) acc = f32x4.add(acc, v128.load(s));
          }
          v128.store(drow + (<usize>x << 2), acc);
        }
      }
      for (; x < w; x++) col2imAt(drow, x, base, i1 - i0, iStep, jStep, dW);
    }
  }
}

/**
 * dx element x of a row (at drow) += the taps of `rows` tap rows, the first tap's dcol element for column 0 at
 * base, one by one in q order, skipping those whose output column x − (j·dW − padW) is outside [0, OW).
 */
// @ts-ignore: decorator
@inline function col2imAt(drow: usize, x: i32, base: usize, rows: i32, iStep: usize, jStep: usize, dW: i32): void {
  const d = drow + (<usize>x << 2);
  let acc = load<f32>(d);
  let si = base + (<usize>x << 2);
  for (let i = 0; i < rows; i++, si += iStep) {
    let s = si;
    for (let j = 0, o = x + padW; j < KW; j++, s += jStep, o -= dW) {
      if (<u32>o < <u32>OW) acc += load<f32>(s);
    }
  }
  store<f32>(d, acc);
}

// ---------------------------------------------------------------------------------------------------------
// Scratch: col (cols × chunk floats) | staging (Og × chunk, only when a chunk is not all of OH) | product
// (Og × cols, weight gradient only) | matmul's ws. `cols` is K, or the share's width for the weight gradient.

// @ts-ignore: decorator
@inline function chunkFloats(): usize {
  return <usize>chunkRows * <usize>OW;
}

// @ts-ignore: decorator
@inline function stageAt(ws: usize, cols: i32): usize {
  return ws + align64(<usize>cols * chunkFloats() << 2);
}

// @ts-ignore: decorator
@inline function productAt(ws: usize, cols: i32): usize {
  return stageAt(ws, cols) + (chunkRows < OH ? align64(<usize>Og * chunkFloats() << 2) : 0);
}

// @ts-ignore: decorator
@inline function matmulWsAt(ws: usize, kind: i32, cols: i32): usize {
  return productAt(ws, cols) + (kind == WEIGHT_GRAD ? align64(<usize>Og * <usize>cols << 2) : 0);
}

/**
 * Whether the weight gradient's products take matmul's blocked path: when the whole call's product Og × K does
 * (as matmul_f32 decides it), whatever the width of the share of columns (see the top of this file).
 */
// @ts-ignore: decorator
@inline function weightGradBlocked(): bool {
  return !ASC_FEATURE_SIMD || min(Og, K) > SKINNY;
}

/** matmul's scratch bytes for the product of a chunk of `width` output positions. */
function productWs(kind: i32, cols: i32, width: i32): usize {
  if (kind == FORWARD) return <usize>matmul_ws_bytes(Og, width, K, 0, 0);
  if (kind == INPUT_GRAD) return <usize>matmul_ws_bytes(K, width, Og, 1, 0);
  return <usize>(weightGradBlocked() ? matmul_block_ws_bytes(Og, cols, width) : matmul_ws_bytes(Og, cols, width, 0, 1));
}

/**
 * Bytes of scratch the kernel of `kind` (0 forward, 1 input gradient, 2 weight gradient) needs for this geometry
 * and range [r0, r1) (batch items, or dW columns for the weight gradient; see the kernels).
 */
export function conv2d_ws_bytes(kind: i32, n: i32, c: i32, h: i32, w: i32, o: i32, kh: i32, kw: i32, oh: i32,
                                ow: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, g: i32,
                                r0: i32, r1: i32): i32 {
  setGeometry(n, c, h, w, o, kh, kw, oh, ow, sH, sW, pH, pW, dH, dW, g);
  const cols = kind == WEIGHT_GRAD ? r1 - r0 : K;
  // Chunks are chunkRows output rows, the last one what remains.
  const full = chunkRows * OW;
  const last = (OH - (ceilDiv(OH, chunkRows) - 1) * chunkRows) * OW;
  const mm = max(productWs(kind, cols, full), productWs(kind, cols, last));
  return <i32>(matmulWsAt(0, kind, cols) + align64(mm));
}

/**
 * out = conv2d(x, weight) (+ bias per output channel unless bias is 0) for batch items [r0, r1): x [N, C, H, W],
 * weight [O, C/groups, KH, KW], out [N, O, OH, OW], float32, with strides, padding before the image, dilations
 * and groups as named; ws holds conv2d_ws_bytes(0, …) bytes, 64-byte aligned.
 */
export function conv2d_f32(x: usize, weight: usize, bias: usize, out: usize, n: i32, c: i32, h: i32, w: i32,
                           o: i32, kh: i32, kw: i32, oh: i32, ow: i32, sH: i32, sW: i32, pH: i32, pW: i32,
                           dH: i32, dW: i32, g: i32, ws: usize, r0: i32, r1: i32): void {
  setGeometry(n, c, h, w, o, kh, kw, oh, ow, sH, sW, pH, pW, dH, dW, g);
  const P = OH * OW;
  const chunked = chunkRows < OH;
  const col = ws;
  const stage = stageAt(ws, K);
  const mmWs = matmulWsAt(ws, FORWARD, K);
  for (let item = r0; item < r1; item++) {
    for (let group = 0; group < groups; group++) {
      const xg = x + (<usize>(item * C + group * Cg) * <usize>(H * W) << 2);
      const wg = weight + (<usize>(group * Og) * <usize>K << 2);
      const outg = out + (<usize>(item * O + group * Og) * <usize>P << 2);
      const bg: usize = bias == 0 ? 0 : bias + (<usize>(group * Og) << 2);
      for (let row = 0; row < OH; row += chunkRows) {
        const rows = min(chunkRows, OH - row);
        const width = rows * OW;
        const dst = outg + (<usize>(row * OW) << 2);
        im2col(xg, 0, K, row, row + rows, col);
        // A chunk that is all of OH·OW is the dense Og × P block of out itself.
        matmul_f32(wg, col, chunked ? stage : dst, 0, Og, width, K, 0, 0, 1, 0, 0, mmWs);
        if (chunked) copyRows(stage, width, dst, P, Og, width);
        if (bg) addBias(dst, P, Og, width, bg);
      }
    }
  }
}

/**
 * dx = the gradient of sum(conv2d(x, weight)·dy) with respect to x, for batch items [r0, r1): dy [N, O, OH, OW],
 * weight and dx as x and weight in conv2d_f32 (dx is written, not accumulated); ws holds conv2d_ws_bytes(1, …).
 */
export function conv2d_input_grad_f32(dy: usize, weight: usize, dx: usize, n: i32, c: i32, h: i32, w: i32,
                                      o: i32, kh: i32, kw: i32, oh: i32, ow: i32, sH: i32, sW: i32, pH: i32,
                                      pW: i32, dH: i32, dW: i32, g: i32, ws: usize, r0: i32, r1: i32): void {
  setGeometry(n, c, h, w, o, kh, kw, oh, ow, sH, sW, pH, pW, dH, dW, g);
  const P = OH * OW;
  const chunked = chunkRows < OH;
  const dcol = ws;
  const stage = stageAt(ws, K);
  const mmWs = matmulWsAt(ws, INPUT_GRAD, K);
  for (let item = r0; item < r1; item++) {
    zeroF32(dx + (<usize>(item * C) * <usize>(H * W) << 2), C * H * W);
    for (let group = 0; group < groups; group++) {
      const dyg = dy + (<usize>(item * O + group * Og) * <usize>P << 2);
      const wg = weight + (<usize>(group * Og) * <usize>K << 2);
      const dxg = dx + (<usize>(item * C + group * Cg) * <usize>(H * W) << 2);
      for (let row = 0; row < OH; row += chunkRows) {
        const rows = min(chunkRows, OH - row);
        const width = rows * OW;
        const src = dyg + (<usize>(row * OW) << 2);
        if (chunked) copyRows(src, P, stage, width, Og, width);
        matmul_f32(wg, chunked ? stage : src, dcol, 0, K, width, Og, 1, 0, 1, 0, 0, mmWs);
        if (strideH == 1 && strideW == 1) col2imStride1(dcol, row, row + rows, dxg);
        else if (strideW == 2 && KW == 3 && padW == 1 && dilationW == 1) col2imStride2K3(dcol, row, row + rows, dxg);
        else col2im(dcol, row, row + rows, dxg);
      }
    }
  }
}

/**
 * Columns [r0, r1) of dW = the gradient of sum(conv2d(x, weight)·dy) with respect to weight, viewed as [O, K]
 * (K = C/groups·KH·KW): x and dy as in the kernels above, dW [O, C/groups, KH, KW] (those columns written, not
 * accumulated); ws holds conv2d_ws_bytes(2, …, r0, r1).
 */
export function conv2d_weight_grad_f32(x: usize, dy: usize, dw: usize, n: i32, c: i32, h: i32, w: i32,
                                       o: i32, kh: i32, kw: i32, oh: i32, ow: i32, sH: i32, sW: i32, pH: i32,
                                       pW: i32, dH: i32, dW: i32, g: i32, ws: usize, r0: i32, r1: i32): void {
  setGeometry(n, c, h, w, o, kh, kw, oh, ow, sH, sW, pH, pW, dH, dW, g);
  const P = OH * OW;
  const cols = r1 - r0;
  if (cols <= 0) return;
  const chunked = chunkRows < OH;
  const col = ws;
  const stage = stageAt(ws, cols);
  const product = productAt(ws, cols);
  const mmWs = matmulWsAt(ws, WEIGHT_GRAD, cols);
  const blocked = weightGradBlocked();
  const dw0 = dw + (<usize>r0 << 2);
  for (let r = 0; r < O; r++) zeroF32(dw0 + (<usize>r * <usize>K << 2), cols);
  for (let item = 0; item < N; item++) {
    for (let group = 0; group < groups; group++) {
      const xg = x + (<usize>(item * C + group * Cg) * <usize>(H * W) << 2);
      const dyg = dy + (<usize>(item * O + group * Og) * <usize>P << 2);
      const dwg = dw0 + (<usize>(group * Og) * <usize>K << 2);
      for (let row = 0; row < OH; row += chunkRows) {
        const rows = min(chunkRows, OH - row);
        const width = rows * OW;
        const src = dyg + (<usize>(row * OW) << 2);
        im2col(xg, r0, r1, row, row + rows, col);
        if (chunked) copyRows(src, P, stage, width, Og, width);
        const a = chunked ? stage : src;
        if (blocked) matmul_f32_block(a, col, product, 0, Og, cols, width, 0, 1, 1, 0, 0, mmWs, 0, Og, 0, cols);
        else matmul_f32(a, col, product, 0, Og, cols, width, 0, 1, 1, 0, 0, mmWs);
        addRows(product, cols, dwg, K, Og, cols);
      }
    }
  }
}
