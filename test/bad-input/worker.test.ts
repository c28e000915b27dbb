// Bad backend options in a training worker's request: the worker passes backend, build and threads to init() as
// they are, so each is refused with init's own message, as an 'error' event; the backend in use, its memory and
// the service stay as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, init, memory, optim } from '../../src/index.js';
import { serveTraining, type WorkerEvent, type WorkerRequest } from '../../src/worker/index.js';
import { disposeWorld, makeWorld, stillUsable, type World } from '../helpers/world.js';

let world: World;
const events: WorkerEvent[] = [];
const handle = serveTraining({ postMessage: (e) => events.push(e) });

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.SGD(params, { lr: 0.1 }));
});
afterAll(() => disposeWorld(world));

describe('a training request with bad backend options', () => {
  it.each<[string, Partial<WorkerRequest>, string]>([
    ['threads 0', { threads: 0 }, "init: threads must be an integer from 1 to 16 or 'auto', got 0"],
    ['fractional threads', { threads: 1.5 }, "init: threads must be an integer from 1 to 16 or 'auto', got 1.5"],
    ['threads for the ref backend', { backend: 'ref', threads: 2 }, "init: threads: options of the wasm backend, not of backend 'ref'"],
    ['threads on a build without shared memory', { build: 'scalar', threads: 2 },
      "init: threads need a threads build ('relaxed-simd-threads' or 'simd-threads'), not 'scalar'"],
    ['an unknown build', { build: 'fast' as never }, "init: build must be 'auto', 'relaxed', 'simd', 'scalar'"],
  ])('%s: an error event with init\'s message, and nothing changes', async (_name, options, message) => {
    const [info, before] = [backendInfo(), memory()];
    events.length = 0;
    await handle({ type: 'train', config: { epochs: 1 }, ...options } as WorkerRequest);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', message: expect.stringContaining(message) });
    expect(backendInfo()).toEqual(info);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    stillUsable(world);
    events.length = 0;
    await handle({ type: 'predict', id: 1, inputs: new Float32Array(784), n: 1 });
    expect(events).toEqual([{ type: 'error', message: 'predict: no model yet; train first' }]);
  });
});
