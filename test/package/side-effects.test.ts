// package.json's `sideEffects` lists the files of dist/ that do something when imported (wire the ops onto Tensor,
// register the tfjs backend and its kernels, register the inlined wasm builds, run the CLI or the worker) and the
// files that import one of those for its effect (`import './ops/index.js'`: webpack skips a side-effect-free file
// whole, its bare imports with it); a bundler may leave out any other file whose exports an app does not use.
// Checked on the built dist/: with esbuild, a bundle of an app that imports one function is smaller than when the
// field is ignored (`ignoreAnnotations`); with esbuild and webpack, the listed files are kept and do their work; and
// the list names exactly the files with statements (or bare imports) at their top level.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import webpack from 'webpack';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const { sideEffects } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { sideEffects: string[] };

/**
 * Files whose top-level statements touch only their own declarations, so leaving the file out when its exports are
 * unused changes nothing: module.js makes Module's prototype callable.
 */
const OWN_DECLARATIONS_ONLY = ['./dist/nn/module.js'];

/** An app of `code`, bundled for browsers (resolved from this package, so 'wasmgrad' is dist/ by its exports). */
async function bundle(code: string, options: Pick<esbuild.BuildOptions, 'ignoreAnnotations' | 'platform' | 'format'> = {}) {
  const result = await esbuild.build({
    stdin: { contents: code, resolveDir: root, loader: 'js' }, bundle: true, write: false, minify: true, format: 'esm',
    platform: 'browser', metafile: true, logLevel: 'silent', ...options,
  });
  const [output] = Object.values(result.metafile.outputs);
  const files = Object.entries(output!.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([file]) => `./${file}`);
  return { code: result.outputFiles[0]!.text, bytes: result.outputFiles[0]!.contents.length, files };
}

/** Runs bundled code (an ES module, or CommonJS) in Node and returns what it printed. */
function run(code: string, format: 'esm' | 'cjs' = 'esm'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wg-side-effects-')), format === 'esm' ? 'app.mjs' : 'app.cjs');
  writeFileSync(file, code);
  return execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim();
}

/** Every .js file under dir, as './dist/…'. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))
    .map((f) => `./${relative(root, join(dir, f)).split('\\').join('/')}`);
}

/** Whether a file runs statements of its own, or a bare import, at its top level (not only declarations). */
function runsStatements(file: string): boolean {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.ES2022, false);
  return source.statements.some((s) => ts.isExpressionStatement(s) || ts.isIterationStatement(s, false) || ts.isIfStatement(s) ||
    (ts.isImportDeclaration(s) && !s.importClause));
}

/** An app of `code` bundled by webpack (production, for browsers), as the code of its one output file. */
async function webpackBundle(code: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'wg-side-effects-webpack-'));
  writeFileSync(join(dir, 'entry.js'), code);
  const compiler = webpack({
    mode: 'production', entry: join(dir, 'entry.js'), output: { path: dir, filename: 'out.js', publicPath: '' },
    resolve: { alias: { wasmgrad$: join(root, 'dist/index.js') } },
  });
  const stats = await new Promise<webpack.Stats>((resolve, reject) => compiler.run((e, s) => (e ? reject(e) : resolve(s!))));
  await new Promise((resolve) => compiler.close(resolve));
  expect(stats.hasErrors(), stats.toString('errors-only')).toBe(false);
  return readFileSync(join(dir, 'out.js'), 'utf8');
}

describe("package.json's sideEffects", () => {
  it('names exactly the files of dist/ that run statements or bare imports at their top level (each exists)', () => {
    const running = jsFiles(join(root, 'dist')).filter(runsStatements);
    expect(running.sort()).toEqual([...sideEffects, ...OWN_DECLARATIONS_ONLY].sort());
  });

  it('an app importing one function bundles less than when the field is ignored', async () => {
    const app = "import { Generator } from 'wasmgrad'; console.log(Array.from(new Generator(1).normal(2)));";
    const [shaken, whole] = await Promise.all([bundle(app), bundle(app, { ignoreAnnotations: true })]);
    // Left out: layers and optimizers the app never uses; both bundles still run and give the same numbers.
    for (const file of ['./dist/nn/module.js', './dist/optim/optimizer.js']) {
      expect(whole.files).toContain(file);
      expect(shaken.files).not.toContain(file);
    }
    expect(shaken.bytes).toBeLessThan(0.9 * whole.bytes);
    expect(run(shaken.code)).toBe(run(whole.code));
  });

  it('the main entry keeps ./dist/ops/index.js, which wires the ops onto Tensor (esbuild and webpack)', async () => {
    const app = "import { Tensor } from 'wasmgrad'; console.log(typeof Tensor.prototype.matmul, typeof Tensor.prototype.relu);";
    const { files, code } = await bundle(app);
    expect(files).toContain('./dist/ops/index.js');
    expect(run(code)).toBe('function function');
    expect(run(await webpackBundle(app), 'cjs')).toBe('function function');
  }, 60_000);

  it("wasmgrad/tfjs keeps its registration: the 'wasmgrad' backend and its kernels", async () => {
    const app = "import * as tf from '@tensorflow/tfjs-core'; import 'wasmgrad/tfjs';" +
      "console.log(tf.findBackendFactory('wasmgrad') !== null, tf.getKernelsForBackend('wasmgrad').length > 100);";
    // For Node, with tfjs-core inside the bundle (its Node build is CommonJS).
    const { files, code } = await bundle(app, { platform: 'node', format: 'cjs' });
    expect(files).toContain('./dist/tfjs/index.js');
    expect(run(code, 'cjs')).toBe('true true');
  });
});
