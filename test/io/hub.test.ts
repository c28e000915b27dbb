// Hugging Face-style safetensors checkpoints: F16 / BF16 / F32 / F64 values written by hand, a checkpoint sharded
// over two files by model.safetensors.index.json, read from a directory and over HTTP (a local server), and loaded
// into a module by name with PyTorch's strict=False.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, init, loadPretrained, loadSafetensors, nn, toSafetensors } from '../../src/index.js';
import { expectNoLeaksAsync } from '../helpers/api.js';
import { rawSafetensors } from '../helpers/safetensors.js';
import { serve } from '../helpers/static-server.js';

/** binary16 bit patterns and their values. */
const F16: [number, number][] = [
  [0x3e00, 1.5], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14],
  [0x3555, 0.333251953125], [0x8000, -0], [0x7c00, Infinity], [0xfc00, -Infinity], [0x7e00, NaN],
];
/** bfloat16 bit patterns and their values. */
const BF16: [number, number][] = [
  [0x3fc0, 1.5], [0xc000, -2], [0x7f7f, (2 - 2 ** -7) * 2 ** 127], [0x0001, 2 ** -133], [0x3eab, 0.333984375],
  [0x8000, -0], [0x7f80, Infinity], [0xff80, -Infinity], [0x7fc0, NaN],
];

const u16 = (pairs: [number, number][]) => new Uint8Array(new Uint16Array(pairs.map(([bits]) => bits)).buffer);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};
/** Every value equal, -0 and NaN included (Object.is). */
const expectSame = (actual: ArrayLike<number>, expected: number[]) =>
  expect(Array.from(actual).map((v, i) => Object.is(v, expected[i]) || `${i}: ${v} ≠ ${expected[i]}`)).toEqual(expected.map(() => true));

const tmp = () => mkdtempSync(join(tmpdir(), 'wg-hub-'));
const mlp = (seed: number) => new nn.Sequential(
  new nn.Linear(3, 4, { generator: new Generator(seed) }), new nn.ReLU(), new nn.Linear(4, 2, { generator: new Generator(seed) }),
);
const values = (m: nn.Module) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data() as Float32Array)]));

/** A directory with a two-shard checkpoint of mlp(1): model.safetensors.index.json and its shards. */
function shardedCheckpoint(): string {
  const dir = tmp();
  const source = mlp(1);
  const s = source.stateDict();
  writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), toSafetensors({ '0.weight': s['0.weight']!, '0.bias': s['0.bias']! }, { format: 'pt' }));
  writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), toSafetensors({ '2.weight': s['2.weight']!, '2.bias': s['2.bias']! }, { format: 'pt' }));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({
    metadata: { total_size: 4 * (12 + 4 + 8 + 2) },
    weight_map: {
      '0.bias': 'model-00001-of-00002.safetensors', '0.weight': 'model-00001-of-00002.safetensors',
      '2.bias': 'model-00002-of-00002.safetensors', '2.weight': 'model-00002-of-00002.safetensors',
    },
  }));
  source.dispose();
  return dir;
}

beforeAll(async () => {
  await init({ build: 'simd' });
});

describe('loadSafetensors: dtypes', () => {
  it('reads F16 and BF16 written by hand (normal, largest, subnormal, -0, ±Infinity, NaN) as float32, F64 as float64', async () => {
    const path = join(tmp(), 'model.safetensors');
    const f64 = new Uint8Array(new Float64Array([0.1, -1e300]).buffer);
    const f32 = new Uint8Array(new Float32Array([0.1, -3]).buffer);
    writeFileSync(path, rawSafetensors({
      __metadata__: { format: 'pt' },
      half: { dtype: 'F16', shape: [F16.length], data_offsets: [0, 22] },
      brain: { dtype: 'BF16', shape: [BF16.length], data_offsets: [22, 40] },
      wide: { dtype: 'F64', shape: [2], data_offsets: [40, 56] },
      single: { dtype: 'F32', shape: [1, 2], data_offsets: [56, 64] },
    }, concat(u16(F16), u16(BF16), f64, f32)));
    const file = await loadSafetensors(path);
    expect(file.files).toEqual([path]);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.half!.data).toBeInstanceOf(Float32Array);
    expectSame(file.tensors.half!.data as Float32Array, F16.map(([, v]) => v));
    expect(file.tensors.brain!.data).toBeInstanceOf(Float32Array);
    expectSame(file.tensors.brain!.data as Float32Array, BF16.map(([, v]) => v));
    expect(file.tensors.wide!.data).toBeInstanceOf(Float64Array);
    expectSame(file.tensors.wide!.data as Float64Array, [0.1, -1e300]);
    expect(file.tensors.single).toMatchObject({ dtype: 'F32', shape: [1, 2] });
    expectSame(file.tensors.single!.data as Float32Array, [Math.fround(0.1), -3]);
  });

  it('loads F16, BF16 and F64 values into a float32 module', async () => {
    const path = join(tmp(), 'linear.safetensors');
    const weight = F16.slice(0, 8); // 1.5, -2, 65504, the subnormals, 2^-14, 1/3, -0
    writeFileSync(path, rawSafetensors({
      weight: { dtype: 'F16', shape: [2, 4], data_offsets: [0, 16] },
      bias: { dtype: 'BF16', shape: [2], data_offsets: [16, 20] },
    }, concat(u16(weight), u16([BF16[0]!, BF16[4]!]))));
    const layer = new nn.Linear(4, 2, { generator: new Generator(0) });
    try {
      await expectNoLeaksAsync(async () => {
        expect(await loadPretrained(layer, path)).toEqual({ missing: [], unexpected: [], files: [path] });
      });
      expectSame(layer.weight.data() as Float32Array, weight.map(([, v]) => v));
      expectSame(layer.bias!.data() as Float32Array, [1.5, 0.333984375]);

      const wide = join(tmp(), 'wide.safetensors');
      const w = [0.1, 0.2, 0.3, -0.7, 1e-3, 1 / 3, 2, 1e20];
      writeFileSync(wide, rawSafetensors({
        weight: { dtype: 'F64', shape: [2, 4], data_offsets: [0, 64] }, bias: { dtype: 'F64', shape: [2], data_offsets: [64, 80] },
      }, concat(new Uint8Array(new Float64Array(w).buffer), new Uint8Array(new Float64Array([0.1, -0.1]).buffer))));
      await loadPretrained(layer, wide);
      expectSame(layer.weight.data() as Float32Array, w.map(Math.fround));
      expectSame(layer.bias!.data() as Float32Array, [Math.fround(0.1), Math.fround(-0.1)]);
    } finally {
      layer.dispose();
    }
  });
});

describe('loadSafetensors: sharded checkpoints', () => {
  it('reads every shard the index names, from the index or from its directory', async () => {
    const dir = shardedCheckpoint();
    const index = join(dir, 'model.safetensors.index.json');
    for (const source of [index, dir]) {
      const file = await loadSafetensors(source);
      expect(file.files).toEqual([index, join(dir, 'model-00001-of-00002.safetensors'), join(dir, 'model-00002-of-00002.safetensors')]);
      expect(Object.keys(file.tensors).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
      expect(file.metadata).toEqual({ format: 'pt' });
    }
    const source = mlp(1), target = mlp(2);
    try {
      expect(values(target)).not.toEqual(values(source));
      await expectNoLeaksAsync(async () => {
        expect(await loadPretrained(target, dir)).toMatchObject({ missing: [], unexpected: [] });
      });
      expect(values(target)).toEqual(values(source));
    } finally {
      source.dispose();
      target.dispose();
    }
  });

  it('a directory with a single model.safetensors reads that file', async () => {
    const dir = tmp();
    const source = mlp(3), target = mlp(4);
    try {
      writeFileSync(join(dir, 'model.safetensors'), toSafetensors(source.stateDict()));
      expect((await loadSafetensors(dir)).files).toEqual([join(dir, 'model.safetensors')]);
      await loadPretrained(target, dir);
      expect(values(target)).toEqual(values(source));
    } finally {
      source.dispose();
      target.dispose();
    }
  });
});

describe('loadSafetensors: over HTTP', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    server = await serve(shardedCheckpoint());
  });
  afterAll(async () => {
    await server.close();
  });

  it('fetches the index and then each shard beside it', async () => {
    const source = mlp(1), target = mlp(2);
    try {
      const report = await loadPretrained(target, `${server.url}model.safetensors.index.json`);
      expect(report).toEqual({
        missing: [], unexpected: [],
        files: ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].map((f) => server.url + f),
      });
      expect(server.requests).toEqual(['/model.safetensors.index.json', '/model-00001-of-00002.safetensors', '/model-00002-of-00002.safetensors']);
      expect(values(target)).toEqual(values(source));
      const shard = await loadSafetensors(`${server.url}model-00002-of-00002.safetensors`);
      expect(Object.keys(shard.tensors)).toEqual(['2.weight', '2.bias']);
    } finally {
      source.dispose();
      target.dispose();
    }
  });
});

describe('loadPretrained with strict: false (PyTorch\'s strict=False)', () => {
  it('loads the names that match and reports the missing and unexpected ones; the rest stays as it was', async () => {
    const path = join(tmp(), 'partial.safetensors');
    const source = mlp(5), target = mlp(6), head = new nn.Linear(4, 3, { generator: new Generator(9) });
    try {
      const s = source.stateDict();
      writeFileSync(path, toSafetensors({ '0.weight': s['0.weight']!, '0.bias': s['0.bias']!, 'lm_head.weight': head.weight }));
      const before = values(target);
      await expectNoLeaksAsync(async () => {
        expect(await loadPretrained(target, path, { strict: false })).toEqual({ missing: ['2.weight', '2.bias'], unexpected: ['lm_head.weight'], files: [path] });
      });
      const after = values(target);
      expect({ w: after['0.weight'], b: after['0.bias'] }).toEqual({ w: values(source)['0.weight'], b: values(source)['0.bias'] });
      expect({ w: after['2.weight'], b: after['2.bias'] }).toEqual({ w: before['2.weight'], b: before['2.bias'] });
    } finally {
      for (const m of [source, target, head]) m.dispose();
    }
  });
});

describe('loadPretrained with keyMapping (checkpoint names renamed onto the module\'s)', () => {
  /** mlp(5)'s weights under Hugging Face-style names, and a name no mapping reaches. */
  function hfCheckpoint(source: nn.Sequential): string {
    const path = join(tmp(), 'hf.safetensors');
    const s = source.stateDict();
    writeFileSync(path, toSafetensors({
      'model.layers.0.weight': s['0.weight']!, 'model.layers.0.bias': s['0.bias']!,
      'model.layers.2.weight': s['2.weight']!, 'lm_head.bias': s['2.bias']!,
    }));
    return path;
  }

  it.each([
    ['a record (exact names; the others keep theirs)', { 'model.layers.0.weight': '0.weight', 'model.layers.0.bias': '0.bias', 'model.layers.2.weight': '2.weight' }],
    ['a function', (key: string) => key.replace(/^model\.layers\./, '')],
  ] as const)('%s: loads the renamed values; missing and unexpected are reported after the mapping', async (_name, keyMapping) => {
    const source = mlp(5), target = mlp(6);
    try {
      const path = hfCheckpoint(source);
      const before = values(target);
      await expectNoLeaksAsync(async () => {
        expect(await loadPretrained(target, path, { strict: false, keyMapping }))
          .toEqual({ missing: ['2.bias'], unexpected: ['lm_head.bias'], files: [path] });
      });
      const after = values(target), want = values(source);
      expect([after['0.weight'], after['0.bias'], after['2.weight']]).toEqual([want['0.weight'], want['0.bias'], want['2.weight']]);
      expect(after['2.bias']).toEqual(before['2.bias']);
    } finally {
      source.dispose();
      target.dispose();
    }
  });

  it('with strict (the default), a mapping that covers every name loads them all', async () => {
    const source = mlp(5), target = mlp(6);
    try {
      const path = hfCheckpoint(source);
      const keyMapping = (key: string) => (key === 'lm_head.bias' ? '2.bias' : key.replace(/^model\.layers\./, ''));
      expect(await loadPretrained(target, path, { keyMapping })).toEqual({ missing: [], unexpected: [], files: [path] });
      expect(values(target)).toEqual(values(source));
    } finally {
      source.dispose();
      target.dispose();
    }
  });
});
