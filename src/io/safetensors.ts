// The safetensors format (Hugging Face): 8 bytes little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the raw little-endian
// data, which the tensors must cover exactly: no gaps between them, no bytes after the last. Files written here
// load in PyTorch (safetensors.torch.load_file) and Hugging Face tooling.
//
// Files written here also carry a checksum: __metadata__.wasmgrad_crc32, first in the header, is the CRC-32 of
// the whole file with its own 8 hex digits written as "00000000". Reading verifies it when it is there (files
// from other tools have none), so a flipped bit or a truncated copy is reported instead of loaded.
//
// Reading validates everything before returning anything, so a truncated or hostile file is a clear error and
// never a huge allocation or a read out of bounds.
import { Tensor } from '../autograd/tensor.js';
import { fmt, sizeOf } from '../kernels/shape.js';
import { checkOptions, describe, integer, isPlainObject, string } from '../options.js';
import { crc32Update } from './crc32.js';

/** The safetensors dtypes wasmgrad reads (and, for F32, F64, I32, writes). */
export type Dtype = 'F32' | 'F64' | 'I32' | 'F16' | 'BF16' | 'I64' | 'U8';
const SIZE: Record<Dtype, number> = { F32: 4, F64: 8, I32: 4, F16: 2, BF16: 2, I64: 8, U8: 1 };

/** A tensor read from a file: its values decoded to a JS typed array (F16/BF16 widen to Float32Array). */
export interface LoadedTensor {
  /** The dtype as the file stores it. */
  dtype: Dtype;
  /** The size of each dim. */
  shape: number[];
  /** Values in row-major order (F16 and BF16 widened to Float32Array). */
  data: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;
}

/** A safetensors file read by fromSafetensors: its tensors and metadata. */
export interface Safetensors {
  /** The tensors by name (an object without prototype: any name, '__proto__' included, is just a name). */
  tensors: Record<string, LoadedTensor>;
  /** The file's __metadata__, without the checksum (an object without prototype too). */
  metadata: Record<string, string>;
  /** Whether the file carried a wasmgrad checksum (which then matched: a mismatch is an error). */
  verified: boolean;
}

/** Headers larger than this are refused unless the caller raises it (the format's own reader uses 100 MB). */
export const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

const WRITE_DTYPE = { float32: 'F32', float64: 'F64', int32: 'I32' } as const;

const CHECKSUM_KEY = 'wasmgrad_crc32';
/** How every header written here starts: the checksum's 8 hex digits follow at CHECKSUM_AT. */
const CHECKSUM_PREFIX = new TextEncoder().encode(`{"__metadata__":{"${CHECKSUM_KEY}":"`);
const CHECKSUM_AT = 8 + CHECKSUM_PREFIX.length;
const PLACEHOLDER = new TextEncoder().encode('00000000');

/** Serialises named tensors (e.g. model.stateDict()) and string metadata to safetensors bytes, with a checksum. */
export function toSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  if (!isPlainObject(tensors)) throw new Error(`toSafetensors: expected an object of named tensors, got ${describe(tensors)}`);
  if (!isPlainObject(metadata)) throw new Error(`toSafetensors: metadata must map strings to strings, got ${describe(metadata)}`);
  const meta = Object.entries(metadata);
  for (const [k, v] of meta) {
    if (k === CHECKSUM_KEY) throw new Error(`toSafetensors: the metadata key '${CHECKSUM_KEY}' is reserved for the file's checksum`);
    if (typeof v !== 'string') throw new Error(`toSafetensors: metadata '${k}' must be a string, got ${describe(v)}`);
  }
  // The header is written piece by piece, not as one object: the checksum must come first (an object would list
  // names like '0' before it), and a name like '__proto__' must stay an ordinary name.
  const entry = (k: string, v: unknown) => `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  const parts = [`"__metadata__":{${[entry(CHECKSUM_KEY, '00000000'), ...meta.map(([k, v]) => entry(k, v))].join(',')}}`];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error("toSafetensors: '__metadata__' cannot be a tensor name");
    if (!(t instanceof Tensor)) throw new Error(`toSafetensors: '${name}' must be a Tensor, got ${describe(t)}`);
    if (t.isDisposed) throw new Error(`toSafetensors: tensor '${name}' was disposed`);
    const data = t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    parts.push(entry(name, { dtype: WRITE_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] }));
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerLen = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  out.set(new TextEncoder().encode(crc32Update(0, out).toString(16).padStart(8, '0')), CHECKSUM_AT);
  return out;
}

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

/**
 * Parses and validates safetensors bytes. `path`, when the bytes were read from a file, names it in the message
 * for bytes that are not a safetensors file at all.
 */
export function fromSafetensors(bytes: Uint8Array, options: { maxHeaderBytes?: number; path?: string } = {}): Safetensors {
  checkOptions('fromSafetensors', options, { maxHeaderBytes: integer({ ge: 0 }), path: string });
  if (!(bytes instanceof Uint8Array)) fail(`expected the bytes of a file (a Uint8Array), got ${describe(bytes)}`);
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, but the header length alone takes 8`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  // An impossible header length, and no '{' where the format requires the header to begin: another kind of file
  // (text, a PyTorch pickle, …), which would otherwise be reported as an absurd header length.
  if ((n > BigInt(maxHeader) || 8n + n > BigInt(bytes.length)) && bytes.length > 8 && bytes[8] !== 0x7b) {
    fail(`${options.path ? `${options.path} is not` : 'not'} a safetensors file (it does not start with a header length and a JSON header)`);
  }
  if (n > BigInt(maxHeader)) fail(`header length ${n} exceeds the limit of ${maxHeader} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  // Checked before the header is parsed, so damage anywhere is reported as such, not as whatever it broke.
  const verified = startsWith(bytes, CHECKSUM_PREFIX, 8) && CHECKSUM_AT + 8 <= dataStart;
  if (verified && !checksumMatches(bytes)) fail(mismatch(bytes, dataStart, dataLen));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    fail(`the header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) fail('the header must be a JSON object');
  const { __metadata__: meta, ...entries } = header;
  const metadata = checkMetadata(meta);
  if (Object.hasOwn(metadata, CHECKSUM_KEY)) {
    if (!verified) fail(`the file is corrupt (checksum mismatch): '${CHECKSUM_KEY}' is not first in the header, where it is written`);
    delete metadata[CHECKSUM_KEY];
  }

  const specs = Object.entries(entries).map(([name, spec]) => {
    if (!isPlainObject(spec)) fail(`tensor '${name}': entry must be an object`);
    const s = spec as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof s.dtype !== 'string' || !Object.hasOwn(SIZE, s.dtype)) fail(`tensor '${name}': dtype must be one of ${Object.keys(SIZE).join(', ')}, got ${describe(s.dtype)}`);
    const dtype = s.dtype as Dtype;
    if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}': shape must be a list of non-negative integers, got ${describe(s.shape)}`);
    }
    const shape = s.shape as number[];
    const off = s.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1]) {
      fail(`tensor '${name}': data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${describe(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) fail(`tensor '${name}': data_offsets [${begin}, ${end}] run past the data (${dataLen} bytes)`);
    const expected = sizeOf(shape) * SIZE[dtype];
    if (end - begin !== expected) {
      fail(`tensor '${name}': shape ${fmt(shape)} of ${dtype} needs ${expected} bytes, data_offsets give ${end - begin}`);
    }
    return { name, dtype, shape, begin, end };
  });
  checkCoverage(specs, dataLen);

  const tensors: Record<string, LoadedTensor> = Object.create(null);
  for (const s of specs) {
    tensors[s.name] = { dtype: s.dtype, shape: s.shape, data: decode(s.dtype, bytes.subarray(dataStart + s.begin, dataStart + s.end)) };
  }
  return { tensors, metadata, verified };
}

/** The tensors must tile the data exactly, as the format requires: no overlaps, no gaps, nothing after the last. */
function checkCoverage(specs: { name: string; begin: number; end: number }[], dataLen: number): void {
  const sorted = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last = '';
  for (const s of sorted) {
    if (s.begin < covered) fail(`tensors '${last}' and '${s.name}' overlap`);
    if (s.begin > covered) fail(`bytes ${covered} to ${s.begin} of the data, before tensor '${s.name}', belong to no tensor`);
    covered = s.end;
    last = s.name;
  }
  if (covered < dataLen) fail(`${dataLen - covered} bytes after the last tensor belong to no tensor`);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  return bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);
}

/** Whether the CRC-32 of the file, its stored digits read as "00000000", equals those digits. */
function checksumMatches(bytes: Uint8Array): boolean {
  const stored = new TextDecoder().decode(bytes.subarray(CHECKSUM_AT, CHECKSUM_AT + 8));
  if (!/^[0-9a-f]{8}$/.test(stored)) return false;
  let crc = crc32Update(0, bytes.subarray(0, CHECKSUM_AT));
  crc = crc32Update(crc, PLACEHOLDER);
  crc = crc32Update(crc, bytes.subarray(CHECKSUM_AT + 8));
  return crc === parseInt(stored, 16);
}

/** Why a checksum does not match: a file cut short says so (its header still describes all the data). */
function mismatch(bytes: Uint8Array, dataStart: number, dataLen: number): string {
  let needed = 0;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, dataStart))) as Record<string, { data_offsets?: unknown }>;
    for (const spec of Object.values(header)) {
      const end = Array.isArray(spec?.data_offsets) ? spec.data_offsets[1] : undefined;
      if (typeof end === 'number') needed = Math.max(needed, end);
    }
  } catch {
    // a damaged header: nothing more to say than the mismatch
  }
  return needed > dataLen
    ? `the file is truncated: its header describes ${needed} bytes of tensor data, the file holds ${dataLen}`
    : 'the file is corrupt (checksum mismatch)';
}

function checkMetadata(meta: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (meta === undefined) return out;
  if (!isPlainObject(meta) || !Object.values(meta).every((v) => typeof v === 'string')) fail('__metadata__ must map strings to strings');
  return Object.assign(out, meta);
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
