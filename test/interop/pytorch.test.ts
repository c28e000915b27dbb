// The PyTorch bridge both ways, for each model the trainer makes (MLP, CNN, GPT): `wasmgrad export --pytorch`
// writes model.py, model.safetensors and train_ddp.py; model.py loads the weights with strict=True and gives
// wasmgrad's eval-mode outputs; train_ddp.py takes one SGD step with DistributedDataParallel (gloo, CPU), and the
// weights it writes load back into wasmgrad with loadStateDict and equal the step wasmgrad itself takes.
// Runs where a python3 with torch is found (Debian: apt-get install python3-torch), and says so where not.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/train/saved-model.js';
import {
  fromSafetensors, init, memory, nn, noGrad, optim, randn, tensor, tidy, toSafetensors, type Tensor,
} from '../../src/index.js';
import { Generator } from '../../src/random.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const run = promisify(execFile);

/** The first python3 that imports torch: the one on PATH, or Debian's (PATH may lead to a pyenv python without it). */
function findTorchPython(): string | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      return python;
    } catch {
      // not there, or no torch in it
    }
  }
  return null;
}

const PYTHON = findTorchPython();
if (!PYTHON) {
  console.warn('test/interop/pytorch.test.ts: SKIPPED — no python3 with torch here (Debian: apt-get install python3-torch); ' +
    'the PyTorch round trip (model.py, train_ddp.py) was not tested');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function wasmgrad(args: string[]): Promise<void> {
  await run(process.execPath, [CLI, ...args], { timeout: 120_000 });
}

/** Runs a Python script of the export in its directory (OMP_NUM_THREADS=1: one thread per DDP process on 2 cores). */
async function python(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON!, args, { cwd: dir, timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  return stdout;
}

const readTensors = (path: string) => fromSafetensors(new Uint8Array(readFileSync(path))).tensors;

/** Equal to float32 precision: every difference within 1e-5 of the largest magnitude (and of 1). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let diff = 0, scale = 1;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  expect(diff / scale, `${what}: largest difference over the largest magnitude`).toBeLessThan(1e-5);
}

/** The trainer's loss for a classifier (the task of all three models here). */
const lossOf = (out: Tensor, y: Tensor) => nn.crossEntropy(out.reshape([-1, out.shape[out.rank - 1]!]), y.reshape([-1]), { ignoreIndex: -100 });

interface Case {
  name: string;
  trainArgs: (dir: string) => string[];
  /** A batch of 8 inputs as the model takes them, and labels for it. */
  batch: (m: LoadedModel) => { x: Tensor; y: Tensor };
  /** DDP processes: the CNN's batch norm normalises with each process's own statistics, so one process there. */
  worldSize: number;
}

const g = new Generator(7);
const CASES: Case[] = [
  {
    name: 'MLP',
    trainArgs: () => ['--hidden', '32,16', '--activation', 'gelu', '--dropout', '0', '--epochs', '1'],
    batch: () => ({ x: randn([8, 784], { generator: g }), y: tensor(Int32Array.from({ length: 8 }, (_, i) => i % 10)) }),
    worldSize: 2,
  },
  {
    name: 'CNN',
    trainArgs: () => ['--model', 'cnn', '--epochs', '1'],
    batch: () => ({ x: randn([8, 1, 28, 28], { generator: g }), y: tensor(Int32Array.from({ length: 8 }, (_, i) => (3 * i) % 10)) }),
    worldSize: 1,
  },
  {
    name: 'GPT',
    trainArgs: (dir) => {
      const text = join(dir, 'words.txt');
      writeFileSync(text, Array.from({ length: 60 }, (_, i) => ['abba', 'baba', 'cab', 'acab', 'bac'][i % 5]).join('\n') + '\n');
      return ['--model', 'gpt', '--data', text, '--context', '8', '--layers', '2', '--heads', '2', '--width', '16',
        '--dropout', '0', '--batch-size', '8', '--epochs', '1'];
    },
    batch: () => {
      const ids = () => tensor(Int32Array.from(g.uniform(8 * 8, 0, 4), Math.floor), { shape: [8, 8], dtype: 'int32' });
      return { x: ids(), y: ids() };
    },
    worldSize: 2,
  },
];

describe.skipIf(!PYTHON)('PyTorch round trip (python3 with torch)', () => {
  beforeAll(async () => {
    await init({ build: 'simd' });
  });
  let before: ReturnType<typeof memory>;
  beforeAll(() => {
    before = memory();
  });
  afterAll(() => {
    const after = memory();
    expect({ tensors: after.tensors, bytes: after.bytes }).toEqual({ tensors: before.tensors, bytes: before.bytes });
  });

  for (const c of CASES) {
    it(`${c.name}: model.py reproduces wasmgrad's outputs; train_ddp.py's step on ${c.worldSize} process${c.worldSize > 1 ? 'es' : ''} loads back and equals wasmgrad's`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `wg-torch-${c.name}-`));
      await wasmgrad(['train', ...c.trainArgs(dir), '--out', join(dir, 'run')]);
      const out = join(dir, 'pytorch');
      await wasmgrad(['export', '--model', join(dir, 'run'), '--pytorch', out]);

      const exported = await loadModel(join(out, 'model.safetensors'));
      const trained = await loadModel(join(out, 'model.safetensors'));
      try {
        const { x, y } = c.batch(exported);
        try {
          // 1. Forward: the same inputs through model.py (eval mode), against wasmgrad's.
          writeFileSync(join(out, 'x.safetensors'), toSafetensors({ x }));
          await python(out, ['model.py', '--input', 'x.safetensors', '--output', 'y.safetensors']);
          const torchOut = readTensors(join(out, 'y.safetensors')).y!;
          const ours = tidy(() => noGrad(() => exported.module(x)));
          const [shape, values] = [ours.shape, ours.data() as Float32Array];
          ours.dispose();
          expect(torchOut.shape).toEqual(shape);
          expectClose(torchOut.data as Float32Array, values, `${c.name} outputs`);

          // 2. One SGD step under DDP, and the same step in wasmgrad.
          writeFileSync(join(out, 'data.safetensors'), toSafetensors({ x, y }));
          const port = await freePort();
          // --redirects 1 --tee 1: torchrun's defaults (0) fail under Python 3.11 with torch 1.13 (Debian 12's).
          const log = await python(out, ['-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', String(c.worldSize),
            '--master_addr', '127.0.0.1', '--master_port', String(port), '--redirects', '1', '--tee', '1', '--monitor_interval', '0.2', 'train_ddp.py', '--data', 'data.safetensors',
            '--optimizer', 'sgd', '--lr', '0.5', '--batch-size', String(8 / c.worldSize), '--max-steps', '1', '--out', 'trained.safetensors']);
          expect(log).toContain(`trained 1 steps on ${c.worldSize} processes`);
          const model = exported.module.train();
          const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
          tidy(() => {
            lossOf(model(x), y).backward();
            opt.step();
          });
          model.zeroGrad();

          // 3. The weights PyTorch wrote, back into wasmgrad.
          const file = readTensors(join(out, 'trained.safetensors'));
          expect(trained.module.loadStateDict(file)).toEqual({ missing: [], unexpected: [] });
          const expected = model.stateDict();
          for (const [name, t] of Object.entries(trained.module.stateDict())) {
            expectClose(t.data() as ArrayLike<number>, expected[name]!.data() as ArrayLike<number>, `${c.name} after one step: ${name}`);
          }
          if (c.name === 'CNN') expect(file['1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
          // The model description travels with the weights: `wasmgrad predict` and `sample` read the file as it is.
          const back = await loadModel(join(out, 'trained.safetensors'));
          back.module.dispose();
          expect(back.metadata.description).toEqual(exported.metadata.description);
          // Something moved: the step was taken, not skipped.
          const [name, w] = model.namedParameters()[0]!;
          expect(Array.from(w.data() as Float32Array), name).not.toEqual(Array.from(readTensors(join(out, 'model.safetensors'))[name]!.data as Float32Array));
        } finally {
          x.dispose();
          y.dispose();
        }
      } finally {
        exported.module.dispose();
        trained.module.dispose();
      }
    }, 240_000);
  }
});
