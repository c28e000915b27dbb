// conv1d / conv2d as differentiable ops: every `conv[]` case of PyTorch's layer fixtures (output and the gradient
// of every input) on the ref backend in float32 and float64 and on every wasm build; gradcheck in float64 with
// stride, padding ('same' with an even kernel included), dilation and groups; second derivatives (the gradient
// ops are convolutions themselves); and the options as PyTorch names them.
import { describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { gradcheck, refBackend, setBackend, tensor, tidy, type ConvOptions, type Tensor } from '../../src/index.js';
import data from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { expectNoLeaks } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, type Nested } from '../helpers/fixtures.js';
import { mulberry32 } from '../helpers/random.js';

interface ConvCase {
  kind: 'conv1d' | 'conv2d';
  stride: number | number[]; padding: number | number[]; dilation: number | number[]; groups: number;
  inputs: Record<string, Nested>; shapes: Record<string, number[]>;
  out: Nested; out_shape: number[]; upstream: Nested; grads: Record<string, Nested>;
}

const cases = (data as unknown as { conv: ConvCase[] }).conv;
const backends = await loadBackends();

const OP = { conv1d: wg.conv1d, conv2d: wg.conv2d };

function runFixture(c: ConvCase, dtype: 'float32' | 'float64', rtol: number, atol: number): void {
  const names = Object.keys(c.inputs);
  const xs = names.map((k) => tensor(c.inputs[k]!, { shape: c.shapes[k], dtype, requiresGrad: true }));
  const [x, w, b] = xs;
  const out = OP[c.kind](x!, w!, b ?? null, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
  expect(out.shape).toEqual(c.out_shape);
  expectClose(out.data(), c.out, rtol, atol, `${c.kind} output`);
  const grads = wg.gradients(out, xs, tensor(c.upstream, { shape: c.out_shape, dtype }));
  names.forEach((k, i) => expectClose(grads[i]!.data(), c.grads[k]!, rtol, atol, `${c.kind} gradient of ${k}`));
}

const caseName = (c: ConvCase, i: number) =>
  `${i} ${c.kind} x ${JSON.stringify(c.shapes.x)} w ${JSON.stringify(c.shapes.weight)} stride ${JSON.stringify(c.stride)} ` +
  `padding ${JSON.stringify(c.padding)} dilation ${JSON.stringify(c.dilation)} groups ${c.groups}${c.shapes.bias ? ' +bias' : ''}`;

describe.each(backends.map((b) => [b.label, b.backend] as const))('PyTorch conv fixtures on %s', (_label, backend) => {
  it.each(cases.map((c, i) => [caseName(c, i), c] as const))('%s: output and the gradient of every input', (_name, c) => {
    setBackend(backend);
    expectNoLeaks(() => tidy(() => runFixture(c, 'float32', 1e-4, 1e-6)));
  });
});

describe('PyTorch conv fixtures on ref in float64', () => {
  it.each(cases.map((c, i) => [caseName(c, i), c] as const))('%s', (_name, c) => {
    setBackend('ref');
    // float64 from the same float32 inputs as PyTorch's float64 references: only the summation order differs.
    expectNoLeaks(() => tidy(() => runFixture(c, 'float64', 1e-10, 1e-12)));
  });
});

// ---- gradcheck in float64 ---------------------------------------------------------------------------------------

function input(shape: number[], seed: number): Tensor {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => 2 * rand() - 1), { shape, dtype: 'float64', backend: refBackend() });
}

interface Row { name: string; x: number[]; w: number[]; bias?: boolean; options: ConvOptions }

const ROWS: Row[] = [
  { name: 'conv2d', x: [2, 3, 5, 4], w: [4, 3, 3, 2], bias: true, options: {} },
  { name: 'conv2d stride, padding', x: [2, 2, 6, 5], w: [3, 2, 3, 3], bias: true, options: { stride: 2, padding: 1 } },
  { name: 'conv2d stride [2,1], padding [1,0], groups 2', x: [1, 4, 6, 5], w: [4, 2, 3, 2], options: { stride: [2, 1], padding: [1, 0], groups: 2 } },
  { name: 'conv2d dilation 2, padding 2', x: [1, 2, 7, 7], w: [2, 2, 3, 3], bias: true, options: { padding: 2, dilation: 2 } },
  { name: 'conv2d depthwise', x: [2, 3, 5, 5], w: [3, 1, 3, 3], bias: true, options: { padding: 1, groups: 3 } },
  { name: "conv2d 'same', even kernel", x: [1, 2, 5, 4], w: [2, 2, 4, 2], options: { padding: 'same', dilation: [1, 2] } },
  { name: 'conv2d stride > kernel', x: [1, 2, 7, 7], w: [2, 2, 2, 2], options: { stride: 3 } },
  { name: 'conv1d', x: [2, 3, 7], w: [4, 3, 3], bias: true, options: { padding: 1 } },
  { name: 'conv1d stride, dilation, groups', x: [2, 4, 11], w: [6, 2, 3], bias: true, options: { stride: 2, dilation: 2, groups: 2, padding: [2] } },
  { name: "conv1d 'same'", x: [1, 2, 6], w: [3, 2, 4], options: { padding: 'same' } },
];

const OPS_BY_RANK = (r: Row) => (r.x.length === 3 ? wg.conv1d : wg.conv2d);

describe('conv gradcheck in float64 on the reference backend', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const conv = OPS_BY_RANK(row);
      const xs = [input(row.x, 1), input(row.w, 2), ...(row.bias ? [input([row.w[0]!], 3)] : [])];
      const result = gradcheck((x, w, b) => conv(x!, w!, b ?? null, row.options), xs, { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
      expect(result.checks).toBeGreaterThan(0);
    }));
  });

  // The gradients are convolutions too (convolution.ts), so they have gradients: check them by differencing
  // the gradient of sum(conv(x, w)²), which depends on x and w through all three ops.
  it.each(ROWS.filter((_, i) => i % 2 === 0 || i === 5).map((r) => [r.name, r] as const))('second derivatives: %s', (_name, row) => {
    expectNoLeaks(() => tidy(() => {
      const conv = OPS_BY_RANK(row);
      const f = wg.grads((x, w) => conv(x, w, null, row.options).square().sum());
      for (const which of [0, 1]) {
        const result = gradcheck((x, w) => f([x!, w!])[which]!, [input(row.x, 4), input(row.w, 5)], { eps: 1e-6, atol: 1e-6, rtol: 1e-5 });
        expect(result.failures, `derivative of the gradient of input ${which}`).toEqual([]);
        expect(result.passed).toBe(true);
      }
    }));
  });
});

describe('conv options', () => {
  it("'same' keeps the size with PyTorch's split (the odd zero after), 'valid' is no padding", () => {
    setBackend('ref');
    expectNoLeaks(() => tidy(() => {
      // A kernel that picks the input at one tap shows where the padding went.
      const x = tensor([[[1, 2, 3, 4, 5]]]);
      const pick = (k: number, at: number) => tensor([[Array.from({ length: k }, (_, i) => (i === at ? 1 : 0))]]);
      // k = 4: 1 zero before, 2 after; tap 0 reads x[i − 1].
      expect(Array.from(wg.conv1d(x, pick(4, 0), null, { padding: 'same' }).data())).toEqual([0, 1, 2, 3, 4]);
      expect(Array.from(wg.conv1d(x, pick(4, 3), null, { padding: 'same' }).data())).toEqual([3, 4, 5, 0, 0]);
      expect(Array.from(wg.conv1d(x, pick(3, 1), null, { padding: 'valid' }).data())).toEqual([2, 3, 4]);
      // with dilation 2 and k = 2: 1 before, 1 after
      expect(Array.from(wg.conv1d(x, pick(2, 0), null, { padding: 'same', dilation: 2 }).data())).toEqual([0, 1, 2, 3, 4]);
      const img = tensor(Array.from({ length: 2 * 3 * 5 * 6 }, (_, i) => i % 7), { shape: [2, 3, 5, 6] });
      const w = tensor(Array.from({ length: 4 * 3 * 2 * 3 }, (_, i) => (i % 5) - 2), { shape: [4, 3, 2, 3] });
      expect(wg.conv2d(img, w, null, { padding: 'same' }).shape).toEqual([2, 4, 5, 6]);
      // numbers and pairs mean the same thing
      expect(Array.from(wg.conv2d(img, w, null, { stride: 2, padding: 1, dilation: 1 }).data()))
        .toEqual(Array.from(wg.conv2d(img, w, null, { stride: [2, 2], padding: [1, 1], dilation: [1, 1] }).data()));
    }));
  });
});
