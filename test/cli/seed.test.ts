// `wasmgrad explain` and `wasmgrad graph`: the seed's worked example and its network, from the command line.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixtures } from '../helpers/fixtures.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const run = promisify(execFile);

describe('wasmgrad explain', () => {
  it.each(['wasm', 'ref'])('prints the forward values, the backward table and the update (%s)', async (backend) => {
    const { stdout } = await run(process.execPath, [CLI, 'explain', '--backend', backend]);
    const f = fixtures.seed_linear;
    expect(stdout).toContain(`ŷ = w·x + b = ${f.w}×${f.x} + ${f.b} = ${f.yhat}`);
    expect(stdout).toContain(`L = ½(ŷ − y)² = ½(${f.yhat} − ${f.y})² = ${f.loss}`);
    expect(stdout).toMatch(/L = l\(ŷ, y\)\s+\[mseLoss\]\s+│ ∂L\/∂L = 1\s+│ ∂L\/∂ŷ = \(ŷ − y\)\s+│ ∂L\/∂ŷ = -1\.9/);
    expect(stdout).toContain('∂L/∂w = -3.8');
    expect(stdout).toContain(`w ← w − η·∂L/∂w = 0.5 − 0.1×(-3.8) = ${f.w_new}`);
    expect(stdout).toContain('b ← b − η·∂L/∂b = 0.1 − 0.1×(-1.9) = 0.29');
  });

  it('--json gives the same numbers as data', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'explain', '--json', '--lr', '0.2']);
    const r = JSON.parse(stdout);
    expect(r.forward['ŷ']).toBeCloseTo(1.1, 6);
    expect(r.gradients['∂L/∂w']).toBeCloseTo(-3.8, 5);
    expect(r.update).toEqual({ lr: 0.2, w: expect.closeTo(0.5 + 0.2 * 3.8, 5), b: expect.closeTo(0.1 + 0.2 * 1.9, 5) });
    expect(r.backward.map((row: { formula: string }) => row.formula)).toEqual(['L = l(ŷ, y)  [mseLoss]', 'ŷ = wx + b', 'wx = w·x']);
  });
});

describe('wasmgrad graph', () => {
  it('writes the seed network with its L2 term as .dot, .mmd and .svg', async () => {
    const out = mkdtempSync(join(tmpdir(), 'graph-'));
    const { stdout } = await run(process.execPath, [CLI, 'graph', '--out', out, '--activation', 'tanh', '--lambda', '0.5']);
    expect(stdout.trim().split('\n')).toEqual(['dot', 'mmd', 'svg'].map((e) => `wrote ${join(out, `seed-network.${e}`)}`));
    const dot = readFileSync(join(out, 'seed-network.dot'), 'utf8');
    for (const label of ['"W1\\n[4×3]"', '"W2\\n[2×4]"', 'label="ℓ₂"', 'label="φ"', 'label="+"', 'label="l"', '"J\\nscalar"']) expect(dot).toContain(label);
    expect(readFileSync(join(out, 'seed-network.mmd'), 'utf8')).toContain(':::parameter');
    const svg = readFileSync(join(out, 'seed-network.svg'), 'utf8');
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*>ℓ₂<[\s\S]*<\/svg>\s*$/);
  });
});
