#!/usr/bin/env node
// The wasmgrad command line. Each command lives in src/cli/<command>.ts.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import './ops/index.js';
import { registerBench } from './cli/bench.js';
import { registerExplain } from './cli/explain.js';
import { registerGraph } from './cli/graph.js';
import { registerPredict } from './cli/predict.js';
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
registerExplain(program);
registerGraph(program);
registerBench(program);

// A reader that goes away (`wasmgrad explain | head -1`) is not our error: the rest of the output is dropped,
// and train stops where it can save (see watchStops). Any other write error ends the process as before.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  console.error(`wasmgrad: ${(e as Error).message}`);
  process.exit(1);
}
