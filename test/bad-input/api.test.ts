// The bad-input catalogue: every wrong call across the public API and the CLI fails with a specific, helpful
// message, and the same tensors, model and optimizer keep working on the next call.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkNumerics, concat, createWasmBackend, fromSafetensors, gather, init, keep, memory, nn, optim, refBackend, reshape,
  setBackend, tensor, tidy, toSafetensors, type Tensor,
} from '../../src/index.js';
import { expectClose } from '../helpers/fixtures.js';
import { rawSafetensors } from '../helpers/safetensors.js';
import { disposeWorld, makeWorld, stillUsable as stillUsableWorld, type World } from '../helpers/world.js';

let world: World;
/** A second tensor, for arithmetic with world.x. */
let b: Tensor;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.Adam(params, { lr: 0.01 }));
  b = keep(tensor([10, 20, 30]));
});

afterAll(() => {
  disposeWorld(world);
  b.dispose();
});

/** The objects still work: arithmetic, a gradient, and a training step. */
function stillUsable(): void {
  expect(tidy(() => Array.from(world.x.add(b).data()))).toEqual([11, 22, 33, 14, 25, 36]);
  stillUsableWorld(world);
}

const API_CASES: [string, () => unknown, string | RegExp][] = [
  ['non-broadcastable shapes', () => world.x.add(tensor([1, 2])), 'add: shapes [2,3] and [2] are not broadcastable'],
  ['matmul inner mismatch', () => world.x.matmul(world.x), 'matmul: inner dimensions differ: [2,3]·[2,3] (3 ≠ 2)'],
  ['matmul batch mismatch', () => tensor([[[1]], [[2]]]).matmul(tensor([[[1]], [[2]], [[3]]])), 'matmul: batch dimensions differ'],
  ['mixed float dtypes', () => tensor([1], { backend: refBackend() }).add(tensor([1], { dtype: 'float64', backend: refBackend() })),
    'add: dtypes differ (float32 and float64)'],
  ['int32 data in a float op', () => tensor([1, 2], { dtype: 'int32' }).exp(), 'exp: expects float32 or float64 data, got int32'],
  ['float64 on the wasm backend', () => tensor([1], { dtype: 'float64' }),
    "tensor: the wasm backend does not store float64 (it stores float32, int32); pass { backend: refBackend() } or setBackend('ref') for float64"],
  ['requiresGrad on integer data', () => tensor([1, 2], { dtype: 'int32', requiresGrad: true }),
    'requiresGrad: only floating-point tensors can require gradients (this one is int32)'],
  ['non-integer int32 data', () => tensor([1.5], { dtype: 'int32' }), 'tensor: int32 values must be integers in [-2147483648, 2147483647], got 1.5 at index 0'],
  ['ragged nested array', () => tensor([[1, 2], [3]]), 'tensor: ragged nested array: expected length 2 at [1], got 1'],
  ['reshape to another size', () => reshape(world.x, [4, 2]), 'reshape: cannot reshape [2,3] (6 elements) to [4,2]'],
  ['axis out of range', () => world.x.sum(2), 'sum: axis 2 is out of range for shape [2,3]'],
  ['concat of scalars', () => concat([tensor(1), tensor(2)]),
    'concat: scalars (shape []) have no axis to join along; reshape them to [1] first'],
  ['label out of range', () => nn.crossEntropy(world.x, [0, 3]), 'crossEntropy: label 3 at row 1 is out of range [0, 3)'],
  ['index out of range', () => gather(world.x, tensor([0, 2], { dtype: 'int32' })), 'gather: index 2 at position 1 is out of range [0, 2)'],
  ['wrong input width for a Linear', () => world.model(tensor([[1, 2]])), 'linear: input [1,2] should end in 3 features to match weight [4,3]'],
  ['backward on a non-scalar without a gradient', () => world.w.mul(2).backward(),
    'backward: a gradient can only be implied for a scalar output; this output has shape [3]'],
  ['backward on a tensor that needs no gradient', () => world.x.sum().backward(), 'backward: this tensor does not require a gradient'],
  ['backward twice', () => {
    const J = world.w.square().sum();
    J.backward();
    J.backward();
  }, "backward: the graph through op 'sum' was already freed by an earlier backward; pass { retainGraph: true }"],
  ['a wrong-shaped upstream gradient', () => world.w.mul(2).backward(tensor([1, 2])), 'backward: the gradient [2] float32 must match the output [3] float32'],
  ['use after dispose', () => {
    const t = tensor([1, 2, 3], { name: 'tmp' });
    t.dispose();
    t.mul(2);
  }, "mul: input tensor 'tmp' was used after it was disposed"],
  ['double dispose', () => {
    const t = tensor([1]);
    t.dispose();
    t.dispose();
  }, 'dispose: tensor [1] was used after it was disposed'],
  ['reading a tensor from a scope that has ended', () => {
    let inner: Tensor | null = null;
    tidy(() => {
      inner = tensor([1, 2]);
    });
    return inner!.data();
  }, 'use: tensor [2] was used after it was disposed'],
  ['item() of a tensor with several values', () => world.x.item(), 'item: the tensor has 6 elements (shape [2,3]), not 1'],
  ['invalid Adam betas', () => new optim.Adam(world.model.parameters(), { betas: [0.9, 1] }), 'Adam: betas must be a pair [β1, β2] of numbers in [0, 1), got [0.9, 1]'],
  ['negative learning rate', () => new optim.SGD(world.model.parameters(), { lr: -0.1 }), 'SGD: lr must be a number ≥ 0, got -0.1'],
  ['optimizer over a tensor that needs no gradient', () => new optim.SGD([world.x], { lr: 0.1 }), 'must be a leaf tensor that requires grad'],
  ['loadStateDict with a missing key', () => world.model.loadStateDict({ '0.weight': world.model.stateDict()['0.weight']! }),
    'loadStateDict: missing: 0.bias, 2.weight, 2.bias (nothing was loaded)'],
  ['loadStateDict with an extra key', () => world.model.loadStateDict({ ...world.model.stateDict(), '9.weight': b }),
    'loadStateDict: unexpected: 9.weight (nothing was loaded)'],
  ['loadStateDict with a mis-shaped entry', () => world.model.loadStateDict({ ...world.model.stateDict(), '2.bias': b }),
    'loadStateDict: wrong shape: 2.bias: expected [2], got [3] (nothing was loaded)'],
  ['safetensors: truncated', () => fromSafetensors(toSafetensors({ b: b }).subarray(0, 6)), 'safetensors: truncated: 6 bytes'],
  ['safetensors: header length past the end', () => {
    const bytes = toSafetensors({ b: b });
    new DataView(bytes.buffer).setBigUint64(0, 5000n, true);
    return fromSafetensors(bytes);
  }, 'safetensors: header length 5000 runs past the end of the file'],
  ['safetensors: header over the limit', () => fromSafetensors(toSafetensors({ b: b }), { maxHeaderBytes: 16 }),
    /^safetensors: header length \d+ exceeds the limit of 16 bytes$/],
  ['safetensors: bad JSON', () => {
    const bytes = toSafetensors({ b: b });
    bytes[8] = 0x5b; // '[' where '{' was
    return fromSafetensors(bytes);
  }, 'safetensors: the header is not valid JSON'],
  ['safetensors: unknown dtype', () => fromSafetensors(rawSafetensors({ t: { dtype: 'F8', shape: [8], data_offsets: [0, 8] } }, new Uint8Array(8))),
    "safetensors: tensor 't': dtype must be one of F32, F64, I32, F16, BF16, I64, U8, got the string 'F8'"],
  ['safetensors: overlapping tensors', () => fromSafetensors(rawSafetensors({
    p: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, q: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
  }, new Uint8Array(8))), /^safetensors: tensors '[pq]' and '[pq]' overlap$/],
  ['safetensors: offsets outside the data', () => fromSafetensors(rawSafetensors({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8))),
    "safetensors: tensor 't': data_offsets [0, 16] run past the data (8 bytes)"],
  ['safetensors: shape does not match the bytes', () => fromSafetensors(rawSafetensors({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))),
    "safetensors: tensor 't': shape [3] of F32 needs 12 bytes, data_offsets give 8"],
];

describe('bad input through the API', () => {
  it('has at least 30 cases', () => {
    expect(API_CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(API_CASES)('%s', (_name, bad, message) => {
    const before = memory();
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    stillUsable();
  });

  it('NaN and Infinity: checkNumerics names the first op that produces one, forward and backward', () => {
    checkNumerics(true);
    try {
      expect(() => tidy(() => world.w.log().sum())).toThrow("checkNumerics: op 'log' produced NaN at index 1 of its output (forward)");
      expect(() => tidy(() => world.w.sub(tensor([0.5, 0, 0])).abs().sqrt().sum().backward()))
        .toThrow("checkNumerics: op 'sqrt' produced Infinity at index 0 of its gradient for input 0 (backward)");
      stillUsable();
    } finally {
      checkNumerics(false);
    }
    // off (the default), NaN flows through as in PyTorch
    expect(tidy(() => Number.isNaN(world.w.log().sum().item()))).toBe(true);
  });

  it('over the memory limit: a clear error, then the backend keeps working', async () => {
    const small = await createWasmBackend({ build: 'simd', maxMemoryMB: 16 });
    setBackend(small);
    try {
      const x = tensor([1, 2, 3]);
      expect(() => tensor(new Float32Array(8 << 20))).toThrow(/wasm backend: out of memory allocating 33554432 bytes: .*over the limit of 16.0 MB/);
      expect(tidy(() => Array.from(x.mul(2).data()))).toEqual([2, 4, 6]);
      x.dispose();
      expect(memory().bytes).toBe(0);
    } finally {
      await init({ build: 'simd' });
    }
    stillUsable();
  });

  it('a trap inside a kernel names the kernel, and init() gives a fresh backend', async () => {
    const be = await createWasmBackend({ build: 'simd' });
    const buf = be.alloc('float32', 4);
    // Bypass the validated kernel layer to make the kernel write far outside linear memory.
    expect(() => be.fill(buf, 1, 1 << 29, 16)).toThrow(/^wasm kernel 'fill' trapped: memory access out of bounds/);
    expect(be.broken).toBe(true);
    setBackend(be);
    const info = await init({ build: 'simd' });
    expect(info.build).toBe('simd');
    expectClose(tidy(() => tensor([1, 2]).mul(3).data()), [3, 6], 0, 0, 'after re-init');
    stillUsable();
  });
});

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const run = promisify(execFile);
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [CLI, ...args]);
    return { code: 0, stderr: '' };
  } catch (e) {
    return e as { code: number; stderr: string };
  }
}

describe('bad input through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-'));
  writeFileSync(join(dir, 'bad.csv'), 'a,b,y\n1,2,0\n3,x,1\n');
  writeFileSync(join(dir, 'not-a-model.safetensors'), 'hello');
  it.each([
    [['train', '--lr', 'fast'], "error: option '--lr <rate>' argument 'fast' is invalid. --lr must be a number > 0."],
    [['train', '--batch-size', '-3'], "error: option '--batch-size <n>' argument '-3' is invalid"],
    [['train', '--schedule', 'warp'], 'Allowed choices are none, step, cosine, exponential, linear, onecycle.'],
    [['train', '--learning-rate', '0.1'], "error: unknown option '--learning-rate'"],
    [['train', '--data', join(dir, 'missing.csv'), '--target', 'y'], `wasmgrad: --data: cannot read ${join(dir, 'missing.csv')}`],
    [['train', '--data', join(dir, 'bad.csv'), '--target', 'y'], "wasmgrad: CSV line 3, column 'b': 'x' is not a number"],
    [['train', '--data', join(dir, 'bad.csv'), '--target', 'label'], "wasmgrad: CSV: target column 'label' not found; the columns are: a, b, y"],
    [['predict', '--model', join(dir, 'not-a-model.safetensors')], 'wasmgrad: safetensors: truncated: 5 bytes, but the header length alone takes 8'],
    [['explain', '--lr', '0'], "argument '0' is invalid. --lr must be a number > 0."],
    [['graph', '--activation', 'swish'], 'Allowed choices are relu, sigmoid, tanh, gelu.'],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
