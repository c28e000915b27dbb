// The embedded digits, datasets and loaders.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataLoader, keep, loadDigits, memory, tensor, TensorDataset } from '../../src/index.js';
import { classLabel } from '../../src/data/csv.js';
import { cellValue, MAX_SPELLINGS, readCsv, TableBuilder, type NumberColumn, type StringColumn } from '../../src/data/table.js';
import { BACKENDS, useBackend } from '../helpers/api.js';

describe('embedded digits', () => {
  it('holds 8,000 training and 2,000 test digits, 28×28, every class split 80/20', async () => {
    const d = await loadDigits();
    expect([d.train.n, d.test.n, d.rows, d.cols]).toEqual([8000, 2000, 28, 28]);
    expect(d.train.images.length).toBe(8000 * 784);
    const count = (labels: Uint8Array) => Array.from({ length: 10 }, (_, k) => labels.filter((l) => l === k).length);
    const tr = count(d.train.labels), te = count(d.test.labels);
    tr.forEach((n, k) => expect(Math.abs(n / (n + te[k]!) - 0.8)).toBeLessThan(0.002));
    expect(d.train.images.reduce((a, b) => Math.max(a, b), 0)).toBe(255);
    // no test image also appears in the training set
    const key = (img: Uint8Array, i: number) => img.subarray(i * 784, (i + 1) * 784).join(',');
    const seen = new Set(Array.from({ length: 8000 }, (_, i) => key(d.train.images, i)));
    expect(Array.from({ length: 2000 }, (_, i) => key(d.test.images, i)).filter((k) => seen.has(k)).length).toBe(0);
  });
});

describe.each(BACKENDS)('TensorDataset and DataLoader on %s', (name) => {
  it('batches in order, or shuffled by seed; drops the last partial batch on request; frees batches', async () => {
    await useBackend(name);
    const before = memory();
    const ds = new TensorDataset(tensor(Array.from({ length: 10 }, (_, i) => [i, 10 * i])), tensor(Array.from({ length: 10 }, (_, i) => i), { dtype: 'int32' }));
    const plain = [...new DataLoader(ds, { batchSize: 4 })].map((b) => b.indices.length);
    expect(plain).toEqual([4, 4, 2]);
    expect(new DataLoader(ds, { batchSize: 4, dropLast: true }).length).toBe(2);
    const seen: number[][] = [];
    for (const { x, y } of new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 5 })) {
      const xs = Array.from(x.data());
      const ys = Array.from(y.data());
      ys.forEach((v, i) => expect(xs[2 * i + 1]).toBe(10 * v)); // rows stay aligned with their targets
      seen.push(ys);
    }
    expect(seen.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.flat()).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = [...new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 5 })].map((b) => Array.from(b.indices));
    expect(again).toEqual(seen);
    // an epoch later the order changes (the generator moves on)
    const loader = new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 5 });
    const e1 = [...loader][0]!.indices.slice();
    const e2 = [...loader][0]!.indices.slice();
    expect(Array.from(e1)).not.toEqual(Array.from(e2));
    // a batch kept with keep() survives the next one
    const it = new DataLoader(ds, { batchSize: 5 })[Symbol.iterator]();
    const first = it.next().value!;
    keep(first.x);
    it.next();
    it.return?.();
    expect(first.x.isDisposed).toBe(false);
    expect(first.y.isDisposed).toBe(true);
    first.x.dispose();
    ds.dispose();
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow('DataLoader: batchSize must be a positive integer, got 0');
    expect(() => new TensorDataset(tensor([[1], [2]]), tensor([1, 2, 3]))).toThrow('TensorDataset: features [2,1] and targets [3] need the same first dimension');
  });
});

describe('CSV tables', () => {
  /** A CSV's text as a typed table, the way readCsv streams a file. */
  const tableOf = (text: string) => {
    const b = new TableBuilder();
    text.split('\n').filter((l) => l !== '').forEach((l, i) => b.add(l.split(',').map((c) => c.trim()), i + 1));
    return b.finish();
  };

  it('types columns as numbers, booleans or text, missing cells as NaN or null', () => {
    const t = tableOf('a,b,flag,kind\n1,NA,yes,cat\n2,20,No,\n3,?,YES,dog\n');
    expect(t.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([['a', 'number', 0], ['b', 'number', 2], ['flag', 'boolean', 0], ['kind', 'string', 1]]);
    expect(Array.from((t.columns[1] as NumberColumn).values)).toEqual([NaN, 20, NaN]);
    expect(t.columns[2]).toMatchObject({ labels: ['No', 'yes'] });
    expect(Array.from((t.columns[2] as NumberColumn).values)).toEqual([1, 0, 1]);
    expect(t.columns[3]).toMatchObject({ categories: ['cat', 'dog'], distinct: 2 });
    expect(Array.from((t.columns[3] as StringColumn).codes)).toEqual([0, -1, 1]);
    expect([0, 1, 2].map((i) => cellValue(t.columns[3]!, i))).toEqual(['cat', null, 'dog']);
    expect([0, 1, 2].map((i) => cellValue(t.columns[2]!, i))).toEqual([1, 0, 1]);
  });

  it('text is kept as codes into categories; numbers among the texts become categories named by value', () => {
    const t = tableOf('x\n1.0\nb\n?\na\n2\nb\n01\n');
    const c = t.columns[0] as StringColumn;
    expect([c.kind, c.categories, Array.from(c.codes), c.distinct]).toEqual(['string', ['b', 'a', '1', '2'], [2, 0, -1, 1, 3, 0, 2], 4]);
    expect(c.codes).toBeInstanceOf(Int32Array);
    expect(Array.from({ length: t.n }, (_, i) => cellValue(c, i))).toEqual(['1', 'b', null, 'a', '2', 'b', '1']);
  });

  it('a column keeps how its numbers were written only up to 64 distinct numbers (labels), not a dictionary of every number', () => {
    const column = (distinct: number) => tableOf(`x
${Array.from({ length: 200 }, (_, i) => `${i % distinct}.0`).join('\n')}\n`).columns[0] as NumberColumn;
    expect(column(MAX_SPELLINGS).spellings?.size).toBe(64);
    expect(column(MAX_SPELLINGS).spellings?.get(3)).toEqual(new Set(['3.0']));
    expect(column(MAX_SPELLINGS + 1).spellings).toBeNull();
    expect(column(MAX_SPELLINGS + 1).values).toBeInstanceOf(Float64Array);
  });

  it('columns longer than a chunk (64K rows) are read whole, in order', () => {
    const n = 70_000;
    const t = tableOf(`a,b
${Array.from({ length: n }, (_, i) => `${i},${i % 2 ? 'odd' : 'even'}`).join('\n')}\n`);
    const [a, b] = t.columns as [NumberColumn, StringColumn];
    expect([t.n, a.values.length, b.codes.length, t.lines.length]).toEqual([n, n, n, n]);
    expect([a.values[65_535], a.values[65_536], a.values[n - 1], cellValue(b, n - 1), t.lines[n - 1]]).toEqual([65_535, 65_536, n - 1, 'odd', n + 1]);
  });

  it('duplicate column names (after trimming) are an error naming them and their positions', () => {
    expect(() => tableOf('a,b,a,y,b,b\n1,2,3,4,5,6\n'))
      .toThrow("CSV: duplicate column names: 'a' (columns 1 and 3), 'b' (columns 2, 5 and 6); give each column its own name");
  });

  it('readCsv streams a file into typed columns, reads only the columns asked for, and names a missing file the way Node does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wg-csv-'));
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},${(i * 7) % 13},${i % 3 === 0 ? 'x' : 'y'}`);
    writeFileSync(join(dir, 'd.csv'), ['a,b,y', ...rows].join('\n'));
    const t = await readCsv(join(dir, 'd.csv'), { ignore: ['b'] });
    expect(t.n).toBe(5000);
    expect(t.columns.map((c) => c.name)).toEqual(['a', 'y']);
    expect((t.columns[0] as NumberColumn).values[4999]).toBe(4999);
    expect((await readCsv(join(dir, 'd.csv'), { columns: ['y', 'a'] })).columns.map((c) => c.kind)).toEqual(['string', 'number']);
    await expect(readCsv(join(dir, 'd.csv'), { columns: ['zz'] })).rejects.toThrow("CSV: no column 'zz'; the columns are: a, b, y");
    await expect(readCsv(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    writeFileSync(join(dir, 'bad.csv'), 'a,y\n1,2\n3\n');
    await expect(readCsv(join(dir, 'bad.csv'))).rejects.toThrow('CSV: Invalid Record Length: expect 2, got 1 on line 3');
    expect(['01', ' 2.0', 'cat', '1e3', '0x10'].map(classLabel)).toEqual(['1', '2', 'cat', '1000', '0x10']);
  });
});
