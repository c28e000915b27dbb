// The preprocessing the CSV trainer uses, as the library exports it: SimpleImputer, StandardScaler, OneHotEncoder,
// oneHot, trainTestSplit, and TableEncoder, which puts them together for a typed table and saves what it learnt.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cellValue, init, noGrad, OneHotEncoder, oneHot, readCsv, SimpleImputer, StandardScaler, TableEncoder, tensor, tidy, trainTestSplit, type CsvTable,
} from '../../src/index.js';
import { csvData } from '../../src/train/csv-data.js';
import { DEFAULTS, Trainer } from '../../src/train/trainer.js';
import { expectNoLeaks, expectNoLeaksAsync } from '../helpers/api.js';

const dir = mkdtempSync(join(tmpdir(), 'wg-pre-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('the transformers', () => {
  it('SimpleImputer fills with the median or the most frequent value (ties: the smallest), learnt from present values', () => {
    const rows = [[1, 'b'], [NaN, 'a'], [10, null], [4, 'b'], [2, 'a']] as (number | string | null)[][];
    const median = new SimpleImputer().fit(rows.map((r) => [r[0] as number]));
    expect(median.statistics).toEqual([3]); // of 1, 10, 4, 2
    expect(median.transform([[NaN], [7]])).toEqual([[3], [7]]);
    const frequent = new SimpleImputer<string>({ strategy: 'mostFrequent' }).fit(rows.map((r) => [r[1] as string | null]));
    expect(frequent.statistics).toEqual(['a']); // a and b twice each: the smallest
    expect(SimpleImputer.fromJSON(JSON.parse(JSON.stringify(frequent))).transform([[null]])).toEqual([['a']]);
    expect(() => new SimpleImputer().fit([[NaN], [NaN]])).toThrow('SimpleImputer: column 0 has no values to learn a fill from (all missing)');
    expect(() => new SimpleImputer().transform([[1]])).toThrow('SimpleImputer: call fit() first');
  });

  it('StandardScaler: mean 0 and standard deviation 1 per column, a constant column only centred, and back', () => {
    const s = new StandardScaler().fit([[1, 5], [3, 5], [5, 5]]);
    expect(s.mean).toEqual([3, 5]);
    expect(s.scale![0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(s.scale![1]).toBe(1);
    const z = s.transform([[3, 5], [5, 6]]);
    expect(z[0]).toEqual([0, 0]);
    expect(s.inverseTransform(z)).toEqual([[3, 5], [5, 6]]);
    expect(() => s.fit([[1], [NaN]])).toThrow('StandardScaler: row 1, column 0 is NaN; impute missing values first');
    expect(() => s.transform([[1, 2, 3]])).toThrow('StandardScaler: rows have 3 columns, fitted on 2');
  });

  it('OneHotEncoder: sorted categories per column; unseen and missing values are all zeros', () => {
    const e = new OneHotEncoder().fit([['red', 'S'], ['blue', 'M'], ['red', 'L']]);
    expect(e.categories).toEqual([['blue', 'red'], ['L', 'M', 'S']]);
    expect(e.featureNames(['colour', 'size'])).toEqual(['colour=blue', 'colour=red', 'size=L', 'size=M', 'size=S']);
    expect(e.transform([['red', 'M'], ['green', null]])).toEqual([[0, 1, 0, 1, 0], [0, 0, 0, 0, 0]]);
  });

  it('oneHot: class indices as float32 one-hot rows; bad indices are refused before any tensor is made', async () => {
    await init({ build: 'simd' });
    expectNoLeaks(() => {
      const y = tensor([2, 0], { dtype: 'int32' });
      const h = oneHot(y, 3);
      expect([h.shape, h.dtype, Array.from(h.data())]).toEqual([[2, 3], 'float32', [0, 0, 1, 1, 0, 0]]);
      const fromArray = oneHot([1], 2);
      expect(Array.from(fromArray.data())).toEqual([0, 1]);
      fromArray.dispose();
      expect(() => oneHot([3], 3)).toThrow('oneHot: index 3 at position 0 is not an integer in [0, 3)');
      expect(() => oneHot([0], 0)).toThrow('oneHot: numClasses must be a positive integer, got 0');
      for (const t of [y, h]) t.dispose();
    });
  });

  it('trainTestSplit: a seeded split of the indices, each part sorted; testSize in (0, 1)', () => {
    const a = trainTestSplit(10, { testSize: 0.3, seed: 4 });
    expect([a.train.length, a.test.length]).toEqual([7, 3]);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual([...all(10)]);
    expect(Array.from(a.test)).toEqual([...a.test].sort((x, y) => x - y));
    expect(trainTestSplit(10, { testSize: 0.3, seed: 4 })).toEqual(a);
    expect(trainTestSplit(10, { testSize: 0.3, seed: 5 })).not.toEqual(a);
    expect(() => trainTestSplit(10, { testSize: 0 })).toThrow('trainTestSplit: testSize must be in (0, 1), got 0');
  });
});

describe('TableEncoder', () => {
  const text = 'id,age,smoker,colour,note\n' +
    'a1,30,yes,red,\n' + 'a2,NA,no,blue,x\n' + 'a3,50,?,red,y\n' + 'a4,40,Yes,,z\n';
  let table: CsvTable;

  it('numbers (median fill, standardised), booleans (0/1, most frequent fill), text one-hot (most frequent fill); wide text left out', async () => {
    table = await readCsv(file('t.csv', text));
    const { encoder, notes } = TableEncoder.fit(table, all(4), { maxCategories: 2 });
    expect(encoder.columns).toEqual(['age', 'smoker', 'colour']);
    expect(encoder.featureNames).toEqual(['age', 'smoker', 'colour=blue', 'colour=red']);
    expect(notes).toEqual([
      "left out 'id' (4 distinct values), 'note' (3 distinct values): text with more than 2 distinct values (names, ids, dates) would be " +
        'one input per value; keep a column with --features, or raise --max-categories',
      "missing values filled in: 'age' 1 (median 40), 'smoker' 1 (most frequent yes), 'colour' 1 (most frequent 'red')",
      "one-hot encoded 'colour' (2)",
    ]);
    const x = Array.from(encoder.transform(table, all(4)));
    const sd = Math.sqrt(((30 - 40) ** 2 + 0 + (50 - 40) ** 2 + 0) / 4);
    expect(x.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([
      -10 / sd, 1, 0, 1,
      0, 0, 1, 0,
      10 / sd, 1, 0, 1, // smoker missing: the most frequent (yes)
      0, 1, 0, 1, // colour missing: the most frequent (red)
    ].map((v) => Math.round(Math.fround(v) * 1e6) / 1e6));
  });

  it('saved as JSON and read back, it transforms raw cells exactly as it transformed the table', () => {
    const { encoder } = TableEncoder.fit(table, all(4), { maxCategories: 2 });
    const again = TableEncoder.fromJSON(JSON.parse(JSON.stringify(encoder)));
    const cells = [['30', 'yes', 'red'], ['NA', 'no', 'blue'], ['50', '?', 'red'], ['40', 'Yes', '']];
    expect(again.encode(cells.map((c, i) => again.parseRow(c, `row ${i}`)))).toEqual(encoder.transform(table, all(4)));
    expect(Array.from(again.encode([again.parseRow(['40', 'NO', 'green'], 'row')]))).toEqual([0, 0, 0, 0]); // unseen colour: zeros
    expect(() => again.parseRow(['forty', 'yes', 'red'], 'CSV line 9')).toThrow("CSV line 9, column 'age': 'forty' is not a number");
    expect(() => again.parseRow(['1', 'maybe', 'red'], 'CSV line 9')).toThrow("CSV line 9, column 'smoker': 'maybe' is not no or yes");
    expect(() => TableEncoder.fromJSON({ ...encoder.toJSON(), scaler: null })).toThrow("TableEncoder: invalid JSON: the numeric columns' statistics");
  });

  it('fitted column by column on the typed columns, it learns and encodes what the transformers do on rows of values', async () => {
    // Numbers, booleans and text with missing cells, on a random subset of rows.
    const lines = Array.from({ length: 300 }, (_, i) => [(i * 37) % 101 === 0 ? 'NA' : ((i * 7919) % 97) / 7,
      i % 13 === 0 ? '' : (i * 31) % 5 > 1 ? 'yes' : 'no', i % 17 === 0 ? '?' : ['red', 'blue', 'green', 'mauve', 'teal'][(i * 11) % 5]!,
      ((i * 13) % 41) - 20].join(','));
    const t = await readCsv(file('many.csv', `n,b,s,m\n${lines.join('\n')}\n`));
    const rows = trainTestSplit(t.n, { testSize: 0.3, seed: 2 }).train;
    const { encoder } = TableEncoder.fit(t, rows);
    const values = (names: string[], at: Int32Array) => Array.from(at, (r) => names.map((n) => cellValue(t.columns.find((c) => c.name === n)!, r)));
    const numeric = new SimpleImputer().fit(values(['n', 'm'], rows) as number[][]);
    const scaler = new StandardScaler().fit(numeric.transform(values(['n', 'm'], rows) as number[][]));
    const bool = new SimpleImputer({ strategy: 'mostFrequent' }).fit(values(['b'], rows) as number[][]);
    const text = new SimpleImputer<string>({ strategy: 'mostFrequent' }).fit(values(['s'], rows) as string[][]);
    const onehot = new OneHotEncoder().fit(text.transform(values(['s'], rows) as string[][]));
    expect(encoder.toJSON()).toEqual({
      numeric: ['n', 'm'], boolean: [{ name: 'b', labels: ['no', 'yes'] }], categorical: ['s'], numericImputer: numeric.toJSON(),
      scaler: scaler.toJSON(), booleanImputer: bool.toJSON(), categoricalImputer: text.toJSON(), encoder: onehot.toJSON(),
    });
    const everyRow = all(t.n);
    expect(encoder.transform(t, everyRow)).toEqual(encoder.encode(values(encoder.columns, everyRow)));
  });

  it('features: exactly the columns named, text of any cardinality included', () => {
    const { encoder, notes } = TableEncoder.fit(table, all(4), { features: ['id', 'age'], maxCategories: 2 });
    expect(encoder.featureNames).toEqual(['age', 'id=a1', 'id=a2', 'id=a3', 'id=a4']);
    expect(notes.some((n) => n.startsWith('left out'))).toBe(false);
  });
});

describe('csvData: a CSV as the trainer takes it', () => {
  it('a text target: classes by name, sorted; rows without a target left out with a note; memory returns', async () => {
    await init({ build: 'simd' });
    const path = file('pets.csv', 'w,kind\n1,cat\n2,dog\n3,NA\n4,cat\n5,bird\n6,dog\n7,cat\n8,\n9,dog\n10,bird\n');
    await expectNoLeaksAsync(async () => {
      const d = await csvData(path, { target: 'kind', valSplit: 0.25 });
      expect(d.info.classes).toEqual(['bird', 'cat', 'dog']);
      expect(d.train.length + d.test.length).toBe(8);
      expect(d.notes[0]).toBe("left out 2 rows without a value in the target 'kind' (lines 4, 9)");
      d.train.dispose();
      d.test.dispose();
    });
  });

  it('regression: the target standardised with the training rows, its mean and scale saved', async () => {
    await init({ build: 'simd' });
    const path = file('reg.csv', `x,y\n${Array.from({ length: 30 }, (_, i) => `${i},${100 + 10 * i}`).join('\n')}\n`);
    await expectNoLeaksAsync(async () => {
      const d = await csvData(path, { target: 'y' });
      expect(d.info.task).toBe('regression');
      const y = Array.from(d.train.targets.data());
      expect(Math.abs(y.reduce((a, b) => a + b, 0) / y.length)).toBeLessThan(1e-6);
      const { mean, scale } = d.info.targetScaler!;
      // back in the target's units, the training targets are values of the file: 100, 110, … 390
      for (const v of y) expect(Math.abs(((v * scale + mean - 100) / 10) - Math.round((v * scale + mean - 100) / 10))).toBeLessThan(1e-4);
      d.train.dispose();
      d.test.dispose();
    });
  });

  it("regression metrics are in the target's units: the trainer's MSE, MAE and R² equal those of its predictions scaled back", async () => {
    await init({ build: 'simd' });
    const lines = Array.from({ length: 80 }, (_, i) => `${i % 9},${(i * 7) % 5},${1000 + 100 * (i % 9) - 30 * ((i * 7) % 5) + (i % 4)}`);
    const path = file('units.csv', ['a,b,y', ...lines].join('\n') + '\n');
    await expectNoLeaksAsync(async () => {
      const d = await csvData(path, { target: 'y' });
      const trainer = new Trainer({ ...DEFAULTS, hidden: [8], dropout: 0, epochs: 2 }, d);
      await trainer.trainEpoch();
      const m = trainer.evaluate(d.test);
      const { mean, scale } = d.info.targetScaler!;
      trainer.model.eval();
      const out = tidy(() => noGrad(() => Array.from(trainer.model(d.test.features).data(), (v) => v * scale + mean)));
      const truth = Array.from(d.test.targets.data(), (v) => v * scale + mean);
      const err = out.map((p, i) => p - truth[i]!);
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const tMean = avg(truth);
      expect(m.loss / avg(err.map((e) => e * e))).toBeCloseTo(1, 4);
      expect(m.mae! / avg(err.map(Math.abs))).toBeCloseTo(1, 4);
      expect(m.r2!).toBeCloseTo(1 - err.reduce((a, e) => a + e * e, 0) / truth.reduce((a, t) => a + (t - tMean) ** 2, 0), 4);
      trainer.dispose();
      d.train.dispose();
      d.test.dispose();
    });
  });

  it('labels that spell the same number differently are one class, named in shortest form, with a note', async () => {
    await init({ build: 'simd' });
    const path = file('spelt.csv', 'x,y\n1,1\n2,1.0\n3,01\n4," 1"\n5,2.50\n6,+2.5\n7,-0\n8,0\n9,1\n');
    const d = await csvData(path, { target: 'y', task: 'classification' });
    expect(d.info.classes).toEqual(['0', '1', '2.5']);
    expect(d.notes).toContain("the target 'y' has numeric labels: each number is one class, named in its shortest form: " +
      '0 (written -0, 0), 1 (written 01, 1, 1.0), 2.5 (written +2.5, 2.50)');
    d.train.dispose();
    d.test.dispose();
  });

  it('a numeric target of more distinct numbers than a column keeps spellings for: classes by value, no note', async () => {
    await init({ build: 'simd' });
    const d = await csvData(file('hundred.csv', `x,y\n${Array.from({ length: 300 }, (_, i) => `${i},${(i * 7) % 100}.0`).join('\n')}\n`),
      { target: 'y', task: 'classification' });
    expect(d.info.classes).toEqual(Array.from({ length: 100 }, (_, k) => String(k)));
    expect(d.notes).toEqual([]);
    d.train.dispose();
    d.test.dispose();
  });

  it('text labels stay as written (trimmed, case-sensitive); numbers among them are named by value', async () => {
    await init({ build: 'simd' });
    const d = await csvData(file('mixed.csv', 'x,y\n1,cat\n2," cat "\n3,Cat\n4,1.0\n5,1\n'), { target: 'y' });
    expect(d.info.classes).toEqual(['1', 'Cat', 'cat']);
    d.train.dispose();
    d.test.dispose();
  });
});
