// The demo page, built as static files and opened in Chromium: it trains in a Web Worker, shows the graph and
// the seed's table, and reads a digit drawn on its canvas. Served with the headers of its _headers file (cross-origin
// isolated) it trains on every core; served without them, on one thread with a note saying why. The Vite dev server
// and preview send the same headers. The CNN trains and reads digits there too, and the names page trains the
// character GPT and lists the names it makes up. At a phone's and a laptop's viewport the page fits its width,
// shows the download and the chart, says why a drawing gets no prediction, and answers bad input with a message.
// Saves screenshots to test/artifacts/ (demo.png, demo-cnn.png, demo-names.png; demo-phone.png, demo-laptop.png,
// demo-names-phone.png, demo-names-laptop.png attached to the tests' output with annotate()).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright';
import { build, createServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
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
  await page.locator('#canvas').scrollIntoViewIfNeeded(); // the mouse reaches only what is in the viewport
  const box = (await page.locator('#canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.035 * i));
  await page.mouse.up();
}

/** Whether the page scrolls sideways (wider than its viewport). */
const scrollsSideways = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth > innerWidth);

const VIEWPORTS = [{ name: 'phone', width: 390, height: 844 }, { name: 'laptop', width: 1366, height: 768 }];

describe('demo page at a phone\'s and a laptop\'s width', () => {
  test.for(VIEWPORTS)('$name ($width×$height): no sideways scroll; download progress, chart, prediction reasons, form messages, graph, explain table', async ({ name, width, height }, { annotate }) => {
    const server = await serve(join(demo, 'dist'), headersFile(readFileSync(join(demo, 'dist/_headers'), 'utf8')));
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    // Every status line shown and every unhandled rejection, recorded from the start.
    await page.addInitScript(() => {
      const w = window as unknown as { statuses: string[]; rejections: string[] };
      [w.statuses, w.rejections] = [[], []];
      addEventListener('unhandledrejection', (e) => w.rejections.push(String(e.reason)));
      addEventListener('DOMContentLoaded', () => {
        const status = document.querySelector('#status')!;
        new MutationObserver(() => w.statuses.push(status.textContent!)).observe(status, { childList: true, characterData: true, subtree: true });
      });
    });
    const status = async () => (await page.textContent('#status'))!.trim();
    try {
      await page.goto(server.url);
      await page.waitForSelector('#graph svg');
      expect(await scrollsSideways(page)).toBe(false);
      expect(await page.textContent('#chart .placeholder')).toContain('The chart fills in as the model trains');

      // Before training, a drawing gets no prediction, and the page says why.
      await drawOne(page);
      expect(await page.textContent('#predict-note')).toContain('No prediction yet: the model is not trained');
      expect(await page.textContent('#prediction')).toBe('—');

      // Bad input: a message, no request, no rejection.
      for (const [id, value, message] of [
        ['#epochs', '0', 'epochs must be a whole number from 1 to 50, got 0.'],
        ['#epochs', '', 'epochs must be a whole number from 1 to 50.'],
        ['#epochs', '2.5', 'epochs must be a whole number from 1 to 50, got 2.5.'],
        ['#hidden', '13', 'hidden units must be a multiple of 8 from 8 to 1024, got 13.'],
        ['#hidden', '4096', 'hidden units must be a multiple of 8 from 8 to 1024, got 4096.'],
      ] as const) {
        await page.fill('#hidden', '32');
        await page.fill('#epochs', '2');
        await page.fill(id, value);
        await page.click('#train');
        expect(await status()).toBe(message);
        expect(await page.isDisabled('#train')).toBe(false);
      }

      await page.fill('#hidden', '32');

      // Stopped before the first epoch ends: the drawing still gets no prediction, and the page says why.
      await page.selectOption('#model', 'cnn');
      await page.fill('#epochs', '1');
      await page.click('#train');
      await page.waitForFunction(() => /%/.test(document.querySelector('#epoch')!.textContent!), null, { timeout: 60_000 });
      await page.click('#stop');
      await page.waitForFunction(() => document.querySelector('#status')!.textContent!.startsWith('Stopped'), null, { timeout: 60_000 });
      await drawOne(page);
      expect(await page.textContent('#predict-note')).toContain('No prediction: training was stopped before its first epoch ended');

      // A run: the download's progress, then the chart and its legend, and a prediction at the end.
      await page.selectOption('#model', 'mlp');
      await page.fill('#epochs', '2');
      await page.click('#train');
      await page.waitForFunction(() => document.querySelector('#status')!.textContent!.startsWith('Done'), null, { timeout: 90_000 });
      const statuses = await page.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
      const downloading = statuses.filter((t) => t.startsWith('Downloading'));
      expect(downloading.length).toBeGreaterThan(1);
      for (const t of downloading) expect(t).toMatch(/^Downloading the digits: \d\.\d of 1\.6 MB…$/);
      expect(await page.locator('#chart .placeholder').count()).toBe(0);
      expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
      const legend = await page.locator('#chart .legend li').allTextContents();
      expect(legend).toHaveLength(3);
      expect(legend[0]).toMatch(/^training loss \d\.\d{4}$/);
      expect(legend[1]).toMatch(/^test loss \d\.\d{4}$/);
      expect(legend[2]).toBe(`test accuracy ${await page.textContent('#accuracy')}`);
      expect(await page.textContent('#throughput')).toMatch(/^[\d,]+ samples\/s$/);
      await drawOne(page);
      await page.waitForFunction(() => /^\d$/.test(document.querySelector('#prediction')!.textContent!));
      expect(await page.isVisible('#predict-note')).toBe(false);

      // The graph: text at a readable size, real names in the tooltips, the linear layer as × and +, the loss named.
      const texts = await page.locator('#graph svg text').allTextContents();
      expect(texts).toEqual(expect.arrayContaining(['×', '+', 'φ', 'l', 'L = cross-entropy', 'W1']));
      expect((await page.locator('#graph svg text', { hasText: /^W1$/ }).boundingBox())!.height).toBeGreaterThanOrEqual(10);
      const tooltips = await page.locator('#graph g.node > title').allTextContents();
      expect(tooltips).toEqual(expect.arrayContaining(["parameter W1, shape [32×784]: the first layer's weights", 'matmul(x, W1) → (add)',
        'add((matmul), b1) → z', 'crossEntropy(o, y) → L = cross-entropy']));
      expect(tooltips.filter((t) => /^t\d+$|^op\d+/.test(t))).toEqual([]);
      // The seed's example: forward values and the update, beside the backward table.
      expect(await page.textContent('#explain')).toContain('ŷ = 1.1');
      expect(await page.textContent('#explain')).toContain('L = 1.805');
      expect(await page.textContent('#update')).toContain('0.5 − 0.1 × (-3.8) = 0.88');

      expect(await scrollsSideways(page)).toBe(false);
      mkdirSync(join(root, 'test/artifacts'), { recursive: true });
      const shot = join(root, `test/artifacts/demo-${name}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      await annotate(`screenshot at ${width}×${height}: test/artifacts/demo-${name}.png`, { path: shot, contentType: 'image/png' });
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { rejections: string[] }).rejections)).toEqual([]);

      // The names page fits too, and answers bad input with a message.
      await page.click('nav a[href="./names.html"]');
      await page.waitForSelector('#chart .placeholder');
      expect(await scrollsSideways(page)).toBe(false);
      await page.fill('#layers', '9');
      await page.click('#train');
      expect(await status()).toBe('layers must be a whole number from 1 to 6, got 9.');
      const namesShot = join(root, `test/artifacts/demo-names-${name}.png`);
      await page.screenshot({ path: namesShot, fullPage: true });
      await annotate(`screenshot of the names page at ${width}×${height}: test/artifacts/demo-names-${name}.png`, { path: namesShot, contentType: 'image/png' });
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { rejections: string[] }).rejections)).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });
});

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
      expect(await page.locator('#graph svg text').allTextContents()).toEqual(expect.arrayContaining(['×', '+', 'φ', 'l', 'L = cross-entropy']));
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
      expect(await page.locator('#graph svg text').allTextContents()).toEqual(expect.arrayContaining(['conv2d', 'batchNorm', 'maxPool2d', 'φ', 'L = cross-entropy']));
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
