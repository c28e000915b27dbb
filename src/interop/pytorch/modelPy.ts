// model.py: the exported model as a PyTorch nn.Module whose state-dict names and shapes are wasmgrad's, so
// model.safetensors loads with load_state_dict(strict=True): `class Model(<the root's PyTorch class>)` built with the
// root's arguments (layers.ts), a Sequential's layers one a line; beside it prepare() (a batch as the model takes it),
// loss_fn (for train_ddp.py) and a safetensors reader and writer.
import type { Module } from '../../nn/module.js';
import { render, torchModel } from './layers.js';
import { py } from './python.js';
import { SAFETENSORS_PY } from './safetensorsPy.js';

/** What model.py needs to know about the model beyond its layers. */
export interface ModelPySpec {
  /** The first line of the docstring: what the model is. */
  title: string;
  /** One input's shape without the batch dim, when known. */
  inputShape: readonly number[] | null;
  /** Whether the model reads token ids (else floats). */
  tokenIds: boolean;
  /** Whether the batch dim comes first (not so for sequence-first attention layers). */
  batchFirst: boolean;
  /** The loss train_ddp.py minimises: cross-entropy for classification, mean squared error for regression. */
  task: 'classification' | 'regression';
}

/** `class Model(<root class>)` built with the root's arguments, and the classes it needs before it. */
function modelClass(model: Module, api: string): string {
  const { call, definitions } = torchModel(model, api);
  const init = render({ ...call, cls: 'super().__init__' }, '        ');
  return [...definitions, `class Model(${call.cls}):
    def __init__(self):
        ${init}
`].join('\n\n');
}

/** The body of prepare(x): a batch as the model takes it. */
function prepareBody(s: ModelPySpec): string {
  if (s.tokenIds) return 'x.long()';
  return s.inputShape && s.batchFirst ? 'x.float().reshape(-1, *INPUT_SHAPE)' : 'x.float()';
}

/** The loss wasmgrad's trainer minimises for this task (without the seed's optional L2 term). */
function lossFunction(task: ModelPySpec['task']): string {
  return task === 'classification'
    ? `def loss_fn(output, target):
    """Cross-entropy over the last dim; label -100 is ignored (a text's padding)."""
    return F.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1).long(), ignore_index=-100)`
    : `def loss_fn(output, target):
    """Mean squared error."""
    return F.mse_loss(output, target.reshape(output.shape).float())`;
}

/** The text of model.py for `model`; `api` names the caller in the error for a layer PyTorch has no equivalent of. */
export function modelPy(model: Module, s: ModelPySpec, api: string): string {
  return `"""${s.title}: a model trained by wasmgrad, as a PyTorch nn.Module.

Its state-dict names and shapes are wasmgrad's, so model.safetensors (written beside this file by
\`wasmgrad export --pytorch\` or savePyTorch) loads with load_state_dict(strict=True), and weights saved from it load
back into wasmgrad with loadStateDict.

    python3 model.py                                   # load model.safetensors and print the model
    python3 model.py --input x.safetensors --output y.safetensors   # eval-mode outputs of the tensor 'x'
"""
import argparse
import json
import struct
import sys

import torch
import torch.nn.functional as F
from torch import nn

# One input, without the batch dim${s.tokenIds ? ' (token ids)' : ''}; None where the export was not told it.
INPUT_SHAPE = ${py(s.inputShape)}
TASK = ${py(s.task)}


def prepare(x):
    """A batch of inputs as the model takes them: ${s.tokenIds ? 'token ids (int64)' : 'floats'}."""
    return ${prepareBody(s)}


${modelClass(model, api)}

${lossFunction(s.task)}

${SAFETENSORS_PY}

def load_model(path="model.safetensors"):
    """The model with the weights of a safetensors file (every name must match: strict=True)."""
    model = Model()
    model.load_state_dict(load_safetensors(path)[0], strict=True)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="model.safetensors", help="the safetensors file to load")
    parser.add_argument("--input", help="a safetensors file with a tensor 'x': a batch of inputs")
    parser.add_argument("--output", help="where to write the outputs of --input (tensor 'y')")
    args = parser.parse_args()
    model = load_model(args.weights).eval()
    if not args.input:
        print(model)
        return
    with torch.no_grad():
        y = model(prepare(load_safetensors(args.input)[0]["x"]))
    save_safetensors({"y": y}, args.output or "output.safetensors")


if __name__ == "__main__":
    main()
`;
}
