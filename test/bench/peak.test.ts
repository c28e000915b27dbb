// The bench's multiply-add peak (bench/cases/peak.ts), the reference of the square products' share of peak: its loop
// compiles for the relaxed and simd builds the engine runs, computes what its check expects, and is skipped elsewhere.
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

describe('bench multiply-add peak', () => {
  const kase = peakCase();

  it('runs on the one-thread relaxed and simd builds only', () => {
    expect(kase.skip?.(contender('wasm-relaxed', 'relaxed'))).toBeUndefined();
    expect(kase.skip?.(contender('wasm-simd', 'simd'))).toBeUndefined();
    for (const c of [contender('wasm-scalar', 'scalar'), contender('wasm-simd-threads', 'simd-threads'), contender('ref')]) {
      expect(kase.skip?.(c)).toMatch(/skipped/);
    }
  });

  for (const build of ['relaxed', 'simd'] as const) {
    it.runIf(supportedBuilds().includes(build))(`converges to the chains' fixed point on ${build}`, async () => {
      const p = await kase.prepare(contender(`wasm-${build}`, build));
      // 12 chains of c ← c·0.99 + 1.0001, each at a / (1 − b) in float32.
      const sum = p.check().sum![0]!;
      expect(sum).toBeCloseTo((12 * Math.fround(1.0001)) / (1 - Math.fround(0.99)), 1);
      p.fn();
      expect(kase.value(1)).toBe(12 * 4 * 2 * 500_000 / 1e6);
    });
  }
});
