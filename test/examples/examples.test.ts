// The programs in examples/ run as files (on the built package, as a user runs them) and print what they say.
// Expected numbers come from outside the code under test: the seed document's worked example, and accuracy bars.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = async (file: string, ...args: string[]) =>
  (await promisify(execFile)(process.execPath, [join(root, 'examples', file), ...args], { cwd: root })).stdout;

/** "tensors alive: a (at the start: b)": the program freed everything it made. */
function expectMemoryBack(out: string): void {
  const m = /tensors alive: (\d+) \(at the start: (\d+)\)/.exec(out);
  expect(m, 'the program reports its tensors').not.toBeNull();
  expect(m![1]).toBe(m![2]);
}

describe('examples/seed.mjs', () => {
  it("prints the seed document's worked example: ŷ = 1.1, L = 1.805, gradients −3.8 and −1.9, w → 0.88, b → 0.29", async () => {
    const out = await run('seed.mjs');
    // The seed's section 4, computed by hand there: x = 2, y = 3, w = 0.5, b = 0.1, η = 0.1.
    expect(out).toContain('ŷ = w·x + b = 0.5 × 2 + 0.1 = 1.1\n');
    expect(out).toContain('L = ½(ŷ − y)² = ½(1.1 − 3)² = 1.805\n');
    expect(out).toMatch(/│ ∂L\/∂ŷ = -1\.9\n/); // the loss row's global gradient
    expect(out).toContain('∂L/∂w = -3.8   ∂L/∂b = -1.9\n');
    expect(out).toContain('w = 0.5 − 0.1 × (-3.8) = 0.88\n');
    expect(out).toContain('b = 0.1 − 0.1 × (-1.9) = 0.29\n');
    expectMemoryBack(out);
  });

  it("prints the two-layer network's backward table, and its ∂J/∂W2 agrees with the table's row rule by hand", async () => {
    const out = await run('seed.mjs');
    const table = out.slice(out.indexOf('The two-layer network'));
    expect(table).toMatch(/step\s+│ node\s+│ upstream\s+│ local\s+│ global/);
    for (const node of ['J = L + s', 'o = W2·h', 'h = φ(z)  [relu]', 'z = W1·x', 's = λ/2·(‖W1‖² + ‖W2‖²)']) expect(table).toContain(node);
    const m = /by hand \(∂J\/∂o·hᵀ \+ λW2\): \[(.*)\]\s+by backward\(\): \[(.*)\]/.exec(table);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![2]);
  });
});

describe('examples/mlp-digits.mjs', () => {
  it('trains 784-128-10 for 2 epochs: the loss falls, test accuracy passes 90%, memory returns to the start', async () => {
    const out = await run('mlp-digits.mjs', '--epochs', '2');
    const epochs = [...out.matchAll(/epoch (\d+): training loss ([\d.]+), test accuracy ([\d.]+)%/g)]
      .map((m) => ({ loss: Number(m[2]), accuracy: Number(m[3]) / 100 }));
    expect(epochs).toHaveLength(2);
    expect(epochs[1]!.loss).toBeLessThan(epochs[0]!.loss);
    expect(epochs[1]!.accuracy).toBeGreaterThan(0.9);
    expectMemoryBack(out);
    expect(/bytes: (\d+) \(at the start: (\d+)\)/.exec(out)?.slice(1, 3)).toEqual(['0', '0']);
  });
});

describe('examples/worker/main.mjs', () => {
  it('trains in a worker thread with progress events, returns the model, and predicts from it', async () => {
    const out = await run('worker/main.mjs', '--epochs', '2');
    expect(out).toMatch(/^worker started: [\w-]+ build, 8000 training digits$/m);
    const accuracies = [...out.matchAll(/epoch \d+: training loss [\d.]+, test accuracy ([\d.]+)%/g)].map((m) => Number(m[1]) / 100);
    expect(accuracies).toHaveLength(2);
    expect(accuracies[1]).toBeGreaterThan(0.85);
    expect(out).toMatch(/done after 2 epochs and [1-9]\d* batch events \(stopped early: false\)/);
    expect(out).toContain('model: 4 tensors'); // 784-64-10: two weights, two biases
    const predicted = /predicted: (.*)/.exec(out)![1]!.split(' ');
    const labels = /labels: +(.*)/.exec(out)![1]!.split(' ');
    expect(predicted).toHaveLength(10);
    expect(predicted.filter((p, i) => p === labels[i]).length).toBeGreaterThanOrEqual(7);
  });
});
