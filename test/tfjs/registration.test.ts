// The 'wasmgrad' tfjs backend and its kernels are registered once per process, however they are imported: by the
// test helpers and kernel lists (src/tfjs), and by the examples as a user imports them ('wasmgrad/tfjs'). Two copies
// of the module would each register every kernel (tfjs warns "The kernel 'X' for backend 'wasmgrad' is already
// registered" and keeps the last) and the backend (it keeps the first factory), so one copy's kernels would run on
// the other copy's backend. The imports are dynamic, after the console is watched, so their warnings are seen.
import { afterAll, describe, expect, it, vi } from 'vitest';

const warn = vi.spyOn(console, 'warn');
afterAll(() => warn.mockRestore());

describe("registering the 'wasmgrad' tfjs backend", () => {
  it('importing wasmgrad/tfjs, the test helpers, the kernel lists and the examples registers every kernel once', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { KERNELS } = await import('../../src/tfjs/kernels/index.js');
    const { useWasmgrad } = await import('../helpers/tfjs.js');
    const user = await import('wasmgrad/tfjs');
    // @ts-expect-error: a plain .mjs example, without types
    await import('../../examples/tfjs-mlp.mjs');
    // @ts-expect-error: a plain .mjs example, without types
    await import('../../examples/tfjs-conv-mnist.mjs');
    await useWasmgrad();

    const warnings = warn.mock.calls.map((args) => args.join(' '));
    expect(warnings.filter((w) => /already registered|Reusing existing backend/.test(w))).toEqual([]);
    // One copy: the kernel tfjs runs is the one the kernel list holds, and the backend is that copy's class.
    for (const config of KERNELS) expect(tf.getKernel(config.kernelName, 'wasmgrad'), config.kernelName).toBe(config);
    expect(tf.backend()).toBeInstanceOf(user.WasmgradBackend);
  });
});
