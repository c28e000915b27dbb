// Optimizer update kernels (SGD, Adam/AdamW, RMSprop, Adagrad) on every backend, table-driven: one row per
// configuration, 5 steps on seeded random parameters and gradients of awkward sizes.
// Oracle: the ref backend in float64 on the same float32 inputs. Tolerance after 5 steps (float32 kernels round
// every tensor op, as PyTorch does in float32): |got − want| ≤ 2^-18·|want| + 2^-20·(1 + |p0|) on parameters, and
// 2^-18·|want| + 2^-20·(1 + max|state|) on state (momentum buffers cancel terms of that size). Also: the float64 ref against PyTorch's float64 trajectories (pytorch-reference.json) to 1e-12, and every
// backend in float32 against them to 1e-4 relative (the fixture README's float32 tolerance).
import { describe, expect, it } from 'vitest';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { AdagradParams, AdamParams, Backend, Buf, DType, RmspropParams, SgdParams } from '../../src/backend/types.js';
import { loadBackends } from '../helpers/backends.js';
import { fixtures } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

const backends = await loadBackends();
const oracle = new RefBackend();
const SIZES = [0, 1, 3, 5, 17, 64, 127, 300, 100003];
const STEPS = 5;

type Config =
  | { kind: 'sgd'; h: Omit<SgdParams, 'firstStep'> }
  | { kind: 'adam'; h: Omit<AdamParams, 'bc1' | 'bc2'> }
  | { kind: 'rmsprop'; h: RmspropParams }
  | { kind: 'adagrad'; lr: number; lrDecay: number; eps: number; weightDecay: number };

const sgd = (h: Partial<SgdParams>): Config => ({ kind: 'sgd', h: { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...h } });
const adam = (h: Partial<AdamParams>): Config => ({ kind: 'adam', h: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...h } });
const rms = (h: Partial<RmspropParams>): Config => ({ kind: 'rmsprop', h: { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...h } });

const ROWS: { name: string; config: Config }[] = [
  { name: 'sgd', config: sgd({}) },
  { name: 'sgd momentum + dampening', config: sgd({ momentum: 0.9, dampening: 0.1 }) },
  { name: 'sgd nesterov + weight decay', config: sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.01 }) },
  { name: 'adam', config: adam({}) },
  { name: 'adam + L2 weight decay', config: adam({ weightDecay: 0.05 }) },
  { name: 'adamw', config: adam({ weightDecay: 0.1, decoupled: true, lr: 0.1 }) },
  { name: 'adam beta1 0.3 (lerp weight ≥ ½)', config: adam({ beta1: 0.3 }) },
  { name: 'rmsprop', config: rms({}) },
  { name: 'rmsprop momentum + weight decay', config: rms({ momentum: 0.9, weightDecay: 0.01 }) },
  { name: 'rmsprop centered + momentum', config: rms({ centered: true, momentum: 0.5 }) },
  { name: 'rmsprop centered, alpha 0.4', config: rms({ centered: true, alpha: 0.4 }) },
  { name: 'adagrad', config: { kind: 'adagrad', lr: 0.1, lrDecay: 0, eps: 1e-10, weightDecay: 0 } },
  { name: 'adagrad lr decay + weight decay', config: { kind: 'adagrad', lr: 0.1, lrDecay: 0.01, eps: 1e-10, weightDecay: 0.1 } },
];

/** Which state buffers a configuration uses. */
function stateNames(c: Config): string[] {
  switch (c.kind) {
    case 'sgd': return c.h.momentum !== 0 ? ['buf'] : [];
    case 'adam': return ['m', 'v'];
    case 'rmsprop': return ['sq', ...(c.h.momentum > 0 ? ['buf'] : []), ...(c.h.centered ? ['gavg'] : [])];
    case 'adagrad': return ['sum'];
  }
}

/** One step t (1-based) of configuration c on a backend. */
function step(b: Backend, c: Config, t: number, p: Buf, g: Buf, s: Record<string, Buf>, n: number): void {
  switch (c.kind) {
    case 'sgd': b.sgd(p, g, s.buf ?? null, n, { ...c.h, firstStep: t === 1 }); break;
    case 'adam': b.adam(p, g, s.m!, s.v!, n, { ...c.h, bc1: 1 - c.h.beta1 ** t, bc2: 1 - c.h.beta2 ** t }); break;
    case 'rmsprop': b.rmsprop(p, g, s.sq!, s.buf ?? null, s.gavg ?? null, n, c.h); break;
    case 'adagrad': {
      const h: AdagradParams = { clr: c.lr / (1 + (t - 1) * c.lrDecay), eps: c.eps, weightDecay: c.weightDecay };
      b.adagrad(p, g, s.sum!, n, h);
      break;
    }
  }
}

/**
 * Runs STEPS steps from p0 with gradients grads[t] (or, when grads is a function, g = grad(p) of the current
 * parameters) and returns the parameter after each step plus the final state.
 */
function trajectory(b: Backend, dtype: DType, c: Config, p0: ArrayLike<number>,
  grads: ArrayLike<number>[] | ((p: ArrayLike<number>) => number[])): { ps: ArrayLike<number>[]; state: Record<string, ArrayLike<number>> } {
  const n = p0.length;
  const p = b.alloc(dtype, n);
  const g = b.alloc(dtype, n);
  const s: Record<string, Buf> = {};
  try {
    b.write(p, p0);
    for (const name of stateNames(c)) {
      s[name] = b.alloc(dtype, n);
      b.fill(s[name]!, 0, 0, n);
    }
    const ps: ArrayLike<number>[] = [];
    for (let t = 1; t <= STEPS; t++) {
      b.write(g, typeof grads === 'function' ? grads(b.read(p)) : grads[t - 1]!);
      step(b, c, t, p, g, s, n);
      ps.push(b.read(p));
    }
    const state: Record<string, ArrayLike<number>> = {};
    for (const [name, buf] of Object.entries(s)) state[name] = b.read(buf);
    return { ps, state };
  } finally {
    b.free(p);
    b.free(g);
    for (const buf of Object.values(s)) b.free(buf);
  }
}

function random(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function closeTo(a: ArrayLike<number>, e: ArrayLike<number>, scale: (i: number) => number): string | null {
  for (let i = 0; i < e.length; i++) {
    const tol = 2 ** -18 * Math.abs(e[i]!) + 2 ** -20 * (1 + scale(i));
    if (!(Math.abs(a[i]! - e[i]!) <= tol)) return `element ${i}: got ${a[i]}, expected ${e[i]}`;
  }
  return null;
}

describe.each(ROWS)('$name', ({ config }) => {
  const cases = SIZES.map((n, k) => {
    const p0 = random(n, 10 + k, -2, 2);
    const grads = Array.from({ length: STEPS }, (_, t) => random(n, 100 * t + k, -1, 1));
    return { n, p0, grads, want: trajectory(oracle, 'float64', config, p0, grads) };
  });
  it.each(backends)('$label', ({ backend }) => {
    for (const { n, p0, grads, want } of cases) {
      const got = trajectory(backend, 'float32', config, p0, grads);
      for (let t = 0; t < STEPS; t++) expect(closeTo(got.ps[t]!, want.ps[t]!, (i) => Math.abs(p0[i]!)), `n=${n} step ${t + 1}`).toBeNull();
      for (const name of Object.keys(want.state)) {
        // state such as RMSprop's momentum buffer (Σ momentum^k·g/avg) cancels terms of size max|state|
        const big = Array.from(want.state[name]!).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expect(closeTo(got.state[name]!, want.state[name]!, () => big), `n=${n} state ${name}`).toBeNull();
      }
    }
  });
});

// ---- PyTorch trajectories --------------------------------------------------------------------------------------

// params p0 = [1, −2, 0.5, 3, −0.25], loss = Σ A·p² + 0.1·Σ p⁴, so g = 2·A·p + 0.4·p³ (computed in float64 from the
// current parameters); every other hyperparameter is PyTorch's default.
const A = [0.5, 1, 2, 0.1, 4];
const P0 = [1, -2, 0.5, 3, -0.25];
const grad = (p: ArrayLike<number>) => Array.from(p, (v, i) => 2 * A[i]! * v + 0.4 * v ** 3);
const opt = fixtures.optimizers;
const TORCH: { key: string; config: Config }[] = [
  { key: 'sgd', config: sgd({ lr: opt.sgd!.lr }) },
  { key: 'sgd_momentum', config: sgd({ lr: opt.sgd_momentum!.lr, momentum: 0.9 }) },
  { key: 'sgd_nesterov_wd', config: sgd({ lr: opt.sgd_nesterov_wd!.lr, momentum: 0.9, nesterov: true, weightDecay: 0.01 }) },
  { key: 'adam', config: adam({ lr: opt.adam!.lr }) },
  { key: 'adamw', config: adam({ lr: opt.adamw!.lr, weightDecay: 0.1, decoupled: true }) },
  { key: 'rmsprop', config: rms({ lr: opt.rmsprop!.lr }) },
];

describe('PyTorch trajectories', () => {
  it.each(TORCH)('ref float64: $key to 1e-12', ({ key, config }) => {
    const { ps } = trajectory(oracle, 'float64', config, P0, grad);
    const want = opt[key]!.steps;
    for (let t = 0; t < STEPS; t++) {
      for (let i = 0; i < P0.length; i++) {
        expect(Math.abs(ps[t]![i]! - want[t]![i]!), `${key} step ${t + 1} [${i}]`).toBeLessThan(1e-12 * (1 + Math.abs(want[t]![i]!)));
      }
    }
  });
  it.each(backends)('$label float32 to 1e-4', ({ backend }) => {
    for (const { key, config } of TORCH) {
      const { ps } = trajectory(backend, 'float32', config, P0, grad);
      const want = opt[key]!.steps;
      for (let t = 0; t < STEPS; t++) {
        for (let i = 0; i < P0.length; i++) {
          expect(Math.abs(ps[t]![i]! - want[t]![i]!), `${key} step ${t + 1} [${i}]`).toBeLessThan(1e-4 * Math.abs(want[t]![i]!) + 1e-6);
        }
      }
    }
  });
});
