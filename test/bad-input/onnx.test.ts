// Bad input to toOnnx and `wasmgrad export`: a layer with no ONNX equivalent is named by its path in the module
// tree and its class; a shape that cannot be inferred, or that the model does not take, asks for inputShape; an
// opset or option the exporter does not write is said as such; layers whose eval-mode computation ONNX cannot
// express say why. Each case asserts the message, that memory is unchanged, and that the model still runs and
// exports afterwards.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nn, noGrad, ones, tidy, type Tensor } from '../../src/index.js';
import { toOnnx } from '../../src/interop/onnx/index.js';
import { Module } from '../../src/nn/module.js';
import { Generator } from '../../src/random.js';
import { buildGpt } from '../../src/train/gpt.js';
import { expectNoLeaks, useBackend } from '../helpers/api.js';

/** A layer of the user's own: wasmgrad runs it, ONNX has no node for it. */
class Doubler extends Module {
  forward(x: Tensor): Tensor { return x.add(x); }
}

/** The models of the cases, made once (so each case's memory check sees only toOnnx). */
let m: Record<'mlp' | 'nested' | 'gpt' | 'doubler' | 'list' | 'conv' | 'embedding' | 'adaptive' | 'noStats' | 'avgCeil', Module>;
beforeAll(async () => {
  await useBackend('wasm');
  m = {
    mlp: new nn.Sequential(new nn.Linear(4, 6), new nn.ReLU(), new nn.Linear(6, 2)),
    nested: new nn.Sequential(new nn.Linear(4, 4), new nn.Sequential(new nn.Tanh(), new Doubler())),
    gpt: buildGpt({ vocabSize: 5, context: 4, layers: 1, heads: 1, width: 4, dropout: 0 }, new Generator(1), new Generator(1)),
    doubler: new Doubler(),
    list: new nn.Sequential(new nn.ModuleList([new nn.ReLU()])),
    conv: new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU()),
    embedding: new nn.Embedding(5, 2),
    adaptive: new nn.AdaptiveAvgPool2d(3),
    noStats: new nn.Sequential(new nn.BatchNorm1d(3, { trackRunningStats: false })),
    avgCeil: new nn.AvgPool2d(2, { ceilMode: true, divisorOverride: 3 }),
  };
});
afterAll(() => {
  for (const model of Object.values(m)) model.dispose();
});

const CASES: [string, () => unknown, string | RegExp][] = [
  ['a layer without an equivalent, by path and class', () => toOnnx(m.nested),
    /^toOnnx: layer '1\.1' \(Doubler\) has no ONNX equivalent; the exporter knows Sequential, Linear, .*GPT$/],
  ['the model itself without an equivalent', () => toOnnx(m.doubler, { inputShape: [3] }),
    /^toOnnx: the model \(Doubler\) has no ONNX equivalent/],
  ['a container with no forward of its own', () => toOnnx(m.list, { inputShape: [3] }),
    /^toOnnx: layer '0' \(ModuleList\) has no ONNX equivalent/],
  ['a shape that cannot be inferred asks for inputShape', () => toOnnx(m.conv),
    "toOnnx: cannot infer the shape of the input of a model that starts with Conv2d; give inputShape, the shape of one sample without the batch dim (e.g. { inputShape: [1, 28, 28] })"],
  ['an Embedding needs the sequence length', () => toOnnx(m.embedding),
    /^toOnnx: cannot infer the shape of the input of a model that starts with Embedding; give inputShape/],
  ['an inputShape the model does not take', () => toOnnx(m.mlp, { inputShape: [5] }),
    /^toOnnx: layer '0' \(Linear\) does not take an input of shape \[batch, 5\]: .+ \(the shapes follow from inputShape, the shape of one sample\)$/],
  ['an inputShape with the batch dim', () => toOnnx(m.conv, { inputShape: [8, 1, 5, 5] }),
    /^toOnnx: layer '0' \(Conv2d\) does not take an input of shape \[batch, 8, 1, 5, 5\]: /],
  ['a sequence longer than the GPT\'s context', () => toOnnx(m.gpt, { inputShape: [5] }),
    'toOnnx: the model (GPT) reads [batch, time] token ids with time at most its context 4, got [batch, 5]; give inputShape [time]'],
  ['an opset the exporter does not write', () => toOnnx(m.mlp, { opset: 13 }), 'toOnnx: opset must be one of 17, 18, 19, 20, 21, got 13'],
  ['an opset as a string', () => toOnnx(m.mlp, { opset: '17' as unknown as number }), "toOnnx: opset must be one of 17, 18, 19, 20, 21, got the string '17'"],
  ['PyTorch\'s name for the opset', () => toOnnx(m.mlp, { opsetVersion: 17 } as never),
    "toOnnx: option 'opsetVersion' is not supported (the option is called opset)"],
  ['dynamic axes', () => toOnnx(m.mlp, { dynamicAxes: {} } as never),
    "toOnnx: option 'dynamicAxes' is not supported (the batch dim is always dynamic, the others are fixed by inputShape)"],
  ['an inputShape that is not one', () => toOnnx(m.mlp, { inputShape: [0] }),
    'toOnnx: inputShape must be an array of positive integers (the shape of one sample, without the batch dim), got [0]'],
  ['not a module', () => toOnnx({} as never), /^toOnnx: module must be a wasmgrad Module \(a layer or a model\), got/],
  ['adaptive windows of unequal size', () => toOnnx(m.adaptive, { inputShape: [2, 8, 8] }),
    'toOnnx: the model (AdaptiveAvgPool2d) pools an input of 8×8 to 3×3, with windows of unequal size, which ONNX\'s pools ' +
    'cannot express; choose an output size that divides the input\'s (input [batch, 2, 8, 8]), or 1 for a global average'],
  ['batch norm without running statistics', () => toOnnx(m.noStats, { inputShape: [3] }),
    /^toOnnx: layer '0' \(BatchNorm1d\) keeps no running statistics \(trackRunningStats: false\)/],
  ['divisorOverride with ceilMode', () => toOnnx(m.avgCeil, { inputShape: [1, 5, 5] }),
    /^toOnnx: the model \(AvgPool2d\) has divisorOverride with ceilMode, which ONNX's AveragePool cannot express/],
];

describe('toOnnx: bad input', () => {
  it.each(CASES)('%s', (_, call, message) => {
    expectNoLeaks(() => expect(call).toThrow(message));
  });

  it('the models still run and export after every refusal', () => {
    for (const [, call] of CASES) expect(call).toThrow();
    expectNoLeaks(() => {
      tidy(() => noGrad(() => expect(m.nested(ones([2, 4])).shape).toEqual([2, 4])));
      expect(toOnnx(m.mlp).length).toBeGreaterThan(0);
      expect(toOnnx(m.gpt).length).toBeGreaterThan(0);
    });
  });
});

describe('wasmgrad export: bad input', () => {
  const CLI = join(import.meta.dirname, '../../dist/cli.js');
  const cli = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code as number | null) ?? -1 : 0, stdout, stderr }));
  });
  const dir = mkdtempSync(join(tmpdir(), 'wg-bad-onnx-'));
  const run = join(dir, 'run');
  beforeAll(async () => {
    const trained = await cli(['train', '--epochs', '1', '--hidden', '8', '--out', run]);
    expect([trained.code, trained.stderr]).toEqual([0, '']);
  }, 120_000);

  it.each([
    ['no format', ['export', '--model', run], 'wasmgrad: export: say what to write: --onnx <file.onnx> or --pytorch <dir>\n'],
    ['a missing model', ['export', '--model', join(dir, 'none'), '--onnx', join(dir, 'm.onnx')],
      /^wasmgrad: --model: cannot read .*none: ENOENT/],
    ['an opset the exporter does not write', ['export', '--model', run, '--onnx', join(dir, 'm.onnx'), '--opset', '12'],
      'wasmgrad: toOnnx: opset must be one of 17, 18, 19, 20, 21, got 12\n'],
    ['a file that cannot be written', ['export', '--model', run, '--onnx', join(dir, 'no-such-dir', 'm.onnx')],
      /^wasmgrad: --onnx: cannot write .*no-such-dir\/m\.onnx: ENOENT/],
  ] as const)('%s', async (_, args, message) => {
    const r = await cli([...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, 'm.onnx'))).toBe(false);
  });
});
