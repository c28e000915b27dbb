// TrainingClient in Chromium: the ready-made worker started by `new TrainingClient()` trains (here through Vite's dev
// server, which builds it from the same `new Worker(new URL(…), …)` form as a production build), and requests reject,
// saying why, when the worker cannot load or throws — they used to wait forever.
import { describe, expect, it } from 'vitest';
import { TrainingClient } from '../../src/worker/index.js';

const classicWorker = (source: string) => new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));

describe('TrainingClient in Chromium', () => {
  it('new TrainingClient() starts the ready-made worker, which downloads the digits with progress (once) and trains', async () => {
    const client = new TrainingClient();
    const loading: number[] = [];
    client.onEvent((e) => e.type === 'loading' && loading.push(e.loaded));
    try {
      const done = await client.train({ hidden: [16], epochs: 1 });
      expect(done.history[0]!.testAccuracy).toBeGreaterThan(0.8);
      expect(loading[0]).toBe(0);
      expect(loading.at(-1)).toBeGreaterThan(1_000_000); // data/digits.bin.gz
      expect((await client.predict(new Float32Array(784))).length).toBe(10);
      // The worker keeps the bytes: a second run downloads nothing.
      loading.length = 0;
      await client.train({ hidden: [16], epochs: 1 });
      expect(loading).toEqual([]);
    } finally {
      client.terminate();
    }
  });

  it('rejects when the worker cannot load: a data: URL module whose relative import cannot resolve', async () => {
    const client = new TrainingClient(new Worker('data:text/javascript,import "./serve.js";', { type: 'module' }));
    await expect(client.train()).rejects.toThrow('TrainingClient: the worker failed: it could not be loaded (its script, or a module it imports, failed to fetch or to run');
    await expect(client.sample('a')).rejects.toThrow('TrainingClient: the worker failed: it could not be loaded');
  });

  it('rejects what is waiting, and every later request, when the worker throws an uncaught error; and on terminate()', async () => {
    const client = new TrainingClient(classicWorker("onmessage = () => { throw new Error('boom'); };"));
    const run = client.train();
    await expect(run).rejects.toThrow('TrainingClient: the worker failed: it threw Uncaught Error: boom');
    await expect(client.predict(new Float32Array(784))).rejects.toThrow('TrainingClient: the worker failed: it threw Uncaught Error: boom');
    const silent = new TrainingClient(classicWorker('onmessage = () => {};'));
    const waiting = silent.train();
    silent.terminate();
    await expect(waiting).rejects.toThrow('TrainingClient: the worker was terminated');
  });
});
