// safetensors: round trips, the layout other tools read, and a clear error for every kind of corruption.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSafetensors, Generator, load, nn, save, tensor, tidy, toSafetensors } from '../../src/index.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { rawSafetensors as file } from '../helpers/safetensors.js';

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('safetensors format', () => {
  it('round-trips tensors and metadata; the data starts 8-byte aligned', () => {
    expectNoLeaks(() => tidy(() => {
      const bytes = toSafetensors({ a: tensor([[1, 2, 3], [4, 5, 6]]), b: tensor([7, -8], { dtype: 'int32' }) }, { note: 'hi' });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + n) % 8).toBe(0);
      const back = fromSafetensors(bytes);
      expect(back.metadata).toEqual({ note: 'hi' });
      expect(back.tensors.a).toMatchObject({ dtype: 'F32', shape: [2, 3] });
      expect(Array.from(back.tensors.a!.data as ArrayLike<number>)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(back.tensors.b).toMatchObject({ dtype: 'I32', shape: [2] });
      expect(Array.from(back.tensors.b!.data as ArrayLike<number>)).toEqual([7, -8]);
    }));
  });

  it('is read the same way by an independent reader (Python standard library)', () => {
    expectNoLeaks(() => tidy(() => {
      const dir = mkdtempSync(join(tmpdir(), 'st-'));
      const path = join(dir, 'm.safetensors');
      writeFileSync(path, toSafetensors({ '0.weight': tensor([[0.5, -1.25], [3, 4]]), '0.bias': tensor([1e-3, 2]) }, { format: 'pt' }));
      const script = [
        'import json, struct, sys, array, zlib',
        'b = open(sys.argv[1], "rb").read()',
        'n = struct.unpack("<Q", b[:8])[0]',
        'h = json.loads(b[8:8 + n])',
        'out = {}',
        '# the checksum: zlib\'s CRC-32 of the file with its 8 digits (first in the header) read as zeros',
        'at = 8 + len(\'{"__metadata__":{"wasmgrad_crc32":"\')',
        'out["crc ok"] = b[at:at + 8].decode() == h["__metadata__"]["wasmgrad_crc32"] == "%08x" % zlib.crc32(b[:at] + b"00000000" + b[at + 8:])',
        'for k, v in h.items():',
        '    if k == "__metadata__": out[k] = v; continue',
        '    s, e = v["data_offsets"]',
        '    a = array.array("f"); a.frombytes(b[8 + n + s: 8 + n + e])',
        '    out[k] = [v["dtype"], v["shape"], list(a)]',
        'print(json.dumps(out))',
      ].join('\n');
      const parsed = JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }));
      expect(parsed).toEqual({
        'crc ok': true,
        __metadata__: { format: 'pt', wasmgrad_crc32: expect.stringMatching(/^[0-9a-f]{8}$/) },
        '0.weight': ['F32', [2, 2], [0.5, -1.25, 3, 4]],
        '0.bias': ['F32', [2], [Math.fround(1e-3), 2]],
      });
    }));
  });

  it('decodes F16 and BF16 (common in Hugging Face files) to float32', () => {
    const data = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x3f80, 0xc040]).buffer);
    const back = fromSafetensors(file({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      bf: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
    }, data));
    expect(Array.from(back.tensors.h!.data as ArrayLike<number>)).toEqual([1, -2, Math.fround(0.333251953125)]);
    expect(Array.from(back.tensors.bf!.data as ArrayLike<number>)).toEqual([1, -3]);
  });

  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  it.each([
    ['truncated file', new Uint8Array(5), 'safetensors: truncated: 5 bytes, but the header length alone takes 8'],
    ['header length beyond the file', (() => { const b = file(ok, f32([1, 2])); new DataView(b.buffer).setBigUint64(0, 9999n, true); return b; })(),
      'safetensors: header length 9999 runs past the end of the file'],
    ['header over the size limit', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true); b[8] = 0x7b; return b; })(),
      'safetensors: header length 1099511627776 exceeds the limit of 104857600 bytes'],
    ['invalid JSON', file(null, f32([1, 2]), '{"w": {'), 'safetensors: the header is not valid JSON'],
    ['header not an object', file([1, 2]), 'safetensors: the header must be a JSON object'],
    ['unknown dtype', file({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, f32([1, 2])), "safetensors: tensor 'w': dtype must be one of F32, F64, I32, F16, BF16, I64, U8, got the string 'Q4'"],
    ['bad shape', file({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32([1, 2])), "safetensors: tensor 'w': shape must be a list of non-negative integers"],
    ['offsets out of range', file({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32([1, 2])),
      "safetensors: tensor 'w': data_offsets [4, 12] run past the data (8 bytes)"],
    ['offsets reversed', file({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, f32([1, 2])), "safetensors: tensor 'w': data_offsets must be [begin, end]"],
    ['overlapping tensors', file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32([1, 2])),
      "safetensors: tensors 'a' and 'b' overlap"],
    ['shape does not match the data size', file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32([1, 2])),
      "safetensors: tensor 'w': shape [3] of F32 needs 12 bytes, data_offsets give 8"],
    ['bad metadata', file({ __metadata__: { n: 1 }, ...ok }, f32([1, 2])), 'safetensors: __metadata__ must map strings to strings'],
  ])('rejects %s', (_what, bytes, message) => {
    expect(() => fromSafetensors(bytes)).toThrow(message);
  });
});

describe.each(BACKENDS)('save and load a model on %s', (name) => {
  it('saves by namedParameters() names and loads back; a bad file leaves the model unchanged', async () => {
    await useBackend(name);
    const dir = mkdtempSync(join(tmpdir(), 'wg-'));
    const path = join(dir, 'model.safetensors');
    const make = (seed: number) => new nn.Sequential(new nn.Linear(3, 4, { generator: new Generator(seed) }), new nn.ReLU(), new nn.Linear(4, 2, { generator: new Generator(seed + 1) }));
    const a = make(1);
    const b = make(5);
    await save(a, path);
    const header = JSON.parse(new TextDecoder().decode(readFileSync(path).subarray(8, 8 + Number(readFileSync(path).readBigUInt64LE(0)))));
    expect(Object.keys(header).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight', '__metadata__']);
    const meta = await load(b, path);
    expect(meta.format).toBe('pt');
    b.parameters().forEach((p, i) => expect(Array.from(p.data())).toEqual(Array.from(a.parameters()[i]!.data())));
    const c = make(9);
    const before = c.parameters().map((p) => Array.from(p.data()));
    const wrong = new nn.Sequential(new nn.Linear(3, 5));
    await save(wrong, path);
    await expect(load(c, path)).rejects.toThrow('loadStateDict: missing: 2.weight, 2.bias | wrong shape: 0.weight: expected [4,3], got [5,3]; 0.bias: expected [4], got [5]');
    writeFileSync(path, readFileSync(path).subarray(0, 30));
    await expect(load(c, path)).rejects.toThrow('safetensors: header length');
    c.parameters().forEach((p, i) => expect(Array.from(p.data())).toEqual(before[i]));
    for (const m of [a, b, c, wrong]) m.dispose();
  });
});
