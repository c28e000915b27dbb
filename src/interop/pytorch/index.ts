// The model as PyTorch code and weights, to continue in PyTorch (torch.distributed for many machines): model.py is
// an nn.Module with wasmgrad's state-dict names and shapes (modelPy.ts), model.safetensors its weights, train_ddp.py
// continues training with DistributedDataParallel (trainDdp.ts). toPyTorch / savePyTorch take any module built
// from the library's layers; `wasmgrad export --pytorch` (exportPyTorch) adds the trainer's model description to
// the weights, so wasmgrad reads the file back as a trained model.
import type { Module } from '../../nn/module.js';
import { Module as ModuleClass } from '../../nn/module.js';
import { checkOptions, checkValue, describe, instanceOf, isPlainObject, oneOf, type Check } from '../../options.js';
import { nodeFs } from '../../platform.js';
import { toSafetensors } from '../../io/safetensors.js';
import { architecture, inputShapeOf, type ModelDescription } from '../../train/model.js';
import type { DataInfo } from '../../train/trainer.js';
import { batchAxis, firstLayer, inferredShape, SAMPLE_SHAPE, takesTokenIds } from '../common.js';
import { modelPy, type ModelPySpec } from './modelPy.js';
import { trainDdpPy } from './trainDdp.js';

/** Options of {@link toPyTorch} and {@link savePyTorch}. */
export interface ToPyTorchOptions {
  /**
   * The shape of one sample, without the batch dim: model.py's prepare() reshapes float inputs to it. Inferred when
   * the model starts with a Linear (its inFeatures) or is the CLI's GPT (its context); otherwise prepare() takes
   * inputs as they come.
   */
  inputShape?: readonly number[];
  /** The loss train_ddp.py minimises: 'classification' (cross-entropy, the default) or 'regression' (mean squared error). */
  task?: 'classification' | 'regression';
  /** Strings stored in model.safetensors' `__metadata__` (besides `format: 'pt'`). */
  metadata?: Readonly<Record<string, string>>;
}

/** The files of a PyTorch export, by name. */
export interface PyTorchFiles {
  /** The model as a PyTorch nn.Module (`class Model`), with prepare(), loss_fn and a safetensors reader and writer. */
  'model.py': string;
  /** The model's parameters and buffers under their state-dict names. */
  'model.safetensors': Uint8Array;
  /** Continues training model.py's model from model.safetensors with DistributedDataParallel. */
  'train_ddp.py': string;
}

const METADATA: Check = {
  what: 'a record of strings',
  ok: (v) => isPlainObject(v) && Object.values(v).every((s) => typeof s === 'string'),
};

/** The three files, for a module with what model.py needs to know of it. */
function files(api: string, module: Module, spec: ModelPySpec, metadata: Readonly<Record<string, string>>): PyTorchFiles {
  return {
    'model.py': modelPy(module, spec, api),
    'model.safetensors': toSafetensors(module.stateDict(), { ...metadata, format: 'pt' }),
    'train_ddp.py': trainDdpPy(),
  };
}

/** Checks toPyTorch's arguments and makes its files. */
function pytorchFiles(api: string, module: Module, options: ToPyTorchOptions): PyTorchFiles {
  checkValue(api, 'module', module, instanceOf(ModuleClass, 'a wasmgrad Module (a layer or a model)'));
  checkOptions(api, options, { inputShape: SAMPLE_SHAPE, task: oneOf('classification', 'regression'), metadata: METADATA });
  const first = firstLayer(module);
  const spec: ModelPySpec = {
    title: module.constructor.name, inputShape: options.inputShape ?? inferredShape(first) ?? null,
    tokenIds: takesTokenIds(first), batchFirst: batchAxis(first) === 0, task: options.task ?? 'classification',
  };
  return files(api, module, spec, options.metadata ?? {});
}

/**
 * The module as PyTorch code and weights: `model.py`, whose `Model` is an nn.Module with the module's state-dict
 * names and shapes computing what it computes; `model.safetensors`, its weights, which model.py loads with
 * load_state_dict(strict=True); and `train_ddp.py`, which continues training them with PyTorch's
 * DistributedDataParallel. Weights PyTorch saves from Model load back with loadStateDict.
 *
 * Translates Sequential, Linear, Conv1d, Conv2d, BatchNorm1d / 2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten,
 * Dropout, ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softplus, Embedding, LayerNorm, RMSNorm (defined in model.py where
 * PyTorch lacks it), MultiheadAttention (as self-attention, as toOnnx exports it: `model(x)` attends x to itself;
 * one with kdim or vdim stays nn.MultiheadAttention, called with query, key and value), TransformerEncoderLayer and
 * the CLI's GPT; any other layer (a Module of your own) is an error that names it. A LayerNorm or
 * TransformerEncoderLayer without bias needs PyTorch 2.1.
 *
 * @param module - the model to export.
 * @param options - `inputShape`, `task` and `metadata`; see {@link ToPyTorchOptions}.
 * @returns the three files' contents by name.
 * @example
 * ```ts
 * const model = new nn.Sequential(new nn.Conv2d(1, 8, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8 * 26 * 26, 10));
 * const files = toPyTorch(model, { inputShape: [1, 28, 28] });
 * for (const [name, content] of Object.entries(files)) writeFileSync(`out/${name}`, content);
 * ```
 */
export function toPyTorch(module: Module, options: ToPyTorchOptions = {}): PyTorchFiles {
  return pytorchFiles('toPyTorch', module, options);
}

/** Writes the files into `dir` (made if missing); returns their paths. */
async function write(api: string, dir: string, content: PyTorchFiles): Promise<string[]> {
  const fs = await nodeFs();
  await fs.mkdir(dir, { recursive: true }).catch((e: Error) => {
    throw new Error(`${api}: cannot make the directory ${dir}: ${e.message}`);
  });
  const paths: string[] = [];
  for (const [name, data] of Object.entries(content) as [string, string | Uint8Array][]) {
    const path = `${dir.replace(/[/\\]+$/, '')}/${name}`;
    await fs.writeFile(path, data);
    paths.push(path);
  }
  return paths;
}

/**
 * Writes {@link toPyTorch}'s files into the directory `dir` (made if missing): model.py, model.safetensors and
 * train_ddp.py. Node only.
 *
 * @returns the paths written.
 * @example
 * ```ts
 * await savePyTorch(model, 'exported');
 * // cd exported && python3 model.py && torchrun --standalone --nproc_per_node 2 train_ddp.py --data data.safetensors
 * ```
 */
export async function savePyTorch(module: Module, dir: string, options: ToPyTorchOptions = {}): Promise<string[]> {
  if (typeof dir !== 'string' || !dir) throw new Error(`savePyTorch: dir must be a directory path, got ${describe(dir)}`);
  return write('savePyTorch', dir, pytorchFiles('savePyTorch', module, options));
}

/**
 * `wasmgrad export --pytorch`: a model the trainer made, with its description stored in the weights (so wasmgrad's
 * loadModel and `wasmgrad predict` read them back); returns the paths written.
 */
export async function exportPyTorch(dir: string, model: { model: Module; description: ModelDescription; info: DataInfo }): Promise<string[]> {
  const spec: ModelPySpec = {
    title: architecture(model.description), inputShape: inputShapeOf(model.description), tokenIds: 'gpt' in model.description,
    batchFirst: true, task: model.info.task,
  };
  const metadata = { wasmgrad_model: JSON.stringify({ ...model.description, data: model.info }) };
  return write('exportPyTorch', dir, files('exportPyTorch', model.model, spec, metadata));
}
