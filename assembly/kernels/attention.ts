// Scaled dot-product attention, fused: per item (a batch·head) and per block of query rows, the scores
// q·kᵀ·scale, the mask, a max-subtracted softmax of each row and the product with v, without ever forming more
// than one block of scores. The backward recomputes the probabilities of one block at a time from each row's
// log-sum-exp (lse, saved by the forward instead of the probabilities: FlashAttention's idea, at CPU scale):
//   P = exp(scores − lse)          dv += Pᵀ·dout
//   dP = dout·vᵀ                   dS = P ∘ (dP − D)·scale,  D_i = Σ_c dout[i,c]·out[i,c]
//   dq = dS·k                      dk += dSᵀ·q
// Every product runs on matmul's packing and micro-kernels (matmul_pack_a / _b, matmul_panel_tile), so the speed
// follows matmul's: q, k, v and dout are packed once per item, P and dS one micro-panel at a time; the row passes
// between the products are SIMD loops with the exp of math.ts. A tile sums its depths in order, in one run (no KC
// blocks), leaving out the zeros of causal rows: the bits depend on the geometry alone.
//
// Layouts: each item is dense and row-major, q [L, E], k [S, E], v [S, Ev], out / dout [L, Ev], lse [L]; items
// follow one another. The mask, when given, is read at mask[offsets[h] + i·rowStride + j·colStride] (int32
// offsets per item; strides 0 broadcast): kind 1 adds it to the score, kind 2 attends only where it is nonzero.
// causal attends only to j ≤ i. A row that attends to nothing (every score −∞) has output 0 and lse −∞, and
// passes no gradient (PyTorch's safe softmax).
//
// Blocks. The L query rows are cut into blocks of whole micro-tiles of the matmul kernel (setBlocks: about
// BLOCK_FLOATS scores each; the same for every item and every thread). With causal, rows [r0, r1) attend only to
// the first min(S, r1) keys, so a block's products stop there; within a block they skip the micro-tiles past the
// diagonal and sum no depth past it, so they compute about the lower half of the square of scores whatever the
// block's height. Causal blocks stay short (CAUSAL_ROWS): as tall as the others, they ran 1.4% fewer instructions
// at T = 128 but would change dk and dv's bits (their sums are grouped by block).
//
// Threads: a call covers items [0, heads); a share of items gives the same bits as the whole call, since an
// item's work (its blocks, their order, every sum) does not depend on the other items.
import {
  matmul_pack_a, matmul_pack_a_bytes, matmul_pack_b, matmul_pack_b_bytes, matmul_panel_tile, matmul_tile_rows,
} from './matmul';
import { exp_s, exp_v, expPair_v } from './math';

/** Scores per block of rows (32 KB): the block and its products stay in L2. */
const BLOCK_FLOATS: i32 = 8192;
/** Rows per block at least, so long sequences still give the micro-kernels tall products. */
const MIN_ROWS: i32 = 16;
/** Rows per block with causal, about (whole micro-tiles). */
const CAUSAL_ROWS: i32 = 30;

const MASK_ADD: i32 = 1;
const MASK_KEEP: i32 = 2;

// The geometry of the current call, set by every export on entry (each worker instance has its own globals).
let L: i32, S: i32, E: i32, Ev: i32, scale: f32, causal: bool;
let maskKind: i32, maskRowStride: i32, maskColStride: i32;
/** Micro-tiles of rows in L, blocks of rows, and the most rows of a block. */
let TILES: i32, BLOCKS: i32, R: i32;
/** Floats between rows of a block of scores: S rounded up to whole 8-column tiles. */
let LD: i32;

function setGeometry(l: i32, s: i32, e: i32, ev: i32, sc: f64, c: i32, kind: i32, rowStride: i32,
                     colStride: i32): void {
  L = l; S = s; E = e; Ev = ev; scale = <f32>sc; causal = c != 0;
  maskKind = kind; maskRowStride = rowStride; maskColStride = colStride;
  setBlocks(l, s, c != 0);
  LD = (s + 7) & ~7;
}

// @ts-ignore: decorator
@inline function align64(bytes: usize): usize {
  return (bytes + 63) & ~(<usize>63);
}

/**
 * Splits the L query rows into blocks of whole micro-tiles of the matmul kernel (its rows: MR), evened out: about
 * BLOCK_FLOATS scores each, at least MIN_ROWS rows; with causal about CAUSAL_ROWS rows (see the top of the file).
 * Sets TILES, BLOCKS and R (the most rows).
 */
function setBlocks(l: i32, s: i32, c: bool): void {
  const mr = matmul_tile_rows();
  TILES = (l + mr - 1) / mr;
  const most = max(1, (c ? CAUSAL_ROWS : max(MIN_ROWS, BLOCK_FLOATS / max(s, 1))) / mr);
  BLOCKS = (TILES + most - 1) / most;
  R = min(l, (TILES + BLOCKS - 1) / BLOCKS * mr);
}

/** The first row of block b (b ≤ BLOCKS: blockStart(BLOCKS) = L). */
// @ts-ignore: decorator
@inline function blockStart(b: i32): i32 {
  return min(L, <i32>(<i64>b * TILES / BLOCKS) * matmul_tile_rows());
}

/** The keys rows [r0, r1) may attend to: all S, or with causal the first min(S, r1). */
// @ts-ignore: decorator
@inline function blockCols(r1: i32): i32 {
  return causal ? min(S, r1) : S;
}

/**
 * The columns of row i that the products read among a block's n: with causal, up to the end of the row's micro-tile
 * of rows (a micro-panel of P or dS is packed to its last row's diagonal, so the others' columns past their own
 * diagonal must be 0); otherwise all n.
 */
// @ts-ignore: decorator
@inline function readCols(i: i32, n: i32): i32 {
  const mr = matmul_tile_rows();
  return causal ? min(n, (i / mr + 1) * mr) : n;
}

/** The keys row i may attend to among a block's n. */
// @ts-ignore: decorator
@inline function rowCols(i: i32, n: i32): i32 {
  return causal ? min(n, i + 1) : n;
}

// ---------------------------------------------------------------------------------------------------------
// Row passes over one row of a block (p: the row, n floats)

/**
 * The scores of a row (j < n) after the scale and the mask, and their maximum (NaN lanes are skipped: a NaN score
 * makes the row NaN through its exponential). With a mask (`m`: the row's first element), s[j] = s[j]·scale + mask
 * (or −∞ where a kept mask is 0) is stored; without one, s is left as it is and the exponentials apply the scale.
 */
function scoreRow(p: usize, n: i32, m: usize): f32 {
  let best: f32 = -Infinity;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(scale);
    let bv = f32x4.splat(-Infinity);
    if (maskKind == 0) {
      for (; j + 4 <= n; j += 4) bv = f32x4.pmax(bv, f32x4.mul(v128.load(p + (<usize>j << 2)), sv));
    } else if (maskColStride == 1) {
      const ninf = f32x4.splat(-Infinity);
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        let s = f32x4.mul(v128.load(p + o), sv);
        if (maskKind == MASK_ADD) s = f32x4.add(s, v128.load(m + o));
        else s = v128.bitselect(ninf, s, i32x4.eq(v128.load(m + o), i32x4.splat(0)));
        v128.store(p + o, s);
        bv = f32x4.pmax(bv, s);
      }
    }
    best = max<f32>(max<f32>(f32x4.extract_lane(bv, 0), f32x4.extract_lane(bv, 1)),
      max<f32>(f32x4.extract_lane(bv, 2), f32x4.extract_lane(bv, 3)));
  }
  const cs = <usize>maskColStride << 2;
  for (; j < n; j++) {
    const o = <usize>j << 2;
    let s = load<f32>(p + o) * scale;
    if (maskKind == MASK_ADD) s += load<f32>(m + <usize>j * cs);
    else if (maskKind == MASK_KEEP && load<i32>(m + <usize>j * cs) == 0) s = -Infinity;
    if (maskKind != 0) store<f32>(p + o, s);
    if (s > best) best = s;
  }
  return best;
}

/** Whether some score of the row is NaN (asked only of a row whose maximum is −∞). */
function hasNaN(p: usize, n: i32): bool {
  for (let j = 0; j < n; j++) {
    const s = load<f32>(p + (<usize>j << 2));
    if (s != s) return true;
  }
  return false;
}

/** s[j] = e^{s[j]·k − m} for j < n; returns Σ s[j] (f32 lanes, summed in f64). */
function expRow(p: usize, n: i32, m: f32, k: f32): f64 {
  let total: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    const kv = f32x4.splat(k);
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    for (; j + 8 <= n; j += 8) { // two independent exponentials per iteration, one range test for both
      const o = <usize>j << 2;
      expPair_v(f32x4.sub(f32x4.mul(v128.load(p + o), kv), mv), f32x4.sub(f32x4.mul(v128.load(p + o, 16), kv), mv),
        p + o);
      s0 = f32x4.add(s0, v128.load(p + o));
      s1 = f32x4.add(s1, v128.load(p + o, 16));
    }
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      const e = exp_v(f32x4.sub(f32x4.mul(v128.load(p + o), kv), mv));
      v128.store(p + o, e);
      s0 = f32x4.add(s0, e);
    }
    const s = f32x4.add(s0, s1);
    total = <f64>(f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1))
      + <f64>(f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const e = exp_s(load<f32>(p + o) * k - m);
    store<f32>(p + o, e);
    total += <f64>e;
  }
  return total;
}

/** p[j] = v for j in [from, to). */
function fillRow(p: usize, from: i32, to: i32, v: f32): void {
  for (let j = from; j < to; j++) store<f32>(p + (<usize>j << 2), v);
}

/** p[j] *= k for j < n. */
function scaleRow(p: usize, n: i32, k: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const kv = f32x4.splat(k);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(p + o, f32x4.mul(v128.load(p + o), kv));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(p + o, load<f32>(p + o) * k);
  }
}

/** Σ_j a[j]·b[j] for j < n (f32 lanes, then their sum). */
function dotRow(a: usize, b: usize, n: i32): f32 {
  let s: f32 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
    s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1))
      + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  }
  for (; j < n; j++) s += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return s;
}

/** dst[j] += src[j] for j < n. */
function addRow(dst: usize, src: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** ds[j] = p[j]·(ds[j] − d)·scale for j < n: dS from P and dP (in ds). */
function dsRow(p: usize, ds: usize, n: i32, d: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const dv = f32x4.splat(d);
    const sv = f32x4.splat(scale);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(ds + o, f32x4.mul(f32x4.mul(v128.load(p + o), f32x4.sub(v128.load(ds + o), dv)), sv));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(ds + o, (load<f32>(p + o) * (load<f32>(ds + o) - d)) * scale);
  }
}

/** The first mask element of row i of an item whose mask view starts at element `offset`. */
// @ts-ignore: decorator
@inline function maskRow(mask: usize, offset: i32, i: i32): usize {
  return maskKind == 0 ? 0 : mask + (<usize>(offset + i * maskRowStride) << 2);
}

/**
 * Rows [r0, r1) of the block in p (n columns, rows LD floats apart: the products q·kᵀ) become probabilities. The forward computes
 * e^{score − max}, unnormalised, and writes each row's lse and 1/Σ (to rowScale, for the output); the backward
 * computes e^{score − lse} from the saved lse. Columns a causal row does not attend to are 0 (up to readCols).
 */
function probabilities(p: usize, n: i32, r0: i32, r1: i32, mask: usize, offset: i32, lse: usize, rowScale: usize,
                       forward: bool): void {
  const k: f32 = maskKind == 0 ? scale : 1; // without a mask the scores are still unscaled (see scoreRow)
  for (let i = r0; i < r1; i++) {
    const row = p + (<usize>((i - r0) * LD) << 2);
    const lim = rowCols(i, n);
    const at = <usize>i << 2;
    if (forward) {
      const best = scoreRow(row, lim, maskRow(mask, offset, i));
      let sum: f64 = 0;
      let l: f32 = -Infinity;
      if (best != -Infinity || hasNaN(row, lim)) {
        sum = expRow(row, lim, best, k);
        l = <f32>(<f64>best + Math.log(sum));
      } else {
        fillRow(row, 0, lim, 0); // attends to nothing
      }
      store<f32>(lse + at, l);
      store<f32>(rowScale + (<usize>(i - r0) << 2), l == -Infinity ? 0 : <f32>(1 / sum));
    } else {
      const l = load<f32>(lse + at);
      if (l == -Infinity) {
        fillRow(row, 0, lim, 0);
      } else {
        if (maskKind != 0) scoreRow(row, lim, maskRow(mask, offset, i));
        expRow(row, lim, l, k);
      }
    }
    fillRow(row, lim, readCols(i, n), 0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Products on packed panels (matmul_pack_a / _b, matmul_panel_tile). The operands that every block of an item
// uses (q, k, v, dout) are packed once per item; only P and dS, new in every block, are packed per block. A block
// starts at a whole micro-tile of rows, so its first A panel of q or dout is the panel of row r0.

/**
 * C[i][j] = Σ_{p<k} A[i][p]·B[p][j] for the block's rows i < rows (row r0 + i of the item) and keys j < n, into a
 * block of scores (rows LD floats apart): a, the A panels of the block's rows (depth k); b, B panels of all S keys.
 * Tiles are stored whole (8 or 4 columns: LD leaves room). With causal, tiles whose first key is past their last
 * row are not computed, and a tile across the diagonal needing ≤ 4 keys computes 4: no row reads the others.
 */
function scoresProduct(a: usize, b: usize, k: i32, r0: i32, rows: i32, n: i32, c: usize, tmp: usize): void {
  const mr0 = matmul_tile_rows();
  const ldc = <usize>LD << 2;
  for (let i = 0; i < rows; i += mr0) {
    const mr = min(mr0, rows - i);
    const end = causal ? min(n, r0 + i + mr) : n;
    const ap = a + (<usize>(i * k) << 2);
    const ci = c + <usize>i * ldc;
    for (let j = 0; j < end; j += 8) {
      const wide = S - j > 4;
      matmul_panel_tile(ap, b + (<usize>(j * k) << 2), wide, 0, k, ci + (<usize>j << 2), ldc, mr,
        wide && end - j > 4 ? 8 : 4, false, tmp);
    }
  }
}

/**
 * C[i][j] = Σ_{p<n} A[i][p]·B[p][j] for i < rows, j < m, into rows of an output ldc bytes apart: A, the block's P or
 * dS (rows LD floats apart), packed one micro-panel at a time into pa; b, B panels of all S keys (depth) × m columns.
 * With causal, a tile sums (and packs) the keys up to its last row only (A is 0 past each row's own).
 */
function valuesProduct(src: usize, n: i32, b: usize, m: i32, r0: i32, rows: i32, c: usize, ldc: usize, pa: usize,
                       tmp: usize): void {
  const mr0 = matmul_tile_rows();
  for (let i = 0; i < rows; i += mr0) {
    const mr = min(mr0, rows - i);
    const end = causal ? min(n, r0 + i + mr) : n;
    matmul_pack_a(src + (<usize>(i * LD) << 2), LD, 1, mr, end, pa);
    const ci = c + <usize>i * ldc;
    for (let j = 0; j < m; j += 8) {
      matmul_panel_tile(pa, b + (<usize>(j * S) << 2), m - j > 4, 0, end, ci + (<usize>j << 2), ldc, mr, min(8, m - j),
        false, tmp);
    }
  }
}

/**
 * C[t][j] += Σ_{p<rows} A[p][t]·B[r0 + p][j] for keys t < n, j < m (C: dk or dv, rows m floats apart): A, the
 * block's P or dS (rows LD floats apart), packed transposed one micro-panel of keys at a time into pa; b, B panels of
 * all L query rows × m columns. With causal, a tile of keys from t on sums (and packs) the rows from t on only (A is
 * 0 for the rows before).
 */
function keysProduct(src: usize, rows: i32, b: usize, m: i32, r0: i32, n: i32, c: usize, pa: usize, tmp: usize): void {
  const mr0 = matmul_tile_rows();
  const ldc = <usize>m << 2;
  for (let t = 0; t < n; t += mr0) {
    const mr = min(mr0, n - t);
    const from = causal ? max(0, t - r0) : 0;
    matmul_pack_a(src + (<usize>(from * LD + t) << 2), 1, LD, mr, rows - from, pa);
    const ct = c + <usize>t * ldc;
    for (let j = 0; j < m; j += 8) {
      const wide = m - j > 4;
      const bp = b + (<usize>(j * L) << 2) + <usize>(r0 + from) * (wide ? 32 : 16); // depth r0 + from of the panel
      matmul_panel_tile(pa, bp, wide, 0, rows - from, ct + (<usize>j << 2), ldc, mr, min(8, m - j), true, tmp);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Exports

/** Scratch bytes of a forward (backward = 0) or backward (1) call of this geometry; the same for any item range. */
export function attention_ws_bytes(l: i32, s: i32, e: i32, ev: i32, c: i32, backward: i32): i32 {
  if (l <= 0) return 0;
  setGeometry(l, s, e, ev, 1, c, 0, 0, 0);
  const block = align64(<usize>(R * LD) << 2);
  let bytes = block + align64(<usize>R << 2) + align64(<usize>(matmul_tile_rows() * 8) << 2)
    + align64(matmul_pack_a_bytes(1, max(S, R))) // one micro-panel of P or dS, or of their transposes
    + align64(matmul_pack_a_bytes(L, E)) + align64(matmul_pack_b_bytes(S, E)); // q, kᵀ
  if (backward) {
    bytes += block + align64(matmul_pack_b_bytes(E, S)) + align64(matmul_pack_b_bytes(S, Ev)) // dS, k, vᵀ
      + align64(matmul_pack_a_bytes(L, Ev)) + align64(matmul_pack_b_bytes(Ev, L)) + align64(matmul_pack_b_bytes(E, L));
  } else {
    bytes += align64(matmul_pack_b_bytes(Ev, S)); // v
  }
  return <i32>bytes;
}

/** The next free byte of the call's scratch (ws, 64-byte aligned). */
let wsNext: usize = 0;
/** Takes `bytes` of scratch, 64-byte aligned. */
function take(bytes: usize): usize {
  const p = wsNext;
  wsNext += align64(bytes);
  return p;
}

/**
 * out = softmax(q·kᵀ·scale + mask)·v and lse (each row's log-sum-exp) for items [0, heads), float32 (layouts and
 * mask at the top of this file). ws: attention_ws_bytes(L, S, E, Ev, causal, 0), 64-byte aligned.
 */
export function attention_f32(q: usize, k: usize, v: usize, out: usize, lse: usize, mask: usize, offsets: usize,
                              kind: i32, rowStride: i32, colStride: i32, heads: i32, l: i32, s: i32, e: i32, ev: i32,
                              sc: f64, c: i32, ws: usize): void {
  setGeometry(l, s, e, ev, sc, c, kind, rowStride, colStride);
  wsNext = ws;
  const p = take(<usize>(R * LD) << 2);
  const rowScale = take(<usize>R << 2);
  const tmp = take(<usize>(matmul_tile_rows() * 8) << 2);
  const pa = take(matmul_pack_a_bytes(1, max(S, R)));
  const qa = take(matmul_pack_a_bytes(L, E));
  const kt = take(matmul_pack_b_bytes(S, E));
  const vb = take(matmul_pack_b_bytes(Ev, S));
  for (let h = 0; h < heads; h++) {
    const qh = q + (<usize>h * <usize>(L * E) << 2);
    const kh = k + (<usize>h * <usize>(S * E) << 2);
    const vh = v + (<usize>h * <usize>(S * Ev) << 2);
    const oh = out + (<usize>h * <usize>(L * Ev) << 2);
    const lh = lse + (<usize>h * <usize>L << 2);
    const offset = kind == 0 ? 0 : load<i32>(offsets + (<usize>h << 2));
    matmul_pack_a(qh, E, 1, L, E, qa);
    matmul_pack_b(kh, E, 1, S, E, kt); // kᵀ: key j is column j
    matmul_pack_b(vh, 1, Ev, Ev, S, vb);
    for (let b = 0; b < BLOCKS; b++) {
      const r0 = blockStart(b), r1 = blockStart(b + 1), rows = r1 - r0, n = blockCols(r1);
      scoresProduct(qa + (<usize>(r0 * E) << 2), kt, E, r0, rows, n, p, tmp);
      probabilities(p, n, r0, r1, mask, offset, lh, rowScale, true);
      const ob = oh + (<usize>(r0 * Ev) << 2);
      valuesProduct(p, n, vb, Ev, r0, rows, ob, <usize>Ev << 2, pa, tmp);
      for (let i = 0; i < rows; i++) scaleRow(ob + (<usize>(i * Ev) << 2), Ev, load<f32>(rowScale + (<usize>i << 2)));
    }
  }
}

/**
 * dq, dk, dv (each written when not 0) of attention for items [0, heads), from q, k, v, out, lse and dout, float32.
 * ws: attention_ws_bytes(L, S, E, Ev, causal, 1), 64-byte aligned.
 */
export function attention_grad_f32(q: usize, k: usize, v: usize, out: usize, lse: usize, dout: usize, dq: usize,
                                   dk: usize, dv: usize, mask: usize, offsets: usize, kind: i32, rowStride: i32,
                                   colStride: i32, heads: i32, l: i32, s: i32, e: i32, ev: i32, sc: f64, c: i32,
                                   ws: usize): void {
  setGeometry(l, s, e, ev, sc, c, kind, rowStride, colStride);
  wsNext = ws;
  const p = take(<usize>(R * LD) << 2);
  const d = take(<usize>R << 2);
  const tmp = take(<usize>(matmul_tile_rows() * 8) << 2);
  const pa = take(matmul_pack_a_bytes(1, max(S, R)));
  const qa = take(matmul_pack_a_bytes(L, E));
  const kt = take(matmul_pack_b_bytes(S, E));
  const ds = take(<usize>(R * LD) << 2);
  const kb = take(matmul_pack_b_bytes(E, S));
  const vt = take(matmul_pack_b_bytes(S, Ev));
  const da = take(matmul_pack_a_bytes(L, Ev));
  const db = take(matmul_pack_b_bytes(Ev, L));
  const qb = take(matmul_pack_b_bytes(E, L));
  for (let h = 0; h < heads; h++) {
    const qh = q + (<usize>h * <usize>(L * E) << 2);
    const kh = k + (<usize>h * <usize>(S * E) << 2);
    const vh = v + (<usize>h * <usize>(S * Ev) << 2);
    const oh = out + (<usize>h * <usize>(L * Ev) << 2);
    const doh = dout + (<usize>h * <usize>(L * Ev) << 2);
    const lh = lse + (<usize>h * <usize>L << 2);
    const dkh: usize = dk ? dk + (<usize>h * <usize>(S * E) << 2) : 0;
    const dvh: usize = dv ? dv + (<usize>h * <usize>(S * Ev) << 2) : 0;
    if (dkh) memory.fill(dkh, 0, <usize>(S * E) << 2);
    if (dvh) memory.fill(dvh, 0, <usize>(S * Ev) << 2);
    const offset = kind == 0 ? 0 : load<i32>(offsets + (<usize>h << 2));
    matmul_pack_a(qh, E, 1, L, E, qa);
    matmul_pack_b(kh, E, 1, S, E, kt);
    if (dvh) matmul_pack_b(doh, 1, Ev, Ev, L, db);
    if (dq || dkh) {
      matmul_pack_a(doh, Ev, 1, L, Ev, da);
      matmul_pack_b(vh, Ev, 1, S, Ev, vt); // vᵀ: key j is column j
    }
    if (dq) matmul_pack_b(kh, 1, E, E, S, kb);
    if (dkh) matmul_pack_b(qh, 1, E, E, L, qb);
    for (let b = 0; b < BLOCKS; b++) {
      const r0 = blockStart(b), r1 = blockStart(b + 1), rows = r1 - r0, n = blockCols(r1);
      scoresProduct(qa + (<usize>(r0 * E) << 2), kt, E, r0, rows, n, p, tmp);
      probabilities(p, n, r0, r1, mask, offset, lh, 0, false);
      if (dvh) {
        keysProduct(p, rows, db, Ev, r0, n, dvh, pa, tmp); // dv += Pᵀ·dout
      }
      if (!dq && !dkh) continue;
      for (let i = 0; i < rows; i++) {
        const o = <usize>(i * Ev) << 2;
        const rowAt = <usize>(r0 * Ev) << 2;
        store<f32>(d + (<usize>i << 2), dotRow(doh + rowAt + o, oh + rowAt + o, Ev));
      }
      scoresProduct(da + (<usize>(r0 * Ev) << 2), vt, Ev, r0, rows, n, ds, tmp); // dP = dout·vᵀ
      for (let i = 0; i < rows; i++) {
        const o = <usize>(i * LD) << 2;
        const lim = rowCols(r0 + i, n);
        dsRow(p + o, ds + o, lim, load<f32>(d + (<usize>i << 2)));
        fillRow(ds + o, lim, readCols(r0 + i, n), 0);
      }
      if (dq) {
        const dqb = dq + (<usize>h * <usize>(L * E) << 2) + (<usize>(r0 * E) << 2);
        valuesProduct(ds, n, kb, E, r0, rows, dqb, <usize>E << 2, pa, tmp); // dq = dS·k
      }
      if (dkh) {
        keysProduct(ds, rows, qb, E, r0, n, dkh, pa, tmp); // dk += dSᵀ·q
      }
    }
  }
}
