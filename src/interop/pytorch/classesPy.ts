// Python classes model.py defines when the model needs them: RMSNorm where PyTorch lacks it (it came in 2.4;
// Debian 12 ships 1.13), SelfAttention (a MultiheadAttention that model(x) and a Sequential can call), and the CLI's
// character GPT (src/train/gpt.ts) with its pre-LN causal blocks. Their state-dict names and shapes are wasmgrad's.

export const RMSNORM_PY = `if hasattr(nn, "RMSNorm"):
    RMSNorm = nn.RMSNorm
else:
    class RMSNorm(nn.Module):
        """torch.nn.RMSNorm (PyTorch 2.4) for older versions: x / sqrt(mean(x**2) + eps) * weight over the last dims."""

        def __init__(self, normalized_shape, eps=None, elementwise_affine=True):
            super().__init__()
            self.normalized_shape = tuple(normalized_shape)
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(self.normalized_shape)) if elementwise_affine else None

        def forward(self, x):
            dims = tuple(range(-len(self.normalized_shape), 0))
            eps = torch.finfo(x.dtype).eps if self.eps is None else self.eps
            y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
            return y if self.weight is None else y * self.weight
`;

// A subclass, not a wrapper: the parameters keep nn.MultiheadAttention's names (in_proj_weight, not attn.in_proj_weight).
export const SELF_ATTENTION_PY = `class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention attending to its own input (query = key = value); forward(x) returns the output alone."""

    def forward(self, x):
        # Without biases, torch's fast path for query is key is value fails (pytorch/pytorch#97128): a view of x is
        # not x, so it is skipped.
        kv = x if self.in_proj_bias is not None else x.view_as(x)
        return super().forward(x, kv, kv, need_weights=False)[0]
`;

export const GPT_PY = `class Block(nn.Module):
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


class GPT(nn.Module):
    """wasmgrad's character GPT: token ids [batch, time] -> next-token logits [batch, time, vocab_size]."""

    def __init__(self, vocab_size, context, layers, heads, width, dropout):
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
