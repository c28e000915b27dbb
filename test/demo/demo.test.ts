// The demo page, built as static files and opened in Chromium: it trains in a Web Worker, shows the graph and
// the seed's table, and reads a digit drawn on its canvas. Served with the headers of its _headers file (cross-origin
// isolated) it trains on every core; served without them, on one thread with a note saying why. The Vite dev server
// and preview send the same headers. The CNN trains and reads digits there too, and the names page trains the
// character GPT and lists the names it makes up. Saves screenshots to test/artifacts/ (demo.png, demo-cnn.png,
// demo-names.png).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { build, createServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium as launchOptions } from '../../vitest.config.js';
import { serve } from '../helpers/static-server.js';

const root = join(import.meta.dirname, '../..');
const demo = join(root, 'demo');
const configFile = join(demo, 'vite.config.ts');
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
let browser: Browser;

/** The headers a _headers file gives every path ('/*'), as Netlify and Cloudflare Pages read it. */
function headersFile(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  let all = false;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) all = line.trim() === '/*';
    else if (all) {
      const [name, ...value] = line.trim().split(':');
      headers[name!.trim().toLowerCase()] = value.join(':').trim();
    }
  }
  return headers;
}

beforeAll(async () => {
  await build({ configFile, root: demo, logLevel: 'error' });
  browser = await chromium.launch(launchOptions);
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Opens the page at `url`, collecting its errors and the requests that leave `origin`. */
async function open(url: string, origin = url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors: string[] = [];
  const external: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('request', (r) => !r.url().startsWith(origin) && !/^(data|blob):/.test(r.url()) && external.push(r.url()));
  await page.goto(url);
  return { page, errors, external };
}

async function train(page: Page, epochs: number): Promise<void> {
  await page.fill('#hidden', '64');
  await page.fill('#epochs', String(epochs));
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#status')!.textContent!.startsWith('Done'), null, { timeout: 90_000 });
}

/** Draws a "1": one vertical stroke through the middle of the canvas. */
async function drawOne(page: Page): Promise<void> {
  const box = (await page.locator('#canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.035 * i));
  await page.mouse.up();
}

describe('demo page', () => {
  it('ships a _headers file that makes the static build cross-origin isolated', () => {
    expect(headersFile(readFileSync(join(demo, 'dist/_headers'), 'utf8'))).toEqual(ISOLATION);
  });

  it('cross-origin isolated: trains on every core in a worker, explains the seed, draws the graph, reads a drawn digit — offline', async () => {
    const server = await serve(join(demo, 'dist'), headersFile(readFileSync(join(demo, 'dist/_headers'), 'utf8')));
    const { page, errors, external } = await open(server.url);
    try {
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.isVisible('#threads-note')).toBe(false);
      await train(page, 3);
      expect(Number(await page.textContent('#threads'))).toBe(Math.min(cores, 16));
      expect(cores).toBeGreaterThan(1);
      const accuracy = parseFloat((await page.textContent('#accuracy'))!);
      expect(accuracy).toBeGreaterThan(88);
      expect(await page.textContent('#build')).toBe('wasm relaxed-simd-threads');
      expect(await page.textContent('#throughput')).toMatch(/samples\/s/);
      expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
      await page.waitForSelector('#graph svg');
      expect(await page.locator('#graph svg text').allTextContents()).toEqual(expect.arrayContaining(['×', 'φ', 'l', 'L']));
      expect(await page.locator('#explain tr').count()).toBe(4); // header + the seed's three steps
      expect(await page.textContent('#explain')).toContain('∂L/∂w = -3.8');
      await drawOne(page);
      await page.waitForFunction(() => /^\d$/.test(document.querySelector('#prediction')!.textContent!));
      expect(await page.textContent('#prediction')).toBe('1');
      const shares = (await page.locator('#bars .bar').allTextContents()).map((t) => parseFloat(t.slice(1)));
      expect(shares).toHaveLength(10);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
      mkdirSync(join(root, 'test/artifacts'), { recursive: true });
      await page.screenshot({ path: join(root, 'test/artifacts/demo.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('trains the CNN when chosen, draws its graph, and reads a drawn digit with it', async () => {
    const server = await serve(join(demo, 'dist'), headersFile(readFileSync(join(demo, 'dist/_headers'), 'utf8')));
    const { page, errors, external } = await open(server.url);
    try {
      await page.selectOption('#model', 'cnn');
      expect(await page.isDisabled('#hidden')).toBe(true); // the MLP's setting
      await page.fill('#epochs', '1');
      await page.click('#train');
      await page.waitForFunction(() => document.querySelector('#status')!.textContent!.startsWith('Done'), null, { timeout: 240_000 });
      expect(parseFloat((await page.textContent('#accuracy'))!)).toBeGreaterThan(93);
      await page.waitForFunction(() => document.querySelector('#graph svg') && /conv2d/.test(document.querySelector('#graph')!.textContent!));
      expect(await page.locator('#graph svg text').allTextContents()).toEqual(expect.arrayContaining(['conv2d', 'batchNorm', 'maxPool2d', 'φ', 'L']));
      await drawOne(page);
      await page.waitForFunction(() => /^\d$/.test(document.querySelector('#prediction')!.textContent!));
      expect(await page.textContent('#prediction')).toBe('1');
      mkdirSync(join(root, 'test/artifacts'), { recursive: true });
      await page.screenshot({ path: join(root, 'test/artifacts/demo-cnn.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 300_000);

  it('the names page trains the character GPT in the worker and lists new names as it learns; the tabs link the pages', async () => {
    const server = await serve(join(demo, 'dist'), headersFile(readFileSync(join(demo, 'dist/_headers'), 'utf8')));
    const { page, errors, external } = await open(`${server.url}names.html`, server.url);
    try {
      expect(await page.getAttribute('nav a[href="./index.html"]', 'aria-current')).toBeNull();
      await page.fill('#layers', '1');
      await page.fill('#width', '32');
      await page.fill('#epochs', '2');
      await page.click('#train');
      // Names while it learns: the list fills before the run is done.
      await page.waitForFunction(() => document.querySelectorAll('#names li').length > 0, null, { timeout: 90_000 });
      await page.waitForFunction(() => document.querySelector('#status')!.textContent!.startsWith('Done'), null, { timeout: 180_000 });
      expect(Number(await page.textContent('#threads'))).toBeGreaterThan(1);
      expect(parseFloat((await page.textContent('#val-loss'))!)).toBeLessThan(2.6);
      expect(await page.textContent('#throughput')).toMatch(/chars\/s/);
      await page.fill('#prompt', 'ma');
      await page.click('#more');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#names li')).every((li) => li.textContent!.startsWith('ma')));
      const names = await page.locator('#names li').allTextContents();
      expect(names).toHaveLength(24);
      for (const n of names) expect(n).toMatch(/^ma[a-z-]*$/);
      mkdirSync(join(root, 'test/artifacts'), { recursive: true });
      await page.screenshot({ path: join(root, 'test/artifacts/demo-names.png'), fullPage: true });
      await page.click('nav a[href="./index.html"]');
      await page.waitForSelector('#canvas');
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 300_000);

  it('not isolated: trains on one thread and says why', async () => {
    const server = await serve(join(demo, 'dist'));
    const { page, errors, external } = await open(server.url);
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await page.isVisible('#threads-note')).toBe(true);
      expect(await page.textContent('#threads-note')).toContain('not cross-origin isolated');
      await train(page, 1);
      expect(await page.textContent('#threads')).toBe('1');
      expect(await page.textContent('#build')).toBe('wasm relaxed');
      expect(parseFloat((await page.textContent('#accuracy'))!)).toBeGreaterThan(80);
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('npm run demo (the Vite dev server) is cross-origin isolated: every resource loads and training runs on every core', async () => {
    const server = await createServer({ configFile, root: demo, logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
    await server.listen();
    const url = server.resolvedUrls!.local[0]!;
    const { page, errors, external } = await open(url);
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.isVisible('#threads-note')).toBe(false);
      await page.fill('#hidden', '64');
      await page.fill('#epochs', '1');
      await page.click('#train');
      // The first progress message means the worker loaded the library, its threads and the data under COEP.
      await page.waitForFunction(() => /%/.test(document.querySelector('#epoch')!.textContent!), null, { timeout: 90_000 });
      expect(Number(await page.textContent('#threads'))).toBeGreaterThan(1);
      await page.click('#stop');
      await page.waitForFunction(() => /^(Stopped|Done)/.test(document.querySelector('#status')!.textContent!), null, { timeout: 60_000 });
      await page.waitForSelector('#graph svg');
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('the Vite preview of the built page sends the isolation headers', async () => {
    const server = await preview({ configFile, root: demo, logLevel: 'error', preview: { port: 0, host: '127.0.0.1' } });
    try {
      const res = await fetch(server.resolvedUrls!.local[0]!);
      expect(res.status).toBe(200);
      expect(Object.fromEntries(Object.keys(ISOLATION).map((h) => [h, res.headers.get(h)]))).toEqual(ISOLATION);
    } finally {
      await server.close();
    }
  });
});
