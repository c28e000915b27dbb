#!/usr/bin/env node
// The wasmgrad command line. Each command lives in src/cli/<command>.ts.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import './ops/index.js';
import { registerBench } from './cli/bench.js';
import { exitCodeOf } from './cli/common.js';
import { registerExplain } from './cli/explain.js';
import { registerExport } from './cli/export.js';
import { registerGraph } from './cli/graph.js';
import { registerPredict } from './cli/predict.js';
import { registerSample } from './cli/sample.js';
import { registerTrain } from './cli/train.js';

// package.json sits one level above both src/cli.ts and dist/cli.js.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('wasmgrad')
  .version(version)
  .description('train neural networks with WebAssembly kernels; see the seed example with `explain` and `graph`')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
registerTrain(program);
registerPredict(program);
registerSample(program);
registerExplain(program);
registerGraph(program);
registerBench(program);
registerExport(program);

// Output that cannot be written is dropped, not a crash: a reader that went away (`wasmgrad train | head -1`,
// EPIPE) ends with 141, as a C program killed by SIGPIPE would, and train stops where it can save (watchStops);
// a device that refuses it (ENOSPC on a full disk) is said once on stderr, and the command ends with 1.
let stdoutFailed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (stdoutFailed) return;
  stdoutFailed = true;
  if (e.code === 'EPIPE') {
    process.exitCode = exitCodeOf('SIGPIPE');
  } else {
    console.error(`wasmgrad: cannot write to stdout: ${e.message}`);
    process.exitCode = 1;
  }
});
process.stderr.on('error', () => {}); // nowhere left to say it

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  console.error(`wasmgrad: ${(e as Error).message}`);
  process.exit(1);
}
