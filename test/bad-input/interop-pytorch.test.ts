// Bad input to the PyTorch and Hugging Face bridge: damaged or incomplete checkpoints for loadSafetensors and
// loadPretrained (a sharded index naming a missing file, unknown dtypes, headers too large or cut short, names
// that do not match), and models or options the PyTorch export cannot take. Each case fails with our message;
// afterwards the module holds exactly the values it had, memory is where it was, and the module still runs.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../../src/cli/export.js';
import { exportPyTorch } from '../../src/interop/pytorch/index.js';
import {
  Generator, init, loadPretrained, loadSafetensors, memory, nn, noGrad, savePyTorch, tensor, tidy, toPyTorch, toSafetensors, type Tensor,
} from '../../src/index.js';
import type { DataInfo } from '../../src/train/trainer.js';
import { rawSafetensors } from '../helpers/safetensors.js';
import { serve } from '../helpers/static-server.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'wg-bad-hub-'));
const mlp = (seed: number) => new nn.Sequential(
  new nn.Linear(3, 4, { generator: new Generator(seed) }), new nn.ReLU(), new nn.Linear(4, 2, { generator: new Generator(seed) }),
);
const f32 = (n: number) => new Uint8Array(new Float32Array(n).fill(0.5).buffer);

let model: nn.Sequential;
let dir: string;
let server: Awaited<ReturnType<typeof serve>>;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  await init({ build: 'simd' });
  model = mlp(1);
  dir = tmp();
  const other = mlp(2);
  const s = other.stateDict();
  // A two-shard checkpoint whose second shard is gone.
  writeFileSync(file('model-00001-of-00002.safetensors'), toSafetensors({ '0.weight': s['0.weight']!, '0.bias': s['0.bias']! }));
  const weightMap = { '0.weight': 'model-00001-of-00002.safetensors', '0.bias': 'model-00001-of-00002.safetensors',
    '2.weight': 'model-00002-of-00002.safetensors', '2.bias': 'model-00002-of-00002.safetensors' };
  writeFileSync(file('missing-shard.index.json'), JSON.stringify({ weight_map: weightMap }));
  writeFileSync(file('not-json.index.json'), '{"weight_map": ');
  writeFileSync(file('no-map.index.json'), JSON.stringify({ metadata: { total_size: 80 } }));
  writeFileSync(file('outside.index.json'), JSON.stringify({ weight_map: { '0.weight': '../model.safetensors' } }));
  writeFileSync(file('wrong-shard.index.json'), JSON.stringify({ weight_map: { '2.weight': 'model-00001-of-00002.safetensors' } }));
  writeFileSync(file('first-only.safetensors'), toSafetensors({ '0.weight': s['0.weight']!, '0.bias': s['0.bias']! }));
  // '0.weight' transposed, '0.bias' right: with strict: false, the bias must not load either.
  writeFileSync(file('transposed.safetensors'), rawSafetensors({
    '0.weight': { dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] }, '0.bias': { dtype: 'F32', shape: [4], data_offsets: [48, 64] },
  }, f32(16)));
  writeFileSync(file('f8.safetensors'), rawSafetensors({ '0.bias': { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)));
  writeFileSync(file('cut-data.safetensors'), rawSafetensors({ '0.bias': { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)));
  const header = rawSafetensors({ '0.bias': { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(4));
  writeFileSync(file('cut-header.safetensors'), header.subarray(0, 30));
  const huge = header.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  writeFileSync(file('huge-header.safetensors'), huge);
  writeFileSync(file('text.safetensors'), 'hello, not a checkpoint');
  other.dispose();
  server = await serve(dir);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  model.dispose();
});

type Case = [name: string, call: () => Promise<unknown>, message: RegExp];

const cases = (): Case[] => [
  ['a sharded index names a file that is not there', () => loadPretrained(model, file('missing-shard.index.json')),
    /^loadSafetensors: cannot read shard 'model-00002-of-00002\.safetensors' named by the index .*missing-shard\.index\.json \(at .*model-00002-of-00002\.safetensors\): ENOENT/],
  ['the same over HTTP', () => loadSafetensors(`${server.url}missing-shard.index.json`),
    /^loadSafetensors: cannot fetch shard 'model-00002-of-00002\.safetensors' named by the index http:\/\/127\.0\.0\.1:\d+\/missing-shard\.index\.json \(at http:\/\/127\.0\.0\.1:\d+\/model-00002-of-00002\.safetensors\): HTTP 404/],
  ['an index that is not JSON', () => loadSafetensors(file('not-json.index.json')), /^loadSafetensors: the index .*not-json\.index\.json is not valid JSON: /],
  ['an index without weight_map', () => loadSafetensors(file('no-map.index.json')),
    /^loadSafetensors: the index .*no-map\.index\.json has no "weight_map" object \(tensor name → shard file name\)$/],
  ['an index naming a file outside its directory', () => loadSafetensors(file('outside.index.json')),
    /^loadSafetensors: the index .*outside\.index\.json names '\.\.\/model\.safetensors' as the file of '0\.weight': expected a file name beside the index$/],
  ['an index putting a tensor in a shard that lacks it', () => loadSafetensors(file('wrong-shard.index.json')),
    /^loadSafetensors: the index .*wrong-shard\.index\.json puts '2\.weight' in 'model-00001-of-00002\.safetensors', which has no tensor of that name$/],
  ['a file that is not there', () => loadSafetensors(file('nothing.safetensors')), /^loadSafetensors: cannot read .*nothing\.safetensors: ENOENT/],
  ['a URL that answers 404', () => loadSafetensors(`${server.url}nothing.safetensors`), /^loadSafetensors: cannot fetch http:\/\/127\.0\.0\.1:\d+\/nothing\.safetensors: HTTP 404/],
  ['a directory with neither file', () => loadSafetensors(tmp()),
    /^loadSafetensors: the directory .* has neither model\.safetensors\.index\.json nor model\.safetensors$/],
  ['an unknown dtype', () => loadPretrained(model, file('f8.safetensors'), { strict: false }),
    /^loadSafetensors: .*f8\.safetensors: tensor '0\.bias': dtype must be one of F32, F64, I32, F16, BF16, I64, U8, got the string 'F8_E4M3'$/],
  ['a header larger than the limit', () => loadSafetensors(file('huge-header.safetensors')),
    /^loadSafetensors: .*huge-header\.safetensors: header length 1099511627776 exceeds the limit of 104857600 bytes$/],
  ['a header larger than maxHeaderBytes', () => loadSafetensors(file('cut-data.safetensors'), { maxHeaderBytes: 16 }),
    /^loadSafetensors: .*cut-data\.safetensors: header length \d+ exceeds the limit of 16 bytes$/],
  ['a header cut short', () => loadSafetensors(file('cut-header.safetensors')),
    /^loadSafetensors: .*cut-header\.safetensors: header length \d+ runs past the end of the file \(30 bytes\)$/],
  ['data cut short', () => loadSafetensors(file('cut-data.safetensors')),
    /^loadSafetensors: .*cut-data\.safetensors: tensor '0\.bias': data_offsets \[0, 16\] run past the data \(8 bytes\)$/],
  ['a file that is not safetensors', () => loadSafetensors(file('text.safetensors')),
    /^loadSafetensors: .*text\.safetensors: .*text\.safetensors is not a safetensors file/],
  ['names missing with strict (the default)', () => loadPretrained(model, file('first-only.safetensors')),
    /^loadPretrained: .*first-only\.safetensors: missing: 2\.weight, 2\.bias \(nothing was loaded\) \(\{ strict: false \} loads the names that match and reports the others\)$/],
  ['a wrong shape with strict: false', () => loadPretrained(model, file('transposed.safetensors'), { strict: false }),
    /^loadPretrained: .*transposed\.safetensors: wrong shape: 0\.weight: expected \[4,3\], got \[3,4\] \(nothing was loaded\)$/],
  ['a source that is not a string', () => loadSafetensors(42 as unknown as string), /^loadSafetensors: expected a path or an http\(s\) URL, got 42$/],
  ['an unknown option', () => loadPretrained(model, file('first-only.safetensors'), { prefix: 'model.' } as never), /^loadPretrained: .*prefix/],
  ['keyMapping that is neither a record nor a function', () => loadPretrained(model, file('first-only.safetensors'), { keyMapping: 'model.' as never }),
    /^loadPretrained: keyMapping must be a record from checkpoint names to module names, or a function from one to the other, got the string 'model\.'$/],
  ['keyMapping giving no name', () => loadPretrained(model, file('first-only.safetensors'), { keyMapping: () => undefined as never }),
    /^loadPretrained: keyMapping gave undefined for '0\.weight': expected a module name \(a non-empty string\)$/],
  ['keyMapping renaming two tensors to one name', () => loadPretrained(model, file('first-only.safetensors'), { keyMapping: { '0.bias': '0.weight' } }),
    /^loadPretrained: keyMapping renames both '0\.weight' and '0\.bias' to '0\.weight'$/],
  ['names missing after keyMapping, with strict', () => loadPretrained(model, file('first-only.safetensors'), { keyMapping: (k) => `model.${k}` }),
    /^loadPretrained: .*first-only\.safetensors: missing: 0\.weight, 0\.bias, 2\.weight, 2\.bias \| unexpected: model\.0\.weight, model\.0\.bias/],
];

describe('bad input to loadSafetensors and loadPretrained', () => {
  it.each(cases().map((c) => [c[0], c] as const))('%s', async (_name, [, call, message]) => {
    const before = memory();
    const values = Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.data() as Float32Array)]);
    await expect(call()).rejects.toThrow(message);
    expect(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.data() as Float32Array)])).toEqual(values);
    const after = memory();
    expect({ tensors: after.tensors, bytes: after.bytes }).toEqual({ tensors: before.tensors, bytes: before.bytes });
    expect(tidy(() => noGrad(() => model(tensor([[1, 2, 3]])).shape))).toEqual([1, 2]);
  });
});

describe('bad input to the PyTorch export', () => {
  const info: DataInfo = { kind: 'csv', task: 'classification', inputDim: 3, outputDim: 2, classes: ['a', 'b'] };

  /** A layer of the user's own: PyTorch has no class for it. */
  class Doubler extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.mul(2);
    }
  }
  const KNOWN = 'Sequential, Linear, Conv1d, Conv2d, BatchNorm1d, BatchNorm2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, ' +
    'Flatten, Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softplus, Embedding, LayerNorm, RMSNorm, MultiheadAttention, ' +
    'TransformerEncoderLayer, GPT';
  const escaped = KNOWN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('a layer with no PyTorch equivalent is named by its path, with the layers the exporter knows', async () => {
    const odd = new nn.Sequential(new nn.Linear(3, 4), new nn.Sequential(new nn.ReLU(), new Doubler()), new nn.Linear(4, 2));
    const out = tmp();
    try {
      const description = { mlp: { inputDim: 3, hidden: [4], outputDim: 2, activation: 'relu' as const, dropout: 0 } };
      await expect(exportPyTorch(out, { model: odd, description, info })).rejects.toThrow(
        new RegExp(`^exportPyTorch: layer '1\\.1' \\(Doubler\\) has no PyTorch equivalent; the exporter knows ${escaped}$`));
      expect(() => toPyTorch(odd)).toThrow(new RegExp(`^toPyTorch: layer '1\\.1' \\(Doubler\\) has no PyTorch equivalent; the exporter knows ${escaped}$`));
      await expect(savePyTorch(new Doubler(), out)).rejects.toThrow(/^savePyTorch: the model \(Doubler\) has no PyTorch equivalent; /);
      expect(readdirSync(out)).toEqual([]); // nothing written
    } finally {
      odd.dispose();
    }
  });

  it.each([
    ['not a module', () => toPyTorch({} as never), /^toPyTorch: module must be a wasmgrad Module \(a layer or a model\), got an object$/],
    ['an unknown option', () => toPyTorch(model, { inputShapes: [3] } as never), /^toPyTorch: unknown option 'inputShapes'; did you mean 'inputShape'\?/],
    ['an inputShape that is not a shape', () => toPyTorch(model, { inputShape: [3, 0] }),
      /^toPyTorch: inputShape must be an array of positive integers \(the shape of one sample, without the batch dim\), got \[3, 0\]$/],
    ['an unknown task', () => toPyTorch(model, { task: 'ranking' as never }), /^toPyTorch: task must be 'classification' or 'regression', got the string 'ranking'$/],
    ['metadata that is not strings', () => toPyTorch(model, { metadata: { epochs: 3 } as never }), /^toPyTorch: metadata must be a record of strings, got an object$/],
    ['savePyTorch without a directory', () => savePyTorch(model, '' as never), /^savePyTorch: dir must be a directory path, got the string ''$/],
  ] as const)('%s', async (_name, call, message) => {
    const before = memory();
    await expect(Promise.resolve().then(call as () => unknown)).rejects.toThrow(message);
    const after = memory();
    expect({ tensors: after.tensors, bytes: after.bytes }).toEqual({ tensors: before.tensors, bytes: before.bytes });
  });

  it('export without a target says what to give', async () => {
    await expect(runExport({ model: dir })).rejects.toThrow(/^export: say what to write: --onnx <file.onnx> or --pytorch <dir>$/);
  });

  it('a model path that is not there is named', async () => {
    await expect(runExport({ model: join(dir, 'nothing'), pytorch: tmp() })).rejects.toThrow(/^--model: cannot read .*nothing: ENOENT/);
  });
});
