// Reference 2-D pooling over planes (N·C of them, each h×w, row-major) with PyTorch's CPU semantics: windows,
// padding, dilation, the max's tie and NaN rules, the average's divisor. Sums are accumulated in float64.
import type { Pool2dPlan, PoolSizes, TypedArray } from '../types.js';

/**
 * out = max over each window, indices = its position in the plane (row·w + column). The first maximum in row-major
 * order wins ties; a NaN wins over every number and a later NaN over an earlier one (PyTorch's
 * `val > max || isnan(val)`); with p.ignoreNaN NaNs are skipped (TensorFlow's `val > max`), so a window of NaNs gives
 * −∞ at its first position. A window with no position inside the plane gives −∞ and index −1.
 */
export function maxPool2d(x: TypedArray, out: TypedArray, indices: Int32Array, p: Pool2dPlan): void {
  const inSize = p.h * p.w, outSize = p.oh * p.ow;
  for (let q = 0; q < p.planes; q++) {
    const xb = q * inSize, ob = q * outSize;
    for (let oy = 0; oy < p.oh; oy++) {
      for (let ox = 0; ox < p.ow; ox++) {
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < p.kh; i++) {
          const y = oy * p.sh - p.ph + i * p.dh;
          if (y < 0 || y >= p.h) continue;
          for (let j = 0; j < p.kw; j++) {
            const xx = ox * p.sw - p.pw + j * p.dw;
            if (xx < 0 || xx >= p.w) continue;
            const v = x[xb + y * p.w + xx]!;
            if (at < 0) at = y * p.w + xx; // PyTorch starts from −∞ at the window's first position
            if (v > best || (v !== v && !p.ignoreNaN)) {
              best = v;
              at = y * p.w + xx;
            }
          }
        }
        out[ob + oy * p.ow + ox] = best;
        indices[ob + oy * p.ow + ox] = at;
      }
    }
  }
}

/**
 * For each plane: dx = 0, then dx[indices[o]] += dy[o] over its outputs in order (index −1: an empty window,
 * skipped). Returns the position of the first index outside [−1, h·w) (skipped too), or −1 when all fit.
 */
export function maxPool2dGrad(dy: TypedArray, indices: Int32Array, dx: TypedArray, s: PoolSizes): number {
  const inSize = s.h * s.w, outSize = s.oh * s.ow;
  dx.fill(0, 0, s.planes * inSize);
  let bad = -1;
  for (let q = 0; q < s.planes; q++) {
    for (let o = 0; o < outSize; o++) {
      const k = indices[q * outSize + o]!;
      if (k >= 0 && k < inSize) dx[q * inSize + k] = dx[q * inSize + k]! + dy[q * outSize + o]!;
      else if (k !== -1 && bad < 0) bad = q * outSize + o;
    }
  }
  return bad;
}

/** out[o] = x[indices[o]] per plane (0 for index −1); returns the first bad position as maxPool2dGrad does. */
export function maxPool2dGather(x: TypedArray, indices: Int32Array, out: TypedArray, s: PoolSizes): number {
  const inSize = s.h * s.w, outSize = s.oh * s.ow;
  let bad = -1;
  for (let q = 0; q < s.planes; q++) {
    for (let o = 0; o < outSize; o++) {
      const k = indices[q * outSize + o]!;
      const ok = k >= 0 && k < inSize;
      out[q * outSize + o] = ok ? x[q * inSize + k]! : 0;
      if (!ok && k !== -1 && bad < 0) bad = q * outSize + o;
    }
  }
  return bad;
}

/**
 * A window's rows [y0, y1) and columns [x0, x1) inside the plane, and its divisor: divisorOverride if set, else
 * the window's size up to the padded border (countIncludePad) or only its positions inside the plane.
 */
function avgWindow(p: Pool2dPlan, oy: number, ox: number): [number, number, number, number, number] {
  let y0 = oy * p.sh - p.ph, x0 = ox * p.sw - p.pw;
  let y1 = Math.min(y0 + p.kh, p.h + p.ph), x1 = Math.min(x0 + p.kw, p.w + p.pw);
  const padded = (y1 - y0) * (x1 - x0);
  y0 = Math.max(y0, 0);
  x0 = Math.max(x0, 0);
  y1 = Math.min(y1, p.h);
  x1 = Math.min(x1, p.w);
  const divisor = p.divisor > 0 ? p.divisor : p.countIncludePad ? padded : (y1 - y0) * (x1 - x0);
  return [y0, y1, x0, x1, divisor];
}

/** out = Σ window / divisor; a window entirely in the padding gives 0. */
export function avgPool2d(x: TypedArray, out: TypedArray, p: Pool2dPlan): void {
  const inSize = p.h * p.w, outSize = p.oh * p.ow;
  for (let q = 0; q < p.planes; q++) {
    for (let oy = 0; oy < p.oh; oy++) {
      for (let ox = 0; ox < p.ow; ox++) {
        const [y0, y1, x0, x1, divisor] = avgWindow(p, oy, ox);
        let s = 0;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += x[q * inSize + y * p.w + xx]!;
        out[q * outSize + oy * p.ow + ox] = y0 < y1 && x0 < x1 ? s / divisor : 0;
      }
    }
  }
}

/** dx = 0, then every window's positions get dy / divisor (overlapping windows add up). */
export function avgPool2dGrad(dy: TypedArray, dx: TypedArray, p: Pool2dPlan): void {
  const inSize = p.h * p.w, outSize = p.oh * p.ow;
  dx.fill(0, 0, p.planes * inSize);
  for (let q = 0; q < p.planes; q++) {
    for (let oy = 0; oy < p.oh; oy++) {
      for (let ox = 0; ox < p.ow; ox++) {
        const [y0, y1, x0, x1, divisor] = avgWindow(p, oy, ox);
        const g = dy[q * outSize + oy * p.ow + ox]! / divisor;
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) dx[q * inSize + y * p.w + xx] = dx[q * inSize + y * p.w + xx]! + g;
        }
      }
    }
  }
}

/** PyTorch's adaptive windows: output i of n over a length of size covers [⌊i·size/n⌋, ⌈(i+1)·size/n⌉). */
export function adaptiveStart(i: number, n: number, size: number): number {
  return Math.floor((i * size) / n);
}
export function adaptiveEnd(i: number, n: number, size: number): number {
  return Math.ceil(((i + 1) * size) / n);
}

/** out = Σ window / rows / columns over PyTorch's adaptive windows. */
export function adaptiveAvgPool2d(x: TypedArray, out: TypedArray, s: PoolSizes): void {
  const inSize = s.h * s.w, outSize = s.oh * s.ow;
  for (let q = 0; q < s.planes; q++) {
    for (let oy = 0; oy < s.oh; oy++) {
      const y0 = adaptiveStart(oy, s.oh, s.h), y1 = adaptiveEnd(oy, s.oh, s.h);
      for (let ox = 0; ox < s.ow; ox++) {
        const x0 = adaptiveStart(ox, s.ow, s.w), x1 = adaptiveEnd(ox, s.ow, s.w);
        let sum = 0;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) sum += x[q * inSize + y * s.w + xx]!;
        out[q * outSize + oy * s.ow + ox] = sum / (y1 - y0) / (x1 - x0);
      }
    }
  }
}

/** dx = 0, then every window's positions get dy / rows / columns. */
export function adaptiveAvgPool2dGrad(dy: TypedArray, dx: TypedArray, s: PoolSizes): void {
  const inSize = s.h * s.w, outSize = s.oh * s.ow;
  dx.fill(0, 0, s.planes * inSize);
  for (let q = 0; q < s.planes; q++) {
    for (let oy = 0; oy < s.oh; oy++) {
      const y0 = adaptiveStart(oy, s.oh, s.h), y1 = adaptiveEnd(oy, s.oh, s.h);
      for (let ox = 0; ox < s.ow; ox++) {
        const x0 = adaptiveStart(ox, s.ow, s.w), x1 = adaptiveEnd(ox, s.ow, s.w);
        const g = dy[q * outSize + oy * s.ow + ox]! / (y1 - y0) / (x1 - x0);
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) dx[q * inSize + y * s.w + xx] = dx[q * inSize + y * s.w + xx]! + g;
        }
      }
    }
  }
}
