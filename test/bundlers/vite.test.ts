// wasmgrad/worker through a production Vite build with Vite's defaults (no config file: workers built as classic
// scripts), run in Chromium: `new TrainingClient()` starts the ready-made worker, which Vite builds as a worker
// entry of its own, with the .wasm builds and the digits as assets — never as a lone file or a data: URL whose
// relative imports cannot resolve.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright';
import { build } from 'vite';
import { expect, it } from 'vitest';
import { chromium as launchOptions } from '../../vitest.config.js';
import { serve } from '../helpers/static-server.js';

it('a Vite production build of a page using wasmgrad/worker trains in the ready-made worker in Chromium', async () => {
  const out = mkdtempSync(join(tmpdir(), 'vite-app-'));
  // The app imports 'wasmgrad/worker' as users do: it resolves to this package's dist/ by its exports.
  await build({ root: join(import.meta.dirname, 'vite-app'), configFile: false, logLevel: 'error', build: { outDir: out } });
  const assets = readdirSync(join(out, 'assets'));
  expect(assets.filter((f) => f.startsWith('train-worker-') && f.endsWith('.js'))).toHaveLength(1);
  for (const f of assets.filter((a) => a.endsWith('.js'))) expect(readFileSync(join(out, 'assets', f), 'utf8')).not.toContain('data:text/javascript');
  const server = await serve(out);
  const browser = await chromium.launch(launchOptions);
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    const result = await page.evaluate(() => (window as unknown as { result: Promise<{ epochs: number; accuracy: number; events: string[] }> }).result);
    expect(result.epochs).toBe(1);
    expect(result.accuracy).toBeGreaterThan(0.8);
    expect(result.events).toEqual(['loading', 'started', 'batch', 'epoch', 'done']);
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    await server.close();
  }
});
