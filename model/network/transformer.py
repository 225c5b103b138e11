"""The whole network: a decoder-only Transformer over midifill tokens, in
torch, for training and as the reference the other decoders are tested
against (model/generation/decoders.py; inference runs without torch).

`ModelConfig` travels inside every checkpoint and rebuilds the model.
`forward(idx, targets)` trains; `prefill` and `decode` run incremental
inference against a preallocated key/value cache (`KVCache`).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import LN_EPS, ModelConfig


class KVCache:
    """Keys and values of every layer for a batch, preallocated to `length`."""

    def __init__(
        self,
        config: ModelConfig,
        batch: int,
        length: int | None = None,
        dtype=torch.float32,
        device="cpu",
    ):
        length = length or config.block_size
        hd = config.n_embd // config.n_head
        shape = (batch, config.n_head, length, hd)
        self.k = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.n_layer)]
        self.v = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.n_layer)]
        self.pos = 0  # number of positions filled
        self.length = length


class LayerNorm(nn.Module):
    def __init__(self, n: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, LN_EPS)


class SelfAttention(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout

    def forward(self, x, cache: KVCache | None = None, layer: int = 0):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, -1).transpose(1, 2)
        k = k.view(B, T, self.n_head, -1).transpose(1, 2)
        v = v.view(B, T, self.n_head, -1).transpose(1, 2)
        if cache is None:
            y = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )
        else:
            p = cache.pos
            cache.k[layer][:, :, p : p + T] = k
            cache.v[layer][:, :, p : p + T] = v
            keys, values = cache.k[layer][:, :, : p + T], cache.v[layer][:, :, : p + T]
            if T == 1:
                y = F.scaled_dot_product_attention(q, keys, values)
            elif p == 0:
                y = F.scaled_dot_product_attention(q, keys, values, is_causal=True)
            else:  # a chunk after earlier positions: causal within the chunk
                mask = torch.ones(T, p + T, dtype=torch.bool, device=x.device).tril(diagonal=p)
                y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.proj(F.gelu(self.fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, config.bias)
        self.attn = SelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache=None, layer=0):
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = LayerNorm(config.n_embd, config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        # training may add rows shared between tokens (model/training/shared_rows.py)
        self.shared = None
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters()) - self.wpe.weight.numel()

    def token_table(self):
        """(vocab, n_embd): the rows tokens are embedded with and scored
        against (the table is tied to the output layer)."""
        return self.wte.weight if self.shared is None else self.wte.weight + self.shared()

    def plain_state_dict(self) -> dict:
        """The weights as a plain model holds them, what checkpoints store:
        rows shared in training summed into the token table, and the tied
        output layer left out."""
        state = dict(self.state_dict(), **{"wte.weight": self.token_table().detach()})
        return {
            k: v for k, v in state.items() if k != "lm_head.weight" and not k.startswith("shared.")
        }

    def _trunk(self, idx, start: int, cache: KVCache | None):
        T = idx.shape[1]
        if start + T > self.config.block_size:
            raise ValueError(
                f"sequence of {start + T} tokens exceeds block_size {self.config.block_size}"
            )
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.drop(F.embedding(idx, self.token_table()) + self.wpe(pos))
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        return self.ln_f(x)

    def forward(self, idx, targets=None):
        """idx (B, T) token ids -> (logits (B, T, V), mean cross-entropy or None).

        Targets equal to -1 are ignored (padding, or tokens not to learn)."""
        x = self._trunk(idx, 0, None)
        logits = F.linear(x, self.token_table())
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
        return logits, loss

    @torch.no_grad()
    def prefill(self, idx, cache: KVCache):
        """Run a prompt chunk into the cache; logits of its last position (B, V)."""
        x = self._trunk(idx, cache.pos, cache)
        cache.pos += idx.shape[1]
        return F.linear(x[:, -1, :], self.token_table())

    @torch.no_grad()
    def decode(self, tokens, cache: KVCache):
        """One new token per row (B,) -> logits of the next (B, V)."""
        return self.prefill(tokens.view(-1, 1), cache)


def grow_vocabulary(model: Transformer, vocab_size: int) -> None:
    """Give the model rows for tokens added at the end of its vocabulary
    (fine-tuning into a newer token format): the known rows are kept, the new
    ones start as a fresh model's would."""
    old = model.wte.weight.data
    if vocab_size < old.shape[0]:
        raise ValueError(f"the vocabulary can only grow ({old.shape[0]} -> {vocab_size})")
    wte = nn.Embedding(vocab_size, old.shape[1]).to(old.device, old.dtype)
    nn.init.normal_(wte.weight, mean=0.0, std=0.02)
    with torch.no_grad():
        wte.weight[: old.shape[0]] = old
    model.wte = wte
    model.lm_head = nn.Linear(old.shape[1], vocab_size, bias=False)
    model.lm_head.weight = wte.weight
    model.config.vocab_size = vocab_size
