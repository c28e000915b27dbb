// The 'wasmgrad' tfjs backend against tfjs-backend-cpu where tfjs's semantics are not wasmgrad's own (PyTorch's):
// NaN in ArgMax/ArgMin, Sign and MaxPool, empty inputs of Concat, string tensors, Exp of int32, tfjs's error
// wording, the 1×1 pooling that returns its input. Each case runs on both backends from the same literal inputs and
// must give the same dtype, shape and values (NaN for NaN), or the same error; wasmgrad's memory returns to where
// it started.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/tfjs/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

type Case = [name: string, fn: () => tf.Tensor | tf.Tensor[]];

/** fn's outputs on `backend`, as plain values, every tensor disposed. */
async function run(backend: string, fn: Case[1]) {
  if (backend === 'wasmgrad') await useWasmgrad();
  else await tf.setBackend(backend);
  const outs = tf.tidy(() => [fn()].flat());
  const got = await Promise.all(outs.map(async (t) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(await t.data()) })));
  tf.dispose(outs);
  return got;
}

async function expectAsOnCpu(fn: Case[1]): Promise<void> {
  const cpu = await run('cpu', fn);
  const ours = await expectNoTfLeaks(() => run('wasmgrad', fn));
  expect(ours).toEqual(cpu); // toEqual: NaN equals NaN
}

async function expectErrorAsOnCpu(fn: Case[1]): Promise<void> {
  const message = async (backend: string) => run(backend, fn).then(() => 'no error', (e: Error) => e.message);
  const cpu = await message('cpu');
  expect(cpu).not.toBe('no error');
  expect(await expectNoTfLeaks(() => message('wasmgrad'))).toBe(cpu);
}

const nan = NaN;

const CASES: Case[] = [
  // tfjs's ArgMax starts from the first value and takes each later one that is greater: NaNs after it are skipped,
  // a NaN first stays; wasmgrad's max lets NaN win.
  ['ArgMax skips NaNs', () => tf.argMax(tf.tensor1d([0, 3, 5, nan, 3]))],
  ['ArgMax: a NaN first is kept, a NaN row gives 0', () => tf.argMax(tf.tensor2d([nan, 3, 5, 1, nan, 2, nan, nan, nan, -Infinity, nan, -Infinity], [4, 3]), 1)],
  ['ArgMax along axis 0 with NaNs and ties', () => tf.argMax(tf.tensor2d([1, nan, 2, 1, 7, nan, 4, 7, nan], [3, 3]), 0)],
  ['ArgMin skips NaNs', () => tf.argMin(tf.tensor1d([5, 0, nan, -1, 3]))],
  ['ArgMin: a NaN first is kept', () => tf.argMin(tf.tensor2d([nan, -3, 5, 1, nan, -2], [2, 3]), 1)],
  ['Sign of NaN is 0', () => tf.sign(tf.tensor1d([1.5, 0, nan, -1.4, -0, Infinity, -Infinity]))],
  ['Exp of int32 and bool is float32', () => [tf.exp(tf.tensor1d([0, 1, -2, 3], 'int32')), tf.exp(tf.tensor1d([true, false], 'bool'))]],
  ['Floor', () => tf.floor(tf.tensor1d([1.5, -1.5, -0.5, 2, nan, -Infinity, 3e7 + 1, 0.99999994]))],
  ['MaxPool skips NaNs (a window of NaNs gives −∞)', () =>
    tf.maxPool(tf.tensor4d([1, nan, 3, nan, nan, nan, 7, nan, nan], [1, 3, 3, 1]), 2, 1, 'valid')],
  ['MaxPool and AvgPool with a 1×1 window and numeric padding return the input', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 2, 2, 3]);
    return [tf.maxPool(x, 1, 2, 1), tf.avgPool(x, 1, 2, 1)];
  }],
  ['Concat of empty tensors keeps their size along the axis', () => {
    const e = tf.zeros([0, 5]);
    return [tf.concat([e, e, e], 1), tf.concat([tf.ones([2, 0]), tf.ones([2, 3]), tf.zeros([2, 0])], 1)];
  }],
  ['Concat, Slice and comparisons of strings', () => {
    const a = tf.tensor2d(['a', 'b', 'cé', 'd'], [2, 2]);
    const b = tf.tensor2d(['a', 'c', 'b', 'd'], [2, 2]);
    return [tf.concat([a, b], 1), tf.slice(a, [1, 0], [1, 2]), tf.equal(a, b), tf.notEqual(a, b), tf.greater(a, b),
      tf.greaterEqual(a, b), tf.less(a, b), tf.lessEqual(a, b)];
  }],
];

const ERRORS: Case[] = [
  ['GatherV2: an index out of range', () => tf.gather(tf.tensor1d([1, 2]), tf.tensor1d([0, 100], 'int32'))],
  ['GatherV2: a negative index', () => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([-1], 'int32'), 1)],
  ['Concat: shapes that differ outside the axis, one of them empty', () => tf.concat([tf.zeros([2, 0]), tf.zeros([3, 1])], 1)],
];

describe("tfjs's semantics on 'wasmgrad', as tfjs-backend-cpu gives them", () => {
  beforeAll(useWasmgrad); // started before the leak checks count its tensors
  it.each(CASES)('%s', async (_name, fn) => expectAsOnCpu(fn));
  it.each(ERRORS)('error: %s', async (_name, fn) => expectErrorAsOnCpu(fn));
});
