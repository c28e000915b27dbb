// Checkpoints written by wasmgrad 0.1.0 (format wasmgrad-checkpoint-1: no checksum, untagged optimizer and
// scheduler states; see fixtures/README.md) still load, and a run resumed from one continues exactly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointFromBytes, fromSafetensors, Generator, nn, optim, tensor, tidy } from '../../src/index.js';
import { csvData } from '../../src/train/csv-data.js';
import { Trainer } from '../../src/train/trainer.js';
import { expectNoLeaks, expectNoLeaksAsync, useBackend } from '../helpers/api.js';

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', name)));

/** The run that wrote adam-steplr-v1.ckpt (fixtures/README.md), `steps` steps in. */
function run(steps: number) {
  const model = new nn.Sequential(new nn.Linear(3, 4, { generator: new Generator(1) }), new nn.ReLU(),
    new nn.Linear(4, 2, { generator: new Generator(2) }));
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  const shuffle = new Generator(21);
  const r = { model, opt, sched, shuffle, train: (n: number) => {
    for (let s = 0; s < n; s++) {
      shuffle.permutation(5);
      tidy(() => {
        opt.zeroGrad();
        nn.crossEntropy(model(tensor([[0.5, -1, 2], [1, 0.25, -0.5], [-1.5, 2, 0]])), [0, 1, 1]).backward();
        opt.step();
      });
      sched.step();
    }
  } };
  r.train(steps);
  return r;
}

const params = (m: nn.Module) => m.parameters().map((p) => Array.from(p.data()));

describe('checkpoints of wasmgrad 0.1.0', () => {
  it('load, and the run continues exactly as if never interrupted', async () => {
    await useBackend('ref'); // the fixture was written on ref: its arithmetic is the same in every version
    expectNoLeaks(() => {
      const bytes = fixture('adam-steplr-v1.ckpt');
      expect(fromSafetensors(bytes).verified).toBe(false);
      const straight = run(5);
      const resumed = run(0);
      const restored = checkpointFromBytes(bytes, { model: resumed.model, optimizer: resumed.opt, scheduler: resumed.sched,
        generators: { shuffle: resumed.shuffle } });
      expect(restored).toEqual({ step: 3, extra: { note: 'written by wasmgrad 0.1.0' } });
      expect(resumed.sched.lastEpoch).toBe(3);
      resumed.train(2);
      expect(params(resumed.model)).toEqual(params(straight.model));
      expect(resumed.shuffle.getState()).toEqual(straight.shuffle.getState());
      expect(resumed.opt.paramGroups[0]!.lr).toBe(straight.opt.paramGroups[0]!.lr);
      for (const r of [straight, resumed]) {
        r.opt.disposeState();
        r.model.dispose();
      }
    });
  });

  it("written by 'wasmgrad train' give their configuration and resume", async () => {
    await useBackend('ref');
    await expectNoLeaksAsync(async () => {
      const bytes = fixture('trainer-v1.ckpt');
      const config = Trainer.configOf(bytes);
      expect(config).toMatchObject({ hidden: [4], epochs: 2, batchSize: 8, optimizer: 'adam', schedule: 'cosine' });
      const data = await csvData(join(import.meta.dirname, 'fixtures', 'tiny.csv'), { target: 'y', seed: config.seed });
      const trainer = new Trainer({ ...config, epochs: 3 }, data);
      trainer.restore(bytes);
      expect(trainer.epoch).toBe(2);
      expect(trainer.history.map((m) => m.epoch)).toEqual([1, 2]);
      const m = await trainer.trainEpoch();
      expect(m?.epoch).toBe(3);
      trainer.dispose();
      data.train.dispose();
      data.test.dispose();
    });
  });
});
