// CRC-32 (the IEEE 802.3 / zlib / PNG polynomial, reflected 0xEDB88320), table-driven, eight bytes at a time.
// Files written by toSafetensors carry it so that a flipped bit or a torn write is reported, not loaded: it
// detects every error of one or two bits, of three bits in files up to 11 KB, every burst of up to 32 bits, and
// any other damage with probability 1 − 2⁻³².

/**
 * Eight tables of 256 entries (slicing-by-8): entry b of table k is the CRC register after byte b followed by k zero
 * bytes, so eight input bytes fold into the register with eight independent lookups instead of a chain of eight.
 * One byte at a time, checksumming the trainer's checkpoints took 3% of `npm start`.
 */
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (t[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/**
 * Continues a CRC-32 over more bytes: crc32(b) = crc32Update(crc32Update(0, b.subarray(0, k)), b.subarray(k)) for
 * any k, so a file can be checked in pieces without copying it.
 */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = TABLES;
  let c = ~crc;
  let i = 0;
  for (; i + 8 <= bytes.length; i += 8) {
    // The register takes the first four bytes (little-endian, as the reflected CRC reads them); the next four
    // only need their own lookups.
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    c = t[1792 + (lo & 0xff)]! ^ t[1536 + ((lo >>> 8) & 0xff)]! ^ t[1280 + ((lo >>> 16) & 0xff)]! ^ t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^ t[512 + ((hi >>> 8) & 0xff)]! ^ t[256 + ((hi >>> 16) & 0xff)]! ^ t[hi >>> 24]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32 of some bytes, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}
