// Out of memory at every single allocation of a training step leaks nothing, and the next step runs: the heap is
// made to fail its k-th allocation, for every k, during a step that runs many ops forward, a backward with a
// higher-order term, gradient clipping and an Adam step (whose state is allocated in that step).
import { describe, expect, it } from 'vitest';
import { Heap, OutOfMemoryError } from '../../src/backend/wasm/heap.js';
import {
  concat, createWasmBackend, grad, indexSelect, init, keep, linear, logSoftmax, memory, nn, optim, randn, setBackend,
  sigmoid, slice, softmax, tensor, tidy, type Tensor,
} from '../../src/index.js';

/** One training step over a graph of many kinds of ops; returns the loss. */
function step(ps: Tensor[], x: Tensor, y: Tensor, opt: optim.Optimizer<{ lr: number }>): number {
  return tidy(() => {
    opt.zeroGrad();
    const [w1, b1, w2, e] = ps as [Tensor, Tensor, Tensor, Tensor];
    const h = linear(x, w1, b1).gelu();
    const wide = concat([h, slice(h, [0, 0], [8, 4])], 1);
    const z = wide.matmul(w2.reshape([20, 3])); // a leaf used through a view: its gradient is copied
    const logits = z.add(indexSelect(e, 0, tensor([0, 2, 1, 0, 2, 1, 0, 2], { dtype: 'int32' })));
    const penalty = grad((w: Tensor) => linear(x, w, b1).tanh().sum())(w1).square().mean(); // createGraph
    const loss = nn.crossEntropy(logits, y)
      .add(nn.mseLoss(softmax(logits), softmax(z)))
      .add(nn.huberLoss(logits, z))
      .add(nn.bceWithLogits(logits, sigmoid(z)))
      .add(logSoftmax(logits).max().mul(0.01))
      .add(nn.l2Penalty([w1, w2], 1e-3))
      .add(penalty.mul(1e-3));
    loss.backward();
    optim.clipGradNorm(ps, 1);
    optim.clipGradValue(ps, 0.5);
    opt.step();
    return loss.item();
  });
}

describe('out of memory at any allocation of a training step', () => {
  it('leaks nothing, and the same model and optimizer train on', async () => {
    let k = 0;
    for (; ; k++) {
      const be = await createWasmBackend({ build: 'simd' });
      setBackend(be);
      const heap = (be as unknown as { heap: Heap }).heap;
      const alloc = heap.alloc.bind(heap);
      let countdown = -1;
      heap.alloc = (bytes) => {
        if (countdown >= 0 && countdown-- === 0) throw new OutOfMemoryError(`allocation ${k} fails`);
        return alloc(bytes);
      };
      const ps = [randn([16, 12], { seed: 1 }), randn([16], { seed: 2 }), randn([60], { seed: 3 }), randn([3, 3], { seed: 4 })]
        .map((t) => keep(t.requiresGrad_()));
      const x = keep(randn([8, 12], { seed: 5 }));
      const y = keep(tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }));
      const opt = new optim.Adam(ps, { lr: 1e-3 });
      const values = ps.map((p) => Array.from(p.data()));
      const before = memory();
      countdown = k;
      let failed = true;
      try {
        step(ps, x, y, opt);
        failed = false;
      } catch (e) {
        expect((e as Error).message, `allocation ${k}`).toBe(`allocation ${k} fails`);
      }
      countdown = -1;
      if (failed) {
        // Nothing was updated and no optimizer state is left; after zeroGrad() memory is as it was.
        expect(ps.map((p) => Array.from(p.data())), `allocation ${k}`).toEqual(values);
        expect(opt.stateDict().state, `allocation ${k}`).toEqual({});
        opt.zeroGrad();
        expect(memory(), `allocation ${k}`).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
        expect(Number.isFinite(step(ps, x, y, opt)), `allocation ${k}`).toBe(true);
      }
      opt.disposeState();
      for (const t of [...ps, x, y]) t.dispose();
      if (!failed) break; // k is past the step's last allocation
    }
    expect(k).toBeGreaterThan(100); // the step allocates that often, so every kind of failure point was hit
    await init({ build: 'simd' });
  });
});
