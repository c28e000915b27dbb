// init({ threads }) in Chromium: on a cross-origin-isolated page (COOP + COEP headers) each threads build starts a
// Web Worker and shares a product with it, bit-identical to the same build without threads on one thread; Chromium
// validates relaxed SIMD, so threads: 2 alone picks relaxed-simd-threads, and threads: 'auto' runs one thread per
// core. Without isolation there is no shared memory: a number of threads is a clear error, and 'auto' runs one
// thread and says why.
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
  it("a cross-origin-isolated page shares a product with a Web Worker on each threads build, bit-identical to one thread; 'auto' runs one thread per core", async () => {
    const results = await openPage(ISOLATION);
    const cores = await browser.newPage().then(async (page) => {
      const n = await page.evaluate(() => navigator.hardwareConcurrency);
      await page.close();
      return n;
    });
    expect(results).toMatchObject({
      isolated: true,
      relaxedSimd: true,
      picked: 'relaxed-simd-threads',
      builds: {
        'relaxed-simd-threads': { threads: 2, shared: 1, identical: true },
        'simd-threads': { threads: 2, shared: 1, identical: true },
      },
      auto: { build: 'relaxed-simd-threads', threads: Math.min(cores, 16) },
    });
  });

  it("without isolation, a number of threads is a clear error and 'auto' runs one thread, saying why", async () => {
    const results = await openPage({});
    expect(results.isolated).toBe(false);
    expect(results.error).toBe('createWasmBackend: threads: 2 needs memory shared between threads, and the page is not ' +
      'cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and ' +
      "Cross-Origin-Embedder-Policy: require-corp); ask for threads: 'auto' to run on one thread where it cannot be shared");
    expect(results.auto).toEqual({ build: 'relaxed', threads: 1, note: 'one thread: memory cannot be shared between threads here (the page is not ' +
      'cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and ' +
      'Cross-Origin-Embedder-Policy: require-corp))' });
  });
});
