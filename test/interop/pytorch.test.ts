// The PyTorch bridge both ways, for each model the trainer makes (MLP, CNN, GPT): `wasmgrad export --pytorch`
// writes model.py, model.safetensors and train_ddp.py; model.py loads the weights with strict=True and gives
// wasmgrad's eval-mode outputs; train_ddp.py takes one SGD step with DistributedDataParallel (gloo, CPU), and the
// weights it writes load back into wasmgrad with loadStateDict and equal the step wasmgrad itself takes.
// toPyTorch / savePyTorch do the same for any module built from the library's layers: model.py, run by PyTorch on the
// same inputs, gives wasmgrad's eval-mode outputs.
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
import { savePyTorch } from '../../src/interop/pytorch/index.js';
import type { Module } from '../../src/nn/module.js';
import { buildGpt } from '../../src/train/gpt.js';
import { expectNoLeaks } from '../helpers/api.js';
import { randomized } from '../helpers/randomized.js';

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

interface ModuleCase {
  name: string;
  make: () => Module;
  /** One sample's shape, without the batch dim (token ids below `vocab` when given, else floats). */
  sample: number[];
  vocab?: number;
  /** Give toPyTorch the sample's shape (else it infers it from the first layer). */
  giveShape?: boolean;
  /** How wasmgrad runs the module on a batch (default: model(x)). */
  forward?: (model: Module, x: Tensor) => Tensor;
}

/** A MultiheadAttention exported on its own is self-attention, as toOnnx exports it. */
const selfAttention = (model: Module, x: Tensor) => (model as nn.MultiheadAttention)(x, x, x);

const MODULE_CASES: ModuleCase[] = [
  {
    name: 'a CNN: Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout, activations',
    sample: [2, 12, 11], giveShape: true,
    make: () => new nn.Sequential(
      new nn.Conv2d(2, 6, [3, 2], { padding: 'same', dilation: [1, 2] }), new nn.BatchNorm2d(6), new nn.ReLU(),
      new nn.MaxPool2d(2, { stride: 2, padding: 1, ceilMode: true }),
      new nn.Conv2d(6, 4, 3, { stride: [1, 2], padding: 1, groups: 2, bias: false }), new nn.BatchNorm2d(4, { affine: false, eps: 1e-3 }),
      new nn.LeakyReLU(0.2), new nn.AvgPool2d(2, { stride: 1, padding: 1, countIncludePad: false }),
      new nn.AdaptiveAvgPool2d([3, null]), new nn.Flatten(), new nn.Dropout(0.4), new nn.Linear(4 * 3 * 4, 5), new nn.Tanh(),
      new nn.Linear(5, 3),
    ),
  },
  {
    name: 'a 1-D CNN: Conv1d, BatchNorm1d, GELU, Sigmoid, Softplus, nested Sequentials',
    sample: [3, 17], giveShape: true,
    make: () => new nn.Sequential(
      new nn.Sequential(new nn.Conv1d(3, 6, 3, { stride: 2, padding: 1, groups: 3 }), new nn.BatchNorm1d(6, { momentum: null }), new nn.GELU()),
      new nn.Flatten(), new nn.Linear(6 * 9, 8), new nn.BatchNorm1d(8), new nn.Softplus(2), new nn.Linear(8, 4), new nn.Sigmoid(),
    ),
  },
  {
    name: 'a transformer: Embedding, LayerNorm, TransformerEncoderLayer (pre- and post-norm), RMSNorm',
    sample: [6], vocab: 11,
    make: () => new nn.Sequential(
      new nn.Embedding(11, 8, { paddingIdx: 0 }), new nn.LayerNorm(8, { eps: 1e-4 }),
      new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, normFirst: true, activation: 'gelu' }),
      new nn.TransformerEncoderLayer(8, 4, { dimFeedforward: 12, batchFirst: true, layerNormEps: 1e-3 }),
      new nn.RMSNorm(8), new nn.RMSNorm([6, 8], { eps: 1e-3, elementwiseAffine: false }), new nn.Linear(8, 11),
    ),
  },
  {
    name: 'MultiheadAttention on its own (sequence first): self-attention',
    sample: [5, 8], forward: selfAttention,
    make: () => new nn.MultiheadAttention(8, 2),
  },
  {
    name: 'MultiheadAttention on its own (batch first): self-attention',
    sample: [5, 8], forward: selfAttention,
    make: () => new nn.MultiheadAttention(8, 2, { batchFirst: true }),
  },
  {
    name: 'MultiheadAttention on its own (batch first, no bias): self-attention',
    sample: [5, 8], forward: selfAttention,
    make: () => new nn.MultiheadAttention(8, 4, { batchFirst: true, bias: false }),
  },
  {
    name: 'TransformerEncoderLayer on its own (sequence first)',
    sample: [5, 8],
    make: () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }),
  },
  {
    name: "the CLI's GPT",
    sample: [7], vocab: 13,
    make: () => buildGpt({ vocabSize: 13, context: 8, layers: 2, heads: 2, width: 8, dropout: 0.1 }, new Generator(3), new Generator(4)),
  },
];

describe.skipIf(!PYTHON)('toPyTorch / savePyTorch: modules built from library layers, through PyTorch (python3 with torch)', () => {
  beforeAll(async () => {
    await init({ build: 'simd' });
  });

  for (const c of MODULE_CASES) {
    it(`${c.name}: model.py loads model.safetensors (strict) and gives wasmgrad's eval-mode outputs`, async () => {
      const model = randomized(c.make());
      const dir = mkdtempSync(join(tmpdir(), 'wg-torch-module-'));
      try {
        const files = await savePyTorch(model, dir, c.giveShape ? { inputShape: c.sample } : {});
        expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['model.py', 'model.safetensors', 'train_ddp.py']);
        const draws = new Generator(11);
        const n = 3 * c.sample.reduce((a, b) => a * b, 1);
        const x = c.vocab
          ? tensor(Int32Array.from(draws.uniform(n, 0, c.vocab), Math.floor), { shape: [3, ...c.sample], dtype: 'int32' })
          : tensor(Float32Array.from(draws.normal(n)), { shape: [3, ...c.sample] });
        try {
          writeFileSync(join(dir, 'x.safetensors'), toSafetensors({ x }));
          await python(dir, ['model.py', '--input', 'x.safetensors', '--output', 'y.safetensors']);
          const torchOut = readTensors(join(dir, 'y.safetensors')).y!;
          const ours = expectNoLeaks(() => tidy(() => noGrad(() => {
            const y = c.forward ? c.forward(model, x) : model(x);
            return { shape: [...y.shape], data: Float32Array.from(y.data() as Float32Array) };
          })));
          expect(torchOut.shape).toEqual(ours.shape);
          expectClose(torchOut.data as Float32Array, ours.data, c.name);
        } finally {
          x.dispose();
        }
      } finally {
        model.dispose();
      }
    }, 120_000);
  }

  it('MultiheadAttention with kdim and vdim: model.py loads its weights under the same names and shapes (strict)', async () => {
    const model = randomized(new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3, batchFirst: true }));
    const dir = mkdtempSync(join(tmpdir(), 'wg-torch-mha-'));
    try {
      await savePyTorch(model, dir);
      const printed = await python(dir, ['model.py']);
      expect(printed).toMatch(/^Model\(\n  \(out_proj\): NonDynamicallyQuantizableLinear\(in_features=8, out_features=8, bias=True\)\n\)/);
    } finally {
      model.dispose();
    }
  }, 120_000);
});
