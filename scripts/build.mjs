// Builds every wasm target in asconfig.json and the TypeScript in src/ (to dist/).
// `--if-needed` skips the work when every output is newer than every input (what `npm test` uses).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ifNeeded = process.argv.includes('--if-needed');
const asconfig = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
const targets = Object.keys(asconfig.targets);

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(join(root, p)).mtimeMs);
  }
  return t;
}
const mtime = (p) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : 0);
const run = (cmd, args) => execFileSync(process.execPath, [join(root, 'node_modules', cmd), ...args], { cwd: root, stdio: 'inherit' });

const wasmInputs = Math.max(newest('assembly'), mtime('asconfig.json'));
const wasmOutputs = targets.map((t) => asconfig.targets[t].outFile);
if (!ifNeeded || wasmOutputs.some((f) => mtime(f) < wasmInputs)) {
  for (const t of targets) run('assemblyscript/bin/asc.js', ['assembly/index.ts', '--target', t]);
}

const tsInputs = Math.max(newest('src'), mtime('tsconfig.json'), mtime('tsconfig.build.json'));
if (!ifNeeded || mtime('dist/index.js') < tsInputs) {
  run('typescript/bin/tsc', ['-p', 'tsconfig.build.json']);
}
