// Makes the thread scheduler's choice in tests: which cut and how many chunks, instead of what it measures.
import { vi } from 'vitest';
import { Scheduler, type Cut } from '../../src/backend/wasm/schedule.js';

/** Makes every call that can be shared be shared: along cut `which` of its cuts (cycling), in about `chunks` chunks. */
export function forceSharing(which: number, chunks: number) {
  return vi.spyOn(Scheduler.prototype, 'decide').mockImplementation((_key: string, _cost: number, cutsOf: () => readonly Cut[]) => {
    const cuts = cutsOf();
    const cut = cuts[which % Math.max(1, cuts.length)];
    if (!cut) return { plan: null, timed: false };
    const chunk = Math.ceil(cut.units / chunks / cut.align) * cut.align;
    return { plan: chunk < cut.units ? { cut, chunk } : null, timed: false };
  });
}
