// State loading under damage (see state-loading.ts): a few hundred seeded cases here, thousands in `npm run fuzz`.
import { describe, expect, it } from 'vitest';
import { expectNoLeaksAsync, useBackend } from '../helpers/api.js';
import { makeTargets, runCase, Tally } from './state-loading.js';

const CASES = 300;

describe('damaged checkpoints and model files', () => {
  it(`load exactly or are refused with our error, objects and memory unchanged (${CASES} cases)`, async () => {
    await useBackend('wasm');
    await expectNoLeaksAsync(async () => {
      const targets = await makeTargets();
      const tally = new Tally();
      try {
        for (let i = 0; i < CASES; i++) {
          const target = targets[i % targets.length]!;
          tally.add(target, runCase(target, 1000 + i));
        }
      } finally {
        for (const t of targets) t.dispose();
      }
      // A checkpoint always carries its checksum: no damage goes unnoticed unless the checksum was recomputed.
      expect([...tally.outcomes.keys()].filter((k) => k.includes('checkpoint: loaded without'))).toEqual([]);
      expect(tally.count('refused')).toBeGreaterThan(CASES * 0.7);
      // Re-sealed edits reach the loaders behind the checksum (model, optimizer, schedule, generators, progress).
      expect([...tally.messages.keys()].filter((m) => !m.startsWith('safetensors:')).length).toBeGreaterThan(5);

    });
  });
});
