// examples/regression-csv.mjs: what `wasmgrad train --data … --target health` does, written with the library's
// exports (readCsv, TableEncoder, StandardScaler, trainTestSplit, nn, optim) on a real CSV; run in-process and as a file.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The example imports the package ('wasmgrad', src/ under vitest's alias), so memory is counted by the same module instance.
import { memory } from 'wasmgrad';
// @ts-expect-error: a plain .mjs example, without types
import { trainRegression } from '../../examples/regression-csv.mjs';

const root = join(import.meta.dirname, '../..');

describe('examples/regression-csv.mjs', () => {
  it('learns life expectancy from Gapminder: held-out RMSE below always guessing the mean, R² > 0.4; memory returns', async () => {
    const { metrics, notes, featureNames, rows } = await trainRegression();
    const before = memory();
    const again = await trainRegression();
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(again.metrics).toEqual(metrics); // seeded: the same run twice
    expect(rows).toEqual({ train: 150, test: 37 });
    expect(featureNames).toEqual(['income', 'population', 'region=america', 'region=east_asia_pacific', 'region=europe_central_asia',
      'region=middle_east_north_africa', 'region=south_asia', 'region=sub_saharan_africa']);
    expect(notes[0]).toMatch(/^left out 'country' \(187 distinct values\)/);
    expect(metrics.rmse).toBeLessThan(metrics.baselineRmse);
    expect(metrics.r2).toBeGreaterThan(0.4);
  });

  it('runs as a file and prints its metrics', () => {
    const out = execFileSync(process.execPath, [join(root, 'examples/regression-csv.mjs'), '--epochs', '5'], { encoding: 'utf8' });
    expect(out).toMatch(/150 training \/ 37 held-out rows, 8 features\nheld-out RMSE \d+\.\d{3} \(always guessing the mean: \d+\.\d{3}\), MAE \d+\.\d{3}, R² -?\d\.\d{3}\n$/);
  });
});
