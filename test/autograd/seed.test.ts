// The seed document, as tests: its worked example (ŷ = w·x + b) and its two-layer network with the L2 term,
// against PyTorch's values, on both backends.
import { describe, it } from 'vitest';
import {
  crossEntropy, gradients, l2Penalty, matmul, mseLoss, noGrad, relu, sigmoid, tanh, tensor, tidy, type Tensor,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose, fixtures, type SeedMlpCase } from '../helpers/fixtures.js';

const ACT: Record<string, (x: Tensor) => Tensor> = { relu, sigmoid, tanh };

describe.each(BACKENDS)('seed examples on %s', (name) => {
  it('seed_linear: forward, backward and one SGD step', async () => {
    await useBackend(name);
    const f = fixtures.seed_linear;
    expectNoLeaks(() => tidy(() => {
      const w = tensor(f.w, { requiresGrad: true, name: 'w' });
      const b = tensor(f.b, { requiresGrad: true, name: 'b' });
      const x = tensor(f.x, { name: 'x' });
      const y = tensor(f.y, { name: 'y' });
      const yhat = w.mul(x).add(b).named('ŷ');
      const L = mseLoss(yhat, y, { reduction: 'sum', scale: 0.5 }).named('L');
      expectClose(yhat.item(), f.yhat, 1e-6, 1e-7, 'ŷ');
      expectClose(L.item(), f.loss, 1e-6, 1e-7, 'L');
      const [dLdyhat] = gradients(L, [yhat], undefined, { retainGraph: true });
      expectClose(dLdyhat!.item(), f.dL_dyhat, 1e-6, 1e-7, '∂L/∂ŷ');
      L.backward();
      expectClose(w.grad!.item(), f.dL_dw, 1e-6, 1e-7, '∂L/∂w');
      expectClose(b.grad!.item(), f.dL_db, 1e-6, 1e-7, '∂L/∂b');
      const [wNew, bNew] = noGrad(() => [w.sub(w.grad!.mul(f.lr)), b.sub(b.grad!.mul(f.lr))]);
      expectClose(wNew!.item(), f.w_new, 1e-6, 1e-7, 'w after SGD');
      expectClose(bNew!.item(), f.b_new, 1e-6, 1e-7, 'b after SGD');
    }));
  });

  it.each(fixtures.seed_mlp.map((c, i) => [i, c] as [number, SeedMlpCase]))(
    'seed_mlp %i: every intermediate and gradient of the seed table', async (_i, c) => {
      await useBackend(name);
      expectNoLeaks(() => tidy(() => {
        const W1 = tensor(c.W1, { requiresGrad: true, name: 'W1' });
        const W2 = tensor(c.W2, { requiresGrad: true, name: 'W2' });
        const x = tensor(c.x, { name: 'x' });
        const z = matmul(W1, x).named('z');
        const h = ACT[c.activation]!(z).named('h');
        const o = matmul(W2, h).named('o');
        const L = (c.loss === 'mse'
          ? mseLoss(o, tensor(c.y as number[], { name: 'y' }), { reduction: 'sum', scale: 0.5 })
          : crossEntropy(o.reshape([1, c.q]), tensor([c.y as number], { dtype: 'int32', name: 'y' }), { reduction: 'sum' })).named('L');
        const s = l2Penalty([W1, W2], c.lambda).named('s');
        const J = L.add(s).named('J');
        expectClose(z.data(), c.z, 1e-4, 1e-6, 'z');
        expectClose(h.data(), c.h_act, 1e-4, 1e-6, 'h');
        expectClose(o.data(), c.o, 1e-4, 1e-6, 'o');
        expectClose(L.item(), c.L, 1e-4, 1e-6, 'L');
        expectClose(s.item(), c.s, 1e-4, 1e-6, 's');
        expectClose(J.item(), c.J, 1e-4, 1e-6, 'J');
        // ∂J/∂o, ∂J/∂h, ∂J/∂z belong to intermediate tensors: gradients() reads them without touching .grad.
        const [dJdo, dJdh, dJdz] = gradients(J, [o, h, z], undefined, { retainGraph: true });
        expectClose(dJdo!.data(), c.dJ_do, 1e-4, 1e-6, '∂J/∂o');
        expectClose(dJdh!.data(), c.dJ_dh, 1e-4, 1e-6, '∂J/∂h');
        expectClose(dJdz!.data(), c.dJ_dz, 1e-4, 1e-6, '∂J/∂z');
        J.backward();
        expectClose(W1.grad!.data(), c.dJ_dW1, 1e-4, 1e-6, '∂J/∂W1');
        expectClose(W2.grad!.data(), c.dJ_dW2, 1e-4, 1e-6, '∂J/∂W2');
        const W1n = noGrad(() => W1.sub(W1.grad!.mul(c.sgd_lr)));
        const W2n = noGrad(() => W2.sub(W2.grad!.mul(c.sgd_lr)));
        expectClose(W1n.data(), c.W1_after_sgd, 1e-4, 1e-6, 'W1 after SGD');
        expectClose(W2n.data(), c.W2_after_sgd, 1e-4, 1e-6, 'W2 after SGD');
      }));
    });
});
