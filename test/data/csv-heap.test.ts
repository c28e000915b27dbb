// readCsv and TableEncoder keep a table in typed arrays, outside the JavaScript heap (issue 17): a 300,000-row,
// 42-column file (70 MB: numbers with 100,000 distinct values, text, booleans, missing cells) is read, fitted and
// encoded by a child process with a 16 MB heap. Text kept as JS strings per row, a dictionary of every number's
// spellings, or rows of JS values in the encoder each need several times that heap.
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const DIST = pathToFileURL(join(import.meta.dirname, '../../dist/index.js')).href;
const N = 300_000, NUMBERS = 30, TEXTS = 8, BOOLEANS = 4;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];

/** Writes the table a megabyte at a time (the test's own heap need not hold it either). */
function writeTable(path: string): void {
  const fd = openSync(path, 'w');
  const header = [...Array.from({ length: NUMBERS }, (_, j) => `n${j}`), ...Array.from({ length: TEXTS }, (_, j) => `t${j}`),
    ...Array.from({ length: BOOLEANS }, (_, j) => `b${j}`)];
  let out = `${header.join(',')}\n`;
  for (let i = 0; i < N; i++) {
    const cells: string[] = [];
    for (let j = 0; j < NUMBERS; j++) cells.push(i % 997 === j ? '' : String((i * (2 * j + 3) + j) % 100_003));
    for (let j = 0; j < TEXTS; j++) cells.push(WORDS[(i * (j + 1) + (i >> 4)) % WORDS.length]!);
    for (let j = 0; j < BOOLEANS; j++) cells.push((i >> j) % 3 ? 'yes' : 'no');
    out += `${cells.join(',')}\n`;
    if (out.length > 1 << 20) {
      writeSync(fd, out);
      out = '';
    }
  }
  writeSync(fd, out);
  closeSync(fd);
}

const CHILD = `
const { readCsv, TableEncoder, cellValue } = await import(process.argv[3]);
const table = await readCsv(process.argv[2]);
const rows = Int32Array.from({ length: table.n }, (_, i) => i);
const { encoder } = TableEncoder.fit(table, rows);
const x = encoder.transform(table, rows);
const kinds = table.columns.map((c) => c.kind).join(',');
console.log(JSON.stringify({ n: table.n, kinds, features: encoder.featureNames.length, size: x.length, last: cellValue(table.columns[30], table.n - 1) }));
`;

it('a 300,000 × 42 CSV is read, fitted and encoded with a 16 MB heap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-csv-heap-'));
  const path = join(dir, 'wide.csv');
  writeTable(path);
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--max-old-space-size=16', script, path, DIST], { timeout: 150_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
  expect(r.stderr).toBe('');
  const kinds = [...Array(NUMBERS).fill('number'), ...Array(TEXTS).fill('string'), ...Array(BOOLEANS).fill('boolean')].join(',');
  // 30 numbers, 8 texts of 12 categories, 4 booleans: 130 inputs per row
  expect(JSON.parse(r.stdout)).toEqual({ n: N, kinds, features: 130, size: N * 130, last: WORDS[((N - 1) + ((N - 1) >> 4)) % WORDS.length] });
}, 180_000);
