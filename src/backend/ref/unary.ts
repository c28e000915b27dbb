// Reference elementwise unary ops and their fused backward, in float64 (rounded once on store for float32).
import type { TypedArray, UnaryGradOp, UnaryOp } from '../types.js';
import { gelu, geluDerivative, sigmoid, sign, softplus } from './math.js';

const UNARY: Record<UnaryOp, (x: number, alpha: number) => number> = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  square: (x) => x * x,
  relu: (x) => (x < 0 ? 0 : x), // NaN and −0 pass through (as PyTorch's relu and f32x4.pmax(x, 0))
  leakyRelu: (x, slope) => (x > 0 ? x : slope * x),
  sigmoid: (x) => sigmoid(x),
  tanh: (x) => Math.tanh(x),
  gelu: (x) => gelu(x),
  softplus: (x, beta) => softplus(x, beta),
  sign: (x) => sign(x),
  reciprocal: (x) => 1 / x,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  floor: (x) => Math.floor(x),
};

/** out[i] = f(x[i]) for i < n; alpha is leakyRelu's slope and softplus's beta. out may alias x. */
export function unary(op: UnaryOp, x: TypedArray, out: TypedArray, n: number, alpha: number): void {
  const f = UNARY[op];
  for (let i = 0; i < n; i++) out[i] = f(x[i], alpha);
}

/** f′ from the saved value: x for relu, leakyRelu, gelu, softplus; y for sigmoid and tanh. */
const DERIVATIVE: Record<UnaryGradOp, (saved: number, alpha: number) => number> = {
  relu: (x) => (x > 0 ? 1 : 0),
  leakyRelu: (x, slope) => (x > 0 ? 1 : slope),
  sigmoid: (y) => y * (1 - y),
  tanh: (y) => 1 - y * y,
  gelu: (x) => geluDerivative(x),
  softplus: (x, beta) => (beta * x > 20 ? 1 : sigmoid(beta * x)),
};

/** dx[i] = dy[i]·f′(saved[i]) for i < n. dx may alias dy. */
export function unaryGrad(op: UnaryGradOp, saved: TypedArray, dy: TypedArray, dx: TypedArray, n: number,
  alpha: number): void {
  const d = DERIVATIVE[op];
  for (let i = 0; i < n; i++) {
    const s = saved[i];
    // relu: exactly 0 where x ≤ 0 even when dy is NaN or ±Inf (a mask, as PyTorch's threshold_backward)
    dx[i] = op === 'relu' ? (s > 0 ? dy[i] : 0) : dy[i] * d(s, alpha);
  }
}
