// Training in a Node worker thread with progress events posted back (the browser path is the demo's test).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { fromSafetensors, loadDigits, toFloat } from '../../src/index.js';
import { CNN_DEFAULTS, GPT_DEFAULTS } from '../../src/train/trainer.js';
import { TrainingClient, type TrainBackendOptions, type WorkerEvent } from '../../src/worker/index.js';

const script = new URL('../../dist/worker/train-worker.js', import.meta.url);

describe('TrainingClient with a node:worker_threads worker', () => {
  it('trains, posts progress, predicts, and can be stopped', async () => {
    const client = new TrainingClient(new Worker(script));
    const events: WorkerEvent['type'][] = [];
    client.onEvent((e) => events.push(e.type));
    try {
      const done = await client.train({ epochs: 2, hidden: [32], dropout: 0 });
      expect(done.stopped).toBe(false);
      expect(done.history).toHaveLength(2);
      expect(done.history[1]!.testAccuracy).toBeGreaterThan(0.85);
      expect(events[0]).toBe('started');
      expect(events.filter((t) => t === 'batch').length).toBeGreaterThan(2);
      expect(events.filter((t) => t === 'epoch').length).toBe(2);
      expect(Object.keys(fromSafetensors(done.model).tensors).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
      const { test } = await loadDigits();
      const probs = await client.predict(toFloat(test.images.subarray(0, 784 * 5)), 5);
      expect(probs.length).toBe(50);
      for (let r = 0; r < 5; r++) expect(probs.subarray(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const run = client.train({ epochs: 50, hidden: [32] });
      await new Promise<void>((resolve) => client.onEvent((e) => e.type === 'batch' && resolve()));
      client.stop();
      const stopped = await run;
      expect(stopped.stopped).toBe(true);
      expect(stopped.history.length).toBeLessThan(50);
      await expect(client.train({ epochs: 0 })).rejects.toThrow('epochs must be a positive integer, got 0');
      await expect(client.train({ learning_rate: 0.1 } as never)).rejects.toThrow("Trainer: unknown option 'learning_rate'; did you mean 'lr'?");
      // A run that could not start changed nothing: the stopped run's model still predicts.
      expect((await client.predict(toFloat(test.images.subarray(0, 784)), 1)).length).toBe(10);
    } finally {
      client.terminate();
    }
  });

  it("trains and predicts with model: 'cnn' (its own defaults), reading [N,1,28,28] from the same flat inputs", async () => {
    const client = new TrainingClient(new Worker(script));
    let started: Extract<WorkerEvent, { type: 'started' }> | undefined;
    client.onEvent((e) => e.type === 'started' && (started = e));
    try {
      await expect(client.train({ model: 'rnn' as never })).rejects.toThrow("Trainer: model must be 'mlp', 'cnn' or 'gpt', got the string 'rnn'");
      const run = client.train({ model: 'cnn' });
      await new Promise<void>((resolve) => client.onEvent((e) => e.type === 'batch' && resolve()));
      client.stop();
      const done = await run;
      expect(started!.config).toEqual(CNN_DEFAULTS);
      expect(done.stopped).toBe(true);
      const file = fromSafetensors(done.model);
      expect(JSON.parse(file.metadata.wasmgrad_model!).cnn).toMatchObject({ inputShape: [1, 28, 28], channels: [16, 32] });
      expect(file.tensors['1.running_mean']!.shape).toEqual([16]);
      const { test } = await loadDigits();
      const probs = await client.predict(toFloat(test.images.subarray(0, 784 * 3)), 3);
      expect(probs.length).toBe(30);
      for (let r = 0; r < 3; r++) expect(probs.subarray(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    } finally {
      client.terminate();
    }
  });

  it("trains the character GPT on the embedded names with model: 'gpt', and samples names while it learns and after", async () => {
    const client = new TrainingClient(new Worker(script));
    let started: Extract<WorkerEvent, { type: 'started' }> | undefined;
    client.onEvent((e) => e.type === 'started' && (started = e));
    try {
      await expect(client.sample('a')).rejects.toThrow("sample: no character model yet; train one with model: 'gpt' first");
      const run = client.train({ model: 'gpt', epochs: 1, layers: 1, width: 32 });
      await new Promise<void>((resolve) => client.onEvent((e) => e.type === 'batch' && resolve()));
      const early = await client.sample('', { maxTokens: 30, seed: 1 }); // between two batches
      expect(early).toMatch(/^[a-z\n-]{30}$/);
      const done = await run;
      expect(started!.config).toEqual({ ...GPT_DEFAULTS, epochs: 1, layers: 1, width: 32 });
      expect(started!.trainSize).toBe(3327); // windows of 16 characters of the 7,580 training names
      expect(done.history[0]!.testLoss).toBeLessThan(2.6);
      const names = await client.sample('ma', { maxTokens: 50, temperature: 0.8, seed: 2 });
      expect(names).toMatch(/^ma[a-z\n-]{50}$/);
      expect(await client.sample('ma', { maxTokens: 50, temperature: 0.8, seed: 2 })).toBe(names);
      await expect(client.sample('Ma')).rejects.toThrow("sample: the prompt: 'M' is not in the vocabulary");
      await expect(client.predict(new Float32Array(16), 1)).rejects.toThrow('predict: the model is a character GPT, which writes text: use sample');
      expect(JSON.parse(fromSafetensors(done.model).metadata.wasmgrad_model!).gpt).toMatchObject({ vocabSize: 28, context: 16 });
    } finally {
      client.terminate();
    }
  });

  it('trains on the threads it is asked for, to the same bytes as the same build on one thread', async () => {
    const run = async (options: TrainBackendOptions) => {
      const client = new TrainingClient(new Worker(script));
      let started: Extract<WorkerEvent, { type: 'started' }> | undefined;
      client.onEvent((e) => e.type === 'started' && (started = e));
      try {
        const done = await client.train({ epochs: 1, hidden: [128], batchSize: 256 }, options);
        return { backend: started!.backend, model: done.model };
      } finally {
        client.terminate();
      }
    };
    // vitest runs Node with relaxed SIMD, which the worker thread shares: threads: 2 loads relaxed-simd-threads.
    const [shared, alone] = [await run({ threads: 2 }), await run({ build: 'relaxed' })];
    expect(shared.backend).toMatchObject({ build: 'relaxed-simd-threads', threads: 2 });
    expect(alone.backend).toMatchObject({ build: 'relaxed', threads: 1 });
    expect(Buffer.from(shared.model).equals(Buffer.from(alone.model))).toBe(true);
  });

  it('rejects what is waiting, and every later request, when the worker fails to load, throws, exits or is terminated', async () => {
    // Fails to load: the script does not exist.
    const missing = new TrainingClient(new Worker(new URL('./no-such-worker.js', script)));
    await expect(missing.train({ epochs: 1 })).rejects.toThrow(/^TrainingClient: the worker failed: it threw Cannot find module .*no-such-worker\.js/);
    await expect(missing.predict(new Float32Array(784))).rejects.toThrow('TrainingClient: the worker failed');
    // An uncaught error in the worker (here when the first request arrives).
    const throwing = new TrainingClient(new Worker("require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom') })", { eval: true }));
    await expect(throwing.train()).rejects.toThrow('TrainingClient: the worker failed: it threw boom');
    // Dies during a run: the thread ends under the client.
    const thread = new Worker(script);
    const dying = new TrainingClient(thread);
    const run = dying.train({ epochs: 50, hidden: [32] });
    await new Promise<void>((resolve) => dying.onEvent((e) => e.type === 'batch' && resolve()));
    const predicting = dying.predict(new Float32Array(784));
    await thread.terminate();
    await expect(run).rejects.toThrow('TrainingClient: the worker exited (exit code 1)');
    await expect(predicting).rejects.toThrow('TrainingClient: the worker exited (exit code 1)');
    await expect(dying.sample('a')).rejects.toThrow('TrainingClient: the worker exited (exit code 1)');
    // Terminated by the client while a run waits.
    const client = new TrainingClient(new Worker(script));
    const waiting = client.train({ epochs: 50, hidden: [32] });
    client.terminate();
    await expect(waiting).rejects.toThrow('TrainingClient: the worker was terminated');
  });

  it('starts the ready-made worker by itself only in browsers; Node is told to pass a worker thread', () => {
    expect(() => new TrainingClient()).toThrow("TrainingClient: no Web Worker here; in Node pass a worker thread: new TrainingClient(new Worker(trainWorkerUrl())) with Worker from 'node:worker_threads'");
  });
});
