#!/usr/bin/env node
// Runs TensorFlow.js's own test suite (the jasmine specs @tensorflow/tfjs-core ships in dist/**/*_test.js) on
// the 'wasmgrad' backend and prints the report (report.ts) as JSON on stdout; exits 1 when it has problems (a
// failed spec, a list that no longer matches the suite or the kernels).
//   node --experimental-wasm-relaxed-simd test/tfjs-core/run.mjs
// Two runs, each in a process of its own (jasmine and tfjs keep global state): first the reference, every spec
// on tfjs-backend-cpu, which must all pass and which records the kernels each spec dispatches; then 'wasmgrad',
// which leaves out the specs that need a kernel it neither has natively nor lets fall back to cpu, and the
// specs filters.ts excludes (each with its reason).
// The test files are ES modules written for bundlers (import mixed with require), so esbuild first bundles them
// with tfjs-core, the backends and the harness into one file.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '../..');
// Inside node_modules so that the bundle's imports left to Node (jasmine-core) resolve from the repository.
const outDir = join(root, 'node_modules/.cache/tfjs-core-suite');
const bundle = join(outDir, 'suite.mjs');
const [mode, backend, referencePath] = process.argv.slice(2);
const reportPath = (name) => join(outDir, `${name}.json`);

if (mode === '--pass') {
  // One run, in this process, its report in a file; what the specs log (tf.profile's tables, warnings) on stderr.
  process.env.TFJS_SUITE_BACKEND = backend;
  console.log = console.info = console.error;
  const { runSuite } = await import(pathToFileURL(bundle).href);
  const report = await runSuite(referencePath ? JSON.parse(readFileSync(referencePath, 'utf8')) : undefined);
  writeFileSync(reportPath(backend), JSON.stringify(report));
  process.exit(0); // tfjs's timers must not delay the exit (the report is in a file: nothing left to flush)
}

const started = performance.now();
const seconds = () => +((performance.now() - started) / 1000).toFixed(1);
mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(import.meta.dirname, 'suite.mjs')],
  outfile: bundle,
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
const timing = { bundle: seconds() };

/** One run in a child process (with this process's Node flags), its report read back. */
async function pass(name, ...args) {
  const before = seconds();
  await promisify(execFile)(process.execPath, [...process.execArgv, import.meta.filename, '--pass', name, ...args],
    { maxBuffer: 64 << 20 });
  timing[name] = +(seconds() - before).toFixed(1);
  return JSON.parse(readFileSync(reportPath(name), 'utf8'));
}

const { kernelsBySpec, ...reference } = await pass('cpu');
const referenceFile = reportPath('kernels-by-spec');
writeFileSync(referenceFile, JSON.stringify(kernelsBySpec));
const report = await pass('wasmgrad', referenceFile);
const problems = [...reference.problems.map((p) => `reference run on cpu: ${p}`), ...report.problems];
process.stdout.write(`${JSON.stringify({ ...report, problems, reference: { counts: reference.counts },
  seconds: { ...timing, total: seconds() } }, null, 1)}\n`);
process.exitCode = problems.length > 0 ? 1 : 0; // not process.exit(): it could cut the report short
