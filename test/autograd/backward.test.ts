// Backward propagation semantics: accumulation, retained graphs, errors, scopes and memory, higher order.
import { describe, expect, it } from 'vitest';
import {
  backward, checkNumerics, crossEntropy, grad, gradients, keep, linear, memory, noGrad, ones, randn, tensor, tidy, valueAndGrad, zeros,
  type Tensor,
} from '../../src/index.js';
import { apply } from '../../src/autograd/op.js';
import * as K from '../../src/kernels/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose } from '../helpers/fixtures.js';

describe.each(BACKENDS)('backward on %s', (name) => {
  it('sums the gradients of a tensor used by several ops (the seed\'s + node)', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([1, 2, 3], { requiresGrad: true });
      const y = x.mul(x).add(x).sum(); // dy/dx = 2x + 1
      y.backward();
      expect(Array.from(x.grad!.data())).toEqual([3, 5, 7]);
    }));
  });

  it('accumulates leaf gradients across calls until zeroed, like PyTorch', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const w = tensor([2], { requiresGrad: true });
      w.mul(3).sum().backward();
      w.mul(3).sum().backward();
      expect(w.grad!.item()).toBe(6);
      w.grad!.dispose();
      w.grad = null;
      w.mul(5).sum().backward();
      expect(w.grad!.item()).toBe(5);
    }));
  });

  it('refuses a second backward through a freed graph, and allows it with retainGraph', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const w = tensor([1, 2], { requiresGrad: true });
      const J = w.square().sum();
      J.backward();
      expect(() => J.backward()).toThrow("backward: the graph through op 'sum' was already freed by an earlier backward; pass { retainGraph: true }");
      const J2 = w.square().sum();
      J2.backward(undefined, { retainGraph: true });
      J2.backward();
      expect(Array.from(w.grad!.data())).toEqual([2 + 4, 4 + 8]); // 2w from J, then twice 2w from J2
    }));
  });

  it('needs an explicit gradient for a non-scalar output', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      const y = x.mul(2);
      expect(() => y.backward()).toThrow('backward: a gradient can only be implied for a scalar output; this output has shape [2,2]');
      expect(() => y.backward(ones([3]))).toThrow('backward: the gradient [3] float32 must match the output [2,2] float32');
      y.backward(tensor([[1, 0], [0, 1]]));
      expect(Array.from(x.grad!.data())).toEqual([2, 0, 0, 2]);
    }));
  });

  it('refuses backward on a tensor that does not require grad', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      expect(() => tensor([1, 2]).sum().backward()).toThrow('backward: this tensor does not require a gradient');
      const w = tensor([1], { requiresGrad: true });
      expect(() => noGrad(() => w.mul(2)).backward()).toThrow('does not require a gradient');
    }));
  });

  it('names the op that has no backward rule', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const y = apply({ op: 'mystery', inputs: [x], forward: ([t]) => K.unary('exp', t!) });
      expect(() => y.sum().backward()).toThrow("backward: op 'mystery' has no backward rule");
    }));
  });

  it('rejects use after dispose, double dispose and bad shapes with clear errors', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([1, 2, 3], { name: 'x' });
      x.dispose();
      expect(() => x.add(1)).toThrow("add: input tensor 'x' was used after it was disposed");
      expect(() => x.data()).toThrow("use: tensor 'x' [3] was used after it was disposed");
      expect(() => x.dispose()).toThrow("dispose: tensor 'x' [3] was used after it was disposed");
      expect(() => tensor([1, 2]).add(tensor([1, 2, 3]))).toThrow('add: shapes [2] and [3] are not broadcastable');
      expect(() => tensor([[1, 2]]).matmul(tensor([[1, 2]]))).toThrow('matmul: inner dimensions differ: [1,2]·[1,2] (2 ≠ 1)');
      expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow('requiresGrad: only floating-point tensors');
    }));
  });

  it('broadcast gradients are summed back to each input\'s shape', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const a = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
      const b = tensor([10, 20, 30], { requiresGrad: true });
      const c = tensor([[2], [3]], { requiresGrad: true });
      a.add(b).mul(c).sum().backward();
      expect(Array.from(a.grad!.data())).toEqual([2, 2, 2, 3, 3, 3]);
      expect(Array.from(b.grad!.data())).toEqual([5, 5, 5]);
      expect(Array.from(c.grad!.data())).toEqual([1 + 2 + 3 + 60, 4 + 5 + 6 + 60]);
    }));
  });

  it('sum over an empty list of axes reduces nothing (NumPy rule); its gradient is the upstream gradient', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      const s = x.sum([]);
      expect(s.shape).toEqual([2, 2]);
      expect(s.array()).toEqual([[1, 2], [3, 4]]);
      s.backward(tensor([[5, 6], [7, 8]]));
      expect(x.grad!.array()).toEqual([[5, 6], [7, 8]]);
    }));
  });

  it('noGrad records nothing; tidy keeps what it returns and what keep() marks', async () => {
    await useBackend(name);
    const start = memory().tensors;
    const w = keep(tensor([1, 2], { requiresGrad: true }));
    const [kept, returned] = tidy(() => {
      const k = keep(w.mul(2));
      const inner = noGrad(() => w.mul(3));
      expect(inner.requiresGrad).toBe(false);
      expect(inner.node).toBeNull();
      tensor([9]); // dropped at the end of the scope
      return [k, w.mul(4)];
    });
    expect(memory().tensors).toBe(start + 3);
    expect(Array.from(returned!.data())).toEqual([4, 8]);
    for (const t of [kept!, returned!, w]) t.dispose();
    expect(memory().tensors).toBe(start);
  });

  it('tidy disposes everything when the function throws', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      expect(() => tidy(() => {
        tensor([1, 2, 3]).mul(2);
        throw new Error('boom');
      })).toThrow('boom');
    });
  });

  it('frees saved tensors when backward passes, and unreachable graphs without backward', async () => {
    await useBackend(name);
    const w = keep(randn([64, 64], { requiresGrad: true, seed: 1 }));
    const before = memory();
    // a graph whose tensor objects are all disposed by tidy, but whose loss escapes: saved storage stays
    const loss = tidy(() => w.matmul(w).relu().sum());
    expect(memory().bytes).toBeGreaterThan(before.bytes + 4);
    loss.backward();
    loss.dispose();
    w.grad!.dispose();
    w.grad = null;
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    // the same graph never differentiated: disposing its output gives everything back
    const unused = tidy(() => w.matmul(w).tanh().sum());
    unused.dispose();
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    w.dispose();
  });

  it('checkNumerics names the first op that produces NaN or Infinity, forward and backward', async () => {
    await useBackend(name);
    checkNumerics(true);
    try {
      expectNoLeaks(() => tidy(() => {
        const x = tensor([1, -1], { requiresGrad: true });
        expect(() => x.log()).toThrow("checkNumerics: op 'log' produced NaN at index 1 of its output (forward)");
        const y = tensor([0, 1], { requiresGrad: true });
        const s = y.sqrt().sum(); // finite forward, infinite derivative at 0
        expect(() => s.backward()).toThrow("checkNumerics: op 'sqrt' produced Infinity at index 0 of its gradient for input 0 (backward)");
      }));
    } finally {
      checkNumerics(false);
    }
  });

  it('functional forms: grad, valueAndGrad and gradients leave .grad alone', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const f = (x: Tensor) => x.square().mul(x).sum(); // Σx³
      const x = tensor([1, 2, -3]);
      expect(Array.from(grad(f)(x).data())).toEqual([3, 12, 27]);
      const { value, grad: g } = valueAndGrad(f)(x);
      expect(value.item()).toBe(1 + 8 - 27);
      expect(Array.from(g.data())).toEqual([3, 12, 27]);
      const w = tensor([2], { requiresGrad: true });
      const [gw] = gradients(w.mul(w).sum(), [w]);
      expect(gw!.item()).toBe(4);
      expect(w.grad).toBeNull();
      const unrelated = tensor([5], { requiresGrad: true });
      expect(Array.from(gradients(w.sum(), [unrelated])[0]!.data())).toEqual([0]);
    }));
  });

  it('gradients() with a target listed twice: the same gradient twice, as two tensors', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const w = tensor([2, -1], { requiresGrad: true });
      const h = w.mul(3); // a non-leaf target
      const grads = gradients(h.square().sum(), [h, w, h, w]);
      expect(grads.map((g) => Array.from(g.data()))).toEqual([[12, -6], [36, -18], [12, -6], [36, -18]]);
      expect(new Set(grads).size).toBe(4);
      for (const g of grads) g.dispose(); // each one separately: no double dispose
    }));
  });

  it('higher-order gradients: grad of grad through products and activations', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([0.5, -1.5, 2]);
      const d2 = grad((t) => grad((u) => u.square().mul(u).sum())(t).sum())(x); // d²/dx² Σx³ = 6x
      expectClose(d2.data(), [3, -9, 12], 1e-6, 1e-6, 'x³');
      const tanh2 = grad((t) => grad((u) => u.tanh().sum())(t).sum())(x);
      const th = [0.5, -1.5, 2].map(Math.tanh);
      expectClose(tanh2.data(), th.map((t) => -2 * t * (1 - t * t)), 1e-5, 1e-6, 'tanh″');
      const sig2 = grad((t) => grad((u) => u.sigmoid().sum())(t).sum())(x);
      const sg = [0.5, -1.5, 2].map((v) => 1 / (1 + Math.exp(-v)));
      expectClose(sig2.data(), sg.map((s) => s * (1 - s) * (1 - 2 * s)), 1e-5, 1e-6, 'σ″');
      const mm = grad((t) => grad((u) => u.reshape([1, 3]).matmul(u.reshape([3, 1])).sum())(t).sum())(x); // ∇ of 2x·1
      expectClose(mm.data(), [2, 2, 2], 1e-6, 1e-6, 'matmul second derivative');
      // a fused backward that is not differentiable says so instead of returning a wrong second derivative
      const logits = tensor([[1, 2, 3]]);
      expect(() => grad((t) => grad((u) => crossEntropy(u, [2]))(t).sum())(logits))
        .toThrow('crossEntropy: gradients of its gradient are not supported');
    }));
  });

  it('higher-order gradients through linear match the same layer written as matmul and add', async () => {
    // linear's backward runs its kernels directly unless a graph of the backward is recorded: that recorded path
    // must still give the second derivative.
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]], { requiresGrad: true }); // so the inner backward is recorded
      const w = tensor([[0.3, -0.2, 0.1], [0.4, 0.5, -0.6], [-0.7, 0.2, 0.9], [0.1, 0.1, -0.3]]);
      const b = tensor([0.1, -0.2, 0.3, 0]);
      const viaLinear = grad((v) => grad((u) => linear(u, v, b).tanh().sum())(x).square().sum())(w);
      const viaMatmul = grad((v) => grad((u) => u.matmul(v, { transB: true }).add(b).tanh().sum())(x).square().sum())(w);
      expect(Array.from(viaLinear.data()).some((d) => Math.abs(d) > 1e-3)).toBe(true);
      expectClose(viaLinear.data(), Array.from(viaMatmul.data()), 1e-5, 1e-6, 'd/dW Σ (∂/∂x Σ tanh(x·Wᵀ + b))²');
    }));
  });

  it('zeros and explicit gradients: backward(y, grad) accumulates into leaves', async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const x = zeros([2, 2]).requiresGrad_();
      backward(x.add(1), tensor([[1, 2], [3, 4]]));
      expect(Array.from(x.grad!.data())).toEqual([1, 2, 3, 4]);
    }));
  });
});
