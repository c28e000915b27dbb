// The safetensors format (Hugging Face): 8 bytes little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw little-endian
// data. Files written here load in PyTorch (safetensors.torch.load_file) and Hugging Face tooling.
//
// Reading validates everything before returning anything, so a truncated or hostile file is a clear error and
// never a huge allocation or a read out of bounds.
import type { Tensor } from '../autograd/tensor.js';
import { fmt, sizeOf } from '../kernels/shape.js';
import { checkOptions, integer } from '../options.js';

type Dtype = 'F32' | 'F64' | 'I32' | 'F16' | 'BF16' | 'I64' | 'U8';
const SIZE: Record<Dtype, number> = { F32: 4, F64: 8, I32: 4, F16: 2, BF16: 2, I64: 8, U8: 1 };

/** A tensor read from a file: its values decoded to a JS typed array (F16/BF16 widen to Float32Array). */
export interface LoadedTensor {
  dtype: Dtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;
}

export interface Safetensors {
  tensors: Record<string, LoadedTensor>;
  metadata: Record<string, string>;
}

/** Headers larger than this are refused unless the caller raises it (the format's own reader uses 100 MB). */
export const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

const WRITE_DTYPE = { float32: 'F32', float64: 'F64', int32: 'I32' } as const;

/** Serialises named tensors (e.g. model.stateDict()) and string metadata to safetensors bytes. */
export function toSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error("toSafetensors: '__metadata__' cannot be a tensor name");
    const data = t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

/** Parses and validates safetensors bytes. */
export function fromSafetensors(bytes: Uint8Array, options: { maxHeaderBytes?: number } = {}): Safetensors {
  checkOptions('fromSafetensors', options, { maxHeaderBytes: integer({ ge: 0 }) });
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, but the header length alone takes 8`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(maxHeader)) fail(`header length ${n} exceeds the limit of ${maxHeader} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`the header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header must be a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const { __metadata__: meta, ...entries } = header as Record<string, unknown>;
  const metadata = checkMetadata(meta);

  const ranges: [number, number, string][] = [];
  const specs = Object.entries(entries).map(([name, spec]) => {
    const s = spec as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof s !== 'object' || s === null) fail(`tensor '${name}': entry must be an object`);
    if (typeof s.dtype !== 'string' || !(s.dtype in SIZE)) fail(`tensor '${name}': unknown dtype '${String(s.dtype)}'`);
    const dtype = s.dtype as Dtype;
    if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}': shape must be a list of non-negative integers, got ${JSON.stringify(s.shape)}`);
    }
    const shape = s.shape as number[];
    const off = s.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(`tensor '${name}': data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) fail(`tensor '${name}': data_offsets [${begin}, ${end}] run past the data (${dataLen} bytes)`);
    const expected = sizeOf(shape) * SIZE[dtype];
    if (end - begin !== expected) {
      fail(`tensor '${name}': shape ${fmt(shape)} of ${dtype} needs ${expected} bytes, data_offsets give ${end - begin}`);
    }
    ranges.push([begin, end, name]);
    return { name, dtype, shape, begin, end };
  });
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) fail(`tensors '${ranges[i - 1]![2]}' and '${ranges[i]![2]}' overlap`);
  }

  const tensors: Record<string, LoadedTensor> = {};
  for (const s of specs) {
    tensors[s.name] = { dtype: s.dtype, shape: s.shape, data: decode(s.dtype, bytes.subarray(dataStart + s.begin, dataStart + s.end)) };
  }
  return { tensors, metadata };
}

function checkMetadata(meta: unknown): Record<string, string> {
  if (meta === undefined) return {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) ||
    !Object.values(meta).every((v) => typeof v === 'string')) {
    fail('__metadata__ must map strings to strings');
  }
  return meta as Record<string, string>;
}

/** Copies the bytes (they may be unaligned) and reads them little-endian. */
function decode(dtype: Dtype, raw: Uint8Array): LoadedTensor['data'] {
  const copy = raw.slice();
  const view = new DataView(copy.buffer);
  const n = copy.length / SIZE[dtype];
  switch (dtype) {
    case 'U8': return copy;
    case 'F32': return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case 'F64': return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
    case 'I32': return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'I64': return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(8 * i, true));
    case 'F16': return Float32Array.from({ length: n }, (_, i) => half(view.getUint16(2 * i, true)));
    case 'BF16': {
      const f = new DataView(new ArrayBuffer(4));
      return Float32Array.from({ length: n }, (_, i) => {
        f.setUint32(0, view.getUint16(2 * i, true) << 16);
        return f.getFloat32(0);
      });
    }
  }
}

/** IEEE 754 binary16 to a number. */
function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
