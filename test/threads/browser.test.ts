// init({ threads }) in Chromium: on a cross-origin-isolated page (COOP + COEP headers) each threads build starts a
// Web Worker and shares a product with it, bit-identical to the same build without threads on one thread; Chromium
// validates relaxed SIMD, so threads: 2 alone picks relaxed-simd-threads. Without isolation there is no shared
// memory, and createWasmBackend says so.
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as launchOptions } from '../../vitest.config.js';
import { serve } from '../helpers/static-server.js';

const root = join(import.meta.dirname, '../..');
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
let browser: Browser;

beforeAll(async () => {
  browser = await chromium.launch(launchOptions);
});
afterAll(async () => browser?.close());

async function openPage(headers: Record<string, string>): Promise<Record<string, unknown>> {
  const server = await serve(root, headers);
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}test/threads/page.html`);
    await page.waitForFunction(() => 'results' in window, undefined, { timeout: 60_000 });
    return await page.evaluate(() => (window as unknown as { results: Record<string, unknown> }).results);
  } finally {
    await page.close();
    await server.close();
  }
}

describe('threads in Chromium', () => {
  it('a cross-origin-isolated page shares a product with a Web Worker on each threads build, bit-identical to one thread', async () => {
    expect(await openPage(ISOLATION)).toEqual({
      isolated: true,
      relaxedSimd: true,
      auto: 'relaxed-simd-threads',
      builds: {
        'relaxed-simd-threads': { threads: 2, shared: 1, identical: true },
        'simd-threads': { threads: 2, shared: 1, identical: true },
      },
    });
  });

  it('without isolation, asking for threads is a clear error', async () => {
    const results = await openPage({});
    expect(results.isolated).toBe(false);
    expect(results.error).toContain("cannot run the 'simd-threads' build");
    expect(results.error).toContain('cross-origin-isolated page');
  });
});
