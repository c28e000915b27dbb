// The bench's shares (bench/harness.ts): a case compared with a reference case times the reference in its own
// rounds, calling the two in turn, and the share is the median of the ratios within a round. Checked on
// bookkeeping, never on speeds.
import { describe, expect, it } from 'vitest';
import type { Contender } from '../../bench/contenders.js';
import { runCase, shareOf, type Case, type TimingOptions } from '../../bench/harness.js';

/** A case whose calls log `tag` and spin briefly; its value is `flops` / ms, as the GFLOP/s cases compute it. */
function fakeCase(name: string, flops: number, log: string[], skip?: Case['skip']): Case {
  return {
    group: 'matmul', name, unit: 'GFLOP/s', higherIsBetter: true, value: (ms) => flops / ms, expect: () => undefined, skip,
    prepare: () => ({
      fn: () => {
        log.push(name);
        let x = 0;
        for (let i = 0; i < 2000; i++) x += Math.sqrt(i);
        if (x < 0) throw new Error('unreachable');
      },
      check: () => ({}),
      dispose: () => {},
    }),
  };
}

function fakeContender(name: string): Contender {
  return {
    name, lib: 'wasmgrad', slow: false, backend: () => { throw new Error('no backend'); },
    activate: async () => {}, fresh: async () => {}, liveTensors: () => 0,
  };
}

const timing: TimingOptions = { rounds: 3, timeMs: 2, warmupMs: 1, slowCallMs: 1000, slowRounds: 1, singleCallMs: 1000 };

describe('bench shares', () => {
  it('pairs the case\'s and the reference\'s latencies round by round and takes the median ratio', () => {
    const kase = fakeCase('case', 4, []);
    const ref = fakeCase('ref', 1, []);
    // A load that slows both 3× in one round cancels out; pairing other rounds would not.
    const s = shareOf(kase, ref, [2, 6, 1], [1, 3, 0.25]);
    expect(s.ratios).toEqual([2, 2, 1]);
    expect(s.ratio).toBe(2);
    expect(s.ms).toBe(0.25);
    expect(s.value).toBe(4);
    expect(() => shareOf(kase, ref, [1, 2], [1])).toThrow(/same rounds/);
  });

  it('times the reference in the case\'s rounds, call by call, the first of the two rotating by round', async () => {
    const log: string[] = [];
    const ref = fakeCase('ref', 1, log, (c) => (c.name === 'other' ? 'skipped' : undefined));
    const kase: Case = { ...fakeCase('case', 4, log), versus: [{ label: 'the product', reference: ref, min: 0.5 }] };
    const r = await runCase(kase, [fakeContender('one')], timing);
    const one = r.contenders.one!;
    const share = one.shares!.ref!;
    expect(share.roundsMs).toHaveLength(timing.rounds);
    expect(share.ratios).toEqual(one.roundsMs!.map((ms, i) => 4 / ms / (1 / share.roundsMs[i]!)));
    expect(r.versus).toEqual([{ label: 'the product', reference: 'ref', min: 0.5 }]);
    // The untimed first call, then per round whole turns: case, ref, case, ref, … | ref, case, … | case, ref, …
    // Two calls of one in a row happen only where a round starts with what the last one ended with.
    expect(log.filter((name, i) => name === log[i - 1])).toEqual(['case', 'ref', 'case']);
    expect(log.filter((name) => name === 'case').length - log.filter((name) => name === 'ref').length).toBe(1);

    const other = await runCase(kase, [fakeContender('other')], timing);
    expect(other.contenders.other!.shares).toBeUndefined();
  });
});
