// The embedded digits, datasets and loaders.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataLoader, keep, loadDigits, memory, tensor, TensorDataset } from '../../src/index.js';
import { classLabel, fitStandardizer, parseCsv, readCsv, splitRows, standardize } from '../../src/data/csv.js';
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
  it('encodes classes in sorted order, splits by seed, standardises with the training rows', () => {
    const t = parseCsv('a,b,kind\n1,10,cat\n2,20,dog\n3,30,cat\n5,50,bird\n', 'kind');
    expect(t).toMatchObject({ task: 'classification', classes: ['bird', 'cat', 'dog'], featureNames: ['a', 'b'], n: 4, d: 2 });
    expect(Array.from(t.targets)).toEqual([1, 2, 1, 0]);
    const { train, val } = splitRows(4, 0.25, 3);
    expect([train.length, val.length]).toEqual([3, 1]);
    expect([...train, ...val].sort()).toEqual([0, 1, 2, 3]);
    const s = fitStandardizer(t, Int32Array.from([0, 1, 2]));
    expect(s.mean).toEqual([2, 20]);
    expect(Array.from(standardize(t, Int32Array.from([1]), s))).toEqual([0, 0]);
    expect(parseCsv('x,y\n1,0.5\n2,1.5\n3,2.25\n', 'y').task).toBe('regression');
    expect(parseCsv('x,y\n1,0\n2,1\n3,1\n', 'y').task).toBe('classification');
    expect(parseCsv('x,y\n1,0\n2,1\n3,1\n', 'y', 'regression').task).toBe('regression');
  });
});

describe('CSV values that would train garbage', () => {
  it.each([
    ['1e39', "CSV line 3, column 'b': 1e39 is beyond float32's range (±3.4028235e38) and would become Infinity"],
    ['-3.5e38', "CSV line 3, column 'b': -3.5e38 is beyond float32's range"],
    ['0x10', "CSV line 3, column 'b': '0x10' is not a number"],
    ['Infinity', "CSV line 3, column 'b': 'Infinity' is not a number"],
  ])('a feature of %s is an error naming its line, column and value', (value, message) => {
    expect(() => parseCsv(`a,b,y\n1,2,p\n3,${value},q\n`, 'y')).toThrow(message);
  });

  it('values float32 can hold are kept: the largest float32, one that rounds to it, and ones that round to 0', () => {
    const t = parseCsv('a,y\n3.4028234663852886e38,p\n3.40282356e38,q\n1e-50,p\n-1e-46,q\n', 'y');
    expect(Array.from(t.features)).toEqual([3.4028234663852886e38, 3.40282356e38, 1e-50, -1e-46]);
  });

  it('a regression target beyond float32 is an error; as a class name it is only a name', () => {
    expect(() => parseCsv('a,y\n1,0.5\n2,1e39\n', 'y', 'regression'))
      .toThrow("CSV line 3, column 'y': 1e39 is beyond float32's range (±3.4028235e38) and would become Infinity (regression target)");
    expect(parseCsv('a,y\n1,1e39\n2,0\n', 'y').classes).toEqual(['0', '1e+39']);
  });

  it('duplicate column names (after trimming) are an error naming them and their positions', () => {
    expect(() => parseCsv('a,b," a",y,b,b\n1,2,3,4,5,6\n', 'y'))
      .toThrow("CSV: duplicate column names: 'a' (columns 1 and 3), 'b' (columns 2, 5 and 6); give each column its own name");
  });

  it('labels that spell the same number differently are one class, named in shortest form, with a note', () => {
    const t = parseCsv('x,y\n1,1\n2,1.0\n3,01\n4," 1"\n5,2.50\n6,+2.5\n7,-0\n8,0\n9,1\n', 'y', 'classification');
    expect(t.classes).toEqual(['0', '1', '2.5']);
    expect(Array.from(t.targets)).toEqual([1, 1, 1, 1, 2, 2, 0, 0, 1]);
    expect(t.notes).toEqual(["the target 'y' has numeric labels: each number is one class, named in its shortest form: " +
      '0 (written -0, 0), 1 (written 01, 1, 1.0), 2.5 (written +2.5, 2.50)']);
    expect(parseCsv('x,y\n1,0\n2,1\n', 'y').notes).toEqual([]); // nothing merged or renamed: no note
  });

  it('text labels stay as written (trimmed, case-sensitive); numbers among them are named by value', () => {
    const t = parseCsv('x,y\n1,cat\n2," cat "\n3,Cat\n4,1.0\n5,1\n', 'y');
    expect(t.classes).toEqual(['1', 'Cat', 'cat']);
    expect(Array.from(t.targets)).toEqual([2, 2, 1, 0, 0]);
    expect(['01', ' 2.0', 'cat', '1e3', '0x10'].map(classLabel)).toEqual(['1', '2', 'cat', '1000', '0x10']);
  });

  it('names the line a record is on, counting empty lines', () => {
    expect(() => parseCsv('a,y\n\n1,p\n\n\nx,q\n', 'y')).toThrow("CSV line 6, column 'a': 'x' is not a number");
  });

  it('readCsv streams a file to the same table as parseCsv, and names a missing file the way Node does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wg-csv-'));
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},${(i * 7) % 13},${i % 3 === 0 ? '1.0' : i % 3}`);
    const text = ['a,b,y', ...rows].join('\n');
    writeFileSync(join(dir, 'd.csv'), text);
    expect(await readCsv(join(dir, 'd.csv'), 'y')).toEqual(parseCsv(text, 'y'));
    await expect(readCsv(join(dir, 'missing.csv'), 'y')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
    writeFileSync(join(dir, 'bad.csv'), 'a,y\n1,2\n3\n');
    await expect(readCsv(join(dir, 'bad.csv'), 'y')).rejects.toThrow('CSV: Invalid Record Length: expect 2, got 1 on line 3');
  });
});
