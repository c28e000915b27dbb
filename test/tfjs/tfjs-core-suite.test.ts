// TensorFlow.js's own test suite (the jasmine specs of @tensorflow/tfjs-core) on the 'wasmgrad' backend, run by
// test/tfjs-core/run.mjs in a child process (jasmine installs globals and tfjs keeps global state: neither
// belongs in vitest's process). Also the rules that make the run fail, on made-up runs.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KERNEL_BLOCKS, testFilters } from '../tfjs-core/filters.js';
import { missingKernels, NOT_IMPLEMENTED, summarize, type Expectations, type Report, type SpecResult }
  from '../tfjs-core/report.js';
import { KERNELS } from '../../src/tfjs/kernels/index.js';

const runner = join(import.meta.dirname, '../tfjs-core/run.mjs');

describe("TensorFlow.js's test suite on 'wasmgrad'", () => {
  it('every included spec passes, and the list covers every kernel registered natively', async () => {
    let out: { stdout: string; stderr: string };
    try {
      out = await promisify(execFile)(process.execPath, ['--experimental-wasm-relaxed-simd', runner], { maxBuffer: 64 << 20 });
    } catch (e) {
      out = e as { stdout: string; stderr: string }; // exit code 1: the report says why
    }
    let report: Report;
    try {
      report = JSON.parse(out.stdout) as Report;
    } catch {
      throw new Error(`run.mjs printed no report:\n${out.stderr.slice(-4000)}`);
    }
    expect(report.problems).toEqual([]);
    expect(report.failures).toEqual([]);
    const { counts } = report;
    expect(counts.failed).toBe(0);
    expect(counts.passed).toBe(counts.run);
    expect(counts.run + counts.excluded + counts.pending).toBe(counts.specs);
    // The suite cannot shrink unnoticed: at least this many of tfjs-core's specs run (raise it as kernels land).
    expect(counts.run).toBeGreaterThanOrEqual(MIN_SPECS_RUN);
    const native = KERNELS.map((k) => k.kernelName);
    expect(Object.keys(report.failuresByKernel).sort()).toEqual([...new Set(native)].sort());
    for (const kernel of native) expect(KERNEL_BLOCKS[kernel]?.length, kernel).toBeGreaterThan(0);
  }, 600_000);
});

/** The smallest run of specs passing on 'wasmgrad' this list allows. */
const MIN_SPECS_RUN = 3142;

describe('what makes the run fail (report.ts)', () => {
  const env = 'test-wasmgrad';
  const spec = (name: string, status: SpecResult['status'], kernels: string[] = [], messages: string[] = []) =>
    ({ name: `${name.split('|')[0]} ${env} {} ${name.split('|')[1]}`, status, kernels, messages });
  const passing = [spec('matmul|A x B', 'passed', ['BatchMatMul']), spec('add|c + A', 'passed', ['Add'])];
  const expectations: Expectations = { envName: env, nativeKernels: ['BatchMatMul', 'Add'], fallbackKernels: ['TopK'],
    cpuKernels: ['BatchMatMul', 'Add', 'TopK', 'Complex', 'Conv2D'], kernelBlocks: { BatchMatMul: ['matmul'], Add: ['add'] },
    excludes: [] };

  it('a run where everything holds has no problems, and counts each status', () => {
    const r = summarize({ specs: [...passing, spec('add|complex', 'excluded'), spec('fft|x', 'pending')], suiteErrors: [] },
      { ...expectations, excludes: [{ block: 'add', spec: 'complex', reason: 'complex64 is not stored' }] });
    expect(r.problems).toEqual([]);
    expect(r.counts).toEqual({ specs: 4, run: 2, passed: 2, failed: 0, excluded: 1, pending: 1 });
    expect(r.failuresByKernel).toEqual({ BatchMatMul: 0, Add: 0 });
    expect(r.excludedByReason).toEqual({ 'complex64 is not stored': 1 });
  });

  it('a spec that needs a kernel neither native nor a fallback is left out, by the kernels it ran on cpu', () => {
    const reference = { 'matmul {} A x B': ['BatchMatMul'], 'add {} c + A': ['Add'], 'add {} complex': ['Complex', 'Add'], 'topk {} 1d': ['TopK'],
      'kernel_registry {} my kernel': ['MyKernel'], 'conv2d {} x=[2,2,1]': ['Conv2D'] };
    const x = { ...expectations, reference };
    expect(missingKernels(`add ${env} {} complex`, x)).toEqual(['Complex']);
    expect(missingKernels(`topk ${env} {} 1d`, x)).toEqual([]); // a fallback
    expect(missingKernels(`kernel_registry ${env} {} my kernel`, x)).toEqual([]); // a kernel the spec registers itself
    const r = summarize({ specs: [...passing, spec('add|complex', 'excluded'), spec('conv2d|x=[2,2,1]', 'excluded'),
      spec('topk|1d', 'passed', ['TopK'])], suiteErrors: [] }, x);
    expect(r.problems).toEqual([]);
    expect(r.excludedByReason).toEqual({ [NOT_IMPLEMENTED]: 2 });
    expect(r.notImplemented).toEqual({ Complex: 1, Conv2D: 1 });
  });

  it('a spec the reference run did not see', () => {
    const r = summarize({ specs: passing, suiteErrors: [] }, { ...expectations, reference: { 'add {} c + A': ['Add'] } });
    expect(r.problems).toEqual([`the reference run did not see "matmul ${env} {} A x B"`]);
  });

  it('a failed spec, with the native kernels it called, per kernel', () => {
    const r = summarize({ specs: [...passing, spec('matmul|A x B^t', 'failed', ['BatchMatMul', 'Cast'], ['Expected 1 to be 2'])],
      suiteErrors: [] }, expectations);
    expect(r.failures).toEqual([{ block: 'matmul', spec: `matmul ${env} {} A x B^t`, kernels: ['BatchMatMul'],
      message: 'Expected 1 to be 2' }]);
    expect(r.failuresByKernel).toEqual({ BatchMatMul: 1, Add: 0 });
    expect(r.problems).toEqual([`failed: matmul ${env} {} A x B^t: Expected 1 to be 2`]);
  });

  it("the exclusions as tfjs's setupTestFilters takes them: by block, then every other block of the environment", () => {
    expect(testFilters(env, [{ block: 'add', spec: 'complex', reason: 'r' }, { block: 'fft', reason: 'r' },
      { block: 'add', spec: 'upcasts', reason: 'r' }])).toEqual([
      { startsWith: `add ${env} `, excludes: ['complex', 'upcasts'] },
      { startsWith: `fft ${env} `, excludes: [`fft ${env} `] }, // the whole block: every name contains its start
      { include: ` ${env} ` },
    ]);
  });

  it('an error outside a spec', () => {
    const r = summarize({ specs: passing, suiteErrors: [{ name: 'add', messages: ['afterAll threw'] }] }, expectations);
    expect(r.problems).toEqual(['error in "add": afterAll threw']);
  });

  it('a native kernel without a block, a block that is not in the suite, one that does not call its kernel', () => {
    const r = summarize({ specs: passing, suiteErrors: [] },
      { ...expectations, nativeKernels: ['BatchMatMul', 'Add', 'Relu', 'Sub'], kernelBlocks: { BatchMatMul: ['matmul'],
        Add: ['add', 'matmul'], Sub: ['sub'] } });
    expect(r.problems).toEqual([
      'no passing spec of "matmul" dispatches Add: the block does not test that kernel',
      'kernel Relu is registered natively but filters.ts names no describe block that tests it (blocks that call it: none)',
      `filters.ts: block "sub" (for Sub) is not in tfjs-core's suite`,
    ]);
  });

  it("a whole native kernel's block excluded, a stale exclusion, blocks for a kernel that is not native", () => {
    const r = summarize({ specs: [passing[0]!, spec('add|c + A', 'excluded', ['Add'])], suiteErrors: [] },
      { ...expectations, kernelBlocks: { ...expectations.kernelBlocks, Relu: ['relu'] },
        excludes: [{ block: 'add', reason: 'r' }, { block: 'matmul', spec: 'NCHW', reason: 'r' }] });
    expect(r.problems).toEqual([
      'filters.ts excludes "NCHW" of block "matmul", which matches no spec: remove it',
      'filters.ts excludes all of "add", a block of the native kernel Add',
      'filters.ts lists blocks for Relu, which the backend does not register natively',
    ]);
  });
});
