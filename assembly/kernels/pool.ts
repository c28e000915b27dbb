// 2-D pooling over `planes` (N·C) planes of h×w f32, row-major, into planes of oh×ow, with PyTorch's CPU semantics
// (see src/backend/ref/pool.ts, the twin). Every kernel works plane by plane and each plane reads and writes only
// its own input and output plane, so a call can be split over threads by ranges of planes (pointers advanced by
// whole planes) with bit-identical results.
// The forward kernels compute four neighbouring outputs of a row at once with SIMD where their windows lie inside
// the plane's columns, each lane visiting its window in the same order as the scalar loop (so the results are the
// same bits either way); windows that touch the left or right border take the scalar loop.

/** The first a ≥ 0 with start + a·step ≥ 0: the first window position inside the plane (no division for step 1). */
// @ts-ignore: decorator
@inline function firstInside(start: i32, step: i32): i32 {
  return start >= 0 ? 0 : step == 1 ? -start : (step - 1 - start) / step;
}

/** How many window positions a < k have start + a·step < size (positions past the plane's end excluded). */
// @ts-ignore: decorator
@inline function endInside(start: i32, step: i32, k: i32, size: i32): i32 {
  const room = size - start;
  return room <= 0 ? 0 : min(k, step == 1 ? room : (room + step - 1) / step);
}

/** Whether four windows whose first columns are x0 + j·sw (j < 4) lie inside the plane's w columns. */
// @ts-ignore: decorator
@inline function inside4(x0: i32, kw: i32, sw: i32, dw: i32, w: i32): bool {
  return x0 >= 0 && x0 + (kw - 1) * dw + 3 * sw < w;
}

/** The values at columns c, c + sw, c + 2sw, c + 3sw of the row at p (reading no column past c + 3sw). */
// @ts-ignore: decorator
@inline function gather4(p: usize, c: i32, sw: i32): v128 {
  const q = p + (<usize>c << 2);
  if (sw == 1) return v128.load(q);
  // columns c..c+3 and c+3..c+6: lanes 0 and 2 of the first, 1 and 3 of the second
  if (sw == 2) return v128.shuffle<f32>(v128.load(q), v128.load(q, 12), 0, 2, 5, 7);
  const step = <usize>sw << 2;
  let v = f32x4.splat(load<f32>(q));
  v = f32x4.replace_lane(v, 1, load<f32>(q + step));
  v = f32x4.replace_lane(v, 2, load<f32>(q + 2 * step));
  return f32x4.replace_lane(v, 3, load<f32>(q + 3 * step));
}

/**
 * out = max over each window (rows y·sh − ph + a·dh, a < kh; columns likewise), idx = its position row·w + column
 * in the plane: the first maximum in row-major order on ties, the last NaN if any (PyTorch: val > max || isnan,
 * starting from −∞ at the window's first position); −∞ and −1 for a window with no position inside the plane.
 * ignoreNaN (TensorFlow's rule: val > max alone) skips NaNs instead: a window of NaNs gives −∞ and its first position.
 */
export function max_pool2d_f32(x: usize, out: usize, idx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, ignoreNaN: bool): void {
  const inBytes = <usize>(h * w) << 2;
  for (let q = 0; q < planes; q++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - ph;
      const a0 = firstInside(y0, dh);
      const a1 = endInside(y0, dh, kh, h);
      let ox = 0;
      while (ox < ow) {
        const x0 = ox * sw - pw;
        if (ASC_FEATURE_SIMD) {
          if (ox + 4 <= ow && a0 < a1 && inside4(x0, kw, sw, dw, w)) {
            // lane j: the window of output ox + j, whose columns start at x0 + j·sw
            const columns = i32x4.add(i32x4.splat(x0), i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(sw)));
            let best = f32x4.splat(-Infinity);
            let at = i32x4.add(i32x4.splat((y0 + a0 * dh) * w), columns);
            const nanWins = i32x4.splat(ignoreNaN ? 0 : -1); // all lanes set: a NaN takes the max
            for (let a = a0; a < a1; a++) {
              const row = (y0 + a * dh) * w;
              const p = x + (<usize>row << 2);
              for (let b = 0; b < kw; b++) {
                const v = gather4(p, x0 + b * dw, sw);
                const take = v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), nanWins));
                best = v128.bitselect(v, best, take);
                at = v128.bitselect(i32x4.add(i32x4.splat(row + b * dw), columns), at, take);
              }
            }
            v128.store(out, best);
            v128.store(idx, at);
            out += 16;
            idx += 16;
            ox += 4;
            continue;
          }
        }
        const b0 = firstInside(x0, dw);
        const b1 = endInside(x0, dw, kw, w);
        let best: f32 = -Infinity;
        let at: i32 = a0 < a1 && b0 < b1 ? (y0 + a0 * dh) * w + x0 + b0 * dw : -1;
        for (let a = a0; a < a1; a++) {
          const row = (y0 + a * dh) * w + x0;
          for (let b = b0; b < b1; b++) {
            const k = row + b * dw;
            const v = load<f32>(x + (<usize>k << 2));
            if (v > best || (v != v && !ignoreNaN)) {
              best = v;
              at = k;
            }
          }
        }
        store<f32>(out, best);
        store<i32>(idx, at);
        out += 4;
        idx += 4;
        ox++;
      }
    }
    x += inBytes;
  }
}

/**
 * Per plane: dx = 0, then dx[idx[o]] += dy[o] in order of o. Index −1 (an empty window) is skipped; any other
 * index outside [0, h·w) is skipped too and the first one's position returned (else −1): nothing is ever written
 * outside the plane.
 */
export function max_pool2d_grad_f32(dy: usize, idx: usize, dx: usize, planes: i32, inSize: i32, outSize: i32): i32 {
  let bad = -1;
  for (let q = 0; q < planes; q++) {
    memory.fill(dx, 0, <usize>inSize << 2);
    for (let o = 0; o < outSize; o++) {
      const k = load<i32>(idx + (<usize>o << 2));
      if (<u32>k < <u32>inSize) {
        const p = dx + (<usize>k << 2);
        store<f32>(p, load<f32>(p) + load<f32>(dy + (<usize>o << 2)));
      } else if (k != -1 && bad < 0) {
        bad = q * outSize + o;
      }
    }
    dy += <usize>outSize << 2;
    idx += <usize>outSize << 2;
    dx += <usize>inSize << 2;
  }
  return bad;
}

/** Per plane: out[o] = x[idx[o]], 0 for an index of −1; other bad indices as in max_pool2d_grad_f32. */
export function max_pool2d_gather_f32(x: usize, idx: usize, out: usize, planes: i32, inSize: i32, outSize: i32): i32 {
  let bad = -1;
  for (let q = 0; q < planes; q++) {
    for (let o = 0; o < outSize; o++) {
      const k = load<i32>(idx + (<usize>o << 2));
      let v: f32 = 0;
      if (<u32>k < <u32>inSize) v = load<f32>(x + (<usize>k << 2));
      else if (k != -1 && bad < 0) bad = q * outSize + o;
      store<f32>(out + (<usize>o << 2), v);
    }
    x += <usize>inSize << 2;
    idx += <usize>outSize << 2;
    out += <usize>outSize << 2;
  }
  return bad;
}

/**
 * The divisor of an average window whose rows run [ys, ye) and columns [xs, xe) up to the padded border, and
 * [y0, y1) × [x0, x1) clipped to the plane: `divisor` if > 0, else the size with or without the padding.
 */
// @ts-ignore: decorator
@inline function divisorOf(ys: i32, ye: i32, xs: i32, xe: i32, y0: i32, y1: i32, x0: i32, x1: i32,
  countIncludePad: i32, divisor: i32): f32 {
  return <f32>(divisor > 0 ? divisor : countIncludePad ? (ye - ys) * (xe - xs) : (y1 - y0) * (x1 - x0));
}

/** out = Σ window / divisor (f32 sums, rows then columns); a window entirely in the padding gives 0. */
export function avg_pool2d_f32(x: usize, out: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, ph: i32, pw: i32, countIncludePad: i32, divisor: i32): void {
  const inBytes = <usize>(h * w) << 2;
  for (let q = 0; q < planes; q++) {
    for (let oy = 0; oy < oh; oy++) {
      const ys = oy * sh - ph, ye = min(ys + kh, h + ph);
      const y0 = max(ys, 0), y1 = min(ye, h);
      let ox = 0;
      while (ox < ow) {
        const xs = ox * sw - pw, xe = min(xs + kw, w + pw);
        if (ASC_FEATURE_SIMD) {
          if (ox + 4 <= ow && y0 < y1 && inside4(xs, kw, sw, 1, w)) {
            // four windows of kw columns inside the plane: one divisor for all four
            let s = f32x4.splat(0);
            for (let y = y0; y < y1; y++) {
              const row = x + (<usize>(y * w) << 2);
              for (let c = 0; c < kw; c++) s = f32x4.add(s, gather4(row, xs + c, sw));
            }
            const d = divisorOf(ys, ye, xs, xs + kw, y0, y1, xs, xs + kw, countIncludePad, divisor);
            v128.store(out, f32x4.div(s, f32x4.splat(d)));
            out += 16;
            ox += 4;
            continue;
          }
        }
        const x0 = max(xs, 0), x1 = min(xe, w);
        let s: f32 = 0;
        for (let y = y0; y < y1; y++) {
          const row = x + (<usize>(y * w) << 2);
          for (let c = x0; c < x1; c++) s += load<f32>(row + (<usize>c << 2));
        }
        const d = divisorOf(ys, ye, xs, xe, y0, y1, x0, x1, countIncludePad, divisor);
        store<f32>(out, y0 < y1 && x0 < x1 ? s / d : 0);
        out += 4;
        ox++;
      }
    }
    x += inBytes;
  }
}

/** Per plane: dx = 0, then each window's positions get dy / divisor (f32). */
export function avg_pool2d_grad_f32(dy: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32,
  kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, countIncludePad: i32, divisor: i32): void {
  const inBytes = <usize>(h * w) << 2;
  for (let q = 0; q < planes; q++) {
    memory.fill(dx, 0, inBytes);
    for (let oy = 0; oy < oh; oy++) {
      const ys = oy * sh - ph, ye = min(ys + kh, h + ph);
      const y0 = max(ys, 0), y1 = min(ye, h);
      for (let ox = 0; ox < ow; ox++) {
        const xs = ox * sw - pw, xe = min(xs + kw, w + pw);
        const x0 = max(xs, 0), x1 = min(xe, w);
        const g = load<f32>(dy) / divisorOf(ys, ye, xs, xe, y0, y1, x0, x1, countIncludePad, divisor);
        dy += 4;
        for (let y = y0; y < y1; y++) {
          const row = dx + (<usize>(y * w) << 2);
          for (let c = x0; c < x1; c++) {
            const p = row + (<usize>c << 2);
            store<f32>(p, load<f32>(p) + g);
          }
        }
      }
    }
    dx += inBytes;
  }
}

/** PyTorch's adaptive windows: output i of n over a length of size covers [⌊i·size/n⌋, ⌈(i+1)·size/n⌉). */
// @ts-ignore: decorator
@inline function adaptiveStart(i: i32, n: i32, size: i32): i32 {
  return <i32>((<i64>i * size) / n);
}
// @ts-ignore: decorator
@inline function adaptiveEnd(i: i32, n: i32, size: i32): i32 {
  return <i32>((<i64>(i + 1) * size + n - 1) / n);
}

/** out = Σ window / rows / columns (f32) over the adaptive windows. */
export function adaptive_avg_pool2d_f32(x: usize, out: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  const inBytes = <usize>(h * w) << 2;
  for (let q = 0; q < planes; q++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = adaptiveStart(oy, oh, h), y1 = adaptiveEnd(oy, oh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = adaptiveStart(ox, ow, w), x1 = adaptiveEnd(ox, ow, w);
        let s: f32 = 0;
        for (let y = y0; y < y1; y++) {
          const row = x + (<usize>(y * w) << 2);
          for (let c = x0; c < x1; c++) s += load<f32>(row + (<usize>c << 2));
        }
        store<f32>(out, s / <f32>(y1 - y0) / <f32>(x1 - x0));
        out += 4;
      }
    }
    x += inBytes;
  }
}

/** Per plane: dx = 0, then each adaptive window's positions get dy / rows / columns. */
export function adaptive_avg_pool2d_grad_f32(dy: usize, dx: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32): void {
  const inBytes = <usize>(h * w) << 2;
  for (let q = 0; q < planes; q++) {
    memory.fill(dx, 0, inBytes);
    for (let oy = 0; oy < oh; oy++) {
      const y0 = adaptiveStart(oy, oh, h), y1 = adaptiveEnd(oy, oh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = adaptiveStart(ox, ow, w), x1 = adaptiveEnd(ox, ow, w);
        const g = load<f32>(dy) / <f32>(y1 - y0) / <f32>(x1 - x0);
        dy += 4;
        for (let y = y0; y < y1; y++) {
          const row = dx + (<usize>(y * w) << 2);
          for (let c = x0; c < x1; c++) {
            const p = row + (<usize>c << 2);
            store<f32>(p, load<f32>(p) + g);
          }
        }
      }
    }
    dx += inBytes;
  }
}
