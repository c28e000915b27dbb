// CRC-32 against published check values and against Node's zlib (an independent implementation).
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Update } from '../../src/io/crc32.js';
import { mulberry32 } from '../helpers/random.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it.each([
    ['', 0],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926], // the standard check value of CRC-32/ISO-HDLC
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('of %j is the published value', (text, expected) => {
    expect(crc32(ascii(text))).toBe(expected);
  });

  it('agrees with zlib on random data, whole and in pieces', () => {
    const rand = mulberry32(11);
    for (const n of [1, 7, 255, 256, 1000, 65537]) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
      const cut = Math.floor(rand() * n);
      expect(crc32Update(crc32Update(0, bytes.subarray(0, cut)), bytes.subarray(cut))).toBe(zlibCrc32(bytes));
    }
  });
});
