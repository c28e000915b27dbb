# The PyTorch twin of `wasmgrad train --model gpt` on the embedded names, written by hand for comparison: the same
# data (the last tenth of the lines held out; each part one stream of characters with a newline before every line,
# cut into windows of `context` characters whose padded tail targets are ignored), the same model (token and
# position embeddings, pre-LN causal blocks of nn.MultiheadAttention and a 4x GELU MLP, final LayerNorm, linear
# head; dropout on the embeddings and on each block's attention and MLP outputs), the same optimisation (Adam,
# cosine annealing stepped once per epoch, a new shuffle of the windows every epoch, the last batch smaller), and
# the same measure: cross-entropy per character of the validation stream, in nats.
# Only the random numbers differ (initialisation, shuffles, dropout).
#
#   python3 scripts/gpt-pytorch.py [--epochs 20 --context 16 --layers 2 --heads 4 --width 64 --dropout 0.1 --lr 2e-3
#                                   --batch-size 32 --seed 0 --threads 1]
import argparse
import gzip
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE_INDEX = -100

p = argparse.ArgumentParser()
p.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '..', 'data', 'names.txt.gz'))
p.add_argument('--epochs', type=int, default=20)
p.add_argument('--context', type=int, default=16)
p.add_argument('--layers', type=int, default=2)
p.add_argument('--heads', type=int, default=4)
p.add_argument('--width', type=int, default=64)
p.add_argument('--dropout', type=float, default=0.1)
p.add_argument('--lr', type=float, default=2e-3)
p.add_argument('--batch-size', type=int, default=32)
p.add_argument('--val-split', type=float, default=0.1)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--threads', type=int, default=1)
args = p.parse_args()
torch.manual_seed(args.seed)
torch.set_num_threads(args.threads)

opener = gzip.open if args.data.endswith('.gz') else open
with opener(args.data, 'rt', encoding='utf-8') as f:
    text = f.read().replace('\r\n', '\n')
lines = text.split('\n')
if lines[-1] == '':
    lines.pop()
n_val = round(len(lines) * args.val_split)  # JavaScript's Math.round; no .5 case arises for 8,422 lines
train_text = '\n' + '\n'.join(lines[:len(lines) - n_val]) + '\n'
val_text = '\n' + '\n'.join(lines[len(lines) - n_val:]) + '\n'
vocab = sorted(set(train_text + val_text), key=ord)
stoi = {c: i for i, c in enumerate(vocab)}
T = args.context


def windows(s):
    ids = torch.tensor([stoi[c] for c in s], dtype=torch.long)
    count = math.ceil((len(ids) - 1) / T)
    x = torch.zeros(count * T, dtype=torch.long)
    y = torch.full((count * T,), IGNORE_INDEX, dtype=torch.long)
    x[:len(ids) - 1] = ids[:-1]
    y[:len(ids) - 1] = ids[1:]
    return x.view(count, T), y.view(count, T)


Xtr, Ytr = windows(train_text)
Xva, Yva = windows(val_text)


class Block(nn.Module):
    def __init__(self, width, heads, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.drop(self.attn(h, h, h, attn_mask=mask, need_weights=False)[0])
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))


class GPT(nn.Module):
    def __init__(self, vocab_size, context, layers, heads, width, dropout):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Embedding(context, width)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(width, heads, dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx):
        t = idx.shape[1]
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)  # True: may not attend (the future)
        x = self.drop(self.tok(idx) + self.pos(torch.arange(t)))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln(x))


model = GPT(len(vocab), T, args.layers, args.heads, args.width, args.dropout)
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
params = sum(p.numel() for p in model.parameters())
print(f'pytorch {torch.__version__}, {args.threads} thread(s): {len(lines) - n_val} train / {n_val} validation lines, '
      f'{len(train_text)} / {len(val_text)} characters, vocabulary {len(vocab)}; {params} parameters')


def evaluate(X, Y):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(X), 500):
            logits = model(X[i:i + 500])
            y = Y[i:i + 500]
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE_INDEX,
                                     reduction='sum').item()
            count += (y != IGNORE_INDEX).sum().item()
    model.train()
    return total / count


started = time.time()
for epoch in range(1, args.epochs + 1):
    t0 = time.time()
    order = torch.randperm(len(Xtr))
    loss_sum, seen = 0.0, 0
    for i in range(0, len(order), args.batch_size):
        idx = order[i:i + args.batch_size]
        logits = model(Xtr[idx])
        y = Ytr[idx]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE_INDEX)
        opt.zero_grad()
        loss.backward()
        opt.step()
        n = (y != IGNORE_INDEX).sum().item()
        loss_sum += loss.item() * n
        seen += n
    sched.step()
    val = evaluate(Xva, Yva)
    print(f'epoch {epoch}/{args.epochs}  loss {loss_sum / seen:.4f}  val loss {val:.4f} nats/char  '
          f'{seen / (time.time() - t0):,.0f} chars/s', flush=True)
print(f'done in {time.time() - started:.1f}s: validation loss {val:.4f} nats/char')
