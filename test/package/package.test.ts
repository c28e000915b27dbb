// The package as npm publishes it (issue 17): packed from this checkout (with the dist/ and build/ that
// `npm test` has just brought up to date; `--ignore-scripts` so the test never rebuilds under the other tests) and
// installed with npm into a temporary project. It holds the built JavaScript, its types and the wasm builds, has no
// script npm runs or warns about on install (the build is `prepack`), its source maps carry their sources, and
// every entry point works from `import` and from CommonJS `require()` on this Node, which `engines` allows.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>; engines: { node: string }; exports: Record<string, unknown>;
};

let dir: string;
let packed: string[];
let installLog: string;
let installed: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmgrad-package-'));
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  })) as [{ filename: string; files: { path: string }[] }];
  packed = pack.files.map((f) => f.path);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, pack.filename)], {
    cwd: app, encoding: 'utf8',
  });
  installLog = `${install.stdout}\n${install.stderr}`;
  expect(install.status, installLog).toBe(0);
  installed = join(app, 'node_modules/wasmgrad');
  // The optional peer of wasmgrad/tfjs, from this checkout (npm does not install optional peers).
  mkdirSync(join(app, 'node_modules/@tensorflow'), { recursive: true });
  symlinkSync(join(root, 'node_modules/@tensorflow/tfjs-core'), join(app, 'node_modules/@tensorflow/tfjs-core'), 'dir');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `code` with node in the temporary project (CommonJS, or an ES module with `esm`); returns its stdout. */
function run(code: string, esm = false): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...(esm ? ['--input-type=module'] : []), '-e', code], {
    cwd: join(dir, 'app'), encoding: 'utf8', timeout: 60_000,
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** One training step of a Linear layer on two threads, printing the backend and whether the weights moved. */
const TRAIN_STEP = `
(async () => {
  await wg.init({ threads: 2 });
  const model = new wg.nn.Linear(3, 2);
  const opt = new wg.optim.SGD(model.parameters(), { lr: 0.1 });
  const before = Array.from(model.parameters()[0].data());
  wg.tidy(() => {
    opt.zeroGrad();
    wg.nn.crossEntropy(model(wg.tensor([[1, 2, 3], [4, 5, 6]])), [0, 1]).backward();
    opt.step();
  });
  const after = Array.from(model.parameters()[0].data());
  console.log(JSON.stringify({ backend: wg.backendInfo().backend, threads: wg.backendInfo().threads,
    changed: after.some((v, i) => v !== before[i]) }));
})();`;

const trained = { backend: 'wasm', threads: 2, changed: true };

describe('the packed package', () => {
  it('holds the built JavaScript with its types, every wasm build and the data, and no sources', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/inline.js', 'dist/worker/index.js', 'dist/tfjs/index.js',
      'build/simd.wasm', 'build/relaxed.wasm', 'build/scalar.wasm', 'build/simd-threads.wasm', 'build/relaxed-simd-threads.wasm',
      'build/debug.wasm', 'data/digits.bin.gz', 'data/names.txt.gz', 'package.json', 'README.md', 'LICENSE']) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => /^(src|test|assembly|scripts|bench|demo)\//.test(f))).toEqual([]);
    // every file an export names is in the package
    for (const [entry, target] of Object.entries(rootPackage.exports)) {
      if (typeof target === 'object') for (const file of Object.values(target as Record<string, string>)) expect(packed, entry).toContain(file.slice(2));
    }
  });

  it('has no install-time script: npm installs it without running or warning about one, and it builds on prepack', () => {
    const { scripts = {} } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const hook of ['prepare', 'preinstall', 'install', 'postinstall']) expect(scripts[hook], hook).toBeUndefined();
    expect(installLog).not.toMatch(/install-scripts|prepare/);
    expect(rootPackage.scripts.prepack).toMatch(/^node scripts\/build\.mjs\b/);
  });

  it('ships only self-contained source maps: each has the text of every source, and each map a file names is there', () => {
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
    const all = files(installed);
    const maps = all.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(100); // dist/**/*.js.map and build/debug.wasm.map
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: unknown[] };
      expect(sourcesContent?.length, relative(installed, map)).toBe(sources.length);
      expect(sourcesContent!.every((s) => typeof s === 'string'), relative(installed, map)).toBe(true);
    }
    for (const file of all.filter((f) => /\.(js|wasm)$/.test(f))) {
      // `//# sourceMappingURL=x.map` in JavaScript; in wasm, a custom section's name, a length byte and the URL
      const named = /sourceMappingURL(?:=|[\x00-\x7f])([\w./-]+\.map)/.exec(readFileSync(file, 'latin1'))?.[1];
      if (named) expect(all, relative(installed, file)).toContain(join(dirname(file), named));
    }
  });
});

describe('entry points from ES modules and CommonJS', () => {
  it('import: trains one step', () => {
    expect(JSON.parse(run(`import * as wg from 'wasmgrad';${TRAIN_STEP}`, true).stdout)).toEqual(trained);
  });

  it('require: trains one step, with no warning (the modules have no top-level await)', () => {
    const { stdout, stderr } = run(`const wg = require('wasmgrad');${TRAIN_STEP}`);
    expect(JSON.parse(stdout)).toEqual(trained);
    expect(stderr).toBe('');
  });

  it('require: wasmgrad/inline runs from its embedded builds', () => {
    const { stdout } = run(`const wg = require('wasmgrad/inline');
      wg.init({ build: 'simd' }).then(() => console.log(JSON.stringify([wg.backendInfo().build, Array.from(wg.tensor([1, 2]).add(1).data())])));`);
    expect(JSON.parse(stdout)).toEqual(['simd', [2, 3]]);
  });

  it('require: wasmgrad/worker gives the client and the server side', () => {
    const { stdout } = run(`const w = require('wasmgrad/worker');
      console.log(JSON.stringify([typeof w.TrainingClient, typeof w.serveTraining]));`);
    expect(JSON.parse(stdout)).toEqual(['function', 'function']);
  });

  it('require: wasmgrad/onnx exports a model as ONNX bytes', () => {
    const { stdout } = run(`const wg = require('wasmgrad');
      const { toOnnx } = require('wasmgrad/onnx');
      wg.init({ build: 'simd' }).then(() => {
        const bytes = toOnnx(new wg.nn.Sequential(new wg.nn.Linear(3, 2), new wg.nn.ReLU()));
        console.log(JSON.stringify([bytes instanceof Uint8Array, bytes.length > 0]));
      });`);
    expect(JSON.parse(stdout)).toEqual([true, true]);
  });

  it("require: wasmgrad/tfjs registers the 'wasmgrad' backend with TensorFlow.js", () => {
    const { stdout } = run(`const tf = require('@tensorflow/tfjs-core');
      require('wasmgrad/tfjs');
      tf.setBackend('wasmgrad').then(() => console.log(JSON.stringify([tf.getBackend(), Array.from(tf.add(tf.tensor([1, 2]), 3).dataSync())])));`);
    expect(JSON.parse(stdout)).toEqual(['wasmgrad', [4, 5]]);
  });
});

describe('declarations', () => {
  it("types: a consumer's TypeScript compiles against the installed declarations, data() typed by dtype (typed reads)", () => {
    const app = join(dir, 'app');
    writeFileSync(join(app, 'main.mts'), `
import { nn, tensor, zeros, type Tensor } from 'wasmgrad';
const x = tensor([1, 2, 3]);
export const total: number = x.data().reduce((a, b) => a + b, 0);
export const doubled: Float32Array = x.relu().mul(2).data();
export const labels: Int32Array = tensor([0, 1], { dtype: 'int32' }).data();
export const argmax: number = x.argMax().data().reduce((a, b) => Math.max(a, b), 0);
export const counts: Int32Array = zeros([2], { dtype: 'int32' }).data();
const y: Tensor = new nn.Linear(3, 1)(x.reshape([1, 3]));
export const read: number = y.data('float32').reduce((a, b) => a + b, 0);
// @ts-expect-error: the dtype of a plain Tensor is not known, so neither is its array type
export const unknown: Float32Array = y.data();
`);
    // and from CommonJS TypeScript, which compiles the import to require()
    writeFileSync(join(app, 'main.cts'), `import { tensor } from 'wasmgrad';
export const total: number = tensor([1, 2]).data().reduce((a, b) => a + b, 0);
`);
    const program = ts.createProgram([join(app, 'main.mts'), join(app, 'main.cts')], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], skipLibCheck: true,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
  });
});

describe('engines', () => {
  // CommonJS can require() an ES module without a flag from Node 20.19 on the 20 line, and from 22.12 on (21 and
  // 22.0–22.11 need --experimental-require-module): engines must allow no Node where require('wasmgrad') fails.
  const satisfies = (version: string, range: string) => range.split('||').some((part) => {
    const [, op, want] = /^\s*(\^|>=)(\d+\.\d+\.\d+)\s*$/.exec(part) ?? [];
    expect(op, `a range of ^x.y.z or >=x.y.z parts: ${range}`).toBeDefined();
    const [a, b] = [version, want!].map((v) => v.replace(/^v/, '').split('.').map(Number));
    const cmp = a![0]! - b![0]! || a![1]! - b![1]! || a![2]! - b![2]!;
    return cmp >= 0 && (op === '>=' || a![0] === b![0]);
  });

  it('allows only Nodes that require() ES modules unflagged, this one included', () => {
    const range = rootPackage.engines.node;
    for (const v of [process.version, '20.19.0', '20.20.2', '22.12.0', '23.0.0', '24.11.1']) expect(satisfies(v, range), v).toBe(true);
    for (const v of ['18.20.0', '20.0.0', '20.18.3', '21.7.3', '22.0.0', '22.11.0']) expect(satisfies(v, range), v).toBe(false);
  });
});
