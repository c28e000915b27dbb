// The bench's FMA peak (bench/cases/peak.ts), the reference of the square products' share of peak on the relaxed
// build: its loop compiles, computes what its check expects, and is skipped on every other contender.
// Checked on results, never on speeds.
import { describe, expect, it } from 'vitest';
import type { Contender } from '../../bench/contenders.js';
import { peakCase } from '../../bench/cases/peak.js';
import { supportedBuilds, type BuildName } from '../../src/index.js';

function contender(name: string, build?: BuildName): Contender {
  return {
    name, lib: 'wasmgrad', build, slow: false, backend: () => { throw new Error('no backend'); },
    activate: async () => {}, fresh: async () => {}, liveTensors: () => 0,
  };
}

describe('bench FMA peak', () => {
  const kase = peakCase();

  it('runs on the relaxed build only', () => {
    expect(kase.skip?.(contender('wasm-relaxed', 'relaxed'))).toBeUndefined();
    for (const c of [contender('wasm-simd', 'simd'), contender('wasm-scalar', 'scalar'), contender('wasm-simd-threads', 'simd-threads'), contender('ref')]) {
      expect(kase.skip?.(c)).toMatch(/skipped/);
    }
  });

  it.runIf(supportedBuilds().includes('relaxed'))('converges to the chains\' fixed point', async () => {
    const p = await kase.prepare(contender('wasm-relaxed', 'relaxed'));
    // 12 chains of c ← c·0.99 + 1.0001, each at a / (1 − b) in float32.
    const sum = p.check().sum![0]!;
    expect(sum).toBeCloseTo((12 * Math.fround(1.0001)) / (1 - Math.fround(0.99)), 1);
    p.fn();
    expect(kase.value(1)).toBe(12 * 4 * 2 * 500_000 / 1e6);
  });
});
