// `wasmgrad export --pytorch <dir>`: the trained model as PyTorch code and weights. model.py is an nn.Module with
// wasmgrad's state-dict names and shapes (modelPy.ts), model.safetensors its weights with the model description
// (so wasmgrad reads the file too), train_ddp.py continues training with DistributedDataParallel (trainDdp.ts).
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { toSafetensors } from '../../io/safetensors.js';
import { architecture } from '../../train/model.js';
import type { Exported } from './modelPy.js';
import { modelPy } from './modelPy.js';
import { trainDdpPy } from './trainDdp.js';

/** Writes model.py, model.safetensors and train_ddp.py into `dir` (which exists); returns their paths. */
export async function exportPyTorch(dir: string, model: Omit<Exported, 'architecture'>): Promise<string[]> {
  const files: [string, string | Uint8Array][] = [
    ['model.py', modelPy({ ...model, architecture: architecture(model.description) })],
    ['model.safetensors', toSafetensors(model.model.stateDict(), {
      format: 'pt', wasmgrad_model: JSON.stringify({ ...model.description, data: model.info }),
    })],
    ['train_ddp.py', trainDdpPy()],
  ];
  for (const [name, content] of files) await writeFile(join(dir, name), content);
  return files.map(([name]) => join(dir, name));
}
