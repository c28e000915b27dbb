// Every `pool` case and every batch-norm case of `norm` in the PyTorch layer fixtures (test/fixtures/
// pytorch-layers.json): the output, the gradient of sum(out·G) for every floating-point input, and for batch norm
// in training the running statistics afterwards; on the ref backend in float32 and float64 and on every wasm build.
// Float32 runs match PyTorch's float64 values to a relative 1e-4 (the README's promise); float64 runs to 1e-9.
import { afterAll, describe, it } from 'vitest';
import * as wg from '../../src/index.js';
import { getBackend, setBackend, tensor, tidy, type DType, type Tensor } from '../../src/index.js';
import layers from '../fixtures/pytorch-layers.json' with { type: 'json' };
import { expectNoLeaks } from '../helpers/api.js';
import { loadBackends } from '../helpers/backends.js';
import { expectClose, type Nested } from '../helpers/fixtures.js';

interface LayerCase {
  kind: string;
  inputs: Record<string, Nested>;
  shapes: Record<string, number[]>;
  out: Nested;
  upstream: Nested;
  grads: Record<string, Nested>;
  kernel_size?: number; stride?: number; padding?: number; count_include_pad?: boolean;
  output_size?: number | [number, number];
  eps?: number; momentum?: number;
  running_mean?: number[]; running_var?: number[]; running_mean_after?: number[]; running_var_after?: number[];
}

const fixtures = layers as unknown as { pool: LayerCase[]; norm: LayerCase[] };
const cases = [...fixtures.pool, ...fixtures.norm.filter((c) => c.kind.startsWith('batch_norm'))];

const configs = (await loadBackends()).flatMap(({ label, backend }) =>
  (backend.name === 'ref' ? ['float32', 'float64'] as DType[] : ['float32' as DType]).map((dtype) => ({ label: `${label} ${dtype}`, backend, dtype })));

const before = getBackend();
afterAll(() => setBackend(before));

/** The case's layer applied to its inputs (batch norm's running buffers are created and checked here). */
function run(c: LayerCase, xs: Record<string, Tensor>, dtype: DType, tol: [number, number]): Tensor {
  const x = xs.x!;
  switch (c.kind) {
    case 'max_pool2d': return wg.maxPool2d(x, c.kernel_size!, { stride: c.stride, padding: c.padding });
    case 'avg_pool2d': return wg.avgPool2d(x, c.kernel_size!, { stride: c.stride, padding: c.padding, countIncludePad: c.count_include_pad });
    case 'adaptive_avg_pool2d': return wg.adaptiveAvgPool2d(x, c.output_size as number | [number, number]);
    case 'batch_norm_train': {
      const channels = c.shapes.x![1]!;
      const runningMean = wg.zeros([channels], { dtype });
      const runningVar = wg.ones([channels], { dtype });
      const out = wg.batchNorm(x, runningMean, runningVar,
        { weight: xs.weight, bias: xs.bias, training: true, momentum: c.momentum, eps: c.eps });
      expectClose(runningMean.data(), c.running_mean_after!, ...tol, 'running_mean_after');
      expectClose(runningVar.data(), c.running_var_after!, ...tol, 'running_var_after');
      return out;
    }
    case 'batch_norm_eval':
      return wg.batchNorm(x, tensor(c.running_mean!, { dtype }), tensor(c.running_var!, { dtype }),
        { weight: xs.weight, bias: xs.bias, eps: c.eps });
    default: throw new Error(`no layer for ${c.kind}`);
  }
}

describe.each(configs)('PyTorch pooling and batch-norm fixtures on $label', ({ backend, dtype }) => {
  it.each(cases.map((c, i) => [`${i} ${c.kind} ${JSON.stringify(c.shapes)}`, c] as [string, LayerCase]))(
    '%s: output, gradients of sum(out·G), running statistics', (_label, c) => {
      setBackend(backend);
      const tol: [number, number] = dtype === 'float64' ? [1e-9, 1e-12] : [1e-4, 1e-6];
      expectNoLeaks(() => tidy(() => {
        const xs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) =>
          [k, tensor(v, { shape: c.shapes[k], dtype, requiresGrad: true })]));
        const out = run(c, xs, dtype, tol);
        expectClose(out.data(), c.out, ...tol, `${c.kind} output`);
        const names = Object.keys(c.grads);
        const grads = wg.gradients(out, names.map((k) => xs[k]!), tensor(c.upstream, { shape: out.shape, dtype }));
        grads.forEach((g, i) => expectClose(g.data(), c.grads[names[i]!]!, ...tol, `${c.kind} gradient of ${names[i]}`));
      }));
    });
});
