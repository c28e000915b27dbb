// Same seed, same build → bit-identical parameters after N training steps in Chromium and in Node.
import { expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import * as wg from '../../src/index.js';
import { seededRun } from '../helpers/determinism.mjs';

declare module 'vitest/browser' {
  interface BrowserCommands {
    seededRunInNode: (steps: number) => Promise<Awaited<ReturnType<typeof seededRun>>>;
  }
}

it('trains to bit-identical parameters in Chromium and in Node (simd build)', async () => {
  const browser = await seededRun(wg, 30);
  const node = await commands.seededRunInNode(30);
  expect(browser.build).toBe('simd');
  expect(node.build).toBe('simd');
  expect(browser.losses[29]).toBeLessThan(browser.losses[0]!);
  expect(browser.losses).toEqual(node.losses);
  expect(browser.params.length).toBe(6);
  browser.params.forEach((p, i) => {
    const same = p.every((v, j) => Object.is(v, node.params[i]![j]));
    expect(same, `parameter ${i} differs between Chromium and Node`).toBe(true);
  });
});
