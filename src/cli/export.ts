// `wasmgrad export`: a model trained by `wasmgrad train` for other tools. --onnx <file> writes an ONNX model for
// ONNX Runtime (src/interop/onnx); --pytorch <dir> writes model.py (an nn.Module with wasmgrad's state-dict names),
// model.safetensors and train_ddp.py (src/interop/pytorch). This command loads the model and hands it over.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { toOnnx } from '../interop/onnx/index.js';
import { exportPyTorch } from '../interop/pytorch/index.js';
import { initBackend, makeDir, positiveInt } from './common.js';
import { readModel, type LoadedModel } from '../train/saved-model.js';
import { modelFile } from './predict.js';

/** The options of `wasmgrad export`. */
export interface ExportOptions {
  /** The run directory or its model.safetensors. */
  model: string;
  /** Where to write the ONNX model. */
  onnx?: string;
  /** The ONNX opset (default: toOnnx's). */
  opset?: number;
  /** The directory for model.py, model.safetensors and train_ddp.py. */
  pytorch?: string;
}

/** Writes the model as an ONNX file and says where. */
async function writeOnnx({ module, metadata: { inputShape } }: LoadedModel, file: string, opset: number | undefined,
  log: (line: string) => void): Promise<string> {
  const bytes = toOnnx(module, { inputShape, ...(opset === undefined ? {} : { opset }) });
  await writeFile(file, bytes).catch((e: Error) => {
    throw new Error(`--onnx: cannot write ${file}: ${e.message}`);
  });
  log(`wrote ${file} (ONNX, input [batch, ${inputShape.join(', ')}], ${bytes.length.toLocaleString('en-US')} bytes)`);
  return file;
}

/** Writes model.py, model.safetensors and train_ddp.py into `dir` and says how to use them. */
async function writePyTorch(loaded: LoadedModel, dir: string, log: (line: string) => void): Promise<string[]> {
  await makeDir(dir).catch((e: Error) => {
    throw new Error(`--pytorch: cannot make the directory ${dir}: ${e.message}`);
  });
  const files = await exportPyTorch(dir, { model: loaded.module, description: loaded.metadata.description, info: loaded.metadata.data });
  log(`wasmgrad export: wrote ${files.join(', ')}`);
  log(`  check it:          cd ${dir} && python3 model.py`);
  log(`  continue training: cd ${dir} && torchrun --standalone --nproc_per_node 2 train_ddp.py --data data.safetensors`);
  return files;
}

/** Loads the model named by --model and writes each format asked for; returns the files written. */
export async function runExport(opts: ExportOptions, log: (line: string) => void = console.log): Promise<string[]> {
  if (!opts.onnx && !opts.pytorch) throw new Error('export: say what to write: --onnx <file.onnx> or --pytorch <dir>');
  await initBackend('wasm');
  const loaded = await readModel(await modelFile(opts.model), '--model');
  try {
    const files: string[] = [];
    if (opts.onnx) files.push(await writeOnnx(loaded, opts.onnx, opts.opset, log));
    if (opts.pytorch) files.push(...await writePyTorch(loaded, opts.pytorch, log));
    return files;
  } finally {
    loaded.module.dispose();
  }
}

/** Registers `wasmgrad export`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model trained by `train` for other tools: ONNX for ONNX Runtime, or PyTorch code, weights and a DDP training script')
    .requiredOption('--model <path>', 'the run directory (runs/digits) or its model.safetensors')
    .option('--onnx <file.onnx>', 'write an ONNX model (dynamic batch size), as toOnnx does')
    .option('--opset <n>', 'the ONNX opset of --onnx (17 to 21; default 17)', positiveInt('--opset'))
    .option('--pytorch <dir>', 'write model.py (an nn.Module with the same state-dict names), model.safetensors and train_ddp.py here')
    .action(async (opts: ExportOptions) => {
      await runExport(opts);
    });
}
