// wasmgrad: train neural networks in JavaScript — autograd on a computational graph, numbers computed by
// WebAssembly SIMD kernels (AssemblyScript) or by the pure-TypeScript reference backend.
import './ops/index.js';

export { init, setBackend, getBackend, backendInfo, refBackend } from './backend/registry.js';
export type { BackendInfo, InitOptions } from './backend/registry.js';
export type { Backend, BuildName, DType, FloatDType, TypedArray } from './backend/types.js';
export { createWasmBackend } from './backend/wasm/index.js';
export type { WasmOptions } from './backend/wasm/index.js';
export { supportedBuilds } from './backend/wasm/loader.js';
export { memory, resetPeak, warnOnLeaks } from './memory.js';
export type { MemoryInfo } from './memory.js';
export { profile } from './profile/profile.js';
export type { KernelCall, KernelStats, Profile, ProfiledBackend, Span, Trace, TraceEvent } from './profile/profile.js';

export { Tensor } from './autograd/tensor.js';
export type { NestedArray } from './autograd/tensor.js';
export type { TensorLike } from './autograd/op.js';
export { tidy, keep, noGrad, isGradEnabled, checkNumerics } from './autograd/scope.js';
export { backward, gradients, grad, grads, valueAndGrad, valueAndGrads } from './autograd/functional.js';
export type { BackwardOptions } from './autograd/backward.js';
export { gradcheck } from './autograd/gradcheck.js';
export type { GradcheckOptions, GradcheckResult } from './autograd/gradcheck.js';
export { graphOf, toDot, toMermaid, toSvg } from './autograd/graph.js';
export type { Graph, GraphNode, GraphEdge, GraphNodeKind } from './autograd/graph.js';
export { explain } from './autograd/explain.js';
export type { Explanation, ExplainRow } from './autograd/explain.js';

export { tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, randn, rand } from './creation.js';
export type { TensorOptions, RandomOptions } from './creation.js';
export { Generator, manualSeed, globalGenerator } from './random.js';

export * from './ops/index.js';
export { mseLoss } from './ops/mseLoss.js';
export { l2Penalty } from './ops/l2Penalty.js';

export * as kernels from './kernels/index.js';

export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { save, load, saveCheckpoint, loadCheckpoint, checkpointToBytes, checkpointFromBytes } from './io/checkpoint.js';
export type { Checkpoint, Restored } from './io/checkpoint.js';
export { toSafetensors, fromSafetensors } from './io/safetensors.js';
export type { Safetensors, LoadedTensor } from './io/safetensors.js';
export { seedLinear, seedNetwork } from './seed.js';
export { loadDigits, parseDigits, toFloat } from './data/digits.js';
export type { Digits, DigitSplit } from './data/digits.js';
export { loadNames } from './data/names.js';
export { CharTokenizer, IGNORE_INDEX, splitLines, tokenWindows } from './data/text.js';
export type { TokenWindows } from './data/text.js';
export { TensorDataset, DataLoader } from './data/dataset.js';
export type { DataLoaderOptions } from './data/dataset.js';
export { compile } from './compile/compile.js';
export type { CompiledStep, CompileOptions } from './compile/compile.js';

// Interop with PyTorch and the Hugging Face hub (issue 18): safetensors checkpoints, one file or sharded, from a
// path or a URL, loaded into a module by name.
export { loadSafetensors, loadPretrained } from './io/hub.js';
export type { HubCheckpoint, LoadPretrainedOptions, LoadReport, LoadSafetensorsOptions } from './io/hub.js';
// The way on to PyTorch: model.py (an nn.Module with the same state-dict names), model.safetensors, train_ddp.py.
export { toPyTorch, savePyTorch } from './interop/pytorch/index.js';
export type { PyTorchFiles, ToPyTorchOptions } from './interop/pytorch/index.js';
// issue 17 (api): the types of typed reads — the typed array of each dtype, and the dtype tensor() infers from data
export type { DTypeArrays, TypedArrayOf } from './autograd/tensor.js';
export type { DTypeOfData } from './creation.js';
// Types that public signatures use, exported so that programs can name them and the API reference documents them.
export type { Data as TensorData } from './creation.js';
export type { Fn as TensorFunction } from './autograd/functional.js';
export type { ExplainInput, ValueSummary } from './autograd/explain.js';
export type { Padding } from './ops/convolution.js';
export type { RngState } from './random.js';
export type { StepResult } from './compile/compile.js';
export type { WasmSource } from './backend/wasm/loader.js';
export type { Dtype as SafetensorsDtype } from './io/safetensors.js';
export type { SeedLinear, SeedNetwork, SeedNetworkOptions } from './seed.js';
// Tables (issue 17): typed CSV columns, the preprocessing `wasmgrad train --data` uses, and models it saved.
export { cellValue, readCsv, MISSING_CELLS } from './data/table.js';
export type { BooleanColumn, CsvCell, CsvColumn, CsvTable, NumberColumn, ReadCsvOptions, StringColumn } from './data/table.js';
export { OneHotEncoder, SimpleImputer, StandardScaler, TableEncoder, oneHot, trainTestSplit } from './data/preprocess.js';
export type {
  BooleanFeature, ImputerJSON, OneHotJSON, Rows, ScalerJSON, Split, TableEncoderFit, TableEncoderJSON, TableEncoderOptions,
} from './data/preprocess.js';
export { loadModel } from './train/saved-model.js';
export type { LoadedModel, ModelMetadata } from './train/saved-model.js';
export type { DataInfo } from './train/trainer.js';
export type { ActivationName, ModelDescription, MlpConfig, CnnConfig } from './train/model.js';
export type { GptConfig } from './train/gpt.js';
