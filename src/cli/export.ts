// `wasmgrad export`: a model trained by `wasmgrad train` for other frameworks. --pytorch <dir> writes model.py
// (an nn.Module with wasmgrad's state-dict names), model.safetensors and train_ddp.py (src/interop/pytorch).
import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exportPyTorch } from '../interop/pytorch/index.js';
import { initBackend, makeDir } from './common.js';
import { loadModel } from './predict.js';

export interface ExportOptions { model: string; pytorch?: string }

/** A run directory stands for the model.safetensors in it. */
async function modelFile(path: string): Promise<string> {
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  return isDir ? join(path, 'model.safetensors') : path;
}

export async function runExport(opts: ExportOptions, log: (line: string) => void = console.log): Promise<string[]> {
  if (!opts.pytorch) throw new Error('export: say what to write: --pytorch <dir>');
  await initBackend('wasm');
  const path = await modelFile(opts.model);
  const loaded = await loadModel(path);
  try {
    const dir = opts.pytorch;
    await makeDir(dir).catch((e: Error) => {
      throw new Error(`--pytorch: cannot make the directory ${dir}: ${e.message}`);
    });
    const files = await exportPyTorch(dir, { model: loaded.model, description: loaded.description, info: loaded.info });
    log(`wasmgrad export: wrote ${files.join(', ')}`);
    log(`  check it:          cd ${dir} && python3 model.py`);
    log(`  continue training: cd ${dir} && torchrun --standalone --nproc_per_node 2 train_ddp.py --data data.safetensors`);
    return files;
  } finally {
    loaded.model.dispose();
  }
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model trained by `train` for another framework: PyTorch code, weights and a DDP training script')
    .requiredOption('--model <path>', 'the run directory (runs/digits) or its model.safetensors')
    .option('--pytorch <dir>', 'write model.py (an nn.Module with the same state-dict names), model.safetensors and train_ddp.py here')
    .action(async (opts: ExportOptions) => {
      await runExport(opts);
    });
}
