// The demo page, built as static files and opened in Chromium: it trains in a Web Worker, shows the graph and
// the seed's table, and reads a digit drawn on its canvas. Saves a screenshot to test/artifacts/demo.png.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as launchOptions } from '../../vitest.config.js';
import { serve } from '../helpers/static-server.js';

const root = join(import.meta.dirname, '../..');
let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  await build({ configFile: join(root, 'demo/vite.config.ts'), root: join(root, 'demo'), logLevel: 'error' });
  server = await serve(join(root, 'demo/dist'));
  browser = await chromium.launch(launchOptions);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('demo page', () => {
  it('trains live in a worker, explains the seed, draws the graph, reads a drawn digit — offline', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    const external: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => !r.url().startsWith(server.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:') && external.push(r.url()));
    await page.goto(server.url);
    await page.fill('#hidden', '64');
    await page.fill('#epochs', '3');
    await page.click('#train');
    await page.waitForFunction(() => document.querySelector('#status')!.textContent!.startsWith('Done'), null, { timeout: 90_000 });
    const accuracy = parseFloat((await page.textContent('#accuracy'))!);
    expect(accuracy).toBeGreaterThan(88);
    expect(await page.textContent('#build')).toMatch(/^wasm (relaxed|simd)$/);
    expect(await page.textContent('#throughput')).toMatch(/samples\/s/);
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
    await page.waitForSelector('#graph svg');
    expect(await page.locator('#graph svg text').allTextContents()).toEqual(expect.arrayContaining(['×', 'φ', 'l', 'L']));
    expect(await page.locator('#explain tr').count()).toBe(4); // header + the seed's three steps
    expect(await page.textContent('#explain')).toContain('∂L/∂w = -3.8');
    // draw a "1": one vertical stroke through the middle of the canvas
    const box = (await page.locator('#canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.035 * i));
    await page.mouse.up();
    await page.waitForFunction(() => /^\d$/.test(document.querySelector('#prediction')!.textContent!));
    expect(await page.textContent('#prediction')).toBe('1');
    const shares = (await page.locator('#bars .bar').allTextContents()).map((t) => parseFloat(t.slice(1)));
    expect(shares).toHaveLength(10);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
    mkdirSync(join(root, 'test/artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'test/artifacts/demo.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
  });
});
