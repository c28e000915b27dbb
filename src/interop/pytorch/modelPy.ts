// model.py: the exported model as a PyTorch nn.Module whose state-dict names and shapes are wasmgrad's, so
// model.safetensors loads with load_state_dict(strict=True). The trainer's MLP and CNN are Sequentials, written
// layer by layer (layers.ts); the GPT is its two classes (src/train/gpt.ts) written out with its sizes.
import type { Module } from '../../nn/module.js';
import { Sequential } from '../../nn/sequential.js';
import type { DataInfo } from '../../train/trainer.js';
import { inputShapeOf, type ModelDescription } from '../../train/model.js';
import { torchLayer } from './layers.js';
import { py } from './python.js';
import { SAFETENSORS_PY } from './safetensorsPy.js';

/** What model.py needs to know: the wasmgrad model, how it was described, and its data. */
export interface Exported { model: Module; description: ModelDescription; info: DataInfo; architecture: string }

function sequentialClass(model: Module): string {
  if (!(model instanceof Sequential)) throw new Error(`exportPyTorch: expected the trainer's Sequential, got a ${model.constructor.name}`);
  const layers = model.namedChildren().map(([name, m]) => `            ${torchLayer(m, name)},  # ${name}`);
  return `class Model(nn.Sequential):
    def __init__(self):
        super().__init__(
${layers.join('\n')}
        )
`;
}

function gptClasses(c: { vocabSize: number; context: number; layers: number; heads: number; width: number; dropout: number }): string {
  return `class Block(nn.Module):
    """One pre-LN block: x + attn(ln1(x)) with a causal mask, then x + fc2(gelu(fc1(ln2(x))))."""

    def __init__(self, width, heads, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        t = x.shape[1]
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)  # True: may not attend
        h = self.ln1(x)
        a = x + self.drop(self.attn(h, h, h, attn_mask=causal, need_weights=False)[0])
        return a + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(a)))))


class Model(nn.Module):
    """Token ids [batch, time] -> next-token logits [batch, time, vocab_size]."""

    def __init__(self, vocab_size=${c.vocabSize}, context=${c.context}, layers=${c.layers}, heads=${c.heads}, width=${c.width}, dropout=${py(c.dropout)}):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Embedding(context, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(width, heads, dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx):
        positions = torch.arange(idx.shape[1], device=idx.device)
        x = self.drop(self.tok(idx) + self.pos(positions))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))
`;
}

/** The loss wasmgrad's trainer minimises for this task (without the seed's optional L2 term). */
function lossFunction(info: DataInfo): string {
  return info.task === 'classification'
    ? `def loss_fn(output, target):
    """Cross-entropy over the last dim; label -100 is ignored (a text's padding)."""
    return F.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1).long(), ignore_index=-100)`
    : `def loss_fn(output, target):
    """Mean squared error."""
    return F.mse_loss(output, target.reshape(output.shape).float())`;
}

/** The text of model.py for an exported model. */
export function modelPy(e: Exported): string {
  const gpt = 'gpt' in e.description;
  return `"""${e.architecture}: a model trained by wasmgrad, as a PyTorch nn.Module.

Its state-dict names and shapes are wasmgrad's, so model.safetensors (written beside this file by
\`wasmgrad export --pytorch\`) loads with load_state_dict(strict=True), and weights saved from it load back into
wasmgrad with loadStateDict.

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

# One input, without the batch dim: ${gpt ? 'at most this many token ids' : "the features as wasmgrad's predict prepares them"}.
INPUT_SHAPE = ${py(inputShapeOf(e.description))}
TASK = ${py(e.info.task)}


def prepare(x):
    """A batch of inputs as the model takes them: ${gpt ? 'token ids [batch, time]' : 'floats [batch, *INPUT_SHAPE]'}."""
    return ${gpt ? 'x.long()' : 'x.float().reshape(-1, *INPUT_SHAPE)'}


${gpt ? gptClasses((e.description as { gpt: Parameters<typeof gptClasses>[0] }).gpt) : sequentialClass(e.model)}

${lossFunction(e.info)}

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
