// `wasmgrad explain`: the seed's worked example step by step, computed by the library — forward values, the
// backward table (upstream × local = global), and the SGD update.
import type { Command } from 'commander';
import { explain } from '../autograd/explain.js';
import { formatNumber } from '../autograd/explain.js';
import { tidy } from '../autograd/scope.js';
import { SGD } from '../optim/sgd.js';
import { seedLinear } from '../seed.js';
import { Option } from 'commander';
import { initBackend, positiveNumber } from './common.js';

export interface ExplainResult {
  forward: Record<string, number>;
  backward: ReturnType<typeof explain>['rows'];
  gradients: Record<string, number>;
  update: { lr: number; w: number; b: number };
  table: string;
}

export function runExplain(lr: number): ExplainResult {
  return tidy(() => {
    const { w, b, x, y, yhat, L } = seedLinear();
    const forward = { x: x.item(), y: y.item(), w: w.item(), b: b.item(), 'ŷ': yhat.item(), L: L.item() };
    const explanation = explain(L);
    L.backward();
    const gradients = { '∂L/∂w': w.grad!.item(), '∂L/∂b': b.grad!.item() };
    new SGD([w, b], { lr }).step();
    return { forward, backward: explanation.rows, gradients, update: { lr, w: w.item(), b: b.item() }, table: explanation.toString() };
  });
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description("walk through the seed's worked example ŷ = w·x + b: forward, backward table, SGD update")
    .option('--lr <number>', 'learning rate of the SGD step', positiveNumber('--lr'), 0.1)
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'ref']).default('wasm'))
    .option('--json', 'print machine-readable JSON only')
    .action(async (opts: { lr: number; backend: string; json?: boolean }) => {
      const lr = opts.lr;
      await initBackend(opts.backend);
      const r = runExplain(lr);
      if (opts.json) {
        console.log(JSON.stringify({ forward: r.forward, gradients: r.gradients, update: r.update, backward: r.backward }, null, 2));
        return;
      }
      const f = r.forward;
      const n = formatNumber;
      console.log("The seed's worked example: fit ŷ = w·x + b to one point with L = ½(ŷ − y)².\n");
      console.log('Forward');
      console.log(`  ŷ = w·x + b = ${n(f.w!)}×${n(f.x!)} + ${n(f.b!)} = ${n(f['ŷ']!)}`);
      console.log(`  L = ½(ŷ − y)² = ½(${n(f['ŷ']!)} − ${n(f.y!)})² = ${n(f.L!)}\n`);
      console.log('Backward, from ∂L/∂L = 1 (each row: upstream × local = global)');
      console.log(r.table.split('\n').map((l) => `  ${l}`).join('\n'));
      console.log(`\nUpdate (SGD, η = ${n(lr)})`);
      console.log(`  w ← w − η·∂L/∂w = ${n(f.w!)} − ${n(lr)}×(${n(r.gradients['∂L/∂w']!)}) = ${n(r.update.w)}`);
      console.log(`  b ← b − η·∂L/∂b = ${n(f.b!)} − ${n(lr)}×(${n(r.gradients['∂L/∂b']!)}) = ${n(r.update.b)}`);
    });
}
