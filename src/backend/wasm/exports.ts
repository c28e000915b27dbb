// The typed surface of the .wasm module (assembly/index.ts). Pointers are byte offsets, sizes and strides are
// elements, flags are 0/1.
type Ptr = number;
/** A ConvPlan as arguments, in its order (src/backend/types.ts). */
export type ConvArgs = [n: number, c: number, h: number, w: number, o: number, kh: number, kw: number, oh: number,
  ow: number, strideH: number, strideW: number, padH: number, padW: number, dilationH: number, dilationW: number,
  groups: number];

export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): Ptr;

  matmul_f32(a: Ptr, b: Ptr, c: Ptr, bias: Ptr, m: number, n: number, k: number, transA: number, transB: number,
    batch: number, strideA: number, strideB: number, ws: Ptr): void;
  /** matmul_f32, then p += c·(−lr) as each tile is stored; 0 when not fused (the caller then updates p). */
  matmul_sgd_f32(a: Ptr, b: Ptr, c: Ptr, bias: Ptr, m: number, n: number, k: number, transA: number, transB: number,
    batch: number, strideA: number, strideB: number, ws: Ptr, p: Ptr, lr: number): number;
  matmul_ws_bytes(m: number, n: number, k: number, transA: number, transB: number): number;
  matmul_block_ws_bytes(m: number, n: number, k: number): number;
  matmul_tile_rows(): number;
  matmul_is_blocked(m: number, n: number, k: number, transA: number, transB: number): number;
  matmul_f32_block(a: Ptr, b: Ptr, c: Ptr, bias: Ptr, m: number, n: number, k: number, transA: number, transB: number,
    batch: number, strideA: number, strideB: number, ws: Ptr, i0: number, i1: number, j0: number, j1: number): void;

  /** kind: 0 forward, 1 input gradient, 2 weight gradient; [r0, r1) as the kernel's range. */
  conv2d_ws_bytes(kind: number, ...args: [...ConvArgs, r0: number, r1: number]): number;
  /** Batch items [r0, r1). */
  conv2d_f32(x: Ptr, w: Ptr, bias: Ptr, out: Ptr, ...args: [...ConvArgs, ws: Ptr, r0: number, r1: number]): void;
  /** Batch items [r0, r1). */
  conv2d_input_grad_f32(dy: Ptr, w: Ptr, dx: Ptr, ...args: [...ConvArgs, ws: Ptr, r0: number, r1: number]): void;
  /** Columns [r0, r1) of dw viewed as [o, c/groups·kh·kw]. */
  conv2d_weight_grad_f32(x: Ptr, dy: Ptr, dw: Ptr, ...args: [...ConvArgs, ws: Ptr, r0: number, r1: number]): void;

  binary_f32(op: number, a: Ptr, b: Ptr, out: Ptr, n0: number, n1: number, n2: number, n3: number,
    a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): void;
  where_f32(cond: Ptr, a: Ptr, b: Ptr, out: Ptr, n0: number, n1: number, n2: number, n3: number,
    c0: number, c1: number, c2: number, c3: number, a0: number, a1: number, a2: number, a3: number,
    b0: number, b1: number, b2: number, b3: number): void;
  unary_f32(op: number, x: Ptr, out: Ptr, n: number, alpha: number): void;
  unary_grad_f32(op: number, saved: Ptr, dy: Ptr, dx: Ptr, n: number, alpha: number): void;
  reduce_f32(op: number, x: Ptr, out: Ptr, outer: number, r: number, inner: number, argmax: Ptr, i0: number,
    i1: number): void;
  softmax_f32(x: Ptr, out: Ptr, outer: number, r: number, inner: number, log: number, i0: number, i1: number): void;
  softmax_grad_f32(y: Ptr, dy: Ptr, dx: Ptr, outer: number, r: number, inner: number, log: number, i0: number,
    i1: number): void;
  cross_entropy_f32(logits: Ptr, labels: Ptr, losses: Ptr, probs: Ptr, n: number, c: number, smoothing: number,
    ignoreIndex: number): void;
  cross_entropy_grad_f32(probs: Ptr, labels: Ptr, dloss: Ptr, dlossStride: number, scale: number, dx: Ptr,
    n: number, c: number, smoothing: number, ignoreIndex: number): void;
  copy_strided_32(x: Ptr, out: Ptr, n0: number, n1: number, n2: number, n3: number,
    x0: number, x1: number, x2: number, x3: number, o0: number, o1: number, o2: number, o3: number): void;
  fill_f32(out: Ptr, n: number, value: number): void;
  fill_i32(out: Ptr, n: number, value: number): void;
  scale_f32(x: Ptr, out: Ptr, n: number, alpha: number): void;
  axpy_f32(alpha: number, x: Ptr, y: Ptr, n: number): void;
  gather_32(x: Ptr, idx: Ptr, out: Ptr, outer: number, r: number, inner: number, nIdx: number): void;
  scatter_add_f32(dy: Ptr, idx: Ptr, dx: Ptr, outer: number, r: number, inner: number, nIdx: number): void;

  cast_f32_i32(x: Ptr, out: Ptr, n: number): void;
  cast_i32_f32(x: Ptr, out: Ptr, n: number): void;
  compare_i32(op: number, a: Ptr, b: Ptr, out: Ptr, n0: number, n1: number, n2: number, n3: number,
    a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): void;
  reduce_max_i32(x: Ptr, out: Ptr, outer: number, r: number, inner: number, argmax: Ptr): void;
  triangle_32(x: Ptr, out: Ptr, batch: number, rows: number, cols: number, diagonal: number, upper: number): void;
  cumsum_f32(x: Ptr, out: Ptr, outer: number, r: number, inner: number, reverse: number): void;

  max_pool2d_f32(x: Ptr, out: Ptr, idx: Ptr, planes: number, h: number, w: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, ignoreNaN: number): void;
  max_pool2d_grad_f32(dy: Ptr, idx: Ptr, dx: Ptr, planes: number, inSize: number, outSize: number): number;
  max_pool2d_gather_f32(x: Ptr, idx: Ptr, out: Ptr, planes: number, inSize: number, outSize: number): number;
  avg_pool2d_f32(x: Ptr, out: Ptr, planes: number, h: number, w: number, oh: number, ow: number, kh: number, kw: number,
    sh: number, sw: number, ph: number, pw: number, countIncludePad: number, divisor: number): void;
  avg_pool2d_grad_f32(dy: Ptr, dx: Ptr, planes: number, h: number, w: number, oh: number, ow: number, kh: number,
    kw: number, sh: number, sw: number, ph: number, pw: number, countIncludePad: number, divisor: number): void;
  adaptive_avg_pool2d_f32(x: Ptr, out: Ptr, planes: number, h: number, w: number, oh: number, ow: number): void;
  adaptive_avg_pool2d_grad_f32(dy: Ptr, dx: Ptr, planes: number, h: number, w: number, oh: number, ow: number): void;
  batch_norm_stats_f32(x: Ptr, mean: Ptr, variance: Ptr, runMean: Ptr, runVar: Ptr, momentum: number, n: number,
    c: number, l: number, c0: number, c1: number): void;
  batch_norm_f32(x: Ptr, out: Ptr, mean: Ptr, variance: Ptr, weight: Ptr, bias: Ptr, eps: number, n: number,
    c: number, l: number, c0: number, c1: number): void;
  batch_norm_grad_f32(x: Ptr, dy: Ptr, mean: Ptr, variance: Ptr, weight: Ptr, dx: Ptr, dweight: Ptr, dbias: Ptr,
    training: number, eps: number, n: number, c: number, l: number, c0: number, c1: number): void;
  /** Rows [0, rows); mean 0: RMS normalisation (no mean written, none subtracted). */
  layer_norm_f32(x: Ptr, out: Ptr, mean: Ptr, rstd: Ptr, weight: Ptr, bias: Ptr, n: number, eps: number, rows: number): void;
  /** Rows [0, rows). */
  layer_norm_grad_f32(x: Ptr, dy: Ptr, mean: Ptr, rstd: Ptr, weight: Ptr, dx: Ptr, n: number, rows: number): void;
  /** Columns [c0, c1). */
  layer_norm_params_grad_f32(x: Ptr, dy: Ptr, mean: Ptr, rstd: Ptr, dweight: Ptr, dbias: Ptr, rows: number, n: number,
    c0: number, c1: number): void;

  /** backward: 0 forward, 1 backward. */
  attention_ws_bytes(L: number, S: number, E: number, Ev: number, causal: number, backward: number): number;
  /** Items [0, heads). */
  attention_f32(q: Ptr, k: Ptr, v: Ptr, out: Ptr, lse: Ptr, mask: Ptr, offsets: Ptr, kind: number, rowStride: number,
    colStride: number, heads: number, L: number, S: number, E: number, Ev: number, scale: number, causal: number,
    ws: Ptr): void;
  /** Items [0, heads); dq, dk, dv may be 0 (not wanted). */
  attention_grad_f32(q: Ptr, k: Ptr, v: Ptr, out: Ptr, lse: Ptr, dout: Ptr, dq: Ptr, dk: Ptr, dv: Ptr, mask: Ptr,
    offsets: Ptr, kind: number, rowStride: number, colStride: number, heads: number, L: number, S: number, E: number,
    Ev: number, scale: number, causal: number, ws: Ptr): void;

  sgd_f32(p: Ptr, g: Ptr, buf: Ptr, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: number, firstStep: number): void;
  adam_f32(p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: number, bc1: number, bc2: number): void;
  rmsprop_f32(p: Ptr, g: Ptr, sq: Ptr, buf: Ptr, gavg: Ptr, n: number, lr: number, alpha: number, eps: number,
    weightDecay: number, momentum: number, centered: number): void;
  adagrad_f32(p: Ptr, g: Ptr, sum: Ptr, n: number, clr: number, eps: number, weightDecay: number): void;
}
