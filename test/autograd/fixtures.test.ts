// Every `ops` and `batched_mlp` case of the PyTorch fixtures, forward and backward, on both backends.
import { describe, it } from 'vitest';
import * as wg from '../../src/index.js';
import { tensor, tidy, type Tensor } from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose, fixtures, type BatchedMlpCase, type Nested, type OpCase } from '../helpers/fixtures.js';

function shapeOf(x: Nested): number[] {
  return Array.isArray(x) ? [x.length, ...shapeOf(x[0]!)] : [];
}

const OPS: Record<string, (c: OpCase, xs: Tensor[]) => Tensor> = {
  add: (_, [a, b]) => wg.add(a!, b!),
  sub: (_, [a, b]) => wg.sub(a!, b!),
  mul: (_, [a, b]) => wg.mul(a!, b!),
  div: (_, [a, b]) => wg.div(a!, b!),
  matmul: (_, [a, b]) => wg.matmul(a!, b!),
  exp: (_, [a]) => wg.exp(a!),
  log: (_, [a]) => wg.log(a!),
  sqrt: (_, [a]) => wg.sqrt(a!),
  relu: (_, [a]) => wg.relu(a!),
  sigmoid: (_, [a]) => wg.sigmoid(a!),
  tanh: (_, [a]) => wg.tanh(a!),
  gelu: (_, [a]) => wg.gelu(a!),
  softmax: (c, [a]) => wg.softmax(a!, c.axis),
  log_softmax: (c, [a]) => wg.logSoftmax(a!, c.axis),
  sum: (c, [a]) => wg.sum(a!, c.axis, c.keepdims),
  mean: (c, [a]) => wg.mean(a!, c.axis, c.keepdims),
  max: (c, [a]) => wg.max(a!, c.axis, c.keepdims),
  transpose: (_, [a]) => wg.transpose(a!),
  reshape: (c, [a]) => wg.reshape(a!, shapeOf(c.out)),
};

const ACT: Record<string, (x: Tensor) => Tensor> = { relu: wg.relu, tanh: wg.tanh, sigmoid: wg.sigmoid, gelu: wg.gelu };

describe.each(BACKENDS)('PyTorch fixtures on %s', (name) => {
  it.each(fixtures.ops.map((c, i) => [`${i} ${c.op} ${JSON.stringify(c.shapes)}`, c] as [string, OpCase]))(
    'op %s: output and gradients of sum(out·G)', async (_label, c) => {
      await useBackend(name);
      expectNoLeaks(() => tidy(() => {
        const xs = c.inputs.map((v, i) => tensor(v, { shape: c.shapes[i], requiresGrad: true }));
        const out = OPS[c.op]!(c, xs);
        expectClose(out.data(), c.out, 1e-4, 1e-6, `${c.op} output`);
        const G = tensor(c.upstream, { shape: out.shape });
        const grads = wg.gradients(out, xs, G);
        grads.forEach((g, i) => expectClose(g.data(), c.grads[i]!, 1e-4, 1e-6, `${c.op} gradient ${i}`));
      }));
    });

  it.each(fixtures.batched_mlp.map((c, i) => [`${i} ${c.dims.join('-')} ${c.activation} ${c.loss}`, c] as [string, BatchedMlpCase]))(
    'batched_mlp %s: output, loss and every weight and bias gradient', async (_label, c) => {
      await useBackend(name);
      expectNoLeaks(() => tidy(() => {
        const W = c.W.map((w) => tensor(w, { requiresGrad: true }));
        const b = c.b.map((v) => tensor(v, { requiresGrad: true }));
        let h: Tensor = tensor(c.X);
        W.forEach((w, i) => {
          h = wg.linear(h, w, b[i]!);
          if (i < W.length - 1) h = ACT[c.activation]!(h);
        });
        expectClose(h.data(), c.out, 1e-4, 1e-6, 'output');
        const loss = c.loss === 'cross_entropy'
          ? wg.crossEntropy(h, tensor(c.Y as number[], { dtype: 'int32' }))
          : wg.mseLoss(h, tensor(c.Y as number[][]));
        expectClose(loss.item(), c.loss_value, 1e-4, 1e-6, 'loss');
        loss.backward();
        W.forEach((w, i) => expectClose(w.grad!.data(), c.dW[i]!, 1e-4, 1e-6, `dW${i}`));
        b.forEach((v, i) => expectClose(v.grad!.data(), c.db[i]!, 1e-4, 1e-6, `db${i}`));
      }));
    });
});
