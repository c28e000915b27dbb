// A short soak (2,000 training steps): tensors, buffers, bytes, peak bytes and the wasm heap stay flat.
// The long one is `npm run soak` (100,000 steps), not run in CI.
import { expect, it, vi } from 'vitest';
import { Scheduler } from '../src/backend/wasm/schedule.js';
import { drift, soak } from '../scripts/soak.js';

it.each([1, 2])('memory stays flat over 2,000 training steps on %i thread(s)', async (threads) => {
  // On two threads every call that can be shared is shared in two chunks from the first step. The scheduler left
  // to itself may start sharing a product only after some hundreds of steps (it decides from the rates it
  // measures at that moment), and each thread's scratch then grows once, moving the heap's top: a one-time
  // growth, not a leak, but one that would make this check depend on the machine's load.
  const decide = vi.spyOn(Scheduler.prototype, 'decide').mockImplementation((_key, _cost, cutsOf) => {
    const cut = cutsOf()[0];
    return { plan: cut ? { cut, chunk: Math.ceil(cut.units / 2 / cut.align) * cut.align } : null, timed: false };
  });
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
