// `wasmgrad export`: writes a model saved by `train` in a format other tools read. Each format's work lives in
// src/interop/<format>; this command loads the model and hands it over.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { toOnnx } from '../interop/onnx/index.js';
import type { Module } from '../nn/module.js';
import { initBackend, positiveInt } from './common.js';
import { loadModel } from './predict.js';
import { modelFile } from './sample.js';

/** The options of `wasmgrad export`. */
export interface ExportOptions {
  /** The run directory or its model.safetensors. */
  model: string;
  /** Where to write the ONNX model. */
  onnx?: string;
  /** The ONNX opset (default: toOnnx's). */
  opset?: number;
}

/** Writes `model` (whose one input has the shape `inputShape`) as an ONNX file and says where. */
async function writeOnnx(model: Module, inputShape: number[], opts: ExportOptions, log: (line: string) => void): Promise<void> {
  const bytes = toOnnx(model, { inputShape, ...(opts.opset === undefined ? {} : { opset: opts.opset }) });
  await writeFile(opts.onnx!, bytes).catch((e: Error) => {
    throw new Error(`--onnx: cannot write ${opts.onnx}: ${e.message}`);
  });
  log(`wrote ${opts.onnx} (ONNX, input [batch, ${inputShape.join(', ')}], ${bytes.length.toLocaleString('en-US')} bytes)`);
}

/** Loads the model named by --model and writes each format asked for. */
export async function runExport(opts: ExportOptions, log: (line: string) => void = console.log): Promise<void> {
  if (opts.onnx === undefined) throw new Error('export: give the format to write: --onnx <file.onnx>');
  await initBackend('wasm');
  const { model, inputShape } = await loadModel(await modelFile(opts.model));
  try {
    await writeOnnx(model, inputShape, opts, log);
  } finally {
    model.dispose();
  }
}

/** Registers `wasmgrad export`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model saved by `train` for other tools: ONNX (--onnx) for ONNX Runtime')
    .requiredOption('--model <path>', 'the run directory or its model.safetensors')
    .option('--onnx <file.onnx>', 'write an ONNX model (dynamic batch size), as toOnnx does')
    .option('--opset <n>', 'the ONNX opset of --onnx (17 to 21; default 17)', positiveInt('--opset'))
    .action(async (opts: ExportOptions) => {
      await runExport(opts);
    });
}
