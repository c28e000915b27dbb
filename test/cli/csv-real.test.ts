// `wasmgrad train --data` on real public tables as they ship in the vega-datasets npm package (BSD-3-Clause; each
// file's own source and terms in its datapackage.json): Seattle's daily weather (NOAA, U.S. Government work) with a
// text target and a date column, Gapminder's health and income by country (CC BY 4.0) for regression, and the FAA's
// bird strikes (U.S. Government work) with missing values and many text columns. No file is cleaned first.
// Also the run directory rules: --out never overwrites a run without --force, and the default is numbered.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
// The package exports only its JavaScript (build/index.js); its CSV files sit in data/ beside build/.
const DATA = join(dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..', 'data');
const WEATHER = join(DATA, 'seattle-weather.csv');
const GAPMINDER = join(DATA, 'gapminder-health-income.csv');
const BIRDSTRIKES = join(DATA, 'birdstrikes.csv');
const tmp = () => mkdtempSync(join(tmpdir(), 'wg-real-'));

function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000, cwd }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}

/** The share of the most frequent value of a column: what always guessing it scores. */
function majorityShare(path: string, column: string): number {
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
  const j = header!.indexOf(column);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r[j]!, (counts.get(r[j]!) ?? 0) + 1);
  return Math.max(...counts.values()) / rows.length;
}

describe('real tables, as they come', () => {
  it('Seattle weather: a text target (classes by name), the date column left out with a note; predict prints the names', async () => {
    const out = join(tmp(), 'run');
    const r = await cli(['train', '--data', WEATHER, '--target', 'weather', '--epochs', '5', '--hidden', '32', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('wasmgrad train: seattle-weather (1169 train / 292 validation rows, 4 features, 5 classes)');
    expect(r.stdout).toContain("note: left out 'date' (1,461 distinct values): text with more than 50 distinct values");
    // Off a terminal, each epoch is printed once, as one line; the held-out rows are called validation throughout.
    for (let e = 1; e <= 5; e++) expect(r.stdout.split(`epoch ${e}/5 `).length - 1).toBe(1);
    expect(r.stdout).not.toMatch(/\btest\b/);
    expect(r.stdout).toMatch(/epoch\s+train loss\s+train acc\s+validation loss\s+validation acc/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.heldOut).toBe('validation');
    expect(metrics.final.valAccuracy).toBeGreaterThan(majorityShare(WEATHER, 'weather'));
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n')[0]).toBe('epoch,trainLoss,trainAccuracy,valLoss,valAccuracy,lr,seconds,samplesPerSecond');
    const p = await cli(['predict', '--model', out, '--data', WEATHER, '--limit', '3']);
    expect(p.stderr).toBe('');
    expect(p.stdout).toMatch(/^row 0: (drizzle|fog|rain|snow|sun) \(\d+\.\d%\)  truth drizzle\n/);
    expect(p.stdout).toMatch(/accuracy \d+\.\d\d% on 1461 rows\n$/);
  });

  it('Gapminder: regression in the target\'s units (MSE, RMSE, MAE, R²), text columns one-hot or left out; dropout 0 by default', async () => {
    const out = join(tmp(), 'run');
    const r = await cli(['train', '--data', GAPMINDER, '--target', 'health', '--epochs', '40', '--lr', '0.01', '--hidden', '32', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout);
    expect(s.config.dropout).toBe(0);
    expect(s.notes).toEqual([expect.stringMatching(/^left out 'country' \(187 distinct values\)/), "one-hot encoded 'region' (6)"]);
    const health = readFileSync(GAPMINDER, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]));
    const mean = health.reduce((a, b) => a + b, 0) / health.length;
    const sd = Math.sqrt(health.reduce((a, b) => a + (b - mean) ** 2, 0) / health.length);
    expect(s.final.valR2).toBeGreaterThan(0.2);
    expect(s.final.valRmse).toBeLessThan(sd); // years of life expectancy, better than guessing the mean
    expect(s.final.valMae).toBeLessThan(s.final.valRmse);
    const text = await cli(['predict', '--model', join(out, 'model.safetensors'), '--data', GAPMINDER, '--limit', '2']);
    expect(text.stdout).toMatch(/^row 0: \d{2}(\.\d{1,2})?  truth 57\.63\nrow 1: \d{2}(\.\d{1,2})?  truth 76\n/);
    expect(text.stdout).toMatch(/MSE [\d.]+, RMSE [\d.]+, MAE [\d.]+, R² 0\.\d{3} on 187 rows\n$/);
  });

  it('bird strikes: missing speeds filled with the median, eight text columns one-hot, two wide ones left out; predict fills the same way', async () => {
    const out = join(tmp(), 'run');
    const r = await cli(['train', '--data', BIRDSTRIKES, '--target', 'Phase of flight', '--epochs', '1', '--hidden', '32', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout);
    expect(s.notes).toContain("missing values filled in: 'Speed IAS in knots' 2,836 (median 140)");
    expect(s.notes[0]).toMatch(/^left out 'Aircraft Make Model' \(225 distinct values\), 'Flight Date' \(3,625 distinct values\)/);
    expect(s.final.valAccuracy).toBeGreaterThan(majorityShare(BIRDSTRIKES, 'Phase of flight'));
    const p = JSON.parse((await cli(['predict', '--model', out, '--data', BIRDSTRIKES, '--json', '--limit', '1'])).stdout);
    expect(p.n).toBe(10_000);
    expect(p.accuracy).toBeGreaterThan(majorityShare(BIRDSTRIKES, 'Phase of flight'));
  });

  it('--features keeps a wide text column and uses only the columns named; --ignore leaves columns out', async () => {
    const dir = tmp();
    const kept = JSON.parse((await cli(['train', '--data', GAPMINDER, '--target', 'region', '--features', 'country,income', '--epochs', '1',
      '--out', join(dir, 'a'), '--json'])).stdout);
    expect(kept.notes).toEqual(["one-hot encoded 'country' (150)"]); // one row per country: the training rows' 150
    const file = JSON.parse(readFileSync(join(dir, 'a', 'metrics.json'), 'utf8'));
    expect(file.notes).toEqual(kept.notes);
    const ignored = await cli(['train', '--data', WEATHER, '--target', 'weather', '--ignore', 'date,wind', '--epochs', '1', '--out', join(dir, 'b')]);
    expect(ignored.stdout).toContain('(1169 train / 292 validation rows, 3 features, 5 classes)');
    expect(ignored.stdout).not.toContain('note:');
  });
});

describe('run directories', () => {
  it('the default runs/<data> is numbered past earlier runs, with a note; an --out that holds a run is refused unless --force', async () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'small.csv'), `x,y\n${Array.from({ length: 20 }, (_, i) => `${i},${i % 2 ? 'odd' : 'even'}`).join('\n')}\n`);
    const args = ['train', '--data', 'small.csv', '--target', 'y', '--epochs', '1', '--hidden', '4'];
    expect((await cli(args, cwd)).stdout).toContain('wrote runs/small/model.safetensors');
    const second = await cli(args, cwd);
    expect(second.stdout).toContain('note: runs/small holds a previous run: this one writes to runs/small-2\n');
    expect(second.stdout).toContain('wrote runs/small-2/model.safetensors');
    const before = readFileSync(join(cwd, 'runs/small/model.safetensors'));
    const refused = await cli([...args, '--out', 'runs/small', '--seed', '3'], cwd);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe('wasmgrad: --out: runs/small holds a previous run (model.safetensors, checkpoint.ckpt, metrics.json); ' +
      'choose another --out, or add --force to overwrite it\n');
    expect(readFileSync(join(cwd, 'runs/small/model.safetensors')).equals(before)).toBe(true);
    expect((await cli([...args, '--out', 'runs/small', '--seed', '3', '--force'], cwd)).code).toBe(0);
    expect(readFileSync(join(cwd, 'runs/small/model.safetensors')).equals(before)).toBe(false);
    // --resume continues the run in its own directory (the default there), which is no overwrite of another run
    const resumed = await cli(['train', '--resume', 'runs/small-2/checkpoint.ckpt', '--epochs', '2', '--data', 'small.csv', '--target', 'y'], cwd);
    expect(resumed.stderr).toBe('');
    expect(resumed.stdout).toContain('wrote runs/small-2/model.safetensors');
    expect(existsSync(join(cwd, 'runs/small-3'))).toBe(false);
  });
});
