// Property B: tidy(() => any graph + backward) frees every tensor, buffer and byte it made, on every backend.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setBackend } from '../../src/index.js';
import { checkTidy, graphArb, loadTargets, type Target } from './graphs.js';
import { runs, SEED } from './config.js';

describe('property B: tidy leaves memory as it was', () => {
  let targets: Target[] = [];
  beforeAll(async () => {
    targets = await loadTargets();
  });
  afterAll(() => setBackend('ref'));

  it('memory().tensors, .buffers and .bytes are unchanged after tidy(graph + backward), on ref and every wasm build', () => {
    fc.assert(fc.property(graphArb, (g) => {
      for (const t of targets) checkTidy(g, t);
    }), { numRuns: runs(150), seed: SEED + 1 });
  });
});
