// `wasmgrad bench`: runs the benchmark suite in bench/ (a repository checkout with its dev dependencies:
// tinybench and the TensorFlow.js peers). Same as `npm run bench`; arguments are passed through (--quick, …).
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmark wasmgrad (every wasm build and the ref backend) against TensorFlow.js; see bench/')
    .option('--quick', 'a small subset that runs in seconds')
    .option('--only <sections>', 'only these sections, comma-separated (startup, matmul, elementwise, crossEntropy, train, conv, cnn, attention, gpt, compile, contention, tfjs, tfjs-conv)')
    .option('--out <dir>', 'where to write bench.{md,json,svg} (default bench/results/)')
    .action(() => {
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const entry = `${root}bench/run.ts`;
      const tsx = `${root}node_modules/tsx/dist/esm/index.mjs`;
      if (!existsSync(entry) || !existsSync(tsx)) {
        throw new Error('bench: needs the repository checkout with its dev dependencies (git clone …; npm ci)');
      }
      const args = process.argv.slice(process.argv.indexOf('bench') + 1);
      const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', tsx, entry, ...args], { stdio: 'inherit', cwd: root });
      process.exitCode = r.status ?? 1;
    });
}
