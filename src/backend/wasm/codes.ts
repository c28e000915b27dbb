// Operation codes of the wasm ABI: the index in each list is the code (assembly/kernels/codes.ts, same order).
import type { BinaryOp, ReduceOp, UnaryOp } from '../types.js';

export const BINARY_CODES: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'equal', 'greater', 'greaterEqual', 'less', 'lessEqual'];
export const UNARY_CODES: readonly UnaryOp[] = ['neg', 'abs', 'exp', 'log', 'sqrt', 'square', 'relu', 'leakyRelu',
  'sigmoid', 'tanh', 'gelu', 'softplus', 'sign', 'reciprocal', 'sin', 'cos', 'floor'];
export const REDUCE_CODES: readonly ReduceOp[] = ['sum', 'mean', 'max'];
