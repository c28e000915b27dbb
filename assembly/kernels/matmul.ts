// Batched float32 matrix multiply: C[i] = op(A[i])·op(B[i]) (+ bias), row-major, every transpose combination.
// One source for the simd, relaxed (FMA) and scalar builds; see matmul_f32 at the end for the contract.
//
// Blocked path (Goto/BLIS style). The product is cut into blocks of KC depths × MC rows × NC columns; each
// block of op(A) and op(B) is copied ("packed") into the caller's scratch area `ws` as micro-panels:
//   A micro-panel: MR rows × kc, p-major   apanel[p·MR + r] = op(A)[i0 + r][p0 + p]
//   B micro-panel: kc × 8 columns, p-major  bpanel[p·8 + j]  = op(B)[p0 + p][j0 + j]
// so the micro-kernel reads both operands as contiguous streams whatever transA / transB are: a transpose is
// paid once, in the packing, as 4×4 in-register transposes where the source is contiguous along the depth.
// The micro-kernel keeps an MR×8 tile of C in 2·MR f32x4 accumulators; per depth step it loads two B vectors
// and broadcasts MR values of A.
//
// Register budget (V8 gives wasm code 15 usable xmm registers on x64, see notes/facts.md):
//   simd    MR = 5: 10 accumulators + 2 B + 1 A + 1 product temporary (mul, then add) = 14 live values.
//   relaxed MR = 6: 12 accumulators + 2 B + 1 A = 15: relaxed_madd (vfmadd231ps) needs no temporary.
// Micro-kernel alone, L1-resident panels, kc = 256, on the dev machine: simd 4×8 38, 5×8 48, 6×8 25 GFLOP/s
// (spills); relaxed 4×8 45, 5×8 47, 6×8 50 GFLOP/s.
// The scalar build keeps the same packing with MR = 4 and computes 2×4 sub-tiles in f32 locals.
//
// Edges: a column tail of ≤ 4 is packed 4 wide and run by a 4-wide kernel (n = 10 costs 8 + 4 columns, not
// 16); a row tail of ≤ 4 rows (SIMD builds) runs a 4-row kernel that stores only its valid rows from the
// registers; other tails are zero-padded in the panels, computed in full and stored through a small tile in ws,
// so nothing outside C is written and nothing outside A and B is read. When n fits the tiles badly and m does
// not (n = 10, m = 64), Cᵀ = op(B)ᵀ·op(A)ᵀ is computed instead, with the tiles stored transposed. Products of
// ≤ 16 rows read op(B) in place when its rows are contiguous (packing would pay for ≤ 3 uses of each element).
//
// Skinny path (SIMD builds). When m or n is ≤ 8, packing the wide operand costs as much as the product and
// MR-row panels would be mostly padding, so the wide operand is read in place by kernels with ≤ 4 rows.
//
// Dot path (SIMD builds). A·Bᵀ with 9..16 columns and depth ≤ 16384 (a linear layer's forward x·Wᵀ with few
// outputs): both operands are contiguous along the depth, so each element is a dot product of two rows, A read
// in place and B four rows at a time interleaved into ws.

/** Columns of a B micro-panel (two f32x4 vectors). */
const NR: i32 = 8;
/** Rows of an A micro-panel: see the register budget above. */
const MR: i32 = ASC_FEATURE_SIMD ? (ASC_FEATURE_RELAXED_SIMD ? 6 : 5) : 4;
/** Depths per block: a 256×8 B micro-panel is 8 KB and a 6×256 A micro-panel 6 KB, both well inside L1 (32 KB). */
const KC: i32 = 256;
/** Rows of a packed A block (a multiple of 4, 5 and 6): 120×256×4 = 120 KB stays in L2 while B panels stream. */
const MC: i32 = 120;
/** Columns of a packed B block: 256×256×4 = 256 KB, which bounds ws; A is repacked once per NC columns. */
const NC: i32 = 256;
/**
 * Columns of a packed B block when op(A) is over A_WIDE floats (1 MiB, L2 on the dev machine): each repacking
 * then reads op(A) from beyond L2, which cost 1024³ about 3% with NC (op(A) packed four times, not once). Only
 * B's 8 KB micro-panels need L1; the block (1 MB) may stream from L3. The block sizes change no sum.
 */
const NC_WIDE: i32 = 1024;
const A_WIDE: i64 = 1 << 18;
/** Products with at most this many rows or columns take the skinny path (SIMD builds). */
const SKINNY: i32 = 8;

// ---------------------------------------------------------------------------------------------------------
// Helpers

@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

@inline function roundUp(a: i32, b: i32): i32 {
  return ceilDiv(a, b) * b;
}

/** Splits `total` into equal blocks of at most `max`, each a multiple of `unit`, so no block is a thin remainder. */
@inline function blockSize(total: i32, max: i32, unit: i32): i32 {
  return min(roundUp(ceilDiv(total, ceilDiv(total, max)), unit), max);
}

@inline function align64(bytes: usize): usize {
  return (bytes + 63) & ~(<usize>63);
}

/** acc + a·b: one fused vfmadd in the relaxed build, mul then add (two roundings) otherwise. */
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// ---------------------------------------------------------------------------------------------------------
// Packing. A micro-panel of width W is dst[p·W + r] = src[r·sr + p·sp] (r < rows, p < kc; strides in
// elements); rows ≤ r < W are zero. Rows of op(A) and columns of op(B) are both "panel rows" here, so one set
// of packers serves all four transpose combinations:
//   A: sr = transA ? 1 : k,  sp = transA ? m : 1        B: sr = transB ? k : 1,  sp = transB ? 1 : n

/** Any strides, any rows ≤ W: element by element (edges, and the scalar build). */
function packScalar(src: usize, sr: i32, sp: i32, rows: i32, kc: i32, W: i32, dst: usize): void {
  const rs = <usize>sr << 2;
  const ps = <usize>sp << 2;
  for (let p = 0; p < kc; p++) {
    let s = src + <usize>p * ps;
    const d = dst + (<usize>(p * W) << 2);
    let r = 0;
    for (; r < rows; r++) {
      store<f32>(d + (<usize>r << 2), load<f32>(s));
      s += rs;
    }
    for (; r < W; r++) store<f32>(d + (<usize>r << 2), 0);
  }
}

/** sr = 1: each k step is W contiguous source floats, a straight copy. W is a compile-time constant. */
@inline function packCopy(src: usize, sp: i32, kc: i32, W: i32, dst: usize): void {
  const ps = <usize>sp << 2;
  const ds = <usize>W << 2;
  for (let p = 0; p < kc; p++) {
    v128.store(dst, v128.load(src));
    if (W == 5) store<f32>(dst, load<f32>(src, 16), 16);
    if (W == 6) store<u64>(dst, load<u64>(src, 16), 16);
    if (W == 8) v128.store(dst, v128.load(src, 16), 16);
    src += ps;
    dst += ds;
  }
}

/** Four source rows × four k steps → four dst rows of the panel (one 4×4 transpose in registers). */
@inline function transpose4(s: usize, rs: usize, d: usize, ds: usize): void {
  const r0 = v128.load(s);
  const r1 = v128.load(s + rs);
  const r2 = v128.load(s + 2 * rs);
  const r3 = v128.load(s + 3 * rs);
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(d, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(d + ds, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(d + 2 * ds, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(d + 3 * ds, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/** sp = 1: each source row is contiguous along k; transpose 4 k steps at a time. W is a compile-time constant. */
@inline function packTranspose(src: usize, sr: i32, kc: i32, W: i32, dst: usize): void {
  const rs = <usize>sr << 2;
  const ds = <usize>W << 2;
  let p = 0;
  for (; p + 4 <= kc; p += 4) {
    const s = src + (<usize>p << 2);
    const d = dst + <usize>p * ds;
    transpose4(s, rs, d, ds);
    if (W == 8) transpose4(s + 4 * rs, rs, d + 16, ds);
    if (W == 5) {
      // Row 4: one lane per k step into column 4.
      const x = v128.load(s + 4 * rs);
      v128.store32_lane(d, x, 0, 16);
      v128.store32_lane(d + ds, x, 1, 16);
      v128.store32_lane(d + 2 * ds, x, 2, 16);
      v128.store32_lane(d + 3 * ds, x, 3, 16);
    }
    if (W == 6) {
      // Rows 4 and 5: interleave, then one 64-bit lane (two floats) per k step into columns 4..5.
      const x = v128.load(s + 4 * rs);
      const y = v128.load(s + 5 * rs);
      const lo = f32x4.shuffle(x, y, 0, 4, 1, 5);
      const hi = f32x4.shuffle(x, y, 2, 6, 3, 7);
      v128.store64_lane(d, lo, 0, 16);
      v128.store64_lane(d + ds, lo, 1, 16);
      v128.store64_lane(d + 2 * ds, hi, 0, 16);
      v128.store64_lane(d + 3 * ds, hi, 1, 16);
    }
  }
  if (p < kc) packScalar(src + (<usize>p << 2), sr, 1, W, kc - p, W, dst + <usize>p * ds);
}

/** One micro-panel of width W (a compile-time constant at every call site). */
@inline function packPanel(src: usize, sr: i32, sp: i32, rows: i32, kc: i32, W: i32, dst: usize): void {
  if (ASC_FEATURE_SIMD) {
    if (rows == W) {
      if (sp == 1) {
        packTranspose(src, sr, kc, W, dst);
        return;
      }
      if (sr == 1) {
        packCopy(src, sp, kc, W, dst);
        return;
      }
    }
  }
  packScalar(src, sr, sp, rows, kc, W, dst);
}

/** Packs rows [0, mc) × depth [0, kc) of op(A) (src already offset to the block) as MR-row micro-panels. */
function packA(src: usize, sr: i32, sp: i32, mc: i32, kc: i32, dst: usize): void {
  const panelBytes = <usize>(MR * kc) << 2;
  for (let i = 0; i < mc; i += MR) {
    packPanel(src + (<usize>(i * sr) << 2), sr, sp, min(MR, mc - i), kc, MR, dst);
    dst += panelBytes;
  }
}

/** Packs depth [0, kc) × columns [0, nc) of op(B) as 8-column micro-panels; a tail of ≤ 4 columns is 4 wide. */
function packB(src: usize, sr: i32, sp: i32, nc: i32, kc: i32, dst: usize): void {
  let j = 0;
  if (ASC_FEATURE_SIMD && sr == 1) {
    // Rows of op(B) contiguous: two panels per pass, so each depth row's 64-byte line is read once. One panel
    // per pass read only half of it, and with rows a multiple of 1 KB apart (n = 256, 512, 1024) L1 had evicted
    // the line again by the next panel's pass (the rows share a few cache sets).
    const panelBytes = <usize>(NR * kc) << 2;
    const ps = <usize>sp << 2;
    for (; j + 2 * NR <= nc; j += 2 * NR) {
      let s = src + (<usize>j << 2);
      let d = dst;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        v128.store(d + panelBytes, v128.load(s, 32));
        v128.store(d + panelBytes, v128.load(s, 48), 16);
        s += ps;
        d += 32;
      }
      dst += 2 * panelBytes;
    }
  }
  for (; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const s = src + (<usize>(j * sr) << 2);
    if (cols > 4) {
      packPanel(s, sr, sp, cols, kc, 8, dst);
    } else {
      packPanel(s, sr, sp, cols, kc, 4, dst);
    }
    dst += <usize>(NR * kc) << 2;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Storing tiles. The first depth block writes C = tile (+ bias); later depth blocks add to C.

// The SGD epilogue of matmul_sgd_f32: while it runs, every element stored to C (its only depth block, so the
// final value) is also applied to the parameter P at the same offset, P += C·(−lr), the operations of sgd_f32's
// plain update in its order (mul, then add; no FMA), so the bits are those of the two calls. 0: no epilogue.
let sgdShift: usize = 0;
let sgdNegLr: f32 = 0;

/**
 * Tile rows r < mr, columns j < nr from `tile` (row stride W floats) into C, element by element: C = tile
 * (+ bias) or, with accumulate, C += tile. With transC the tile is a block of Cᵀ (see swapOrientation): tile
 * row r is column r of C, and the bias follows the tile rows.
 */
function storeTile(tile: usize, W: i32, c: usize, ldc: usize, transC: bool, mr: i32, nr: i32,
                   bias: usize, accumulate: bool): void {
  const rowStep: usize = transC ? 4 : ldc;
  const colStep: usize = transC ? ldc : 4;
  for (let r = 0; r < mr; r++) {
    const t = tile + (<usize>(r * W) << 2);
    const cr = c + <usize>r * rowStep;
    for (let j = 0; j < nr; j++) {
      const cj = cr + <usize>j * colStep;
      let v = load<f32>(t + (<usize>j << 2));
      if (accumulate) v += load<f32>(cj);
      else if (bias) v += load<f32>(bias + (<usize>(transC ? r : j) << 2));
      store<f32>(cj, v);
      if (sgdShift) {
        const q = cj + sgdShift;
        store<f32>(q, load<f32>(q) + v * sgdNegLr);
      }
    }
  }
}

/** One f32x4 of a full tile: C = v + bias, or C += v. */
@inline function storeVec(c: usize, v: v128, b: v128, accumulate: bool, shift: usize): void {
  const s = accumulate ? f32x4.add(v, v128.load(c)) : f32x4.add(v, b);
  v128.store(c, s);
  if (shift) {
    const q = c + shift;
    v128.store(q, f32x4.add(v128.load(q), f32x4.mul(s, f32x4.splat(sgdNegLr))));
  }
}

/** One 8-float row of a full tile. */
@inline function storeRow8(c: usize, v0: v128, v1: v128, b0: v128, b1: v128, accumulate: bool, shift: usize): void {
  storeVec(c, v0, b0, accumulate, shift);
  storeVec(c + 16, v1, b1, accumulate, shift);
}

// ---------------------------------------------------------------------------------------------------------
// Micro-kernels of the blocked path. Each one is a function of its own: inlined into a loop, V8 allocated
// its accumulators worse (measured 21 instead of 46 GFLOP/s at 256³).

/**
 * Tile of MR×8: C[0..mr)[0..nr) (=|+=) Σp apanel[p][r]·bpanel[p][j]. Full tiles are stored straight from
 * the registers; partial ones go through `tmp` (MR×8 floats of ws) and storeTile.
 */
function tile8(ap: usize, bp: usize, ldb: usize, kc: i32, c: usize, ldc: usize, transC: bool, mr: i32, nr: i32,
               bias: usize, accumulate: bool, tmp: usize): void {
  // The SGD epilogue (matmul_sgd_f32), read once per tile rather than at every store.
  const shift = sgdShift;
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(c00, a, b0); c01 = madd(c01, a, b1);
    a = v128.load32_splat(ap, 4);
    c10 = madd(c10, a, b0); c11 = madd(c11, a, b1);
    a = v128.load32_splat(ap, 8);
    c20 = madd(c20, a, b0); c21 = madd(c21, a, b1);
    a = v128.load32_splat(ap, 12);
    c30 = madd(c30, a, b0); c31 = madd(c31, a, b1);
    if (MR > 4) {
      a = v128.load32_splat(ap, 16);
      c40 = madd(c40, a, b0); c41 = madd(c41, a, b1);
    }
    if (MR > 5) {
      a = v128.load32_splat(ap, 20);
      c50 = madd(c50, a, b0); c51 = madd(c51, a, b1);
    }
    ap += <usize>MR << 2;
    bp += ldb;
  }
  if (!transC && mr == MR && nr == 8) {
    // Full tile: straight from the registers. One branch on `accumulate` for the whole tile (it is the
    // same for every tile of a depth block).
    if (accumulate) {
      storeRow8(c, c00, c01, z, z, true, shift); c += ldc;
      storeRow8(c, c10, c11, z, z, true, shift); c += ldc;
      storeRow8(c, c20, c21, z, z, true, shift); c += ldc;
      storeRow8(c, c30, c31, z, z, true, shift);
      if (MR > 4) { c += ldc; storeRow8(c, c40, c41, z, z, true, shift); }
      if (MR > 5) { c += ldc; storeRow8(c, c50, c51, z, z, true, shift); }
    } else {
      let bias0 = z, bias1 = z;
      if (bias) {
        bias0 = v128.load(bias);
        bias1 = v128.load(bias, 16);
      }
      storeRow8(c, c00, c01, bias0, bias1, false, shift); c += ldc;
      storeRow8(c, c10, c11, bias0, bias1, false, shift); c += ldc;
      storeRow8(c, c20, c21, bias0, bias1, false, shift); c += ldc;
      storeRow8(c, c30, c31, bias0, bias1, false, shift);
      if (MR > 4) { c += ldc; storeRow8(c, c40, c41, bias0, bias1, false, shift); }
      if (MR > 5) { c += ldc; storeRow8(c, c50, c51, bias0, bias1, false, shift); }
    }
  } else {
    v128.store(tmp, c00, 0); v128.store(tmp, c01, 16);
    v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
    v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
    v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
    if (MR > 4) { v128.store(tmp, c40, 128); v128.store(tmp, c41, 144); }
    if (MR > 5) { v128.store(tmp, c50, 160); v128.store(tmp, c51, 176); }
    storeTile(tmp, 8, c, ldc, transC, mr, nr, bias, accumulate);
  }
}

/** Tile of MR×4 against a 4-wide B micro-panel (column tail of ≤ 4). */
function tile4(ap: usize, bp: usize, ldb: usize, kc: i32, c: usize, ldc: usize, transC: bool, mr: i32, nr: i32,
               bias: usize, accumulate: bool, tmp: usize): void {
  // The SGD epilogue (matmul_sgd_f32), read once per tile rather than at every store.
  const shift = sgdShift;
  const z = f32x4.splat(0);
  let c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
  for (let p = 0; p < kc; p++) {
    const b = v128.load(bp);
    c0 = madd(c0, v128.load32_splat(ap), b);
    c1 = madd(c1, v128.load32_splat(ap, 4), b);
    c2 = madd(c2, v128.load32_splat(ap, 8), b);
    c3 = madd(c3, v128.load32_splat(ap, 12), b);
    if (MR > 4) c4 = madd(c4, v128.load32_splat(ap, 16), b);
    if (MR > 5) c5 = madd(c5, v128.load32_splat(ap, 20), b);
    ap += <usize>MR << 2;
    bp += ldb;
  }
  if (!transC && mr == MR && nr == 4) {
    if (accumulate) {
      storeVec(c, c0, z, true, shift); c += ldc;
      storeVec(c, c1, z, true, shift); c += ldc;
      storeVec(c, c2, z, true, shift); c += ldc;
      storeVec(c, c3, z, true, shift);
      if (MR > 4) { c += ldc; storeVec(c, c4, z, true, shift); }
      if (MR > 5) { c += ldc; storeVec(c, c5, z, true, shift); }
    } else {
      const b = bias ? v128.load(bias) : z;
      storeVec(c, c0, b, false, shift); c += ldc;
      storeVec(c, c1, b, false, shift); c += ldc;
      storeVec(c, c2, b, false, shift); c += ldc;
      storeVec(c, c3, b, false, shift);
      if (MR > 4) { c += ldc; storeVec(c, c4, b, false, shift); }
      if (MR > 5) { c += ldc; storeVec(c, c5, b, false, shift); }
    }
  } else {
    v128.store(tmp, c0, 0); v128.store(tmp, c1, 16); v128.store(tmp, c2, 32); v128.store(tmp, c3, 48);
    if (MR > 4) v128.store(tmp, c4, 64);
    if (MR > 5) v128.store(tmp, c5, 80);
    storeTile(tmp, 4, c, ldc, transC, mr, nr, bias, accumulate);
  }
}

/**
 * Row tails of ≤ 4 rows (SIMD builds, MR > 4): 4 rows × 8 columns of an MR-row A micro-panel, so no padding rows
 * are computed, and the mr ≤ 4 valid rows are stored straight from the registers (C not transposed, nr = 8).
 * Each element is summed in the same order as in tile8, so the result is bit-identical to it.
 */
function tail8(ap: usize, bp: usize, ldb: usize, kc: i32, c: usize, ldc: usize, mr: i32, bias: usize,
               accumulate: bool): void {
  // The SGD epilogue (matmul_sgd_f32), read once per tile rather than at every store.
  const shift = sgdShift;
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(c00, a, b0); c01 = madd(c01, a, b1);
    a = v128.load32_splat(ap, 4);
    c10 = madd(c10, a, b0); c11 = madd(c11, a, b1);
    a = v128.load32_splat(ap, 8);
    c20 = madd(c20, a, b0); c21 = madd(c21, a, b1);
    a = v128.load32_splat(ap, 12);
    c30 = madd(c30, a, b0); c31 = madd(c31, a, b1);
    ap += <usize>MR << 2;
    bp += ldb;
  }
  let bias0 = z, bias1 = z;
  if (!accumulate && bias) {
    bias0 = v128.load(bias);
    bias1 = v128.load(bias, 16);
  }
  storeRow8(c, c00, c01, bias0, bias1, accumulate, shift);
  if (mr > 1) storeRow8(c + ldc, c10, c11, bias0, bias1, accumulate, shift);
  if (mr > 2) storeRow8(c + 2 * ldc, c20, c21, bias0, bias1, accumulate, shift);
  if (mr > 3) storeRow8(c + 3 * ldc, c30, c31, bias0, bias1, accumulate, shift);
}

/** tail8 against a 4-wide B micro-panel (nr = 4). */
function tail4(ap: usize, bp: usize, ldb: usize, kc: i32, c: usize, ldc: usize, mr: i32, bias: usize,
               accumulate: bool): void {
  // The SGD epilogue (matmul_sgd_f32), read once per tile rather than at every store.
  const shift = sgdShift;
  const z = f32x4.splat(0);
  let c0 = z, c1 = z, c2 = z, c3 = z;
  for (let p = 0; p < kc; p++) {
    const b = v128.load(bp);
    c0 = madd(c0, v128.load32_splat(ap), b);
    c1 = madd(c1, v128.load32_splat(ap, 4), b);
    c2 = madd(c2, v128.load32_splat(ap, 8), b);
    c3 = madd(c3, v128.load32_splat(ap, 12), b);
    ap += <usize>MR << 2;
    bp += ldb;
  }
  const b = !accumulate && bias ? v128.load(bias) : z;
  storeVec(c, c0, b, accumulate, shift);
  if (mr > 1) storeVec(c + ldc, c1, b, accumulate, shift);
  if (mr > 2) storeVec(c + 2 * ldc, c2, b, accumulate, shift);
  if (mr > 3) storeVec(c + 3 * ldc, c3, b, accumulate, shift);
}

// Scalar build: the same packed panels, 2×4 sub-tiles of f32 accumulators (8 values + 2 A + 4 B fit the
// register file), written to `tmp` and stored by storeTile.
function tileScalar(ap: usize, bp: usize, kc: i32, W: i32, c: usize, ldc: usize, transC: bool, mr: i32, nr: i32,
                    bias: usize, accumulate: bool, tmp: usize): void {
  for (let r = 0; r < mr; r += 2) {
    for (let j = 0; j < nr; j += 4) {
      let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0;
      let s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
      let a = ap + (<usize>r << 2);
      let b = bp + (<usize>j << 2);
      for (let p = 0; p < kc; p++) {
        const a0 = load<f32>(a), a1 = load<f32>(a, 4);
        const b0 = load<f32>(b), b1 = load<f32>(b, 4), b2 = load<f32>(b, 8), b3 = load<f32>(b, 12);
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        a += <usize>MR << 2;
        b += <usize>W << 2;
      }
      const t = tmp + (<usize>(r * W + j) << 2);
      store<f32>(t, s00, 0); store<f32>(t, s01, 4); store<f32>(t, s02, 8); store<f32>(t, s03, 12);
      const t1 = t + (<usize>W << 2);
      store<f32>(t1, s10, 0); store<f32>(t1, s11, 4); store<f32>(t1, s12, 8); store<f32>(t1, s13, 12);
    }
  }
  storeTile(tmp, W, c, ldc, transC, mr, nr, bias, accumulate);
}

// ---------------------------------------------------------------------------------------------------------
// Blocked path

/** Block sizes: balanced, ≤ KC / MC / NC (NC_WIDE when op(A), m×k, is over A_WIDE), rows a multiple of MR and columns of NR. */
@inline function depthBlock(k: i32): i32 {
  return blockSize(k, KC, 1);
}
@inline function rowBlock(m: i32): i32 {
  return blockSize(m, MC, MR);
}
@inline function colBlock(n: i32, m: i32, k: i32): i32 {
  return blockSize(n, <i64>m * k > A_WIDE ? NC_WIDE : NC, NR);
}

/** Products with at most this many rows (in the orientation computed) read op(B) in place (SIMD builds). */
const B_IN_PLACE_ROWS: i32 = 16;

/**
 * Runs every micro-kernel of one packed (mc × kc) A block against one (kc × nc) B block. c is the block's first
 * element of C (of Cᵀ when transC) and bias its first bias element (0: none). B is packed in bpack, or, when
 * bsrc ≠ 0, read in place from bsrc (the block's first column, depth rows ldbSrc bytes apart) for its 8- and
 * 4-column panels, with only a 5..7- or 1..3-column tail panel packed (at bpack).
 */
function macroKernel(apack: usize, bpack: usize, bsrc: usize, ldbSrc: usize, mc: i32, nc: i32, kc: i32, c: usize,
                     ldc: usize, transC: bool, bias: usize, accumulate: bool, tmp: usize): void {
  const aPanelBytes = <usize>(MR * kc) << 2;
  const bPanelBytes = <usize>(NR * kc) << 2;
  const rowStep: usize = transC ? 4 : ldc;
  const colStep: usize = transC ? ldc : 4;
  for (let j = 0; j < nc; j += NR) {
    const nr = min(NR, nc - j);
    const wide = nr > 4;
    let bp = bpack + <usize>(j / NR) * bPanelBytes;
    let ldb: usize = wide ? 32 : 16;
    if (bsrc) {
      if (nr == 8 || nr == 4) {
        bp = bsrc + (<usize>j << 2);
        ldb = ldbSrc;
      } else {
        bp = bpack;
      }
    }
    const cj = c + <usize>j * colStep;
    // The B micro-panel (≤ 8 KB) stays in L1 while the A micro-panels of the block stream past it.
    for (let i = 0; i < mc; i += MR) {
      const mr = min(MR, mc - i);
      const ap = apack + <usize>(i / MR) * aPanelBytes;
      const ci = cj + <usize>i * rowStep;
      // The bias runs along the columns of C: the tile's columns, or its rows when transC.
      const bt: usize = bias == 0 ? 0 : bias + (<usize>(transC ? i : j) << 2);
      if (ASC_FEATURE_SIMD) {
        // A row tail of ≤ 4 rows with whole columns: 4 rows, stored from the registers.
        const tail = MR > 4 && mr <= 4 && !transC;
        if (tail && nr == 8) tail8(ap, bp, ldb, kc, ci, ldc, mr, bt, accumulate);
        else if (tail && nr == 4) tail4(ap, bp, ldb, kc, ci, ldc, mr, bt, accumulate);
        else if (wide) tile8(ap, bp, ldb, kc, ci, ldc, transC, mr, nr, bt, accumulate, tmp);
        else tile4(ap, bp, ldb, kc, ci, ldc, transC, mr, nr, bt, accumulate, tmp);
      } else {
        tileScalar(ap, bp, kc, wide ? 8 : 4, ci, ldc, transC, mr, nr, bt, accumulate, tmp);
      }
    }
  }
}

/**
 * The blocked product for every batch item, in the orientation chosen by matmul_f32: op(A)[i][p] at
 * a + (i·aRow + p·aDepth)·4 (M rows), op(B)[p][j] at b + (p·bDepth + j·bCol)·4 (N columns), the result tile at
 * (i, j) goes to C[i][j] (C[j][i] when transC); C items are cBytes apart with rows ldc bytes apart.
 */
function gemm(a: usize, aRow: i32, aDepth: i32, strideA: i32, b: usize, bCol: i32, bDepth: i32, strideB: i32,
              c: usize, cBytes: usize, ldc: usize, transC: bool, bias: usize,
              M: i32, N: i32, k: i32, batch: i32, ws: usize): void {
  const kcMax = depthBlock(k);
  const mcMax = rowBlock(M);
  const ncMax = colBlock(N, M, k);
  const apack = ws;
  const bpack = apack + align64(<usize>(roundUp(mcMax, MR) * kcMax) << 2);
  const tmp = bpack + align64(<usize>(kcMax * roundUp(ncMax, NR)) << 2);
  const rowStep: usize = transC ? 4 : ldc;
  const colStep: usize = transC ? ldc : 4;
  // With one block in every dimension, a broadcast operand (stride 0) is packed once for the whole batch.
  const oneBlock = kcMax >= k && mcMax >= M && ncMax >= N;
  // Few rows use each packed B element only ceil(M / MR) ≤ 3 times: when op(B)'s rows are contiguous, the
  // micro-kernels read them in place instead (measured with the 4-row tails: 10×128×64 gᵀ·h, the 10-class layer's
  // weight gradient, ×1.5 relaxed).
  const inPlace = ASC_FEATURE_SIMD && M <= B_IN_PLACE_ROWS && bCol == 1;
  const ldbSrc = <usize>bDepth << 2;

  for (let t = 0; t < batch; t++) {
    const at = a + (<usize>t * <usize>strideA << 2);
    const bt = b + (<usize>t * <usize>strideB << 2);
    const ct = c + <usize>t * cBytes;
    for (let j0 = 0; j0 < N; j0 += ncMax) {
      const nc = min(ncMax, N - j0);
      for (let p0 = 0; p0 < k; p0 += kcMax) {
        const kc = min(kcMax, k - p0);
        // The first depth block writes C (+ bias), the later ones add to it.
        const first = p0 == 0;
        const bBlock = bt + (<usize>(p0 * bDepth + j0 * bCol) << 2);
        let bsrc: usize = 0;
        if (inPlace) {
          bsrc = bBlock;
          // Only a tail panel that is neither 8 nor 4 columns wide is packed (reading it in place would read
          // past the end of a row, and of B).
          const tail = nc & 7;
          if (tail != 0 && tail != 4) packB(bBlock + (<usize>(nc - tail) << 2), bCol, bDepth, tail, kc, bpack);
        } else if (!(oneBlock && strideB == 0 && t > 0)) {
          packB(bBlock, bCol, bDepth, nc, kc, bpack);
        }
        for (let i0 = 0; i0 < M; i0 += mcMax) {
          const mc = min(mcMax, M - i0);
          if (!(oneBlock && strideA == 0 && t > 0)) {
            packA(at + (<usize>(i0 * aRow + p0 * aDepth) << 2), aRow, aDepth, mc, kc, apack);
          }
          const biasBlock: usize = first && bias != 0 ? bias + (<usize>(transC ? i0 : j0) << 2) : 0;
          const cBlock = ct + <usize>i0 * rowStep + <usize>j0 * colStep;
          macroKernel(apack, bpack, bsrc, ldbSrc, mc, nc, kc, cBlock, ldc, transC, biasBlock, !first, tmp);
        }
      }
    }
  }
}

/** Scratch bytes for the blocks of an M×N×k product: packed A block, packed B block, one MR×8 tile. */
function wsLayoutBytes(M: i32, N: i32, k: i32): usize {
  const kc = depthBlock(k);
  return align64(<usize>(roundUp(rowBlock(M), MR) * kc) << 2)
    + align64(<usize>(kc * roundUp(colBlock(N, M, k), NR)) << 2)
    + align64(<usize>(MR * NR) << 2);
}

/**
 * Tile work for an m×n product, in quarter 8-wide tiles: a 4-wide tail tile costs about 3/4 of an 8-wide
 * one, a wider tail a full one, and rows are padded to MR.
 */
function tileWork(m: i32, n: i32): i32 {
  const tail = n & 7;
  return ceilDiv(m, MR) * ((n >> 3) * 4 + (tail == 0 ? 0 : tail <= 4 ? 3 : 4));
}

/**
 * Whether to compute Cᵀ = op(B)ᵀ·op(A)ᵀ (the "swapped" orientation) instead of C: it pays when n fits the
 * 8-wide tiles badly and m does not (n = 10, m = 64: 13 row panels × (8 + 4) columns, against 2 × 64 columns).
 * Its tiles are stored transposed, element by element, which costs about as much as 36 depth steps of a tile
 * against 16 for a straight store (fitted to timings of 64×10×k products, k = 10 … 128).
 */
function swapOrientation(m: i32, n: i32, k: i32): bool {
  const kc = depthBlock(k);
  return <i64>tileWork(n, m) * (kc + 36) < <i64>tileWork(m, n) * (kc + 16);
}

// ---------------------------------------------------------------------------------------------------------
// Skinny products: at most SKINNY rows in the orientation computed (a batch-1 forward x·Wᵀ, a layer with one
// output, matrix·vector). The wide operand B' is read where it lies, in one of two forms:
//   axpy form, B' rows contiguous (bCol = 1):      C'[r][j..j+8) += A'[r][p] · B'[p][j..j+8)
//   dot form, B' columns contiguous (bDepth = 1):  C'[r][j] = Σ ⟨A'[r][p..p+4), B'[p..p+4)[j]⟩, summed at the end,
//   with A' (≤ 4 rows) copied depth-contiguous into ws, KC depths at a time, so its rows load as vectors too.
// Rows go in groups of 4; kernels with 4 rows run a group of M < 4 too: missing rows re-read row 0 (axpy) or
// are zero (dot), and are not stored.

/** Columns [j, j + cols) of C' for rows r < M from `tile` (row stride 16 floats). */
@inline function storeColumns(tile: usize, M: i32, j: i32, cols: i32, c: usize, ldc: usize, transC: bool,
                              bias: usize, accumulate: bool): void {
  const colStep: usize = transC ? ldc : 4;
  const biasCols: usize = !transC && bias != 0 ? bias + (<usize>j << 2) : bias;
  storeTile(tile, 16, c + <usize>j * colStep, ldc, transC, M, cols, biasCols, accumulate);
}

/**
 * Axpy form with one row: C'[0][0..N) = Σp x[p]·B'[p][0..N) (+ bias). With one row, C' is contiguous in either
 * orientation (it is a row of C, or C itself when n = 1), so it is accumulated in place, four depths per pass:
 * B' then streams row after row and the row of C' stays in L1.
 */
function axpyRow(x: usize, xStepB: usize, b: usize, bDepB: usize, N: i32, k: i32, c: usize, transC: bool,
                 bias: usize): void {
  const cBytes = <usize>N << 2;
  if (bias == 0) memory.fill(c, 0, cBytes);
  else if (!transC) memory.copy(c, bias, cBytes);
  else for (let j = 0; j < N; j++) store<f32>(c + (<usize>j << 2), load<f32>(bias));
  const n4 = <usize>(N & ~3) << 2;
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const x0 = v128.load32_splat(x);
    const x1 = v128.load32_splat(x + xStepB);
    const x2 = v128.load32_splat(x + 2 * xStepB);
    const x3 = v128.load32_splat(x + 3 * xStepB);
    const b1 = b + bDepB, b2 = b + 2 * bDepB, b3 = b + 3 * bDepB;
    let o: usize = 0;
    for (; o < n4; o += 16) {
      let v = madd(v128.load(c + o), x0, v128.load(b + o));
      v = madd(v, x1, v128.load(b1 + o));
      v = madd(v, x2, v128.load(b2 + o));
      v128.store(c + o, madd(v, x3, v128.load(b3 + o)));
    }
    for (; o < cBytes; o += 4) {
      const v = load<f32>(c + o) + load<f32>(x) * load<f32>(b + o) + load<f32>(x + xStepB) * load<f32>(b1 + o)
        + load<f32>(x + 2 * xStepB) * load<f32>(b2 + o) + load<f32>(x + 3 * xStepB) * load<f32>(b3 + o);
      store<f32>(c + o, v);
    }
    x += 4 * xStepB;
    b += 4 * bDepB;
  }
  for (; p < k; p++) {
    const x0 = v128.load32_splat(x);
    let o: usize = 0;
    for (; o < n4; o += 16) v128.store(c + o, madd(v128.load(c + o), x0, v128.load(b + o)));
    for (; o < cBytes; o += 4) store<f32>(c + o, load<f32>(c + o) + load<f32>(x) * load<f32>(b + o));
    x += xStepB;
    b += bDepB;
  }
}

/** Axpy form, four rows × 8 columns. */
function axpy4x8(a: usize, aRowB: usize, aDepB: usize, M: i32, b: usize, bDepB: usize, kc: i32, tile: usize): void {
  const a1 = M > 1 ? a + aRowB : a;
  const a2 = M > 2 ? a + 2 * aRowB : a;
  const a3 = M > 3 ? a + 3 * aRowB : a;
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  let o: usize = 0;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a + o);
    c00 = madd(c00, x, b0); c01 = madd(c01, x, b1);
    x = v128.load32_splat(a1 + o);
    c10 = madd(c10, x, b0); c11 = madd(c11, x, b1);
    x = v128.load32_splat(a2 + o);
    c20 = madd(c20, x, b0); c21 = madd(c21, x, b1);
    x = v128.load32_splat(a3 + o);
    c30 = madd(c30, x, b0); c31 = madd(c31, x, b1);
    o += aDepB;
    b += bDepB;
  }
  v128.store(tile, c00, 0); v128.store(tile, c01, 16);
  v128.store(tile, c10, 64); v128.store(tile, c11, 80);
  v128.store(tile, c20, 128); v128.store(tile, c21, 144);
  v128.store(tile, c30, 192); v128.store(tile, c31, 208);
}

/** Axpy form, four rows × 4 columns (column tails). */
function axpy4x4(a: usize, aRowB: usize, aDepB: usize, M: i32, b: usize, bDepB: usize, kc: i32, tile: usize): void {
  const a1 = M > 1 ? a + aRowB : a;
  const a2 = M > 2 ? a + 2 * aRowB : a;
  const a3 = M > 3 ? a + 3 * aRowB : a;
  const z = f32x4.splat(0);
  let c0 = z, c1 = z, c2 = z, c3 = z;
  let o: usize = 0;
  for (let p = 0; p < kc; p++) {
    const y = v128.load(b);
    c0 = madd(c0, v128.load32_splat(a + o), y);
    c1 = madd(c1, v128.load32_splat(a1 + o), y);
    c2 = madd(c2, v128.load32_splat(a2 + o), y);
    c3 = madd(c3, v128.load32_splat(a3 + o), y);
    o += aDepB;
    b += bDepB;
  }
  v128.store(tile, c0, 0); v128.store(tile, c1, 64); v128.store(tile, c2, 128); v128.store(tile, c3, 192);
}

/** Dot form, one packed row × 4 columns (B' columns bColB bytes apart, contiguous along the depth). */
function dot1x4(apk: usize, b: usize, bColB: usize, kc: i32, tile: usize): void {
  const z = f32x4.splat(0);
  let s0 = z, s1 = z, s2 = z, s3 = z;
  const kc4 = kc & ~3;
  let o: usize = 0;
  for (let p = 0; p < kc4; p += 4) {
    const x = v128.load(apk + o);
    s0 = madd(s0, x, v128.load(b + o));
    s1 = madd(s1, x, v128.load(b + bColB + o));
    s2 = madd(s2, x, v128.load(b + 2 * bColB + o));
    s3 = madd(s3, x, v128.load(b + 3 * bColB + o));
    o += 16;
  }
  let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
  for (let p = kc4; p < kc; p++) {
    const at = <usize>p << 2;
    const x = load<f32>(apk + at);
    t0 += x * load<f32>(b + at);
    t1 += x * load<f32>(b + bColB + at);
    t2 += x * load<f32>(b + 2 * bColB + at);
    t3 += x * load<f32>(b + 3 * bColB + at);
  }
  store<f32>(tile, t0, 0); store<f32>(tile, t1, 4); store<f32>(tile, t2, 8); store<f32>(tile, t3, 12);
}

/** Dot form, four packed rows (kcPad floats apart) × 2 columns. */
function dot4x2(apk: usize, kcPadB: usize, b: usize, bColB: usize, kc: i32, tile: usize): void {
  const z = f32x4.splat(0);
  let c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  const b1p = b + bColB;
  const kc4 = kc & ~3;
  let o: usize = 0;
  for (let p = 0; p < kc4; p += 4) {
    const y0 = v128.load(b + o);
    const y1 = v128.load(b1p + o);
    let x = v128.load(apk + o);
    c00 = madd(c00, x, y0); c01 = madd(c01, x, y1);
    x = v128.load(apk + kcPadB + o);
    c10 = madd(c10, x, y0); c11 = madd(c11, x, y1);
    x = v128.load(apk + 2 * kcPadB + o);
    c20 = madd(c20, x, y0); c21 = madd(c21, x, y1);
    x = v128.load(apk + 3 * kcPadB + o);
    c30 = madd(c30, x, y0); c31 = madd(c31, x, y1);
    o += 16;
  }
  let t00 = hsum(c00), t01 = hsum(c01), t10 = hsum(c10), t11 = hsum(c11);
  let t20 = hsum(c20), t21 = hsum(c21), t30 = hsum(c30), t31 = hsum(c31);
  for (let p = kc4; p < kc; p++) {
    const at = <usize>p << 2;
    const y0 = load<f32>(b + at), y1 = load<f32>(b1p + at);
    let x = load<f32>(apk + at);
    t00 += x * y0; t01 += x * y1;
    x = load<f32>(apk + kcPadB + at);
    t10 += x * y0; t11 += x * y1;
    x = load<f32>(apk + 2 * kcPadB + at);
    t20 += x * y0; t21 += x * y1;
    x = load<f32>(apk + 3 * kcPadB + at);
    t30 += x * y0; t31 += x * y1;
  }
  store<f32>(tile, t00, 0); store<f32>(tile, t01, 4);
  store<f32>(tile, t10, 64); store<f32>(tile, t11, 68);
  store<f32>(tile, t20, 128); store<f32>(tile, t21, 132);
  store<f32>(tile, t30, 192); store<f32>(tile, t31, 196);
}

/** Column j of C' for rows r < M over kc depths, element by element (the last < 4 columns). */
function skinnyColumnScalar(a: usize, aRowB: usize, aDepB: usize, M: i32, b: usize, bDepB: usize, kc: i32,
                            tile: usize): void {
  for (let r = 0; r < M; r++) {
    let s: f32 = 0;
    let x = a + <usize>r * aRowB;
    let y = b;
    for (let p = 0; p < kc; p++) {
      s += load<f32>(x) * load<f32>(y);
      x += aDepB;
      y += bDepB;
    }
    store<f32>(tile + (<usize>(r * 16) << 2), s);
  }
}

/**
 * M ≤ 4 rows of a skinny product. The axpy form needs no packing and runs the whole depth at once; the dot
 * form copies A' into ws KC depths at a time and adds the later blocks into C. Results go through a 4×16
 * tile in ws and storeTile.
 */
function skinnyRows(a: usize, aRow: i32, aDepth: i32, b: usize, bCol: i32, bDepth: i32, c: usize, ldc: usize,
                    transC: bool, bias: usize, M: i32, N: i32, k: i32, ws: usize): void {
  const aRowB = <usize>aRow << 2, aDepB = <usize>aDepth << 2;
  const bColB = <usize>bCol << 2, bDepB = <usize>bDepth << 2;
  const tile = ws;
  if (bCol == 1) {
    if (M == 1 && (!transC || ldc == 4)) {
      axpyRow(a, aDepB, b, bDepB, N, k, c, transC, bias);
      return;
    }
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      axpy4x8(a, aRowB, aDepB, M, b + (<usize>j << 2), bDepB, k, tile);
      storeColumns(tile, M, j, 8, c, ldc, transC, bias, false);
    }
    for (; j + 4 <= N; j += 4) {
      axpy4x4(a, aRowB, aDepB, M, b + (<usize>j << 2), bDepB, k, tile);
      storeColumns(tile, M, j, 4, c, ldc, transC, bias, false);
    }
    for (; j < N; j++) {
      skinnyColumnScalar(a, aRowB, aDepB, M, b + (<usize>j << 2), bDepB, k, tile);
      storeColumns(tile, M, j, 1, c, ldc, transC, bias, false);
    }
    return;
  }
  // Dot form (bDepth == 1). apk: 4 rows of kcPad floats; rows ≥ M and depths ≥ kc are zero.
  const apk = ws + 256;
  const kcMax = depthBlock(k);
  const kcPad = roundUp(kcMax, 4);
  const kcPadB = <usize>kcPad << 2;
  for (let p0 = 0; p0 < k; p0 += kcMax) {
    const kc = min(kcMax, k - p0);
    const accumulate = p0 > 0;
    packScalar(a + <usize>p0 * aDepB, aDepth, aRow, kc, M, kcPad, apk);
    if (M < 4) memory.fill(apk + <usize>M * kcPadB, 0, <usize>(4 - M) * kcPadB);
    const bk = b + (<usize>p0 << 2);
    let j = 0;
    if (M == 1) {
      for (; j + 4 <= N; j += 4) {
        dot1x4(apk, bk + <usize>j * bColB, bColB, kc, tile);
        storeColumns(tile, 1, j, 4, c, ldc, transC, bias, accumulate);
      }
    } else {
      for (; j + 2 <= N; j += 2) {
        dot4x2(apk, kcPadB, bk + <usize>j * bColB, bColB, kc, tile);
        storeColumns(tile, M, j, 2, c, ldc, transC, bias, accumulate);
      }
    }
    for (; j < N; j++) {
      skinnyColumnScalar(apk, kcPadB, 4, M, bk + <usize>j * bColB, 4, kc, tile);
      storeColumns(tile, M, j, 1, c, ldc, transC, bias, accumulate);
    }
  }
}

/**
 * One batch item of a skinny product C' = A'·B' (M ≤ SKINNY rows, N columns; strides in elements as in gemm),
 * 4 rows at a time.
 */
function skinny(a: usize, aRow: i32, aDepth: i32, b: usize, bCol: i32, bDepth: i32, c: usize, ldc: usize,
                transC: bool, bias: usize, M: i32, N: i32, k: i32, ws: usize): void {
  const rowStep: usize = transC ? 4 : ldc;
  for (let r0 = 0; r0 < M; r0 += 4) {
    const biasRows: usize = transC && bias != 0 ? bias + (<usize>r0 << 2) : bias;
    skinnyRows(a + (<usize>(r0 * aRow) << 2), aRow, aDepth, b, bCol, bDepth, c + <usize>r0 * rowStep, ldc, transC,
      biasRows, min(4, M - r0), N, k, ws);
  }
}

/** Scratch of the skinny path: the 4×16 result tile and 4 rows of A' for one depth block. */
function skinnyWsBytes(k: i32): usize {
  return 256 + align64(<usize>(4 * roundUp(depthBlock(k), 4)) << 2);
}

// ---------------------------------------------------------------------------------------------------------
// Dot path (SIMD builds): C = A·Bᵀ with A stored [m,k] and B stored [n,k] (the forward x·Wᵀ of a linear layer)
// and few columns (the 10-class output layer). Both operands are contiguous along the depth, so each element is
// a dot product of two rows: no tile columns padded to 8. C[i][j] = Σ ⟨A[i][p..p+4), B[j][p..p+4)⟩ summed
// across the lanes at the end as (l0 + l2) + (l1 + l3), then + the depth tail term by term, then + bias[j].
// Columns go in groups of 4, so the lane sums of a group are one sum4 and one vector store; a tail of 3 columns
// runs the same kernel with its last column repeated (computed, not stored), a tail of 1..2 a 4-row × 2 kernel. Each group's depth quads
// are first interleaved into ws (16·k bytes): the kernel then loads all 4 columns from one address with
// constant offsets instead of computing 4 addresses per quad. Measured 64×10×128, relaxed: ×1.3 (B read in place
// in groups of 4 ran no faster than the former groups of 5, about 2/3 of the FMA peak, bound by the address
// additions; two quads per pass ran ×0.7, binaryen merges them and the live values no longer fit the registers).
// Depths over DOT_MAX_DEPTH take the blocked path (the copy would pass 256 KiB).

/** Columns above SKINNY and at most this many, with A·Bᵀ storage, take the dot path. */
const DOT_COLUMNS: i32 = 16;
/** Deepest product of the dot path: its interleaved group of B is 16·k bytes, ≤ 256 KiB. */
const DOT_MAX_DEPTH: i32 = 16384;

/** Scratch bytes of the dot path: one group of 4 columns of B, quad-interleaved. */
@inline function dotWsBytes(k: i32): i32 {
  return (k & ~3) << 4;
}

/** [Σ lanes of w, of x, of y, of z], each summed as (l0 + l2) + (l1 + l3): 6 shuffles and 3 additions. */
@inline function sum4(w: v128, x: v128, y: v128, z: v128): v128 {
  const wx = f32x4.add(f32x4.shuffle(w, x, 0, 4, 1, 5), f32x4.shuffle(w, x, 2, 6, 3, 7));
  const yz = f32x4.add(f32x4.shuffle(y, z, 0, 4, 1, 5), f32x4.shuffle(y, z, 2, 6, 3, 7));
  return f32x4.add(f32x4.shuffle(wx, yz, 0, 1, 4, 5), f32x4.shuffle(wx, yz, 2, 3, 6, 7));
}

/** C[j] = t + the depth tail Σ a[p]·b[p] for p ≥ k & ~3 (b: column j of B in place) (+ bias[j]). */
@inline function dotStore(t: f32, a: usize, b: usize, k: i32, c: usize, bias: usize): void {
  for (let p = k & ~3; p < k; p++) t += load<f32>(a + (<usize>p << 2)) * load<f32>(b + (<usize>p << 2));
  if (bias) t += load<f32>(bias);
  store<f32>(c, t);
}

/**
 * One row of a column group: v holds its lane sums; stores its `cols` ≤ 4 columns (B in place from bSrc, columns
 * lda bytes apart, for the depth tail).
 */
@inline function dotRow(v: v128, a: usize, bSrc: usize, lda: usize, k: i32, c: usize, cols: i32, bias: usize): void {
  if (cols == 4 && (k & 3) == 0) {
    v128.store(c, bias ? f32x4.add(v, v128.load(bias)) : v);
    return;
  }
  dotStore(f32x4.extract_lane(v, 0), a, bSrc, k, c, bias);
  if (cols > 1) dotStore(f32x4.extract_lane(v, 1), a, bSrc + lda, k, c + 4, bias ? bias + 4 : 0);
  if (cols > 2) dotStore(f32x4.extract_lane(v, 2), a, bSrc + 2 * lda, k, c + 8, bias ? bias + 8 : 0);
  if (cols > 3) dotStore(f32x4.extract_lane(v, 3), a, bSrc + 3 * lda, k, c + 12, bias ? bias + 12 : 0);
}

/**
 * Rows a0 and a1 (the same row again when `two` is false, then not stored) × the 4 columns of an interleaved
 * group bI: 8 accumulators, 2 rows and 1 column live.
 */
function dot2x4(a0: usize, a1: usize, bI: usize, k: i32, bSrc: usize, lda: usize, c: usize, ldc: usize, two: bool,
                cols: i32, bias: usize): void {
  const z = f32x4.splat(0);
  let s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
  const k4 = <usize>(k & ~3) << 2;
  let bq = bI;
  for (let o: usize = 0; o < k4; o += 16) {
    const x0 = v128.load(a0 + o);
    const x1 = v128.load(a1 + o);
    let y = v128.load(bq);
    s00 = madd(s00, x0, y); s10 = madd(s10, x1, y);
    y = v128.load(bq, 16);
    s01 = madd(s01, x0, y); s11 = madd(s11, x1, y);
    y = v128.load(bq, 32);
    s02 = madd(s02, x0, y); s12 = madd(s12, x1, y);
    y = v128.load(bq, 48);
    s03 = madd(s03, x0, y); s13 = madd(s13, x1, y);
    bq += 64;
  }
  dotRow(sum4(s00, s01, s02, s03), a0, bSrc, lda, k, c, cols, bias);
  if (two) dotRow(sum4(s10, s11, s12, s13), a1, bSrc, lda, k, c + ldc, cols, bias);
}

/**
 * Interleaves the depth quads [0, k/4) of the W columns at b (rows of B, lda bytes apart; the last one repeated
 * past `cols`) into dst: quad q of column j at dst + (q·W + j)·16 bytes.
 */
function dotInterleave(b: usize, lda: usize, cols: i32, W: i32, k: i32, dst: usize): void {
  const k4 = <usize>(k & ~3) << 2;
  const step = <usize>W << 4;
  for (let j = 0; j < W; j++) {
    const src = b + <usize>min(j, cols - 1) * lda;
    let d = dst + (<usize>j << 4);
    for (let o: usize = 0; o < k4; o += 16) {
      v128.store(d, v128.load(src + o));
      d += step;
    }
  }
}

/** Element (r, j) of dotTail2, lane sum t, into C if r < rows and j < cols. */
@inline function dotPut(t: f32, r: i32, j: i32, rows: i32, cols: i32, a: usize, lda: usize, bSrc: usize, k: i32,
                        c: usize, ldc: usize, bias: usize): void {
  if (r < rows && j < cols) {
    dotStore(t, a + <usize>r * lda, bSrc + <usize>j * lda, k, c + <usize>r * ldc + (<usize>j << 2),
      bias ? bias + (<usize>j << 2) : 0);
  }
}

/**
 * A column tail of 1..2: `rows` ≤ 4 rows from a0 (lda bytes apart; past `rows`, row 0 again, not stored) × the 2
 * columns of an interleaved group bI (W = 2), so a 10-column product computes 4 + 4 + 2 columns, not 12.
 */
function dotTail2(a0: usize, lda: usize, rows: i32, bI: usize, k: i32, bSrc: usize, c: usize, ldc: usize, cols: i32,
                bias: usize): void {
  const a1 = rows > 1 ? a0 + lda : a0, a2 = rows > 2 ? a0 + 2 * lda : a0, a3 = rows > 3 ? a0 + 3 * lda : a0;
  const z = f32x4.splat(0);
  let s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
  const k4 = <usize>(k & ~3) << 2;
  let bq = bI;
  for (let o: usize = 0; o < k4; o += 16) {
    const y0 = v128.load(bq);
    const y1 = v128.load(bq, 16);
    let x = v128.load(a0 + o);
    s00 = madd(s00, x, y0); s01 = madd(s01, x, y1);
    x = v128.load(a1 + o);
    s10 = madd(s10, x, y0); s11 = madd(s11, x, y1);
    x = v128.load(a2 + o);
    s20 = madd(s20, x, y0); s21 = madd(s21, x, y1);
    x = v128.load(a3 + o);
    s30 = madd(s30, x, y0); s31 = madd(s31, x, y1);
    bq += 32;
  }
  const v01 = sum4(s00, s01, s10, s11), v23 = sum4(s20, s21, s30, s31);
  dotPut(f32x4.extract_lane(v01, 0), 0, 0, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v01, 1), 0, 1, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v01, 2), 1, 0, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v01, 3), 1, 1, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v23, 0), 2, 0, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v23, 1), 2, 1, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v23, 2), 3, 0, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
  dotPut(f32x4.extract_lane(v23, 3), 3, 1, rows, cols, a0, lda, bSrc, k, c, ldc, bias);
}

/**
 * One batch item of the dot path: m rows × n columns, C rows ldc bytes apart; columns in groups of 4, each
 * interleaved into ws (dotWsBytes(k)), then rows in pairs.
 */
function dotProduct(a: usize, b: usize, c: usize, bias: usize, m: i32, n: i32, k: i32, ldc: usize, ws: usize): void {
  const lda = <usize>k << 2;
  for (let j0 = 0; j0 < n; j0 += 4) {
    const cols = min(4, n - j0);
    const bSrc = b + <usize>j0 * lda;
    const bj: usize = bias ? bias + (<usize>j0 << 2) : 0;
    const cj = c + (<usize>j0 << 2);
    if (cols <= 2) {
      dotInterleave(bSrc, lda, cols, 2, k, ws);
      for (let i = 0; i < m; i += 4) {
        dotTail2(a + <usize>i * lda, lda, min(4, m - i), ws, k, bSrc, cj + <usize>i * ldc, ldc, cols, bj);
      }
      continue;
    }
    dotInterleave(bSrc, lda, cols, 4, k, ws);
    for (let i = 0; i < m; i += 2) {
      const two = i + 1 < m;
      const a0 = a + <usize>i * lda;
      dot2x4(a0, two ? a0 + lda : a0, ws, k, bSrc, lda, c + <usize>i * ldc + (<usize>j0 << 2), ldc, two, cols, bj);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Exports

/**
 * Scratch bytes matmul_f32 needs in ws for this shape (0 when m, n or k is 0): packed blocks of op(A) and op(B)
 * and a tile, at most 4·(MC·KC + KC·NC + 6·8) = 385,216 bytes (376 KiB), or with NC_WIDE when op(A) is over
 * 1 MiB 4·(MC·KC + KC·NC_WIDE + 6·8) = 1,171,648 bytes (1.12 MiB), whatever the batch.
 */
export function matmul_ws_bytes(m: i32, n: i32, k: i32, transA: i32, transB: i32): i32 {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  if (ASC_FEATURE_SIMD) {
    if (min(m, n) <= SKINNY) return <i32>skinnyWsBytes(k);
    if (takesDotPath(n, k, transA, transB)) return dotWsBytes(k);
  }
  return matmul_block_ws_bytes(m, n, k);
}

/** Whether matmul_f32 runs this product by the dot path (after the skinny path's test). */
@inline function takesDotPath(n: i32, k: i32, transA: i32, transB: i32): bool {
  return !transA && transB && n <= DOT_COLUMNS && k <= DOT_MAX_DEPTH;
}

/**
 * Whether matmul_f32 computes this product (k > 0) by the blocked path, so that threads may share it with
 * matmul_f32_block and still get the bits of one thread (the skinny and dot paths sum in other orders).
 */
export function matmul_is_blocked(m: i32, n: i32, k: i32, transA: i32, transB: i32): i32 {
  if (ASC_FEATURE_SIMD) return i32(min(m, n) > SKINNY && !takesDotPath(n, k, transA, transB));
  return 1;
}

/** Scratch bytes matmul_f32_block needs in ws for a block of m rows × n columns (depth k) of a product. */
export function matmul_block_ws_bytes(m: i32, n: i32, k: i32): i32 {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  return <i32>(swapOrientation(m, n, k) ? wsLayoutBytes(n, m, k) : wsLayoutBytes(m, n, k));
}

/** Rows of a micro-tile of the blocked path: row blocks that are a multiple of it waste no tile rows. */
export function matmul_tile_rows(): i32 {
  return MR;
}

/** C = bias (or 0) in every row: the k = 0 product. */
function fillRows(c: usize, m: i32, n: i32, bias: usize): void {
  const rowBytes = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    if (bias) memory.copy(c, bias, rowBytes);
    else memory.fill(c, 0, rowBytes);
    c += rowBytes;
  }
}

/**
 * C[i] = op(A[i])·op(B[i]) (+ bias) for i < batch, float32, row-major: A is [m,k] ([k,m] if transA), B is
 * [k,n] ([n,k] if transB), C[i] [m,n] at c + i·m·n·4 (written, not accumulated); A[i] = a + i·strideA·4 and
 * B[i] = b + i·strideB·4 (strides in elements, 0 broadcasts); bias (n floats) is added to every row unless 0;
 * ws holds matmul_ws_bytes(m, n, k, transA, transB) bytes of scratch, 64-byte aligned.
 */
export function matmul_f32(a: usize, b: usize, c: usize, bias: usize, m: i32, n: i32, k: i32,
                           transA: i32, transB: i32, batch: i32, strideA: i32, strideB: i32, ws: usize): void {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  const cBytes = <usize>m * <usize>n << 2;
  if (k <= 0) {
    for (let t = 0; t < batch; t++) fillRows(c + <usize>t * cBytes, m, n, bias);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    if (min(m, n) <= SKINNY) {
      const aRow = transA ? 1 : k, aDepth = transA ? m : 1;
      const bCol = transB ? k : 1, bDepth = transB ? 1 : n;
      const ldc = <usize>n << 2;
      // The small dimension becomes the rows of C' (swapped when it is n).
      const swap = n < m;
      for (let t = 0; t < batch; t++) {
        const at = a + (<usize>t * <usize>strideA << 2);
        const bt = b + (<usize>t * <usize>strideB << 2);
        const ct = c + <usize>t * cBytes;
        if (swap) skinny(bt, bCol, bDepth, at, aRow, aDepth, ct, ldc, true, bias, n, m, k, ws);
        else skinny(at, aRow, aDepth, bt, bCol, bDepth, ct, ldc, false, bias, m, n, k, ws);
      }
      return;
    }
    if (takesDotPath(n, k, transA, transB)) {
      for (let t = 0; t < batch; t++) {
        dotProduct(a + (<usize>t * <usize>strideA << 2), b + (<usize>t * <usize>strideB << 2), c + <usize>t * cBytes,
          bias, m, n, k, <usize>n << 2, ws);
      }
      return;
    }
  }
  matmul_f32_block(a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, ws, 0, m, 0, n);
}

/**
 * matmul_f32 (same arguments) followed by plain SGD on p [batch·m·n] with C as its gradient: p += C·(f32)(−lr),
 * bit-identical to matmul_f32 then sgd_f32 without momentum or weight decay, with the update applied as each tile
 * of C is stored (one pass fewer over C and no separate call). Only products matmul_f32 runs by the blocked path
 * in one depth block (k ≤ KC) are fused; otherwise this runs the product alone and returns 0, and the caller
 * runs the update. p must not overlap a, b, bias or C. Returns 1 when p was updated.
 */
export function matmul_sgd_f32(a: usize, b: usize, c: usize, bias: usize, m: i32, n: i32, k: i32,
                               transA: i32, transB: i32, batch: i32, strideA: i32, strideB: i32, ws: usize,
                               p: usize, lr: f64): i32 {
  const fused = m > 0 && n > 0 && batch > 0 && k > 0 && k <= KC && matmul_is_blocked(m, n, k, transA, transB) != 0;
  if (fused) {
    sgdShift = p - c;
    sgdNegLr = <f32>-lr;
  }
  matmul_f32(a, b, c, bias, m, n, k, transA, transB, batch, strideA, strideB, ws);
  sgdShift = 0;
  return i32(fused);
}

/**
 * Rows [i0, i1) × columns [j0, j1) of the product matmul_f32 computes (same arguments), by the blocked path
 * alone: the whole product's blocked path, or a thread's chunk of a product shared by rows or by columns. Each
 * element is summed in the same order whatever the block (depth blocks depend on k alone, and every micro-tile
 * sums its depths in order), so a shared product is bit-identical to an unshared one; the caller shares only
 * products that matmul_f32 gives the blocked path (matmul_is_blocked, k > 0).
 * ws: matmul_block_ws_bytes(i1 − i0, j1 − j0, k).
 */
export function matmul_f32_block(a: usize, b: usize, c: usize, bias: usize, m: i32, n: i32, k: i32,
                                 transA: i32, transB: i32, batch: i32, strideA: i32, strideB: i32, ws: usize,
                                 i0: i32, i1: i32, j0: i32, j1: i32): void {
  const M = i1 - i0;
  const N = j1 - j0;
  if (M <= 0 || N <= 0 || batch <= 0 || k <= 0) return;
  // Element strides of op(A)[i][p] (row i, depth p) and op(B)[p][j] (column j, depth p).
  const aRow = transA ? 1 : k, aDepth = transA ? m : 1;
  const bCol = transB ? k : 1, bDepth = transB ? 1 : n;
  const cBytes = <usize>m * <usize>n << 2;
  const ldc = <usize>n << 2;
  const ai = a + (<usize>i0 * <usize>aRow << 2);
  const bj = b + (<usize>j0 * <usize>bCol << 2);
  const cij = c + <usize>i0 * ldc + (<usize>j0 << 2); // C[i0][j0] in either orientation
  const biasj: usize = bias == 0 ? 0 : bias + (<usize>j0 << 2);
  if (swapOrientation(M, N, k)) {
    // Cᵀ = op(B)ᵀ·op(A)ᵀ: the columns of op(B) become the rows of the packed "A" operand and vice versa.
    gemm(bj, bCol, bDepth, strideB, ai, aRow, aDepth, strideA, cij, cBytes, ldc, true, biasj, N, M, k, batch, ws);
  } else {
    gemm(ai, aRow, aDepth, strideA, bj, bCol, bDepth, strideB, cij, cBytes, ldc, false, biasj, M, N, k, batch, ws);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Packed panels for fused kernels (attention): an operand used by many small products is packed once, whole
// (every depth, no KC / MC / NC blocks), and the caller runs single micro-tiles on it with the depth range and
// the tiles it needs (a causal product skips the tiles above the diagonal and the zero depths of the others).
// Not wasm exports: assembly/index.ts lists matmul's exports by name.

/** Bytes of op(A) [m rows × k depths] packed by matmul_pack_a: ceil(m / MR) micro-panels of MR × k floats. */
export function matmul_pack_a_bytes(m: i32, k: i32): usize {
  return <usize>(roundUp(m, MR) * k) << 2;
}

/** Bytes of op(B) [k depths × n columns] packed by matmul_pack_b: ceil(n / 8) micro-panels of k × 8 floats. */
export function matmul_pack_b_bytes(n: i32, k: i32): usize {
  return <usize>(k * roundUp(n, NR)) << 2;
}

/**
 * Packs op(A)[i][p] = src[i·aRow + p·aDepth] (i < m, p < k) as MR-row micro-panels of all k depths: rows
 * [i, i + MR) (i a multiple of MR) start at dst + i·k·4; rows past m are zero.
 */
export function matmul_pack_a(src: usize, aRow: i32, aDepth: i32, m: i32, k: i32, dst: usize): void {
  packA(src, aRow, aDepth, m, k, dst);
}

/**
 * Packs op(B)[p][j] = src[p·bDepth + j·bCol] (p < k, j < n) as 8-column micro-panels of all k depths: columns
 * [j, j + 8) (j a multiple of 8) start at dst + j·k·4; a tail of ≤ 4 columns is packed 4 wide.
 */
export function matmul_pack_b(src: usize, bCol: i32, bDepth: i32, n: i32, k: i32, dst: usize): void {
  packB(src, bCol, bDepth, n, k, dst);
}

/**
 * One micro-tile on packed panels: C[r][j] (=|+=) Σ_{p0 ≤ p < p1} a[p][r]·b[p][j] for r < mr ≤ MR, j < nr, in order
 * of p (as the blocked path sums one depth block). a and b are the panels' first depth (matmul_pack_a / _b); the B
 * panel is 8 columns wide (nr ≤ 8) or, when not `wide`, a 4-column tail (nr ≤ 4). nr ≤ 4 of a wide panel runs the
 * 4-wide kernel on its first 4 columns (same sums, half the work: a causal product's tile across the diagonal). C
 * rows are ldc bytes apart; tmp: MR × 8 floats of scratch (partial tiles), 16-byte aligned. Inlined into its callers:
 * attention calls it once per micro-tile, and the call was 2% of its instructions (callgrind).
 */
// @ts-ignore: decorator
@inline export function matmul_panel_tile(a: usize, b: usize, wide: bool, p0: i32, p1: i32, c: usize, ldc: usize, mr: i32,
                                  nr: i32, accumulate: bool, tmp: usize): void {
  const kc = p1 - p0;
  if (kc <= 0) { // an empty sum
    if (!accumulate) for (let r = 0; r < mr; r++) memory.fill(c + <usize>r * ldc, 0, <usize>nr << 2);
    return;
  }
  const ldb: usize = wide ? 32 : 16;
  const ap = a + (<usize>(p0 * MR) << 2);
  const bp = b + <usize>p0 * ldb;
  if (ASC_FEATURE_SIMD) {
    const tail = MR > 4 && mr <= 4;
    if (nr > 4) {
      if (tail && nr == 8) tail8(ap, bp, ldb, kc, c, ldc, mr, 0, accumulate);
      else tile8(ap, bp, ldb, kc, c, ldc, false, mr, nr, 0, accumulate, tmp);
    } else {
      if (tail && nr == 4) tail4(ap, bp, ldb, kc, c, ldc, mr, 0, accumulate);
      else tile4(ap, bp, ldb, kc, c, ldc, false, mr, nr, 0, accumulate, tmp);
    }
  } else {
    tileScalar(ap, bp, kc, wide ? 8 : 4, c, ldc, false, mr, nr, 0, accumulate, tmp);
  }
}
