// Reference elementwise binary ops and `where` over broadcast plans (any number of dims).
// Computed in JS numbers (float64); a Float32Array output rounds once on store.
import type { BinaryOp, BroadcastPlan, TypedArray, WherePlan } from '../types.js';
import { forEachRow } from './copy.js';

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  maximum: (a, b) => Math.max(a, b), // NaN-propagating, max(−0, +0) = +0
  minimum: (a, b) => Math.min(a, b),
  equal: (a, b) => (a === b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
};

/** out[i] = a[Σ i·aStrides] op b[Σ i·bStrides] over plan.dims; out is dense. */
export function binary(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray, plan: BroadcastPlan): void {
  const f = BINARY[op];
  const nd = plan.dims.length;
  const n = nd === 0 ? 1 : plan.dims[nd - 1];
  const sa = nd === 0 ? 0 : plan.aStrides[nd - 1];
  const sb = nd === 0 ? 0 : plan.bStrides[nd - 1];
  forEachRow(plan.dims, [plan.aStrides, plan.bStrides], (k, [ba, bb]) => {
    for (let i = 0; i < n; i++) out[k + i] = f(a[ba + i * sa], b[bb + i * sb]);
  });
}

/** out[i] = cond[…] ≠ 0 ? a[…] : b[…] over plan.dims (NaN counts as true); out is dense. */
export function where(cond: TypedArray, a: TypedArray, b: TypedArray, out: TypedArray, plan: WherePlan): void {
  const nd = plan.dims.length;
  const n = nd === 0 ? 1 : plan.dims[nd - 1];
  const sc = nd === 0 ? 0 : plan.condStrides[nd - 1];
  const sa = nd === 0 ? 0 : plan.aStrides[nd - 1];
  const sb = nd === 0 ? 0 : plan.bStrides[nd - 1];
  forEachRow(plan.dims, [plan.condStrides, plan.aStrides, plan.bStrides], (k, [bc, ba, bb]) => {
    for (let i = 0; i < n; i++) out[k + i] = cond[bc + i * sc] !== 0 ? a[ba + i * sa] : b[bb + i * sb];
  });
}
