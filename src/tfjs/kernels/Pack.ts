// Pack (tf.stack) and Unpack (tf.unstack): Pack concatenates its inputs, each seen with a new axis of size 1 (no
// copy), along that axis; Unpack slices along the axis and drops it. Any numeric dtype; strings are listed in
// src/tfjs/fallback.ts.
import { Pack, Unpack, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { concat, slice } from '../../kernels/index.js';
import { runOnCpu } from '../fallback.js';
import { anyString, kernel, view, withScratch } from './util.js';

export const packConfig = kernel(Pack, (args) => {
  const { attrs, backend } = args;
  const xs = args.inputs as unknown as TensorInfo[];
  if (anyString(xs)) return runOnCpu(Pack, args);
  const { shape, dtype } = xs[0]!;
  for (const x of xs) {
    util.assertShapesMatch(shape, x.shape, 'All tensors passed to stack must have matching shapes');
    util.assert(x.dtype === dtype, () => 'All tensors passed to stack must have matching dtypes');
  }
  const axis = util.parseAxisParam(attrs.axis as number, [...shape, 1])[0]!;
  const expanded = [...shape.slice(0, axis), 1, ...shape.slice(axis)];
  return backend.output(concat(xs.map((x) => view(backend.nd(x), expanded)), axis), dtype);
});

export const unpackConfig = kernel(Unpack, (args) => {
  const { inputs, attrs, backend } = args;
  const x = inputs.value!;
  if (anyString(inputs)) return runOnCpu(Unpack, args);
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const size = x.shape.map((d, i) => (i === axis ? 1 : d));
  const parts = withScratch(() => Array.from({ length: x.shape[axis]! }, (_, k) => { // all or none, as SplitV
    const begin = x.shape.map((_, i) => (i === axis ? k : 0));
    return view(slice(backend.nd(x), begin, size), outShape);
  }));
  return parts.map((part) => backend.output(part, x.dtype));
});
