// Property C: backward() never changes a forward value: every tensor of the graph keeps its bits.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setBackend } from '../../src/index.js';
import { checkBackwardKeepsValues, graphArb, loadTargets, type Target } from './graphs.js';
import { runs, SEED } from './config.js';

describe('property C: backward leaves forward values alone', () => {
  let targets: Target[] = [];
  beforeAll(async () => {
    targets = await loadTargets();
  });
  afterAll(() => setBackend('ref'));

  it('every node keeps its bits through loss.backward(), on ref and every wasm build', () => {
    fc.assert(fc.property(graphArb, (g) => {
      for (const t of targets) checkBackwardKeepsValues(g, t);
    }), { numRuns: runs(150), seed: SEED + 2 });
  });
});
