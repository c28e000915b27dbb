// Reference 2-D convolution and its two gradients: the test oracle for the wasm kernels and the pure-TypeScript
// baseline. Clarity first: direct loops over every (output position, tap) pair, accumulated in a Float64Array and
// stored once, so the result is the float64 sum rounded once to the output type, for float32 and float64 alike.
import type { ConvPlan, TypedArray } from '../types.js';

/**
 * Calls fn(xAt, outAt, wAt) for every product x·w of the convolution: out[outAt] gets x[xAt]·w[wAt], where
 * xAt is inside the image (taps in the padding read 0 and are skipped).
 */
function forEachTap(p: ConvPlan, fn: (xAt: number, outAt: number, wAt: number) => void): void {
  const cg = p.c / p.groups;
  const og = p.o / p.groups;
  for (let n = 0; n < p.n; n++) {
    for (let o = 0; o < p.o; o++) {
      const g = Math.floor(o / og);
      for (let oh = 0; oh < p.oh; oh++) {
        for (let ow = 0; ow < p.ow; ow++) {
          const outAt = ((n * p.o + o) * p.oh + oh) * p.ow + ow;
          for (let c = 0; c < cg; c++) {
            const plane = (n * p.c + g * cg + c) * p.h;
            for (let i = 0; i < p.kh; i++) {
              const ih = oh * p.strideH - p.padH + i * p.dilationH;
              if (ih < 0 || ih >= p.h) continue;
              for (let j = 0; j < p.kw; j++) {
                const iw = ow * p.strideW - p.padW + j * p.dilationW;
                if (iw < 0 || iw >= p.w) continue;
                fn((plane + ih) * p.w + iw, outAt, ((o * cg + c) * p.kh + i) * p.kw + j);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2d(x: TypedArray, weight: TypedArray, bias: TypedArray | null, out: TypedArray, p: ConvPlan): void {
  const acc = new Float64Array(out.length);
  forEachTap(p, (xAt, outAt, wAt) => (acc[outAt] += x[xAt]! * weight[wAt]!));
  const plane = p.oh * p.ow;
  for (let e = 0; e < acc.length; e++) out[e] = bias ? acc[e]! + bias[Math.floor(e / plane) % p.o]! : acc[e]!;
}

export function conv2dInputGrad(dy: TypedArray, weight: TypedArray, dx: TypedArray, p: ConvPlan): void {
  const acc = new Float64Array(dx.length);
  forEachTap(p, (xAt, outAt, wAt) => (acc[xAt] += dy[outAt]! * weight[wAt]!));
  dx.set(acc);
}

export function conv2dWeightGrad(x: TypedArray, dy: TypedArray, dw: TypedArray, p: ConvPlan): void {
  const acc = new Float64Array(dw.length);
  forEachTap(p, (xAt, outAt, wAt) => (acc[wAt] += x[xAt]! * dy[outAt]!));
  dw.set(acc);
}
