// observeBackend: observers see every Backend method call with its arguments, nest in order, never change
// results, and leave the backend exactly as it was when the last one detaches.
import { describe, expect, it } from 'vitest';
import { observeBackend, type BackendMethod } from '../../src/backend/observe.js';
import { getBackend, tensor } from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';

describe.each(BACKENDS)('observeBackend (%s)', (name) => {
  it('sees each call with its arguments and returns what the backend returned', async () => {
    await useBackend(name);
    const backend = getBackend();
    const seen: BackendMethod[] = [];
    const detach = observeBackend(backend, (method, args, run) => {
      seen.push(method);
      if (method === 'matmul') expect((args[3] as { m: number }).m).toBe(2);
      return run();
    });
    let product: number[];
    try {
      product = expectNoLeaks(() => {
        const a = tensor([[1, 2], [3, 4]]);
        const b = tensor([[5], [6]]);
        const c = a.matmul(b);
        const values = Array.from(c.data());
        a.dispose(); b.dispose(); c.dispose();
        return values;
      });
    } finally {
      detach();
    }
    expect(product).toEqual([17, 39]);
    expect(seen).toContain('alloc');
    expect(seen).toContain('matmul');
    expect(seen).toContain('read');
    expect(seen).toContain('free');
  });

  it('nests observers in the order attached and detaches in any order, restoring the methods', async () => {
    await useBackend(name);
    const backend = getBackend();
    const order: string[] = [];
    const outer = observeBackend(backend, (m, _a, run) => { if (m === 'fill') order.push('outer'); return run(); });
    const inner = observeBackend(backend, (m, _a, run) => { if (m === 'fill') order.push('inner'); return run(); });
    try {
      expectNoLeaks(() => { const buf = backend.alloc('float32', 3); backend.fill(buf, 1, 0, 3); backend.free(buf); });
    } finally {
      outer();
    }
    expect(order).toEqual(['outer', 'inner']);
    outer();
    expect(Object.hasOwn(backend, 'fill')).toBe(true);
    inner();
    for (const m of ['alloc', 'fill', 'matmul', 'read'] as const) expect(Object.hasOwn(backend, m)).toBe(false);
  });

  it("lets an observer's or a kernel's error through and stays attached", async () => {
    await useBackend(name);
    const backend = getBackend();
    let calls = 0;
    const detach = observeBackend(backend, (_m, _a, run) => { calls++; return run(); });
    try {
      expect(() => backend.alloc('float32', -1)).toThrow();
      expect(calls).toBe(1);
    } finally {
      detach();
    }
  });
});
