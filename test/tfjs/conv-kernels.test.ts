// The convolution and pooling kernels of the 'wasmgrad' tfjs backend against tfjs-backend-cpu on awkward shapes:
// 1×1 kernels, stride larger than the kernel, 'same' with an odd padding pixel, explicit padding, dimRoundingMode,
// dilation, batch 1, channels 1 and 3, NCHW; forward and gradients (which run the backprop kernels).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/tfjs/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

/** Deterministic values in [-1, 1) (a small LCG), so both backends get the same inputs. */
function values(n: number, seed: number, levels = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = levels > 0 ? Math.floor(u * levels) / levels : 2 * u - 1; // levels: few distinct values, many ties
  }
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs fn on 'cpu' and on 'wasmgrad' with the same inputs; returns each backend's outputs as plain arrays. */
async function both(shapes: number[][], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], levels = 0):
  Promise<[Float32Array[], Float32Array[]]> {
  const run = async (backend: string): Promise<{ shape: number[]; data: Float32Array }[]> => {
    await tf.setBackend(backend);
    const xs = shapes.map((s, i) => tf.tensor(values(size(s), 7 + i, levels), s));
    const out = tf.tidy(() => [fn(...xs)].flat());
    const data = await Promise.all(out.map(async (t) => ({ shape: t.shape, data: (await t.data()) as Float32Array })));
    tf.dispose([...xs, ...out]);
    return data;
  };
  const cpu = await run('cpu');
  await useWasmgrad();
  const ours = await expectNoTfLeaks(() => run('wasmgrad'));
  expect(ours.map((o) => o.shape)).toEqual(cpu.map((o) => o.shape));
  return [cpu.map((o) => o.data), ours.map((o) => o.data)];
}

/** Float32 agreement: each value within 1e-5 of the larger magnitude of the pair (sums run in other orders). */
function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    if (Number.isNaN(e)) expect(a, `at ${i}`).toBeNaN();
    else expect(Math.abs(a - e), `at ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(e)));
  }
}

async function expectSame(shapes: number[][], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], levels = 0) {
  const [cpu, ours] = await both(shapes, fn, levels);
  ours.forEach((o, i) => expectClose(o, cpu[i]!));
}

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: number[]; f: number[]; s: number | [number, number]; pad: Pad; d?: number | [number, number];
  format?: 'NHWC' | 'NCHW'; rounding?: 'floor' | 'round' | 'ceil';
}

const CONVS: [string, ConvCase][] = [
  ['1×1 kernel, batch 1, one channel', { x: [1, 5, 5, 1], f: [1, 1, 1, 2], s: 1, pad: 'valid' }],
  ['3×3 stride 2 same, odd padding in width, 3 channels', { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' }],
  ['2×2 stride 1 same (odd padding after)', { x: [2, 4, 4, 2], f: [2, 2, 2, 3], s: 1, pad: 'same' }],
  ['stride 3 over a 2×2 kernel', { x: [2, 8, 7, 3], f: [2, 2, 3, 2], s: 3, pad: 'valid' }],
  ['strides [1, 2], 1×3 kernel', { x: [1, 5, 9, 2], f: [1, 3, 2, 2], s: [1, 2], pad: 'same' }],
  ['dilation 2, same', { x: [1, 7, 7, 2], f: [3, 3, 2, 3], s: 1, pad: 'same', d: 2 }],
  ['explicit padding', { x: [2, 5, 6, 1], f: [3, 2, 1, 2], s: 2, pad: [[0, 0], [1, 2], [0, 3], [0, 0]] }],
  ['number padding with dimRoundingMode ceil', { x: [1, 6, 6, 3], f: [3, 3, 3, 2], s: 2, pad: 1, rounding: 'ceil' }],
  ['NCHW same', { x: [2, 3, 5, 5], f: [3, 3, 3, 2], s: 1, pad: 'same', format: 'NCHW' }],
  ['NCHW stride 2 valid', { x: [1, 2, 7, 6], f: [2, 3, 2, 4], s: 2, pad: 'valid', format: 'NCHW' }],
];

describe('tfjs kernels on wasmgrad: convolutions against tfjs-backend-cpu', () => {
  beforeAll(async () => {
    await tf.ready();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(CONVS)('Conv2D: %s', async (_name, c) => {
    await expectSame([c.x, c.f], (x, f) =>
      tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad, c.format ?? 'NHWC', c.d ?? 1, c.rounding));
  });

  // tfjs's gradients leave dimRoundingMode out (see bad-input/tfjs-conv.test.ts), and have no dilation.
  it.each(CONVS.filter(([, c]) => c.d === undefined && c.format !== 'NCHW' && c.rounding === undefined))(
    'Conv2DBackpropInput and Conv2DBackpropFilter (tf.grads of conv2d): %s', async (_name, c) => {
      await expectSame([c.x, c.f], (x, f) => {
        const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad);
        const dy = tf.tensor(values(y.size, 99), y.shape);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad))([x, f], dy);
      });
    });

  it.each(CONVS.filter(([, c]) => c.format === 'NCHW'))('Conv2DBackpropInput and Filter in NCHW: %s', async (_name, c) => {
    await expectSame([c.x, c.f], (x, f) => {
      const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad, 'NCHW');
      const dy = tf.tensor(values(y.size, 99), y.shape);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NCHW'))([x, f], dy);
    });
  });

  it('conv2dTranspose (Conv2DBackpropInput as an op), stride 2 same', async () => {
    await expectSame([[2, 3, 3, 2], [3, 3, 4, 2]], (x, f) =>
      tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 6, 5, 4], 2, 'same'));
  });

  it.each([
    ['linear with bias', 'linear', [4]], ['relu with bias', 'relu', [4]], ['relu6', 'relu6', [4]],
    ['elu', 'elu', [4]], ['sigmoid', 'sigmoid', [4]], ['leakyrelu', 'leakyrelu', [4]],
    ['relu with a scalar bias', 'relu', []], ['relu, no bias', 'relu', null],
  ] as const)('FusedConv2D forward: %s', async (_name, activation, biasShape) => {
    const shapes = [[2, 6, 5, 3], [3, 3, 3, 4], ...(biasShape ? [[...biasShape]] : [])];
    await expectSame(shapes, (x, f, bias) => tf.fused.conv2d({
      x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias, activation, leakyreluAlpha: 0.3,
    }));
  });

  it('FusedConv2D forward: prelu with per-channel weights, NCHW with a 1-D bias', async () => {
    await expectSame([[2, 6, 5, 3], [3, 3, 3, 4], [4], [4]], (x, f, bias, alpha) => tf.fused.conv2d({
      x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'prelu',
      preluActivationWeights: alpha,
    }));
    await expectSame([[2, 3, 6, 5], [3, 3, 3, 4], [4], [4]], (x, f, bias, alpha) => tf.fused.conv2d({
      x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'valid', dataFormat: 'NCHW', bias,
      activation: 'prelu', preluActivationWeights: alpha,
    }));
  });

  it.each(['linear', 'relu'] as const)('FusedConv2D gradient (tfjs-core\'s path) with bias and %s', async (activation) => {
    await expectSame([[2, 7, 6, 3], [3, 3, 3, 4], [4]], (x, f, bias) => {
      const fn = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.fused.conv2d({
        x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 2, pad: 'same', bias: c, activation,
      });
      const y = fn(x, f, bias);
      return tf.grads(fn)([x, f, bias], tf.tensor(values(y.size, 5), y.shape));
    });
  });

  it.each([
    ['multiplier 2, same', [2, 5, 5, 3], [3, 3, 3, 2], 1, 'same', 1],
    ['multiplier 1, stride 2 valid, one image', [1, 7, 6, 3], [2, 2, 3, 1], 2, 'valid', 1],
    ['dilation 2', [1, 7, 7, 2], [3, 3, 2, 2], 1, 'same', 2],
  ] as const)('DepthwiseConv2dNative and its backprop kernels: %s', async (_name, xs, fs, s, pad, d) => {
    await expectSame([[...xs], [...fs]], (x, f) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad, 'NHWC', d));
    if (d === 1) {
      await expectSame([[...xs], [...fs]], (x, f) => {
        const fn = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad);
        const y = fn(x, f);
        return tf.grads(fn)([x, f], tf.tensor(values(y.size, 3), y.shape));
      });
    }
  });
});

const POOLS: [string, number[], number | [number, number], number | [number, number], Pad, ('floor' | 'round' | 'ceil')?][] = [
  ['2×2 stride 2, batch 1, one channel', [1, 6, 6, 1], 2, 2, 'valid'],
  ['3×3 stride 2 same, odd sizes, 3 channels', [2, 7, 6, 3], 3, 2, 'same'],
  ['2×2 stride 1 same (odd padding after)', [2, 4, 5, 2], 2, 1, 'same'],
  ['stride 3 over a 2×2 window', [2, 8, 7, 3], 2, 3, 'valid'],
  ['1×1 window, stride 2', [1, 5, 5, 3], 1, 2, 'valid'],
  ['window [2, 3], strides [1, 2], same', [1, 5, 7, 2], [2, 3], [1, 2], 'same'],
  ['explicit padding', [1, 5, 5, 2], 3, 2, [[0, 0], [1, 0], [2, 1], [0, 0]]],
  ['number padding with dimRoundingMode ceil', [2, 6, 6, 1], 3, 2, 1, 'ceil'],
];

describe('tfjs kernels on wasmgrad: pooling against tfjs-backend-cpu', () => {
  it.each(POOLS)('MaxPool and MaxPoolGrad: %s', async (_name, xs, f, s, pad, rounding) => {
    const fn = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, f, s, pad as 'same', rounding);
    await expectSame([xs], (x) => fn(x));
    if (rounding) return; // tfjs's gradients leave dimRoundingMode out
    await expectSame([xs], (x) => {
      const y = fn(x);
      return tf.grad(fn)(x, tf.tensor(values(y.size, 11), y.shape));
    });
  });

  it.each(POOLS.filter((p) => !p[5]))('MaxPoolGrad with ties (a window\'s first maximum in row-major order gets it): %s',
    async (_name, xs, f, s, pad, rounding) => {
      const fn = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, f, s, pad as 'same', rounding);
      await expectSame([xs], (x) => {
        const y = fn(x);
        return tf.grad(fn)(x, tf.tensor(values(y.size, 11), y.shape));
      }, 3);
    });

  it.each(POOLS)('AvgPool and AvgPoolGrad: %s', async (_name, xs, f, s, pad, rounding) => {
    const fn = (a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, f, s, pad as 'same', rounding);
    await expectSame([xs], (x) => fn(x));
    if (rounding) return;
    await expectSame([xs], (x) => {
      const y = fn(x);
      return tf.grad(fn)(x, tf.tensor(values(y.size, 11), y.shape));
    });
  });
});
