// The kernels scenarios (a) an MLP from tf ops, (b) a tf.sequential dense fit and (c) a conv MNIST fit call, as
// logged on tfjs-backend-cpu by scripts/tfjs-kernels.mjs (test/tfjs/scenario-kernels.json), and the proof that
// (a) and (b) run natively on 'wasmgrad': every kernel is registered natively and nothing reaches the cpu fallback.
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
// @ts-expect-error: a plain .mjs example, without types
import { trainMlp } from '../../examples/tfjs-mlp.mjs';
// @ts-expect-error: a plain .mjs example, without types
import { fitDense } from '../../examples/tfjs-dense-fit.mjs';
import { FALLBACK_KERNELS } from '../../src/tfjs/index.js';
import { KERNELS } from '../../src/tfjs/kernels/index.js';
import { expectNoTfLeaks, useWasmgrad } from '../helpers/tfjs.js';

const root = join(import.meta.dirname, '../..');
const LISTS_FILE = join(import.meta.dirname, 'scenario-kernels.json');
const lists = JSON.parse(readFileSync(LISTS_FILE, 'utf8')) as Record<'mlp' | 'denseFit' | 'convFit', string[]>;
const native = new Set(KERNELS.map((k) => k.kernelName));

beforeAll(useWasmgrad);

describe('the kernels of the scenarios', () => {
  it('scripts/tfjs-kernels.mjs logs exactly the lists of test/tfjs/scenario-kernels.json', () => {
    const out = execFileSync(process.execPath, [join(root, 'scripts/tfjs-kernels.mjs'), '--json'], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(lists);
    expect(lists.mlp.length).toBeGreaterThanOrEqual(15);
    expect(lists.denseFit.length).toBeGreaterThanOrEqual(25);
  });

  for (const scenario of ['mlp', 'denseFit'] as const) {
    it(`every kernel of ${scenario} is native on 'wasmgrad', none is a fallback`, () => {
      expect(lists[scenario].filter((k) => !native.has(k))).toEqual([]);
      expect(lists[scenario].filter((k) => k in FALLBACK_KERNELS)).toEqual([]);
    });
  }

  it('(a) and (b) train on wasmgrad without one call to tfjs-backend-cpu', async () => {
    const cpu = tf.findBackend('cpu')!;
    const write = vi.spyOn(cpu, 'write');
    try {
      await expectNoTfLeaks(async () => {
        await trainMlp({ backend: 'wasmgrad', optimizer: 'sgd', steps: 3 });
        await trainMlp({ backend: 'wasmgrad', optimizer: 'adam', steps: 3 });
        await fitDense({ backend: 'wasmgrad', epochs: 1, trainSize: 256 });
      });
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
  });
});
