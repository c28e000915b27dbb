// The package through webpack 5, run in Chromium: the default entry (webpack copies the .wasm files it finds
// via new URL(…, import.meta.url)), wasmgrad/inline with every asset copy disabled, and wasmgrad/worker's
// ready-made worker. (Vite: vite.test.ts and the demo's test.)
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as launchOptions } from '../../vitest.config.js';
import { serve } from '../helpers/static-server.js';

const root = join(import.meta.dirname, '../..');
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch(launchOptions);
});
afterAll(async () => browser?.close());

/** `minimize: false` saves most of the build's time where minifying proves nothing. */
function bundle(entry: string, out: string, assets: boolean, minimize = true): Promise<void> {
  const compiler = webpack({
    mode: 'production',
    optimization: { minimize },
    target: 'web',
    entry: join(import.meta.dirname, entry),
    output: { path: out, filename: 'main.js', publicPath: 'auto' },
    resolve: { alias: { 'wasmgrad/inline$': join(root, 'dist/inline.js'), 'wasmgrad/worker$': join(root, 'dist/worker/index.js'), wasmgrad$: join(root, 'dist/index.js') } },
    // Without assets, any .wasm or data file webpack would have to copy fails the build instead.
    module: assets ? {} : { parser: { javascript: { url: false } } },
    performance: { hints: false },
  });
  return new Promise((resolve, reject) => compiler.run((err, stats) => {
    compiler.close(() => {});
    if (err) reject(err);
    else if (stats!.hasErrors()) reject(new Error(stats!.toString('errors-only')));
    else resolve();
  }));
}

async function runPage<T = { loss: number; build: string }>(dir: string): Promise<T> {
  writeFileSync(join(dir, 'index.html'), '<!doctype html><link rel="icon" href="data:,"><script src="main.js"></script>');
  const server = await serve(dir);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(server.url);
    const result = await page.evaluate(() => (window as unknown as { result: Promise<T> }).result);
    expect(errors).toEqual([]);
    return result;
  } finally {
    await page.close();
    await server.close();
  }
}

describe('webpack 5 bundles', () => {
  it('the default entry: webpack copies the wasm builds and the bundle trains in Chromium', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wp-'));
    await bundle('entry.js', out, true);
    expect(readdirSync(out).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(3);
    const r = await runPage(out);
    expect(r.build).toBe('relaxed');
    expect(r.loss).toBeLessThan(0.05);
  });

  it('wasmgrad/inline: JavaScript only, no .wasm next to it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wp-inline-'));
    await bundle('entry-inline.js', out, false);
    // main.js plus lazily loaded chunks (Graphviz for toSvg, …) and their licence notes
    expect(readdirSync(out).filter((f) => !f.endsWith('.js') && !f.endsWith('.LICENSE.txt'))).toEqual([]);
    const r = await runPage(out);
    expect(r.loss).toBeLessThan(0.05);
  });

  it('wasmgrad/worker: new TrainingClient() starts the ready-made worker, which webpack builds as a chunk of its own', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wp-worker-'));
    await bundle('entry-worker.js', out, true, false);
    const r = await runPage<{ loss: number; accuracy: number }>(out);
    expect(r.accuracy).toBeGreaterThan(0.8);
  });
});
