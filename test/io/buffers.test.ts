// Module buffers in files: batch norm's running statistics and num_batches_tracked are saved and loaded by
// save / load and checkpoints under PyTorch's names; the file's layout is what PyTorch reads; files written by
// PyTorch (num_batches_tracked as I64) load; resuming a run with batch norm reproduces it bit for bit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkpointFromBytes, checkpointToBytes, fromSafetensors, Generator, load, nn, optim, save, tensor, tidy, toSafetensors,
} from '../../src/index.js';
import { BACKENDS, expectNoLeaks, expectNoLeaksAsync, useBackend } from '../helpers/api.js';
import { mulberry32 } from '../helpers/random.js';
import { rawSafetensors } from '../helpers/safetensors.js';

const rand = mulberry32(3);
const X = Array.from({ length: 16 }, () => [rand(), rand(), rand()].map((v) => 4 * v - 2));
const Y = X.map((r) => (r[0]! > r[1]! ? 1 : 0));

const makeModel = (seed: number) => new nn.Sequential(
  new nn.Linear(3, 4, { generator: new Generator(seed) }), new nn.BatchNorm1d(4), new nn.ReLU(),
  new nn.Linear(4, 2, { generator: new Generator(seed + 1) }),
);

function train(model: nn.Module, opt: optim.Optimizer<{ lr: number }>, steps: number): void {
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      opt.zeroGrad();
      nn.crossEntropy(model(tensor(X.slice(4 * (s % 4), 4 * (s % 4) + 4))), Y.slice(4 * (s % 4), 4 * (s % 4) + 4)).backward();
      opt.step();
    });
  }
}

/** Every state entry's values (buffers included), by name. */
const state = (m: nn.Module) => Object.entries(m.stateDict()).map(([k, t]) => [k, t.dtype, Array.from(t.data())]);

describe.each(BACKENDS)('buffers in files on %s', (name) => {
  it('save / load carry the running statistics and the batch count; the reloaded model evaluates identically', async () => {
    await useBackend(name);
    const path = join(mkdtempSync(join(tmpdir(), 'buffers-')), 'm.safetensors');
    await expectNoLeaksAsync(async () => {
      const a = makeModel(1);
      const opt = new optim.SGD(a.parameters(), { lr: 0.1 });
      train(a, opt, 3);
      expect((a.at(1) as nn.BatchNorm1d).num_batches_tracked!.item()).toBe(3);
      await save(a, path);
      const b = makeModel(7);
      await load(b, path);
      expect(state(b)).toEqual(state(a));
      a.eval();
      b.eval();
      tidy(() => expect(Array.from(b(tensor(X)).data())).toEqual(Array.from(a(tensor(X)).data())));
      opt.disposeState();
      a.dispose();
      b.dispose();
    });
  });

  it('checkpoints: N steps + save + load into fresh objects + N steps equal 2×N steps, buffers included', async () => {
    await useBackend(name);
    expectNoLeaks(() => {
      const straight = makeModel(1);
      const straightOpt = new optim.Adam(straight.parameters(), { lr: 0.01 });
      train(straight, straightOpt, 8);
      const first = makeModel(1);
      const firstOpt = new optim.Adam(first.parameters(), { lr: 0.01 });
      train(first, firstOpt, 4);
      const bytes = checkpointToBytes({ model: first, optimizer: firstOpt, step: 4 });
      const resumed = makeModel(9);
      const resumedOpt = new optim.Adam(resumed.parameters(), { lr: 0.01 });
      expect(checkpointFromBytes(bytes, { model: resumed, optimizer: resumedOpt })).toEqual({ step: 4, extra: null });
      expect(state(resumed)).toEqual(state(first));
      train(resumed, resumedOpt, 4);
      expect(state(resumed)).toEqual(state(straight));
      for (const [m, o] of [[straight, straightOpt], [first, firstOpt], [resumed, resumedOpt]] as const) {
        o.disposeState();
        m.dispose();
      }
    });
  });
});

describe('the file layout PyTorch reads', () => {
  it('names, dtypes and shapes of a BatchNorm2d as PyTorch\'s state_dict, read by an independent reader (Python)', async () => {
    await useBackend('wasm');
    const path = join(mkdtempSync(join(tmpdir(), 'bn-layout-')), 'bn.safetensors');
    await expectNoLeaksAsync(async () => {
      const bn = new nn.BatchNorm2d(3);
      tidy(() => {
        bn(tensor(Array.from({ length: 24 }, (_, i) => i % 7), { shape: [2, 3, 2, 2] }));
      });
      await save(bn, path);
      bn.dispose();
    });
    // PyTorch's BatchNorm2d(3).state_dict(): weight, bias, running_mean, running_var ([3] floats) and
    // num_batches_tracked, a 0-dim integer tensor. safetensors.torch reads I32 as torch.int32 with shape [] and
    // load_state_dict copies it into the int64 buffer (it checks shapes, and copy_ converts the dtype).
    const script = [
      'import json, struct, sys, array',
      'b = open(sys.argv[1], "rb").read()',
      'n = struct.unpack("<Q", b[:8])[0]',
      'h = json.loads(b[8:8 + n])',
      'out = []',
      'for k, v in h.items():',
      '    if k == "__metadata__": continue',
      '    s, e = v["data_offsets"]',
      '    a = array.array({"F32": "f", "I32": "i"}[v["dtype"]]); a.frombytes(b[8 + n + s: 8 + n + e])',
      '    out.append([k, v["dtype"], v["shape"], list(a)])',
      'print(json.dumps(out))',
    ].join('\n');
    const parsed = JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' })) as [string, string, number[], number[]][];
    expect(parsed.map(([k, dtype, shape]) => [k, dtype, shape])).toEqual([
      ['weight', 'F32', [3]], ['bias', 'F32', [3]], ['running_mean', 'F32', [3]], ['running_var', 'F32', [3]],
      ['num_batches_tracked', 'I32', []],
    ]);
    expect(parsed[4]![3]).toEqual([1]);
    expect(parsed[2]![3].every((v) => v !== 0)).toBe(true); // moved towards the batch's means
  });

  it('a file as PyTorch writes it (num_batches_tracked as I64, no checksum) loads; I32 too', async () => {
    await useBackend('wasm');
    expectNoLeaks(() => {
      const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
      for (const [dtype, count] of [['I64', new Uint8Array(new BigInt64Array([12345n]).buffer)], ['I32', new Uint8Array(new Int32Array([12345]).buffer)]] as const) {
        const parts: [string, string, number[], Uint8Array][] = [
          ['weight', 'F32', [2], f32([1.5, 2])], ['bias', 'F32', [2], f32([0.25, -1])], ['running_mean', 'F32', [2], f32([3, 4])],
          ['running_var', 'F32', [2], f32([5, 6])], ['num_batches_tracked', dtype, [], count],
        ];
        const header: Record<string, unknown> = {};
        let at = 0;
        for (const [k, d, shape, data] of parts) {
          header[k] = { dtype: d, shape, data_offsets: [at, at + data.length] };
          at += data.length;
        }
        const data = new Uint8Array(at);
        at = 0;
        for (const [, , , bytes] of parts) {
          data.set(bytes, at);
          at += bytes.length;
        }
        const bn = new nn.BatchNorm1d(2);
        bn.loadStateDict(fromSafetensors(rawSafetensors(header, data)).tensors);
        expect(state(bn)).toEqual([
          ['weight', 'float32', [1.5, 2]], ['bias', 'float32', [0.25, -1]], ['running_mean', 'float32', [3, 4]],
          ['running_var', 'float32', [5, 6]], ['num_batches_tracked', 'int32', [12345]],
        ]);
        bn.dispose();
      }
    });
  });

  it('our bytes round-trip: toSafetensors of a state dict with buffers loads back', async () => {
    await useBackend('wasm');
    expectNoLeaks(() => {
      const a = makeModel(2);
      tidy(() => {
        a(tensor(X));
      });
      const b = makeModel(5);
      b.loadStateDict(fromSafetensors(toSafetensors(a.stateDict())).tensors);
      expect(state(b)).toEqual(state(a));
      a.dispose();
      b.dispose();
    });
  });
});
