// The embedded digits, datasets and loaders.
import { describe, expect, it } from 'vitest';
import { DataLoader, keep, loadDigits, memory, tensor, TensorDataset } from '../../src/index.js';
import { fitStandardizer, parseCsv, splitRows, standardize } from '../../src/data/csv.js';
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
