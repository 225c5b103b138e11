"""The prompt's forward pass compiled: model/generation/prefill.c, in the
library that holds the decode step (model/generation/c_build.py builds it).

`PackedPromptCache` is the compiled decoder's `PromptCache`: the same reuse
of the last prompt (a repeated prompt runs nothing, one that shares a head
with it runs only the rest), with the prompt run in C on the decode step's
packed weights, and its keys and values kept twice: plain (H, n, hd) per
layer, as every PromptCache keeps them, and packed as the decode step's
`SplitCache` reads the shared prompt, so a request's rows start on them
without a copy.

The logits and keys equal NumPy's and torch's within float32 rounding
(tests/model/generation/test_prefill_c.py).
"""

from __future__ import annotations

import ctypes

import numpy as np

from .c_build import PANEL, PREFILL_CHUNK, up
from .fast import FastDecoder, PromptCache, empty_aligned

_P, _I = ctypes.c_void_p, ctypes.c_int


class _Prompt(ctypes.Structure):
    """prefill.c's Prompt."""

    _fields_ = [("T", _I), ("start", _I), ("n", _I)] + [
        (k, _P) for k in ("tokens", "k", "v", "kT", "vp", "logits", "scratch")
    ]


def _ptrs(arrays) -> ctypes.Array:
    return (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])


class PackedPromptCache(PromptCache):
    """A PromptCache whose prompts run through prefill.c; `kt` and `vp` hold
    the prompt's keys and values packed per layer (see SplitCache)."""

    def __init__(self, fast: FastDecoder, lib, model_at: int):
        self.lib, self.model_at = lib, model_at
        f = lib.prefill
        f.argtypes = [_P, _P]
        f.restype = None
        super().__init__(fast)

    def clear(self) -> None:
        super().clear()
        self.kt: list[np.ndarray] = []
        self.vp: list[np.ndarray] = []

    def _prefill(self, tokens: list[int], start: int, k: list, v: list) -> np.ndarray:
        cfg = self.fast.config
        T, n = len(tokens), start + len(tokens)
        if n > cfg.block_size:
            raise ValueError(f"sequence of {n} tokens exceeds block_size {cfg.block_size}")
        H, C = cfg.n_head, cfg.n_embd
        hd, npad = C // H, up(n)
        # new arrays each prompt, as for k/v: a decode holding the last
        # prompt's keeps them (prefill.c zeroes their padding)
        kt = [empty_aligned((H, npad // PANEL, hd, PANEL)) for _ in range(cfg.n_layer)]
        vp = [empty_aligned((H, up(hd) // PANEL, npad, PANEL)) for _ in range(cfg.n_layer)]
        toks = np.asarray(tokens, dtype=np.int64)
        if T and (toks.min() < 0 or toks.max() >= cfg.vocab_size):
            raise ValueError(f"a token is outside the vocabulary of {cfg.vocab_size}")
        logits = np.empty(cfg.vocab_size, dtype=np.float32)
        # prefill.c's scratch: a chunk's activations, and one block's scores
        # (RB <= 8 queries)
        scratch = np.empty(PREFILL_CHUNK * 11 * C + 8 * (npad + 1), dtype=np.float32)
        keep = [_ptrs(a) for a in (k, v, kt, vp)]  # ctypes holds only addresses
        prompt = _Prompt(
            T,
            start,
            n,
            toks.ctypes.data,
            *(ctypes.addressof(a) for a in keep),
            logits.ctypes.data,
            scratch.ctypes.data,
        )
        self.lib.prefill(self.model_at, ctypes.addressof(prompt))
        self.kt, self.vp = kt, vp
        return logits
