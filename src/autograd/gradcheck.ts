// gradcheck: compares the gradients backward computes with central finite differences, in float64 on the
// reference backend (like torch.autograd.gradcheck and JAX's check_grads). The function is scalarised as
// F(x) = Σ f(x) ⊙ v with a fixed random v, so one backward gives the whole vector-Jacobian product. Small inputs
// are checked element by element; large ones along random directions (|F(x+εu) − F(x−εu)|/2ε vs ⟨∇F, u⟩).
import { refBackend } from '../backend/registry.js';
import { fromValues } from '../creation.js';
import { checkOptions, describe, integer, number } from '../options.js';
import { Generator } from '../random.js';
import { grads } from './functional.js';
import { tensorList } from './op.js';
import { noGrad, tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** Options of gradcheck (PyTorch's torch.autograd.gradcheck: eps, atol, rtol). */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Inputs with more elements are checked along random directions instead of element by element (default 64). */
  maxElements?: number;
  /** Random directions per large input (default 3). */
  directions?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

/** What gradcheck() returns. */
export interface GradcheckResult {
  /** Whether every analytic gradient matched its finite-difference estimate within atol + rtol·|numeric|. */
  passed: boolean;
  /** The largest |analytic − numeric| seen. */
  maxAbsError: number;
  /** One line per mismatch: input, element or direction, analytic and numeric values. */
  failures: string[];
  /** How many elements and directions were compared. */
  checks: number;
}

const GRADCHECK_OPTIONS = {
  eps: number({ gt: 0 }), atol: number({ ge: 0 }), rtol: number({ ge: 0 }), maxElements: integer({ ge: 0 }),
  directions: integer({ ge: 1 }), seed: integer(),
};

/** inputs: a tensor or an array of them, passed to f in order. */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor | readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  if (typeof f !== 'function') throw new Error(`gradcheck: expected a function, got ${describe(f)}`);
  inputs = tensorList('gradcheck', 'inputs', inputs);
  checkOptions('gradcheck', options, GRADCHECK_OPTIONS, { raiseException: 'gradcheck returns { passed, failures } and never throws for a mismatch' });
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, maxElements = 64, directions = 3, seed = 0 } = options;
  const rng = new Generator(seed);
  const ref = refBackend();
  const values = inputs.map((x) => (x.dtype === 'int32' ? x.data() : Float64Array.from(x.data())));
  const make = (vals: readonly ArrayLike<number>[]) => inputs.map((x, i) =>
    fromValues(vals[i]!, x.shape, { dtype: x.dtype === 'int32' ? 'int32' : 'float64', backend: ref }));

  return tidy(() => {
    const xs = make(values);
    const shape = noGrad(() => f(...xs)).shape;
    const v = fromValues(rng.normal(shape.reduce((a, b) => a * b, 1)), shape, { dtype: 'float64', backend: ref });
    const F = (...args: Tensor[]) => f(...args).mul(v).sum();
    const evalF = (vals: ArrayLike<number>[]) => tidy(() => noGrad(() => F(...make(vals)).item()));
    const floatIdx = inputs.map((x, i) => (x.dtype === 'int32' ? -1 : i)).filter((i) => i >= 0);
    const analytic = grads((...fx: Tensor[]) => F(...xs.map((x, i) => (floatIdx.includes(i) ? fx[floatIdx.indexOf(i)]! : x))))(
      floatIdx.map((i) => xs[i]!)).map((g) => g.data());

    const result: GradcheckResult = { passed: true, maxAbsError: 0, failures: [], checks: 0 };
    const compare = (what: string, a: number, n: number) => {
      const err = Math.abs(a - n);
      result.checks++;
      result.maxAbsError = Math.max(result.maxAbsError, err);
      if (!(err <= atol + rtol * Math.abs(n))) {
        result.passed = false;
        result.failures.push(`${what}: analytic ${a}, numeric ${n}`);
      }
    };
    const perturbed = (i: number, dir: ArrayLike<number>, sign: number) =>
      values.map((vals, k) => (k === i ? Float64Array.from(vals, (x, j) => x + sign * eps * dir[j]!) : vals));

    floatIdx.forEach((i, k) => {
      const n = values[i]!.length;
      const grad = analytic[k]!;
      if (n <= maxElements) {
        for (let j = 0; j < n; j++) {
          const dir = new Float64Array(n);
          dir[j] = 1;
          const numeric = (evalF(perturbed(i, dir, 1)) - evalF(perturbed(i, dir, -1))) / (2 * eps);
          compare(`input ${i}, element ${j}`, grad[j]!, numeric);
        }
      } else {
        for (let d = 0; d < directions; d++) {
          const u = rng.normal(n);
          const norm = Math.sqrt(u.reduce((acc, x) => acc + x * x, 0));
          u.forEach((x, j) => (u[j] = x / norm));
          const numeric = (evalF(perturbed(i, u, 1)) - evalF(perturbed(i, u, -1))) / (2 * eps);
          let dot = 0;
          for (let j = 0; j < n; j++) dot += grad[j]! * u[j]!;
          compare(`input ${i}, direction ${d}`, dot, numeric);
        }
      }
    });
    return result;
  });
}
