// `wasmgrad graph`: the seed's two-layer network with the L2 term, drawn as DOT, Mermaid and SVG.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { graphOf, toDot, toMermaid, toSvg } from '../autograd/graph.js';
import { tidy } from '../autograd/scope.js';
import { seedNetwork, ACTIVATIONS } from '../seed.js';
import { Option } from 'commander';
import { checkOutDir, initBackend, makeDir, nonNegative } from './common.js';

export async function writeSeedGraph(dir: string, options: { activation: string; lambda: number }): Promise<string[]> {
  const graph = tidy(() => graphOf(seedNetwork({ activation: options.activation, lambda: options.lambda }).J));
  await makeDir(dir);
  const title = "the seed's two-layer network: J = l(W2·φ(W1·x), y) + λ/2(‖W1‖² + ‖W2‖²)";
  const files: [string, string][] = [
    ['seed-network.dot', toDot(graph, title)],
    ['seed-network.mmd', toMermaid(graph)],
    ['seed-network.svg', await toSvg(graph, title)],
  ];
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description("write the seed's two-layer network (with the L2 term) as .dot, .mmd and .svg")
    .option('--out <dir>', 'output directory', '.')
    .addOption(new Option('--activation <name>', 'activation φ').choices(Object.keys(ACTIVATIONS)).default('relu'))
    .option('--lambda <number>', 'L2 strength λ', nonNegative('--lambda'), 0.1)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'ref']).default('wasm'))
    .action(async (opts: { out: string; activation: string; lambda: number; backend: string }) => {
      await checkOutDir(opts.out);
      await initBackend(opts.backend);
      for (const f of await writeSeedGraph(opts.out, opts)) console.log(`wrote ${f}`);
    });
}
