import { playwright } from '@vitest/browser-playwright';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import type { BrowserCommand } from 'vitest/node';

/** Runs the seeded training run of test/helpers/determinism.mjs in Node, on the built dist/ (for the browser test). */
const seededRunInNode: BrowserCommand<[steps: number]> = async (_ctx, steps) => {
  const { seededRun } = await import('./test/helpers/determinism.mjs');
  // dist/ is the same library as src/, compiled: the types differ only by path.
  return seededRun((await import('./dist/index.js')) as never, steps);
};

// Chromium from Debian (Playwright cannot download its own browser here); flags as in DEVELOPERS.md.
export const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
};

/**
 * The package's entries ('wasmgrad', 'wasmgrad/tfjs', …) resolved to their sources, for the examples the tests
 * import: otherwise they load dist/, a second copy of the library beside the src/ the tests import, with its own
 * backend, memory counts and tfjs kernel registrations (each copy registers every kernel; tfjs warns and keeps the
 * last copy's kernels with the first copy's backend).
 */
const exportsMap = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { default: string }>;
}).exports;
const sources = Object.entries(exportsMap)
  .filter(([entry, target]) => !entry.includes('*') && typeof target === 'object')
  .map(([entry, target]) => ({
    find: new RegExp(`^wasmgrad${entry.slice(1).replace(/[/.]/g, '\\$&')}$`),
    replacement: new URL(`./src/${(target as { default: string }).default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')}`, import.meta.url).pathname,
  }));

/** Tests that use no Node API: they run in Node and again in Chromium against the wasm backend. */
const portable = ['test/kernels/**/*.test.ts', 'test/autograd/**/*.test.ts', 'test/optim/**/*.test.ts',
  'test/nn/**/*.test.ts', 'test/backend/**/*.test.ts'];

export default defineConfig({
  test: {
    // Vitest's default (one worker fewer than the cores) gives a 2-core CI runner one worker, which leaves a core idle
    // while a file waits on child processes or the browser: on this 2-core VM two workers ran the suite in 766 s with other
    // work running beside it, one worker in 848 s on a quiet machine. The threads tests that count CPU time read their own process's, so a file beside them does not skew it.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          alias: sources,
          exclude: ['test/browser/**'],
          // Lets Node validate the relaxed-SIMD build, so the tests cover every build this machine can run.
          execArgv: ['--experimental-wasm-relaxed-simd'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'chromium',
          include: [...portable, 'test/browser/**/*.test.ts'],
          testTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: chromium }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
            commands: { seededRunInNode },
          },
        },
      },
    ],
  },
});
