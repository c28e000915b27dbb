// The scheduler decides, per kernel call, whether sharing it between threads pays and in how many chunks, from
// rates it measures; with threads: 'auto' it also stops sharing a kind of call whose shared calls do not run
// faster than one thread would, and tries again later (exponential back-off). Timings here are made up, and the
// clock is the test's, so every decision is exact.
import { describe, expect, it } from 'vitest';
import { chunkScratch, Scheduler, type Cut } from '../../src/backend/wasm/schedule.js';
import { chunkStarts } from '../../src/backend/wasm/threads.js';

/** A cut of `units` (alignment 1) adding `overhead` units of work per chunk. */
const cut = (units: number, overhead = 0): Cut => ({ units, align: 1, overhead, base: [], perStart: [], perCount: [] });
const chunks = (d: ReturnType<Scheduler['decide']>) => (d.plan ? Math.ceil(d.plan.cut.units / d.plan.chunk) : 1);

/** Teaches a scheduler that calls of `key` take `msPerUnit` on one thread (three calls: the first is not counted). */
function learn(s: Scheduler, key: string, msPerUnit: number) {
  for (let i = 0; i < 3; i++) {
    s.decide(key, 1e6, () => [cut(1024)]);
    s.record(key, 1e6, 1e6 * msPerUnit, false);
  }
}

/** 2 threads; waking a worker costs 0.05 ms, taking a chunk 0.001 ms. */
function scheduler(adaptive: boolean) {
  const clock = { now: 0 };
  return { s: new Scheduler(2, 0.05, 0.001, adaptive, () => clock.now), clock };
}

describe('the cost model', () => {
  it("learns a kind of call's single-thread rate from its first calls, then shares what is worth it", () => {
    const { s } = scheduler(false);
    for (const ms of [50, 2, 2]) { // 2 ms per million units; the first call is cold and does not count
      expect(s.decide('exp', 1e6, () => [cut(4096)])).toEqual({ plan: null, timed: true }); // the rate is not known yet
      s.record('exp', 1e6, ms, false);
    }
    const big = s.decide('exp', 1e6, () => [cut(4096)]);
    expect(chunks(big)).toBeGreaterThanOrEqual(2);
    expect(chunks(big)).toBeLessThanOrEqual(8); // at most 4 per thread
    expect(big.timed).toBe(false); // a fixed number of threads does not watch its shared calls
    expect(s.decide('exp', 1e4, () => [cut(4096)]).plan).toBeNull(); // 0.02 ms: less than waking a worker
    // 0.06 ms: not shared (had the cold first call counted, the rate would make it look like 0.5 ms)
    expect(s.decide('exp', 3e4, () => [cut(4096)]).plan).toBeNull();
    expect(s.decide('log', 1e6, () => [cut(4096)]).plan).toBeNull(); // another kind of call has its own rate
  });

  it('asks for the cuts of a call only when it could be shared or timed, and never times one that has none', () => {
    const { s } = scheduler(false);
    learn(s, 'add', 1e-6); // 1 ms per million; waking a worker costs 0.05 ms
    let asked = 0;
    const cutsOf = () => { asked++; return [cut(4096)]; };
    expect(s.decide('add', 1e3, cutsOf)).toEqual({ plan: null, timed: false }); // 0.001 ms: far too small
    expect(asked).toBe(0);
    expect(s.decide('add', 1e6, cutsOf).plan).not.toBeNull();
    expect(asked).toBe(1);
    // No cuts (a product on its skinny path): one thread, untimed, whatever it costs and whether the rate is known.
    expect(s.decide('add', 1e6, () => [])).toEqual({ plan: null, timed: false });
    expect(s.decide('new', 1e6, () => [])).toEqual({ plan: null, timed: false });
  });

  it('a rate measured when the pool starts lets the first calls be shared; their first timed call replaces it', () => {
    const { s } = scheduler(false);
    s.seed('mm', 1e-5); // measured while the engine had not optimised the code yet: ten times too slow
    expect(s.decide('mm', 1e5, () => [cut(1024)]).plan).not.toBeNull();
    for (let i = 0; i < 62; i++) s.decide('mm', 1e5, () => [cut(1024)]);
    const sampled = s.decide('mm', 1e5, () => [cut(1024)]); // one in 64 calls worth sharing runs on one thread, timed
    expect(sampled).toEqual({ plan: null, timed: true });
    s.record('mm', 1e5, 0.1, false);
    expect(s.decide('mm', 1e5, () => [cut(1024)]).plan).toBeNull(); // 0.1 ms: no longer worth it
  });

  it('a call barely worth a wake-up is not shared; one many times its cost is, in more chunks', () => {
    const { s } = scheduler(false);
    learn(s, 'mm', 1e-6); // 1 ms per million
    expect(s.decide('mm', 80_000, () => [cut(1024)]).plan).toBeNull(); // 0.08 ms
    const medium = chunks(s.decide('mm', 400_000, () => [cut(1024)])); // 0.4 ms
    const large = chunks(s.decide('mm', 4e6, () => [cut(1024)])); // 4 ms
    expect(medium).toBeGreaterThanOrEqual(2);
    expect(large).toBeGreaterThanOrEqual(medium);
  });

  it('prefers the cut whose chunks add less work, and takes fewer chunks when each adds more', () => {
    const { s } = scheduler(false);
    learn(s, 'mm', 1e-6);
    const rows = cut(256, 200_000), cols = cut(128, 10_000); // a chunk of rows repacks 20× what one of columns does
    expect(s.decide('mm', 4e6, () => [rows, cols]).plan!.cut).toBe(cols);
    expect(chunks(s.decide('mm', 4e6, () => [cut(256, 400_000)]))).toBeLessThan(chunks(s.decide('mm', 4e6, () => [cut(256)])));
    expect(s.decide('mm', 4e6, () => [cut(256, 4e6)]).plan).toBeNull(); // each chunk would double the work
  });

  it('keeps chunk starts on the alignment, and never cuts a dimension shorter than two aligned chunks', () => {
    const { s } = scheduler(false);
    learn(s, 'mm', 1e-6);
    const plan = s.decide('mm', 4e6, () => [{ ...cut(301), align: 16 }]).plan!;
    expect(plan.chunk % 16).toBe(0);
    expect(chunks(s.decide('mm', 4e6, () => [{ ...cut(20), align: 16 }]))).toBe(1);
  });
});

describe('scratch space', () => {
  it('what each thread reserves covers every plan the scheduler makes, at any rate, and no more than the largest', () => {
    const { s } = scheduler(false);
    learn(s, 'mm', 1e-6);
    // Scratch that is not monotonic in the chunk's width, as a product's (its orientation may change): a chunk
    // of an odd number of columns needs more than a wider even one.
    const odd = { ...cut(301, 10_000), scratch: (w: number) => (w % 2 ? 4000 : 1000) + w };
    const even = { ...cut(64, 50_000), align: 8, scratch: (w: number) => 100 * w };
    const reserved = s.scratchBytes([odd, even]);
    const planned = new Set<number>();
    for (let cost = 1e5; cost < 1e9; cost *= 1.5) {
      const plan = s.decide('mm', cost, () => [odd, even]).plan;
      if (plan) planned.add(chunkScratch(plan.cut, plan.chunk, 2));
    }
    expect(planned.size).toBeGreaterThan(2); // more chunks as calls grow
    expect(Math.max(...planned)).toBeLessThanOrEqual(reserved);
    // The most over the chunk widths plans may take (2 … 8 chunks on two threads, and each one's narrower last
    // chunk): 301 columns in 2 chunks, of 151 (4151 bytes) and 150 (1150); of the other cut, 2 chunks of 32 (3200).
    expect(reserved).toBe(4151);
    expect(s.scratchBytes([cut(301)])).toBe(0); // a kernel without scratch
  });
});

describe("threads: 'auto'", () => {
  /** Three shared calls of 1e6 units taking `ms` each. */
  const sharedCalls = (s: Scheduler, ms: number) => {
    for (let i = 0; i < 3; i++) {
      const d = s.decide('mm', 1e6, () => [cut(1024)]);
      expect(d).toMatchObject({ timed: true });
      expect(d.plan).not.toBeNull();
      s.record('mm', 1e6, ms, true);
    }
  };

  it('stops sharing a kind of call that runs less than 1.1× faster shared, and tries again with back-off', () => {
    const { s, clock } = scheduler(true);
    for (let i = 0; i < 3; i++) {
      expect(s.decide('mm', 1e6, () => [cut(1024)]).plan).toBeNull(); // first, the single-thread rate
      s.record('mm', 1e6, 2, false);
    }
    sharedCalls(s, 1.9); // 1.05× faster: not worth a second core
    expect(s.backingOff('mm')).toBe(true);
    expect(s.decide('mm', 1e6, () => [cut(1024)])).toEqual({ plan: null, timed: true }); // one thread, timed
    s.record('mm', 1e6, 2, false);
    expect(s.backingOff('other')).toBe(false); // per kind of call
    clock.now += 99;
    expect(s.backingOff('mm')).toBe(true);
    clock.now += 2; // after 100 ms: sharing is tried again
    sharedCalls(s, 2.5); // slower than one thread (a busy machine)
    clock.now += 199;
    expect(s.backingOff('mm')).toBe(true); // the second time, 200 ms
    clock.now += 2;
    expect(s.backingOff('mm')).toBe(false);
    expect(s.paysWell).toBe(false); // idle workers do not spin through gaps between jobs
    sharedCalls(s, 1.1); // 1.8× faster: it pays again
    expect(s.backingOff('mm')).toBe(false);
    expect(s.paysWell).toBe(true);
    for (let i = 0; i < 4; i++) sharedCalls(s, 1.6); // 1.25× faster: worth sharing, but not spinning through gaps
    expect(s.backingOff('mm')).toBe(false);
    expect(s.paysWell).toBe(false);
    sharedCalls(s, 1.1);
    expect(s.backingOff('mm')).toBe(false);
    sharedCalls(s, 3); // and stops paying: the back-off starts again at 100 ms
    clock.now += 101;
    expect(s.backingOff('mm')).toBe(false);
  });

  it('the back-off doubles up to 10 s', () => {
    const { s, clock } = scheduler(true);
    learn(s, 'mm', 2e-6);
    let wait = 100;
    for (let round = 0; round < 10; round++) {
      sharedCalls(s, 4);
      clock.now += wait - 1;
      expect(s.backingOff('mm')).toBe(true);
      clock.now += 2;
      expect(s.backingOff('mm')).toBe(false);
      wait = Math.min(2 * wait, 10_000);
    }
    expect(wait).toBe(10_000);
  });

  it('a fixed number of threads shares what is worth sharing whatever its shared calls take', () => {
    const { s } = scheduler(false);
    learn(s, 'mm', 2e-6);
    for (let i = 0; i < 10; i++) {
      const d = s.decide('mm', 1e6, () => [cut(1024)]);
      expect(d.plan).not.toBeNull();
      s.record('mm', 1e6, 10, true);
    }
    expect(s.backingOff('mm')).toBe(false);
    expect(s.paysWell).toBe(true);
  });
});

describe('the chunks of a shared call (chunkStarts)', () => {
  const widths = (s: number[]) => s.slice(1).map((end, i) => end - s[i]!);

  it('full chunks while each thread has more than one left, then a tail of chunks that shrink to the alignment', () => {
    // The MLP's first product by rows on two threads: 256 rows, tiles of 6, chunks of 36.
    expect(widths(chunkStarts(256, 36, 6, 2))).toEqual([36, 36, 36, 36, 36, 36, 24, 12, 4]);
    expect(widths(chunkStarts(784, 104, 8, 2))).toEqual([104, 104, 104, 104, 104, 104, 80, 40, 24, 8, 8]);
    expect(widths(chunkStarts(100, 10, 1, 4))).toEqual([10, 10, 10, 10, 10, 10, 10, 8, 6, 4, 3, 3, 2, 1, 1, 1, 1]);
    expect(chunkStarts(0, 8, 8, 2)).toEqual([0]);
  });

  it.each([[1, 1, 1], [7, 3, 1], [300, 15, 5], [301, 40, 5], [1000, 96, 8], [5000, 40, 1], [4096, 512, 64], [130, 128, 8]])(
    '%i units in chunks of %i aligned to %i: they cover the units in order, start aligned, hold at most a chunk',
    (units, chunk, align) => {
      for (const threads of [2, 3, 4, 16]) {
        const s = chunkStarts(units, chunk, align, threads);
        expect(s[0]).toBe(0);
        expect(s.at(-1)).toBe(units);
        for (const [i, w] of widths(s).entries()) {
          expect(w).toBeGreaterThan(0);
          expect(w).toBeLessThanOrEqual(chunk);
          expect(s[i]! % align).toBe(0);
        }
        expect(widths(s).filter((w) => w !== chunk).length).toBeLessThanOrEqual(64); // the control block's tail table
      }
    });

  it('with the alignment a whole chunk, the chunks are those of one size (and the last the rest)', () => {
    expect(widths(chunkStarts(100, 30, 30, 2))).toEqual([30, 30, 30, 10]);
  });
});
