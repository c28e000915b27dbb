// Operation codes shared with src/backend/wasm/codes.ts (same order there). The table-driven kernel tests run
// every code against the reference backend, so a mismatch between the two lists fails loudly.
export const ADD = 0, SUB = 1, MUL = 2, DIV = 3, POW = 4, MAXIMUM = 5, MINIMUM = 6,
  EQUAL = 7, GREATER = 8, GREATER_EQUAL = 9, LESS = 10, LESS_EQUAL = 11;

export const NEG = 0, ABS = 1, EXP = 2, LOG = 3, SQRT = 4, SQUARE = 5, RELU = 6, LEAKY_RELU = 7,
  SIGMOID = 8, TANH = 9, GELU = 10, SOFTPLUS = 11, SIGN = 12, RECIPROCAL = 13, SIN = 14, COS = 15, FLOOR = 16;

export const SUM = 0, MEAN = 1, MAX = 2;
