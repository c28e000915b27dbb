#!/usr/bin/env node
// Runs TensorFlow.js's own test suite (the jasmine specs @tensorflow/tfjs-core ships in dist/**/*_test.js) on
// the 'wasmgrad' backend, filtered by filters.ts, and prints the report (report.ts) as JSON on stdout. Exits 1
// when the report has problems (a failed spec, a list that no longer matches the suite or the kernels).
//   node test/tfjs-core/run.mjs [--backend wasmgrad|cpu]
// --backend cpu runs the same harness on tfjs-backend-cpu (it proves the harness: cpu passes every spec).
// The test files are ES modules written for bundlers (import mixed with require), so esbuild bundles them with
// tfjs-core, the backends and the harness into one file first.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '../..');
const { values: args } = parseArgs({ options: { backend: { type: 'string', default: 'wasmgrad' } } });
if (!['wasmgrad', 'cpu'].includes(args.backend)) throw new Error(`run.mjs: --backend is wasmgrad or cpu, not ${args.backend}`);

const started = performance.now();
// Inside node_modules so that the bundle's imports left to Node (jasmine-core) resolve from the repository.
const outDir = join(root, 'node_modules/.cache/tfjs-core-suite');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'suite.mjs');
await build({
  entryPoints: [join(import.meta.dirname, 'suite.mjs')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  // tfjs's ES modules (dist/index.js, which the test files import), not its CommonJS node bundle: one tfjs-core.
  mainFields: ['module', 'main'],
  // tfjs-core's package.json marks its test files free of side effects; they are nothing but side effects.
  ignoreAnnotations: true,
  // jasmine.js is sloppy-mode code (it assigns undeclared variables): loaded by Node as it is, not bundled.
  external: ['jasmine-core'],
  // The CommonJS code inside (tfjs's require('jasmine-core/...'), seedrandom, ...) needs a require.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'error',
});
const bundledMs = performance.now() - started;

process.env.TFJS_SUITE_BACKEND = args.backend;
// The specs log (tf.profile's tables, deprecation warnings): keep stdout for the JSON report.
console.log = console.info = console.error;
const { runSuite } = await import(pathToFileURL(outfile).href);
const report = await runSuite();
const seconds = { bundle: +(bundledMs / 1000).toFixed(1), total: +((performance.now() - started) / 1000).toFixed(1) };
process.stdout.write(`${JSON.stringify({ backend: args.backend, seconds, ...report }, null, 1)}\n`);
// The backends keep nothing alive that should delay the exit, but tfjs's timers might: exit now.
process.exit(report.problems.length > 0 ? 1 : 0);
