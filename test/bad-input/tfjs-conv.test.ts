// Bad input to the convolution and pooling kernels of the 'wasmgrad' TensorFlow.js backend: what tfjs lets through
// but cannot be computed fails with a message that names the tfjs kernel and says what to do; tfjs's tensors and
// wasmgrad's bytes are unchanged, and the same tensors and model keep working.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/tfjs/index.js';
import { expectNoTfLeaks } from '../helpers/tfjs.js';

const fill = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, (_, i) => Math.sin(i)), shape);

let x: tf.Tensor4D, f: tf.Tensor4D, model: tf.Sequential;

beforeAll(async () => {
  await tf.setBackend('wasmgrad');
  x = fill([2, 6, 6, 3]) as tf.Tensor4D;
  f = fill([3, 3, 3, 2]) as tf.Tensor4D;
  model = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 2, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
});

afterAll(async () => {
  tf.dispose([x, f]);
  model.dispose();
  await tf.setBackend('cpu');
});

/** The tensors and the model still work: a convolution, its gradients, pooling, and a training step. */
async function stillUsable(): Promise<void> {
  const [dx, df] = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.maxPool(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), 2, 2, 'valid').sum())([x, f]));
  expect([dx!.shape, df!.shape]).toEqual([[2, 6, 6, 3], [3, 3, 3, 2]]);
  tf.dispose([dx!, df!]);
  const labels = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2);
  const history = await model.fit(x, labels, { epochs: 1 });
  expect(Number.isFinite(history.history.loss[0] as number)).toBe(true);
  labels.dispose();
}

/** Runs a kernel as tfjs's ops and gradients run it; the inputs are made inside the tidy. */
const run = (name: string, inputs: () => Record<string, tf.Tensor>, attrs: Record<string, unknown>) =>
  () => tf.tidy(() => tf.engine().runKernel(name, inputs() as never, attrs as never) as tf.Tensor);

// tfjs's gradients leave dimRoundingMode out, so where 'ceil' or 'round' changed a convolution's or a pooling's output
// size, the backprop kernel gets a dy of the rounded size and the geometry of the unrounded one. The cases below run
// the backprop kernels with exactly those arguments: through tf.grad the error is the same, but tfjs's engine then
// keeps the forward pass's saved tensors (it frees them only after a backward pass that succeeds, on any backend).
const ROUNDED = { strides: 2, pad: 1, dimRoundingMode: undefined };

const CASES: [string, () => unknown, string | RegExp][] = [
  ['depthwise convolution in NCHW (tfjs-backend-cpu reads it as NHWC)',
    () => tf.tidy(() => tf.depthwiseConv2d(fill([1, 3, 6, 6]) as tf.Tensor4D, fill([3, 3, 3, 1]) as tf.Tensor4D, 1, 'same', 'NCHW')),
    "DepthwiseConv2dNative: dataFormat 'NCHW' is not supported by the 'wasmgrad' backend (tfjs-backend-cpu ignores it " +
    'and reads the input as NHWC): transpose the input to NHWC'],
  ['conv2dTranspose to an outputShape the convolution does not map back to',
    () => tf.tidy(() => tf.conv2dTranspose(fill([1, 3, 3, 2]) as tf.Tensor4D, fill([2, 2, 3, 2]) as tf.Tensor4D,
      [1, 5, 5, 3], 1, 'valid')),
    /^Conv2DBackpropInput: dy \[1,3,3,2\] should be \[1,4,4,2\], the output of an input \[1,5,5,3\] convolved by the filter \[2,2,3,2\]/],
  ["Conv2DBackpropInput as conv2d's gradient calls it after dimRoundingMode 'ceil' grew the output",
    run('Conv2DBackpropInput', () => ({ dy: fill([2, 4, 4, 2]), filter: f }), { ...ROUNDED, inputShape: [2, 6, 6, 3], dataFormat: 'NHWC' }),
    /^Conv2DBackpropInput: dy \[2,4,4,2\] should be \[2,3,3,2\].*computes gradients without dimRoundingMode/],
  ["Conv2DBackpropFilter as conv2d's gradient calls it after dimRoundingMode 'ceil'",
    run('Conv2DBackpropFilter', () => ({ x, dy: fill([2, 4, 4, 2]) }), { ...ROUNDED, filterShape: [3, 3, 3, 2], dataFormat: 'NHWC' }),
    /^Conv2DBackpropFilter: dy \[2,4,4,2\] should be \[2,3,3,2\], the output of x \[2,6,6,3\] convolved by a filter \[3,3,3,2\]/],
  ["AvgPoolGrad as avgPool's gradient calls it after dimRoundingMode 'ceil'",
    run('AvgPoolGrad', () => ({ dy: fill([2, 4, 4, 3]), input: x }), { ...ROUNDED, filterSize: 3 }),
    /^AvgPoolGrad: dy \[2,4,4,3\] should be \[2,3,3,3\], the output of average pooling an input \[2,6,6,3\]/],
  ["MaxPoolGrad as maxPool's gradient calls it after dimRoundingMode 'ceil'",
    run('MaxPoolGrad', () => ({ dy: fill([2, 4, 4, 3]), input: x, output: fill([2, 4, 4, 3]) }), { ...ROUNDED, filterSize: 3 }),
    /^MaxPoolGrad: dy \[2,4,4,3\] should be \[2,3,3,3\], the output of max pooling an input \[2,6,6,3\]/],
  ['max pooling int32 images', () => tf.tidy(() => tf.maxPool(tf.zeros([1, 4, 4, 1], 'int32') as tf.Tensor4D, 2, 2, 'valid')),
    "MaxPool: the 'wasmgrad' backend pools float32 tensors, got int32 (tf.cast(x, 'float32') converts it)"],
  ['Conv2D run directly with a filter of other input channels',
    run('Conv2D', () => ({ x, filter: fill([3, 3, 2, 2]) }), { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 }),
    'Conv2D: the filter [3,3,2,2] has 2 input channels, but the input [2,6,6,3] has 3'],
];

describe('bad input to the tfjs convolution and pooling kernels on wasmgrad', () => {
  it.each(CASES)('%s', async (_name, call, message) => {
    await expectNoTfLeaks(async () => {
      expect(call).toThrow(message);
    });
    await stillUsable();
  });
});
