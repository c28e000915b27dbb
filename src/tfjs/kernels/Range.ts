// Range (tf.range) and LinSpace (tf.linspace): start, start + step, ... computed here as tfjs-backend-cpu does (each
// value the previous plus step, in the output's dtype, so float32 rounding accumulates the same way; Range is empty
// when the step points away from stop) and written into linear memory.
import { LinSpace, Range, type DataType } from '@tensorflow/tfjs-core';
import { empty } from '../../kernels/index.js';
import { storageDtype } from '../backend.js';
import { kernel } from './util.js';

/** tfjs's range values (a decreasing range with step 1 counts down by 1, as tfjs-backend-cpu does). */
function rangeValues(start: number, stop: number, step: number, dtype: 'float32' | 'int32'): Float32Array | Int32Array {
  const Values = dtype === 'int32' ? Int32Array : Float32Array;
  if (start === stop || (start < stop && step < 0) || (stop < start && step > 1)) return new Values(0);
  const values = new Values(Math.abs(Math.ceil((stop - start) / step)));
  const by = stop < start && step === 1 ? -1 : step;
  if (values.length > 0) values[0] = start;
  for (let i = 1; i < values.length; i++) values[i] = values[i - 1]! + by;
  return values;
}

export const rangeConfig = kernel(Range, ({ attrs, backend }) => {
  const dtype = (attrs.dtype as DataType | undefined) ?? 'float32';
  const values = rangeValues(attrs.start as number, attrs.stop as number, attrs.step as number,
    storageDtype(dtype, Range) as 'float32' | 'int32');
  const out = empty(backend.wasm, storageDtype(dtype, Range), [values.length]);
  if (values.length > 0) backend.wasm.write(out.buf, values);
  return backend.output(out, dtype);
});

/** num values from start to stop: start + i·(stop − start)/(num − 1), accumulated in float32. */
export const linSpaceConfig = kernel(LinSpace, ({ attrs, backend }) => {
  const [start, stop, num] = [attrs.start as number, attrs.stop as number, attrs.num as number];
  const values = new Float32Array(num);
  const step = (stop - start) / (num - 1);
  if (num > 0) values[0] = start;
  for (let i = 1; i < num; i++) values[i] = values[i - 1]! + step;
  const out = empty(backend.wasm, 'float32', [num]);
  if (num > 0) backend.wasm.write(out.buf, values);
  return backend.output(out, 'float32');
});
