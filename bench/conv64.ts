// Float64 convolutions for the checks of the convolution and CNN cases, one element at a time, in PyTorch's layouts
// (x [n, c, h, w], weight [o, c, k, k], y [n, o, oh, ow]; square kernels, one stride and one padding for both
// dims). Each returns the sum and the sum of |terms| behind it, from which the checks take their tolerance.

export interface ConvDims {
  n: number; c: number; h: number; w: number;
  o: number; k: number; stride: number; pad: number;
  oh: number; ow: number;
}

export function convDims(n: number, c: number, size: number, o: number, k: number, stride: number, pad: number): ConvDims {
  const out = Math.floor((size + 2 * pad - k) / stride) + 1;
  return { n, c, h: size, w: size, o, k, stride, pad, oh: out, ow: out };
}

export interface Term { sum: number; abs: number }

/** y[n, o, oy, ox] = Σ x[n, c, oy·s − p + i, ox·s − p + j]·w[o, c, i, j]. */
export function forwardAt(d: ConvDims, x: ArrayLike<number>, w: ArrayLike<number>, n: number, o: number, oy: number, ox: number): Term {
  let sum = 0;
  let abs = 0;
  for (let c = 0; c < d.c; c++) {
    for (let i = 0; i < d.k; i++) {
      const iy = oy * d.stride - d.pad + i;
      if (iy < 0 || iy >= d.h) continue;
      for (let j = 0; j < d.k; j++) {
        const ix = ox * d.stride - d.pad + j;
        if (ix < 0 || ix >= d.w) continue;
        const t = x[((n * d.c + c) * d.h + iy) * d.w + ix]! * w[((o * d.c + c) * d.k + i) * d.k + j]!;
        sum += t;
        abs += Math.abs(t);
      }
    }
  }
  return { sum, abs };
}

/** dx[n, c, iy, ix] = Σ dy[n, o, oy, ox]·w[o, c, i, j] over the taps with oy·s − p + i = iy, ox·s − p + j = ix (output channel `only` alone if given). */
export function inputGradAt(d: ConvDims, dy: ArrayLike<number>, w: ArrayLike<number>, n: number, c: number, iy: number, ix: number,
  only?: number): Term {
  let sum = 0;
  let abs = 0;
  const [o0, o1] = only === undefined ? [0, d.o] : [only, only + 1];
  for (let i = 0; i < d.k; i++) {
    const ty = iy + d.pad - i;
    if (ty < 0 || ty % d.stride !== 0 || ty / d.stride >= d.oh) continue;
    const oy = ty / d.stride;
    for (let j = 0; j < d.k; j++) {
      const tx = ix + d.pad - j;
      if (tx < 0 || tx % d.stride !== 0 || tx / d.stride >= d.ow) continue;
      const ox = tx / d.stride;
      for (let o = o0; o < o1; o++) {
        const t = dy[((n * d.o + o) * d.oh + oy) * d.ow + ox]! * w[((o * d.c + c) * d.k + i) * d.k + j]!;
        sum += t;
        abs += Math.abs(t);
      }
    }
  }
  return { sum, abs };
}

/** dw[o, c, i, j] = Σ over n, oy, ox of dy[n, o, oy, ox]·x[n, c, oy·s − p + i, ox·s − p + j]. */
export function weightGradAt(d: ConvDims, x: ArrayLike<number>, dy: ArrayLike<number>, o: number, c: number, i: number, j: number): Term {
  let sum = 0;
  let abs = 0;
  for (let n = 0; n < d.n; n++) {
    for (let oy = 0; oy < d.oh; oy++) {
      const iy = oy * d.stride - d.pad + i;
      if (iy < 0 || iy >= d.h) continue;
      const xRow = ((n * d.c + c) * d.h + iy) * d.w;
      const dyRow = ((n * d.o + o) * d.oh + oy) * d.ow;
      for (let ox = 0; ox < d.ow; ox++) {
        const ix = ox * d.stride - d.pad + j;
        if (ix < 0 || ix >= d.w) continue;
        const t = dy[dyRow + ox]! * x[xRow + ix]!;
        sum += t;
        abs += Math.abs(t);
      }
    }
  }
  return { sum, abs };
}

/** [a, b, c, d] position of flat index i in a 4-D shape. */
export function unflatten(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    out[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return out;
}

/** An [n, c, h, w] array in tfjs's NHWC layout, or back with `toNchw`. */
export function nhwc(a: ArrayLike<number>, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(n! * c! * h! * w!);
  for (let b = 0; b < n!; b++) for (let ch = 0; ch < c!; ch++) for (let p = 0; p < h! * w!; p++) out[(b * h! * w! + p) * c! + ch] = a[(b * c! + ch) * h! * w! + p]!;
  return out;
}

export function toNchw(a: ArrayLike<number>, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(n! * c! * h! * w!);
  for (let b = 0; b < n!; b++) for (let ch = 0; ch < c!; ch++) for (let p = 0; p < h! * w!; p++) out[(b * c! + ch) * h! * w! + p] = a[(b * h! * w! + p) * c! + ch]!;
  return out;
}

/** A PyTorch weight [o, c, kh, kw] as tfjs's filter [kh, kw, c, o], or back with `fromFilter`. */
export function toFilter(a: ArrayLike<number>, [o, c, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(o! * c! * kh! * kw!);
  for (let p = 0; p < o!; p++) for (let q = 0; q < c!; q++) for (let t = 0; t < kh! * kw!; t++) out[(t * c! + q) * o! + p] = a[(p * c! + q) * kh! * kw! + t]!;
  return out;
}

export function fromFilter(a: ArrayLike<number>, [o, c, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(o! * c! * kh! * kw!);
  for (let p = 0; p < o!; p++) for (let q = 0; q < c!; q++) for (let t = 0; t < kh! * kw!; t++) out[(p * c! + q) * kh! * kw! + t] = a[(t * c! + q) * o! + p]!;
  return out;
}
