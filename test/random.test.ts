// The seeded generator: reproducible streams, state save/restore, and distributions that look right.
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, rand, randn, refBackend, tidy } from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/api.js';

describe('Generator', () => {
  it('same seed, same stream; uint32s() draws exactly what nextUint32() would', () => {
    const a = new Generator(5), b = new Generator(5), c = new Generator(6);
    const bulk = Array.from(a.uint32s(1000));
    const single = Array.from({ length: 1000 }, () => b.nextUint32());
    expect(bulk).toEqual(single);
    expect(a.getState()).toEqual(b.getState());
    expect(c.nextUint32()).not.toBe(new Generator(5).nextUint32());
  });

  it('saves and restores its state', () => {
    const g = new Generator(1);
    g.normal(7);
    const state = g.getState();
    const next = Array.from(g.uniform(5));
    g.setState(state);
    expect(Array.from(g.uniform(5))).toEqual(next);
    expect(() => g.setState([1, 2, 3])).toThrow('setState: expected 4 unsigned 32-bit integers, got [1, 2, 3]');
  });

  it('uniform, normal and permutation have the expected statistics', () => {
    const g = new Generator(2);
    const u = g.uniform(100000);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(u.reduce((a, x) => a + x, 0) / u.length).toBeCloseTo(0.5, 2);
    const n = g.normal(100001, 3, 2);
    const mean = n.reduce((a, x) => a + x, 0) / n.length;
    const sd = Math.sqrt(n.reduce((a, x) => a + (x - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(3, 1);
    expect(sd).toBeCloseTo(2, 1);
    expect(Array.from(g.permutation(50)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it.each(BACKENDS)('randn / rand with a seed give the same numbers on %s as on the ref backend', async (name) => {
    await useBackend(name);
    const here = randn([3, 4], { seed: 9 });
    const ref = randn([3, 4], { seed: 9, backend: refBackend() });
    expect(Array.from(here.data())).toEqual(Array.from(ref.data()));
    manualSeed(4);
    const r1 = tidy(() => Array.from(rand([5]).data()));
    manualSeed(4);
    expect(tidy(() => Array.from(rand([5]).data()))).toEqual(r1);
    for (const t of [here, ref]) t.dispose();
  });
});
