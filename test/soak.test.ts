// A short soak (2,000 training steps): tensors, buffers, bytes, peak bytes and the wasm heap stay flat.
// The long one is `npm run soak` (100,000 steps), not run in CI.
import { expect, it, vi } from 'vitest';
import { Scheduler } from '../src/backend/wasm/schedule.js';
import { drift, soak } from '../scripts/soak.js';

it.each([1, 2])('memory stays flat over 2,000 training steps on %i thread(s)', async (threads) => {
  // On two threads the scheduler decides what to share from the rates it measures under the machine's load at
  // the time, so it may first share a product hundreds of steps in; each thread's scratch is reserved the first
  // time a call could be shared, so the heap's top does not move even then.
  const decide = vi.spyOn(Scheduler.prototype, 'decide');
  try {
    const reports = await soak(2000, 250, undefined, threads);
    expect(reports).toHaveLength(8);
    expect(drift(reports)).toEqual([]);
    expect(reports[7]!.loss).toBeLessThan(reports[0]!.loss);
    if (threads > 1) expect(decide).toHaveBeenCalled();
  } finally {
    decide.mockRestore();
  }
});
