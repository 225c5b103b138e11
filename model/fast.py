"""A fast decode path for the Transformer: the same arithmetic as
`Transformer.decode`, in NumPy, with no module dispatch.

Why: one decode step of the small model multiplies matrices of a few hundred
thousand weights. Through `nn.Module` that is ~20 module calls and ~60 torch
ops of 5-10 us overhead each, which costs more than the arithmetic. Here a
step is ~25 NumPy calls per layer on preallocated buffers, the layer-norm
gains are folded into the matrices that follow them, and the key/value cache
is the same memory as the torch `KVCache`, so prefill (long, worth torch's
threads) runs in torch and decoding continues in NumPy without a copy.

`PromptCache` keeps the keys and values of the last prompt so a request that
repeats it (another seed, more variations, the next chunk's shared head)
prefills only the tokens that differ; a batch of identical prompts is
prefilled once and copied to every row.

The logits equal the reference within float32 rounding (tests/test_fast.py
states the tolerance); the engine's tokens are identical for the same seed.
"""
from __future__ import annotations

import numpy as np
import torch

from .transformer import LN_EPS as EPS, KVCache, Transformer

GELU_C = np.float32(np.sqrt(2.0 / np.pi))
GELU_A = np.float32(np.sqrt(2.0 / np.pi) * 0.044715)


def single_thread_blas() -> bool:
    """Ask NumPy's OpenBLAS for one thread: decode matrices are tiny, and on a
    busy machine threads waiting on each other cost more than they share.
    False where the library is not found (NumPy then keeps its default)."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return False
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                return True
    return False


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).cpu().numpy().copy()


class FastDecoder:
    """Decode one token per row against a torch `KVCache`, in NumPy."""

    def __init__(self, model: Transformer):
        single_thread_blas()
        cfg = model.config
        self.config = cfg
        self.n_head = cfg.n_head
        self.hd = cfg.n_embd // cfg.n_head
        self.scale = 1.0 / float(np.sqrt(self.hd))
        self.wte = _np(model.wte.weight)
        self.wpe = _np(model.wpe.weight)
        self.layers = []
        for blk in model.blocks:
            # LN(x) @ W.T + b  ==  norm(x) @ (diag(g) W.T) + (beta @ W.T + b)
            qkv_w, qkv_b = self._fold(blk.ln_1, blk.attn.qkv)
            # the attention scale 1/sqrt(hd) goes into the query columns
            C = cfg.n_embd
            qkv_w[:, :C] *= self.scale
            if qkv_b is not None:
                qkv_b[:C] *= self.scale
            fc_w, fc_b = self._fold(blk.ln_2, blk.mlp.fc)
            self.layers.append({
                "qkv_w": qkv_w, "qkv_b": qkv_b,
                "proj_w": _np(blk.attn.proj.weight).T.copy(),
                "proj_b": None if blk.attn.proj.bias is None else _np(blk.attn.proj.bias),
                "fc_w": fc_w, "fc_b": fc_b,
                # GELU's factor 0.5 goes into the matrix after it
                "mproj_w": np.ascontiguousarray(0.5 * _np(blk.mlp.proj.weight).T),
                "mproj_b": None if blk.mlp.proj.bias is None else _np(blk.mlp.proj.bias),
            })
        self.head_w, self.head_b = self._fold(model.ln_f, model.lm_head)

    @staticmethod
    def _fold(ln, linear):
        w = _np(linear.weight).T  # (in, out)
        g = _np(ln.weight)
        b = None if linear.bias is None else _np(linear.bias)
        if ln.bias is not None:
            extra = _np(ln.bias) @ w
            b = extra if b is None else b + extra
        return np.ascontiguousarray(g[:, None] * w), b

    def weight_bytes(self) -> int:
        """Bytes of weights one decode step reads (the embedding row aside)."""
        n = sum(a.nbytes for L in self.layers for a in L.values() if a is not None)
        return n + self.head_w.nbytes

    def keep_rows(self, cache: KVCache, rows: list[int]) -> KVCache:
        """A cache holding only `rows` of `cache` (rows whose fill is done leave)."""
        out = KVCache(self.config, len(rows), cache.length)
        for src, dst in ((cache.k, out.k), (cache.v, out.v)):
            for a, b in zip(src, dst):
                b[:, :, :cache.pos] = a[rows, :, :cache.pos]
        out.pos = cache.pos
        return out

    @staticmethod
    def _norm(x):
        # ufunc reductions directly: ndarray.mean's Python wrapper costs more
        # than the arithmetic at this size
        inv = np.float32(1.0 / x.shape[-1])
        m = np.add.reduce(x, axis=-1, keepdims=True)
        m *= inv
        x = x - m
        v = np.add.reduce(x * x, axis=-1, keepdims=True)
        v *= inv
        v += np.float32(EPS)
        np.sqrt(v, out=v)
        x /= v
        return x

    def decode(self, tokens, cache: KVCache) -> np.ndarray:
        """tokens (B,) ints -> logits (B, V) float32; writes position cache.pos."""
        p = cache.pos
        if p + 1 > min(cache.length, self.config.block_size):
            raise ValueError(f"sequence of {p + 1} tokens exceeds the cache")
        B, H, hd = len(tokens), self.n_head, self.hd
        x = self.wte[np.asarray(tokens)] + self.wpe[p]
        for i, L in enumerate(self.layers):
            kc, vc = cache.k[i].numpy(), cache.v[i].numpy()  # shared memory, (B, H, len, hd)
            qkv = self._norm(x) @ L["qkv_w"]
            if L["qkv_b"] is not None:
                qkv += L["qkv_b"]
            C = H * hd
            kc[:, :, p, :] = qkv[:, C:2 * C].reshape(B, H, hd)
            vc[:, :, p, :] = qkv[:, 2 * C:].reshape(B, H, hd)
            # keys as the left operand: each (b, h) slice is contiguous, so
            # matmul hands it to BLAS; a transposed view would not be
            s = kc[:, :, :p + 1] @ qkv[:, :C].reshape(B, H, hd, 1)  # (B, H, T, 1)
            s -= s.max(-2, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-2, keepdims=True)
            y = (s.reshape(B, H, 1, p + 1) @ vc[:, :, :p + 1]).reshape(B, C)
            y = y @ L["proj_w"]
            if L["proj_b"] is not None:
                y += L["proj_b"]
            x += y
            u = self._norm(x) @ L["fc_w"]
            if L["fc_b"] is not None:
                u += L["fc_b"]
            # GELU, tanh form (as F.gelu(approximate="tanh")), its 0.5 folded away
            t = u * u
            t *= GELU_A
            t += GELU_C
            t *= u
            np.tanh(t, out=t)
            t += 1.0
            t *= u
            y = t @ L["mproj_w"]
            if L["mproj_b"] is not None:
                y += L["mproj_b"]
            x += y
        logits = self._norm(x) @ self.head_w
        if self.head_b is not None:
            logits += self.head_b
        cache.pos = p + 1
        return logits


class PromptCache:
    """The keys, values and last logits of the latest prompt (one row)."""

    def __init__(self, model: Transformer):
        self.model = model
        self.tokens: list[int] = []
        self.k: list[torch.Tensor] = []
        self.v: list[torch.Tensor] = []
        self.logits: torch.Tensor | None = None

    def clear(self) -> None:
        self.tokens, self.k, self.v, self.logits = [], [], [], None

    def ensure(self, tokens: list[int]) -> tuple[torch.Tensor, int]:
        """Make `tokens` the cached prompt; (its last logits (1, V), tokens
        actually run through the model). Reuses the longest common prefix.
        The keys and values are then `self.k` / `self.v`, (1, H, n, hd) per
        layer; a later prompt replaces those tensors, never writes into them,
        so a decode that holds them is safe."""
        n = len(tokens)
        same = 0
        for a, b in zip(self.tokens, tokens):
            if a != b:
                break
            same += 1
        if same == n and self.logits is not None and len(self.tokens) == n:
            return self.logits, 0
        same = min(same, n - 1)  # at least one token runs, for its logits
        one = KVCache(self.model.config, 1, n)
        for i in range(len(one.k)):
            one.k[i][:, :, :same] = self.k[i][:, :, :same] if same else 0
            one.v[i][:, :, :same] = self.v[i][:, :, :same] if same else 0
        one.pos = same
        logits = self.model.prefill(torch.tensor([tokens[same:]], dtype=torch.long), one)
        self.tokens, self.k, self.v, self.logits = list(tokens), one.k, one.v, logits
        return logits, n - same

    def prefill(self, tokens: list[int], cache: KVCache) -> tuple[torch.Tensor, int]:
        """Fill every row of `cache` with the prompt; (logits (B, V), tokens
        actually run through the model)."""
        n = len(tokens)
        logits, ran = self.ensure(tokens)
        for i in range(len(cache.k)):
            cache.k[i][:, :, :n] = self.k[i][:, :, :n]  # broadcast over the batch
            cache.v[i][:, :, :n] = self.v[i][:, :, :n]
        cache.pos = n
        return logits.expand(cache.k[0].shape[0], -1), ran
