"""The NumPy decode path: the arithmetic of the torch `Transformer` (prefill
and decode), in NumPy, with no module dispatch and no torch.

Why: one decode step of the small model multiplies matrices of a few hundred
thousand weights. Through `nn.Module` that is ~20 module calls and ~60 torch
ops of 5-10 us overhead each, which costs more than the arithmetic. Here a
step is ~25 NumPy calls per layer on preallocated buffers, and the
layer-norm gains are folded into the matrices that follow them. A prompt is
prefilled in one pass of matrix products (a few milliseconds), so inference
needs no torch at all.

`PromptCache` keeps the keys and values of the last prompt so a request that
repeats it (another seed, more variations, the next chunk's shared head)
prefills only the tokens that differ.

The logits equal the reference within float32 rounding (tests/model/generation/test_decoders.py
states the tolerance); the engine's tokens are identical for the same seed.
"""

from __future__ import annotations

import numpy as np

from ..network.config import LN_EPS as EPS
from ..network.config import ModelConfig
from ..network.weights import Weights

GELU_C = np.float32(np.sqrt(2.0 / np.pi))
GELU_A = np.float32(np.sqrt(2.0 / np.pi) * 0.044715)
PREFILL_ROWS = 64  # queries per block of a prefill's attention


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
        for name in (
            "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_",
            "openblas_set_num_threads",
        ):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                return True
    return False


def empty_aligned(shape) -> np.ndarray:
    """An uninitialised float32 array starting on a 64-byte cache line (the
    compiled step reads rows of 16 floats: one line, not two)."""
    size = int(np.prod(shape))
    buf = np.empty(size + 16, dtype=np.float32)
    start = (-buf.ctypes.data % 64) // 4
    return buf[start : start + size].reshape(shape)


class KV:
    """Keys and values of every layer for a batch, (batch, H, length, hd)
    per layer. Left uninitialised: every position is written before it is
    read, and zeroing megabytes a request never touches costs milliseconds."""

    def __init__(self, config: ModelConfig, batch: int, length: int):
        shape = (batch, config.n_head, length, config.n_embd // config.n_head)
        self.k = [empty_aligned(shape) for _ in range(config.n_layer)]
        self.v = [empty_aligned(shape) for _ in range(config.n_layer)]
        self.pos = 0  # number of positions filled
        self.length = length


class FastDecoder:
    """Prefill and decode in NumPy on the folded weights."""

    def __init__(self, weights: Weights):
        single_thread_blas()
        cfg = weights.config
        a = weights.arrays
        self.config = cfg
        self.n_head = cfg.n_head
        self.hd = cfg.n_embd // cfg.n_head
        self.scale = 1.0 / float(np.sqrt(self.hd))
        self.wte = a["wte.weight"]
        self.wpe = a["wpe.weight"]
        self.layers = []
        for i in range(cfg.n_layer):
            blk = f"blocks.{i}."
            # LN(x) @ W.T + b  ==  norm(x) @ (diag(g) W.T) + (beta @ W.T + b)
            qkv_w, qkv_b = self._fold(a, blk + "ln_1", blk + "attn.qkv")
            # the attention scale 1/sqrt(hd) goes into the query columns
            C = cfg.n_embd
            qkv_w[:, :C] *= self.scale
            if qkv_b is not None:
                qkv_b[:C] *= self.scale
            fc_w, fc_b = self._fold(a, blk + "ln_2", blk + "mlp.fc")
            self.layers.append(
                {
                    "qkv_w": qkv_w,
                    "qkv_b": qkv_b,
                    "proj_w": a[blk + "attn.proj.weight"].T.copy(),
                    "proj_b": a.get(blk + "attn.proj.bias"),
                    "fc_w": fc_w,
                    "fc_b": fc_b,
                    # GELU's factor 0.5 goes into the matrix after it
                    "mproj_w": np.ascontiguousarray(0.5 * a[blk + "mlp.proj.weight"].T),
                    "mproj_b": a.get(blk + "mlp.proj.bias"),
                }
            )
        # the output head is tied to the token embedding
        self.head_w, self.head_b = self._fold(a, "ln_f", "wte")

    @staticmethod
    def _fold(a: dict, ln: str, linear: str):
        w = a[f"{linear}.weight"].T  # (in, out)
        g = a[f"{ln}.weight"]
        b = a.get(f"{linear}.bias")
        b = None if b is None else b.copy()
        if f"{ln}.bias" in a:
            extra = a[f"{ln}.bias"] @ w
            b = extra if b is None else b + extra
        return np.ascontiguousarray(g[:, None] * w), b

    def new_prompt_cache(self) -> PromptCache:
        """An empty prompt cache for this decoder."""
        return PromptCache(self)

    def keep_rows(self, cache: KV, rows: list[int]) -> KV:
        """A cache holding only `rows` of `cache` (rows whose fill is done leave)."""
        out = KV(self.config, len(rows), cache.length)
        for src, dst in ((cache.k, out.k), (cache.v, out.v)):
            for a, b in zip(src, dst):
                b[:, :, : cache.pos] = a[rows, :, : cache.pos]
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

    @staticmethod
    def _linear(x, w, b):
        y = x @ w
        if b is not None:
            y += b
        return y

    def _mlp(self, x, L):
        """x += the block's MLP of x, in place."""
        u = self._linear(self._norm(x), L["fc_w"], L["fc_b"])
        # GELU, tanh form (as F.gelu(approximate="tanh")), its 0.5 folded away
        t = u * u
        t *= GELU_A
        t += GELU_C
        t *= u
        np.tanh(t, out=t)
        t += 1.0
        t *= u
        x += self._linear(t, L["mproj_w"], L["mproj_b"])

    def _head(self, x):
        return self._linear(self._norm(x), self.head_w, self.head_b)

    def prefill(self, tokens, start: int, ks: list, vs: list) -> np.ndarray:
        """Run one row's tokens at positions start.. into ks/vs (per layer (H,
        length, hd), positions before `start` already filled); the logits of
        the last token (V,). Each weight is one matrix product for the whole
        chunk."""
        T, H, hd = len(tokens), self.n_head, self.hd
        C, end = H * hd, start + len(tokens)
        if end > self.config.block_size:
            raise ValueError(
                f"sequence of {end} tokens exceeds block_size {self.config.block_size}"
            )
        x = self.wte[np.asarray(tokens)] + self.wpe[start:end]
        R = PREFILL_ROWS
        # within a block of queries, query i sees the block's keys up to i
        tri = np.triu(np.full((R, R), -np.inf, dtype=np.float32), k=1)
        y = np.empty((T, C), dtype=np.float32)
        for L, k, v in zip(self.layers, ks, vs):
            qkv = self._linear(self._norm(x), L["qkv_w"], L["qkv_b"])
            k[:, start:end] = qkv[:, C : 2 * C].reshape(T, H, hd).transpose(1, 0, 2)
            v[:, start:end] = qkv[:, 2 * C :].reshape(T, H, hd).transpose(1, 0, 2)
            q = qkv[:, :C].reshape(T, H, hd).transpose(1, 0, 2)
            # queries in blocks, each against the positions it can see: most
            # of the masked half of the scores is never computed, a block's
            # scores stay in the cache, and the softmax is normalised on the
            # (rows, hd) output rather than on the (rows, seen) weights
            for r0 in range(0, T, R):
                n = min(T, r0 + R) - r0
                seen = start + r0 + n
                s = q[:, r0 : r0 + n] @ k[:, :seen].transpose(0, 2, 1)  # (H, n, seen)
                s[:, :, seen - n :] += tri[:n, :n]
                s -= s.max(-1, keepdims=True)
                np.exp(s, out=s)
                o = s @ v[:, :seen]  # (H, n, hd)
                o /= s.sum(-1, keepdims=True)
                y[r0 : r0 + n] = o.transpose(1, 0, 2).reshape(n, C)
            x += self._linear(y, L["proj_w"], L["proj_b"])
            self._mlp(x, L)
        return self._head(x[-1:])[0]

    def decode(self, tokens, cache: KV) -> np.ndarray:
        """tokens (B,) ints -> logits (B, V) float32; writes position cache.pos."""
        p = cache.pos
        if p + 1 > min(cache.length, self.config.block_size):
            raise ValueError(f"sequence of {p + 1} tokens exceeds the cache")
        B, H, hd = len(tokens), self.n_head, self.hd
        C = H * hd
        x = self.wte[np.asarray(tokens)] + self.wpe[p]
        for L, kc, vc in zip(self.layers, cache.k, cache.v):  # (B, H, len, hd)
            qkv = self._linear(self._norm(x), L["qkv_w"], L["qkv_b"])
            kc[:, :, p, :] = qkv[:, C : 2 * C].reshape(B, H, hd)
            vc[:, :, p, :] = qkv[:, 2 * C :].reshape(B, H, hd)
            # keys as the left operand: each (b, h) slice is contiguous, so
            # matmul hands it to BLAS; a transposed view would not be
            s = kc[:, :, : p + 1] @ qkv[:, :C].reshape(B, H, hd, 1)  # (B, H, T, 1)
            s -= s.max(-2, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-2, keepdims=True)
            y = (s.reshape(B, H, 1, p + 1) @ vc[:, :, : p + 1]).reshape(B, C)
            x += self._linear(y, L["proj_w"], L["proj_b"])
            self._mlp(x, L)
        cache.pos = p + 1
        return self._head(x)


class PromptCache:
    """The keys, values and last logits of the latest prompt (one row)."""

    def __init__(self, fast: FastDecoder):
        self.fast = fast
        self.clear()

    def clear(self) -> None:
        self.tokens: list[int] = []
        self.k: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.logits: np.ndarray | None = None

    def ensure(self, tokens: list[int]) -> tuple[np.ndarray, int]:
        """Make `tokens` the cached prompt; (its last logits (V,), tokens
        actually run through the model). Reuses the longest common prefix.
        The keys and values are then `self.k` / `self.v`, (H, n, hd) per
        layer; a later prompt replaces those arrays, never writes into them,
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
        cfg = self.fast.config
        shape = (cfg.n_head, n, cfg.n_embd // cfg.n_head)
        k = [np.empty(shape, dtype=np.float32) for _ in range(cfg.n_layer)]
        v = [np.empty(shape, dtype=np.float32) for _ in range(cfg.n_layer)]
        for new, old in ((k, self.k), (v, self.v)):
            for a, b in zip(new, old):
                a[:, :same] = b[:, :same]
        logits = self._prefill(tokens[same:], same, k, v)
        self.tokens, self.k, self.v, self.logits = list(tokens), k, v, logits
        return logits, n - same

    def _prefill(self, tokens: list[int], start: int, k: list, v: list) -> np.ndarray:
        """Run `tokens` at positions start.. into k/v; the last logits (V,).
        Here in NumPy; the compiled decoder's cache runs it in C
        (model/generation/prefill_c.py)."""
        return self.fast.prefill(tokens, start, k, v)
