// CRC-32 (the IEEE 802.3 / zlib / PNG polynomial, reflected 0xEDB88320), table-driven, one byte at a time.
// Files written by toSafetensors carry it so that a flipped bit or a torn write is reported, not loaded: it
// detects every error of one or two bits, of three bits in files up to 11 KB, every burst of up to 32 bits, and
// any other damage with probability 1 − 2⁻³².

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Continues a CRC-32 over more bytes: crc32(b) = crc32Update(crc32Update(0, b.subarray(0, k)), b.subarray(k)) for
 * any k, so a file can be checked in pieces without copying it.
 */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32 of some bytes, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}
