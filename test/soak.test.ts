// A short soak (2,000 training steps): tensors, buffers, bytes, peak bytes and the wasm heap stay flat.
// The long one is `npm run soak` (100,000 steps), not run in CI.
import { expect, it } from 'vitest';
import { drift, soak } from '../scripts/soak.js';

it.each([1, 2])('memory stays flat over 2,000 training steps on %i thread(s)', async (threads) => {
  const reports = await soak(2000, 250, undefined, threads);
  expect(reports).toHaveLength(8);
  expect(drift(reports)).toEqual([]);
  expect(reports[7]!.loss).toBeLessThan(reports[0]!.loss);
});
