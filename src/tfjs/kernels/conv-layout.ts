// What the convolution and pooling kernels share: TensorFlow.js's geometry turned into wasmgrad's, and the layout
// changes between tfjs's images (NHWC, or NCHW with dataFormat 'NCHW') and filters [kh, kw, in, out] and wasmgrad's
// NCHW images and weights [out, in/groups, kh, kw].
//
// The geometry always comes from tfjs-core's own backend_util.computeConv2DInfo / computePool2DInfo, so 'same',
// 'valid', explicit padding, dimRoundingMode and the place 'same' puts an odd padding pixel (after the input) mean
// exactly what they mean on tfjs-backend-cpu; wasmgrad then gets explicit [before, after] padding whose output size
// is tfjs's.
import { backend_util } from '@tensorflow/tfjs-core';
import { permute, type ConvGeometry, type NDArray, type Pool2dWindow } from '../../kernels/index.js';
import { view } from './util.js';

type Info = backend_util.Conv2DInfo;

/**
 * The padding after the input that gives tfjs's output length: `padInfo`'s bottom/right, except where
 * dimRoundingMode 'ceil' or 'round' asks for one window more than the padding makes room for (tfjs-backend-cpu
 * reads zeros there too).
 */
function padAfter(out: number, stride: number, span: number, size: number, before: number): number {
  return Math.max(0, (out - 1) * stride + span - size - before);
}

/** wasmgrad's geometry of the convolution tfjs describes by `info` (groups: the depthwise kernels' channels). */
export function convGeometry(info: Info, groups = 1): ConvGeometry {
  const { padInfo: pad } = info;
  return {
    stride: [info.strideHeight, info.strideWidth],
    padding: [
      [pad.top, padAfter(info.outHeight, info.strideHeight, info.effectiveFilterHeight, info.inHeight, pad.top)],
      [pad.left, padAfter(info.outWidth, info.strideWidth, info.effectiveFilterWidth, info.inWidth, pad.left)],
    ],
    dilation: [info.dilationHeight, info.dilationWidth],
    groups,
  };
}

/** wasmgrad's window for the pooling tfjs describes by `info`: its output size is tfjs's (see Pool2dWindow). */
export function poolWindow(info: Info): Pool2dWindow {
  return {
    kernel: [info.filterHeight, info.filterWidth],
    stride: [info.strideHeight, info.strideWidth],
    padding: [info.padInfo.top, info.padInfo.left],
    dilation: [info.dilationHeight, info.dilationWidth],
    ceilMode: false,
    outputSize: [info.outHeight, info.outWidth],
  };
}

/** The axis orders between the layouts (out.shape[i] = in.shape[perm[i]]). */
export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;
/** A tfjs filter [kh, kw, in, out] as wasmgrad's weight [out, in, kh, kw], and back. */
export const FILTER_TO_WEIGHT = [3, 2, 0, 1] as const;
export const WEIGHT_TO_FILTER = [2, 3, 1, 0] as const;

/**
 * Whether permuting `shape` by `perm` keeps the elements in memory order: only axes of size 1 move (a batch of
 * one image, one channel), so the permuted array is the same buffer with another shape.
 */
function keepsOrder(shape: readonly number[], perm: readonly number[]): boolean {
  const moved = perm.filter((p) => shape[p] !== 1);
  return moved.every((p, i) => i === 0 || moved[i - 1]! < p);
}

/** A kernel's scratch marker (withScratch's `tmp`). */
export type Tmp = <A extends NDArray>(x: A) => A;

/** x (not owned) with its axes permuted: the same buffer when only size-1 axes move, else a scratch copy. */
export function permuted(x: NDArray, perm: readonly number[], tmp: Tmp): NDArray {
  return keepsOrder(x.shape, perm) ? view(x, perm.map((p) => x.shape[p]!)) : tmp(permute(x, perm));
}

/** x (computed by the kernel and handed on) with its axes permuted: x's own buffer, or a copy and x is scratch. */
export function permutedOwned(x: NDArray, perm: readonly number[], tmp: Tmp): NDArray {
  if (keepsOrder(x.shape, perm)) return view(x, perm.map((p) => x.shape[p]!));
  tmp(x);
  return permute(x, perm);
}
