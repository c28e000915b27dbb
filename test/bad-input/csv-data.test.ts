// CSVs the trainer cannot learn from, and column flags that name nothing (issue 17): each is refused with a message
// that says what is wrong and what to do, before any tensor is made (memory unchanged), and the same file trains
// once the problem is fixed. Also the library's preprocessing given what it cannot use.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { init, OneHotEncoder, SimpleImputer, StandardScaler, TableEncoder, trainTestSplit } from '../../src/index.js';
import { csvData, type CsvOptions } from '../../src/train/csv-data.js';
import { DEFAULTS, Trainer } from '../../src/train/trainer.js';
import { expectNoLeaksAsync } from '../helpers/api.js';

const dir = mkdtempSync(join(tmpdir(), 'wg-bad-csv-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
/** 12 rows: a number with gaps, a text column, a column that is always missing, and a text target. */
const rows = Array.from({ length: 12 }, (_, i) => `${i % 4 ? i : 'NA'},${i % 3 ? 'red' : 'blue'},,${i % 2 ? 'odd' : 'even'}`);
const GOOD = ['x,colour,empty,y', ...rows].join('\n') + '\n';

const cases: [string, string, Partial<CsvOptions>, string][] = [
  ['an empty file', '', {}, 'CSV: needs a header row and at least one data row'],
  ['a header alone', 'x,y\n', {}, 'CSV: needs a header row and at least one data row'],
  ['no target column', GOOD, { target: 'label' }, "CSV: target column 'label' not found; the columns are: x, colour, empty, y"],
  ['a target with no values', 'x,y\n1,\n2,NA\n3,?\n', {}, "CSV: the target 'y' has no values (every cell is missing)"],
  ['an unknown --features name', GOOD, { features: ['x', 'colour', 'size'] }, "CSV: no column 'size'; the columns are: x, colour, empty, y"],
  ['an unknown --ignore name', GOOD, { ignore: ['id'] }, "CSV: no column 'id'; the columns are: x, colour, empty, y"],
  ['--features and --ignore together', GOOD, { features: ['x'], ignore: ['colour'] },
    'CSV: give --features (the columns to use) or --ignore (the columns to leave out), not both'],
  ['the target among --features', GOOD, { features: ['x', 'y'] }, "CSV: 'y' is the target; it cannot also be in --features"],
  ['an all-missing column named in --features', GOOD, { features: ['x', 'empty'] },
    "CSV: the column 'empty' named in --features has no values (every cell is missing)"],
  ['no feature left', 'id,y\na,p\nb,q\nc,p\nd,q\n', { maxCategories: 2 },
    'CSV: no feature columns are left to learn from; name some with --features'],
  ['a text target for regression', GOOD, { task: 'regression' }, "CSV line 2, column 'y': 'even' is not a number (regression target)"],
  ['a single class', 'x,y\n1,a\n2,a\n3,a\n4,a\n5,a\n', {}, "CSV: the target 'y' has a single class; nothing to learn"],
  ['too few rows for a split', 'x,y\n1,a\n2,b\n', {}, 'CSV: 2 rows are too few for a training and a validation split (val split 0.2)'],
];

describe('CSVs and column choices the trainer refuses', () => {
  it.each(cases)('%s: refused before any tensor is made', async (_name, text, options, message) => {
    await init({ build: 'simd' });
    const path = file('bad.csv', text);
    await expectNoLeaksAsync(() => expect(csvData(path, { target: 'y', ...options })).rejects.toThrow(message));
  });

  it('the same file, asked for sensibly, trains: the all-missing column left out and the gaps filled, with notes', async () => {
    await init({ build: 'simd' });
    const path = file('good.csv', GOOD);
    await expectNoLeaksAsync(async () => {
      const d = await csvData(path, { target: 'y' });
      expect(d.info.featureNames).toEqual(['x', 'colour=blue', 'colour=red']);
      expect(d.notes).toEqual([
        "left out 'empty': every value is missing",
        expect.stringMatching(/^missing values filled in: 'x' 3 \(median \d+(\.\d+)?\)$/),
        "one-hot encoded 'colour' (2)",
      ]);
      d.train.dispose();
      d.test.dispose();
    });
  });
});

describe('resuming on other columns', () => {
  it('a checkpoint resumed on other columns of the same width is refused, and the trainer is unchanged', async () => {
    await init({ build: 'simd' });
    const path = file('two.csv', ['a,b,y', ...Array.from({ length: 30 }, (_, i) => `${i % 5},${i % 7},${i % 2 ? 'p' : 'q'}`)].join('\n') + '\n');
    const config = { ...DEFAULTS, hidden: [4], epochs: 2 };
    await expectNoLeaksAsync(async () => {
      const first = await csvData(path, { target: 'y', ignore: ['b'] });
      const run = new Trainer(config, first);
      await run.trainEpoch();
      const bytes = run.checkpointBytes();
      const other = await csvData(path, { target: 'y', ignore: ['a'] });
      const resumed = new Trainer(config, other);
      const before = resumed.model.parameters().map((p) => Array.from(p.data()));
      expect(() => resumed.restore(bytes)).toThrow("resume: the checkpoint's run had the inputs a, and this data gives b: " +
        "resume with the run's own data and columns (--data, --features, --ignore, --max-categories)");
      expect(resumed.epoch).toBe(0);
      expect(resumed.model.parameters().map((p) => Array.from(p.data()))).toEqual(before);
      for (const t of [run, resumed]) t.dispose();
      for (const d of [first, other]) {
        d.train.dispose();
        d.test.dispose();
      }
    });
  });
});

describe('the preprocessing API given what it cannot use', () => {
  it.each<[string, () => unknown, string]>([
    ['StandardScaler on no rows', () => new StandardScaler().fit([]), 'StandardScaler: expected a non-empty array of rows'],
    ['StandardScaler on ragged rows', () => new StandardScaler().fit([[1, 2], [3]]), 'StandardScaler: row 1 has 1 values, row 0 has 2'],
    ['SimpleImputer with an unknown strategy', () => new SimpleImputer({ strategy: 'mean' as 'median' }),
      "SimpleImputer: strategy must be 'median' or 'mostFrequent', got mean"],
    ['a median of text', () => new SimpleImputer<string>().fit([['a']]), "SimpleImputer: strategy 'median' needs numbers; column 0 has text"],
    ['OneHotEncoder before fit', () => new OneHotEncoder().transform([['a']]), 'OneHotEncoder: call fit() first'],
    ['trainTestSplit of a negative count', () => trainTestSplit(-1), 'trainTestSplit: n must be a row count (an integer ≥ 0), got -1'],
    ['TableEncoder from damaged JSON', () => TableEncoder.fromJSON({ numeric: ['a'], boolean: [], categorical: [] } as never),
      "TableEncoder: invalid JSON: the numeric columns' statistics"],
  ])('%s', (_name, call, message) => {
    expect(call).toThrow(message);
  });
});
