// The per-call cost of the wasm backend after compile() and profile() have watched it: observeBackend shadows the
// backend's methods with own properties while it watches, and detaching must leave the object in the fast shape
// V8 gave it (deleting them in another order turns every property of the backend into a slow dictionary, which
// every later kernel call pays for, eager or compiled).
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { compile, getBackend, mseLoss, nn, optim, profile, tensor, tidy } from '../../src/index.js';
import { observeBackend } from '../../src/backend/observe.js';
import { expectNoLeaks, useBackend } from '../helpers/api.js';

setFlagsFromString('--allow-natives-syntax');
/** V8's own answer: whether an object's properties are in fast mode (not a dictionary). */
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

describe('the wasm backend after it was watched', () => {
  it('keeps fast properties when an observer detaches', async () => {
    await useBackend('wasm');
    const backend = getBackend();
    expect(hasFastProperties(backend)).toBe(true);
    const outer = observeBackend(backend, (_m, _a, run) => run());
    const inner = observeBackend(backend, (_m, _a, run) => run());
    inner();
    outer();
    expect(hasFastProperties(backend)).toBe(true);
  });

  it('keeps fast properties after a compiled step was traced and profiled', async () => {
    await useBackend('wasm');
    const backend = getBackend();
    expectNoLeaks(() => {
      const model = new nn.Linear(2, 1);
      const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
      const x = tensor([[1, 2], [3, 4]]), y = tensor([[1], [0]]);
      const step = compile((xs: typeof x, ys: typeof y) => {
        opt.zeroGrad();
        const loss = mseLoss(model(xs), ys);
        loss.backward();
        opt.step();
        return loss;
      });
      tidy(() => void step(x, y));
      profile(() => tidy(() => void step(x, y)));
      step.dispose();
      opt.zeroGrad();
      opt.disposeState();
      for (const t of [model, x, y]) t.dispose();
    });
    expect(hasFastProperties(backend)).toBe(true);
  });
});
