// `wasmgrad train --profile [steps]`: times that many training steps after 50 of warm-up, prints the table at the
// end, writes trace.json beside the run's other files and puts the numbers in metrics.json (and in --json's summary).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'wg-cli-profile-'));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
}

// An MLP 784-16-10 without dropout, Adam, batch 64: a step is 5 products (two forward, bias fused; two weight
// gradients and the hidden layer's input gradient) and one Adam update per parameter (4).
const RUN = ['train', '--epochs', '1', '--hidden', '16', '--dropout', '0', '--threads', '1'];

describe('wasmgrad train --profile', () => {
  it('profiles steps 51–53: a table at the end, trace.json and the numbers in metrics.json', async () => {
    const out = tmp();
    const r = await cli([...RUN, '--profile', '3', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/profile of training steps 51–53 \(after 50 of warm-up\), per step: \d+\.\d{3} ms, \d+\.\d{3} ms in kernels, \d+\.\d{3} ms outside/);
    expect(r.stdout).toMatch(/^matmul\s+15\s/m);
    expect(r.stdout).toMatch(/^adam\s+12\s/m);
    expect(r.stdout).toMatch(/^outside kernels\s/m);
    expect(r.stdout).toMatch(/^total \(3 spans\)\s/m);
    expect(r.stdout).toContain(`trace: ${join(out, 'trace.json')}`);
    expect(r.stdout).toMatch(/wrote .*trace\.json/);

    const trace = JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8'));
    expect(trace.displayTimeUnit).toBe('ms');
    const spans = trace.traceEvents.filter((e: { cat?: string }) => e.cat === 'span');
    expect(spans.map((e: { name: string }) => e.name)).toEqual(['step 51', 'step 52', 'step 53']);
    const kernels = trace.traceEvents.filter((e: { cat?: string }) => e.cat === 'kernel');
    expect(kernels.filter((e: { name: string }) => e.name === 'matmul')).toHaveLength(15);
    for (const e of kernels) {
      expect(e.ph).toBe('X');
      // every kernel call falls in one of the steps
      expect(spans.some((s: { ts: number; dur: number }) => e.ts >= s.ts && e.ts + e.dur <= s.ts + s.dur + 1e-3)).toBe(true);
    }

    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.profile.steps).toEqual([51, 53]);
    expect(metrics.profile.spans).toBe(3);
    expect(metrics.profile.backend).toEqual({ backend: 'wasm', build: metrics.build, threads: 1 });
    const matmul = metrics.profile.kernels.find((k: { kernel: string }) => k.kernel === 'matmul');
    // forward [64,784]·[784,16] and [64,16]·[16,10] with biases, dW of both, and the hidden layer's dx
    const flops = 2 * 64 * 784 * 16 + 64 * 16 + 2 * 64 * 16 * 10 + 64 * 10 + 2 * 16 * 64 * 784 + 2 * 10 * 64 * 16 + 2 * 64 * 10 * 16;
    expect(matmul).toMatchObject({ calls: 15, flops: 3 * flops });
    expect(metrics.profile.wallMs).toBeCloseTo(metrics.profile.kernelMs + metrics.profile.outsideMs, 6);
  });

  it('--profile alone takes 20 steps; with --json the summary carries the profile', async () => {
    const out = tmp();
    const r = await cli([...RUN, '--profile', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.profile.steps).toEqual([51, 70]);
    expect(summary.profile.kernels.find((k: { kernel: string }) => k.kernel === 'adam').calls).toBe(80);
    expect(summary.files.trace).toBe(join(out, 'trace.json'));
    expect(existsSync(summary.files.trace)).toBe(true);
  });

  it('says so when the run ends within the warm-up, and writes no trace', async () => {
    const out = tmp();
    const r = await cli([...RUN, '--batch-size', '4000', '--profile', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('profile: nothing profiled: the run took 2 training steps, and profiling starts after 50 steps of warm-up');
    expect(existsSync(join(out, 'trace.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).profile).toBeNull();
  });

  it.each([
    [['--profile', '0'], "option '--profile [steps]' argument '0' is invalid. --profile must be a positive integer."],
    [['--profile', 'all'], "option '--profile [steps]' argument 'all' is invalid. --profile must be a positive integer."],
  ])('fails cleanly: %j', async (args, message) => {
    const r = await cli(['train', ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});
