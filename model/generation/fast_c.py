"""The decode step compiled: model/generation/decode_step.c, built on first use with the
system C compiler and loaded through ctypes (model/generation/c_build.py);
the prompt's forward pass compiled likewise (model/generation/prefill_c.py).

A token of the small model is ~1 M multiply-adds; in NumPy it also costs
~150 calls of fixed overhead, which is most of the time. In C the step is one
call, for one row or a batch: the weights stream past once for up to four
rows, and the rows of a batch share one copy of the prompt's keys and values
(`SplitCache`), so variations cost little more than one fill. A step of
several rows may share them among threads (model/generation/step_pool.c:
each thread runs the step for some rows, with the same floats as one
thread; `step_threads` says how many). Where no
compiler is found or the build fails, `CDecoder.build` returns None and the
engine keeps the NumPy path (`FastDecoder`), so nothing breaks on a machine
without a compiler (model/generation/decoders.py chooses).
"""

from __future__ import annotations

import ctypes
import os
import threading

import numpy as np

from ..network.config import ModelConfig
from ..network.weights import Weights
from .c_build import PANEL, load_library, up
from .fast import KV, FastDecoder, PromptCache, empty_aligned
from .prefill_c import PackedPromptCache
from .sampling import Controls, Noise

_P, _I = ctypes.c_void_p, ctypes.c_int
# Threads a step of several rows shares them among where MIDIFILL_THREADS
# is not set (decoders.py reads it).
DEFAULT_STEP_THREADS = 1


def cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def step_threads(lib, wanted: int | None = None) -> int:
    """Threads for a decode step of several rows: `wanted` (None: the
    default), at most one per CPU and what the library was built with
    (1 where it has no threads)."""
    n = DEFAULT_STEP_THREADS if wanted is None else wanted
    if n < 1:
        raise ValueError(f"MIDIFILL_THREADS={n}: expected a whole number >= 1")
    built = lib.step_threads_built()
    return max(1, min(n, cpus(), built))


def _ptr(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(ctypes.c_void_p)


def _ptrs(arrays) -> ctypes.Array:
    return (ctypes.c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])


def aligned(a: np.ndarray) -> np.ndarray:
    """A float32 copy of `a` starting on a 64-byte cache line: a panel row
    (16 floats) is then one line, not two."""
    out = empty_aligned(a.shape)
    out[...] = a
    return out


def pack(w: np.ndarray) -> np.ndarray:
    """W (in, out) in the kernel's layout: ceil(out / 16) panels of (in, 16),
    the last padded with zeros, so a product reads memory in order."""
    rows, cols = w.shape
    padded = np.zeros((rows, up(cols)), dtype=np.float32)
    padded[:, :cols] = w
    return aligned(padded.reshape(rows, -1, PANEL).transpose(1, 0, 2))


def pack_bias(b: np.ndarray | None) -> np.ndarray | None:
    if b is None:
        return None
    out = np.zeros(up(len(b)), dtype=np.float32)
    out[: len(b)] = b
    return aligned(out)


class SplitCache:
    """Keys and values for a batch whose rows share a prompt: the prompt's
    once, and each row's own for the tokens it writes after it, (batch, H,
    length, hd).

    The prompt's part is packed for the two products that attend to it (per
    head, W = K^T (hd, n) and W = V (n, hd), see `pack`), so that attention
    to the prompt is a matrix product for all rows at once. The compiled
    prefill leaves them packed (`PackedPromptCache`); a NumPy one's are packed
    here."""

    def __init__(
        self, config: ModelConfig, prompt: PromptCache, batch: int, length: int, threads: int = 1
    ):
        n = len(prompt.tokens)
        if isinstance(prompt, PackedPromptCache):
            self.prefix_kt, self.prefix_v = prompt.kt, prompt.vp
        else:
            self.prefix_kt, self.prefix_v = [], []
            H, hd = config.n_head, config.n_embd // config.n_head
            for k, v in zip(prompt.k, prompt.v):
                K = np.zeros((H, up(n), hd), dtype=np.float32)
                K[:, :n] = k
                self.prefix_kt.append(aligned(K.reshape(H, -1, PANEL, hd).transpose(0, 1, 3, 2)))
                V = np.zeros((H, up(n), up(hd)), dtype=np.float32)
                V[:, :n, :hd] = v
                self.prefix_v.append(aligned(V.reshape(H, up(n), -1, PANEL).transpose(0, 2, 1, 3)))
        self.n = n
        self.own = KV(config, batch, length)
        self.pos = self.n
        self.length = self.n + length
        self.io = StepBuffers(config, batch, self.length)
        self.io.bind(n, self.prefix_kt, self.prefix_v, self.own, threads)


class _Model(ctypes.Structure):
    """decode_step.c's Model."""

    _fields_ = [("L", _I), ("C", _I), ("H", _I), ("V", _I), ("wte", _P), ("wpe", _P)] + [
        (k, _P)
        for k in (
            "qkv_w",
            "qkv_b",
            "proj_w",
            "proj_b",
            "fc_w",
            "fc_b",
            "mproj_w",
            "mproj_b",
            "head_w",
            "head_b",
        )
    ]


class _Batch(ctypes.Structure):
    """decode_step.c's Batch."""

    _fields_ = [("np", _I), ("T", _I), ("threads", _I)] + [
        (k, _P) for k in ("kT", "vp", "kc", "vc", "tokens", "rows", "x", "logits", "scratch")
    ]


class StepBuffers:
    """The kernel's per-step inputs, outputs and scratch for up to `batch`
    rows and `length` positions, and the Batch struct that points at them and
    at the caches, made once: the step is then one call with two addresses
    (NumPy takes ~3 us to look up an address, and ctypes ~0.2 us to convert
    each argument)."""

    def __init__(self, config: ModelConfig, batch: int, length: int):
        C, V = config.n_embd, config.vocab_size
        self.batch, self.length = batch, length
        self.tokens = np.zeros(batch, dtype=np.int64)
        self.rows = np.zeros(batch, dtype=np.int64)
        self.x = np.empty((batch, C), dtype=np.float32)
        self.logits = np.empty((batch, V), dtype=np.float32)
        # 12 C + n_prefix + own.length + 18 floats a row (length is their sum)
        self.scratch = np.empty(batch * (12 * C + length + 18), dtype=np.float32)

    def bind(
        self, n_prefix: int, kt: list | None, vp: list | None, own: KV, threads: int = 1
    ) -> None:
        """Point the struct at a cache: n_prefix shared prompt positions
        packed in kt/vp (None: none), the rows' own positions in `own`;
        a step's rows shared among up to `threads` threads."""
        if n_prefix + own.length != self.length:
            raise ValueError("the step's scratch is laid out for another length")
        # ctypes holds only addresses: the pointer arrays are kept here
        self._keep = [_ptrs(t) if t is not None else None for t in (kt, vp, own.k, own.v)]
        addr = [None if a is None else ctypes.addressof(a) for a in self._keep]
        self.struct = _Batch(
            n_prefix,
            own.length,
            threads,
            *addr,
            *(a.ctypes.data for a in (self.tokens, self.rows, self.x, self.logits, self.scratch)),
        )
        self.at = ctypes.addressof(self.struct)


class CDecoder(FastDecoder):
    """FastDecoder's folded weights, stepped by the compiled kernel."""

    @classmethod
    def build(cls, weights: Weights, threads: int | None = None) -> CDecoder | None:
        """The decoder, or None where the kernel does not build or fit;
        `threads`: see `step_threads`."""
        if weights.config.n_embd % 8:
            return None  # the kernel's GELU runs eight floats at a time
        lib = load_library()
        return None if lib is None else cls(weights, lib, threads)

    def __init__(self, weights: Weights, lib, threads: int | None = None):
        super().__init__(weights)
        self.lib = lib
        lib.step_threads_built.restype = _I
        # threads a step of several rows may use; read when a cache is made
        self.threads = step_threads(lib, threads)
        n = len(self.layers)
        P = ctypes.c_void_p * n
        # the kernel's packed copies; kept alive here, as ctypes holds only
        # their addresses
        self._arrays = {
            k: [(pack_bias if k.endswith("_b") else pack)(L[k]) for L in self.layers]
            for k in ("qkv_w", "qkv_b", "proj_w", "proj_b", "fc_w", "fc_b", "mproj_w", "mproj_b")
        }
        self._ptrs = {k: P(*[_ptr(a) for a in v]) for k, v in self._arrays.items()}
        self.head_p, self.head_bp = pack(self.head_w), pack_bias(self.head_b)
        self.wte = np.ascontiguousarray(self.wte, dtype=np.float32)
        self.wpe = np.ascontiguousarray(self.wpe, dtype=np.float32)
        cfg = self.config
        self._model = _Model(
            n,
            cfg.n_embd,
            self.n_head,
            cfg.vocab_size,
            self.wte.ctypes.data,
            self.wpe.ctypes.data,
            *(
                ctypes.addressof(self._ptrs[k])
                for k in (
                    "qkv_w",
                    "qkv_b",
                    "proj_w",
                    "proj_b",
                    "fc_w",
                    "fc_b",
                    "mproj_w",
                    "mproj_b",
                )
            ),
            self.head_p.ctypes.data,
            _ptr(self.head_bp),
        )
        self._model_at = ctypes.addressof(self._model)
        f = lib.decode_step
        f.argtypes = [_P, _P, _I, _I]
        f.restype = None

    def new_prompt_cache(self) -> PackedPromptCache:
        """A prompt cache whose prompts run through the compiled prefill."""
        return PackedPromptCache(self, self.lib, self._model_at)

    def split_cache(self, prompt: PromptCache, batch: int, length: int) -> SplitCache:
        """A cache for `batch` rows continuing the prompt in `prompt`, with
        room for `length` tokens each."""
        return SplitCache(self.config, prompt, batch, length, self.threads)

    def decode(self, tokens, cache: SplitCache, rows=None) -> np.ndarray:
        """tokens (B,) -> logits (B, V); token b continues cache row rows[b]
        (default: row b), so rows that are done just leave the list."""
        p = cache.pos
        if p + 1 > min(cache.length, self.config.block_size):
            raise ValueError(f"sequence of {p + 1} tokens exceeds the cache")
        B = len(tokens)
        rows = range(B) if rows is None else rows
        own, io = cache.own, cache.io
        if len(rows) != B or B > io.batch:
            raise ValueError(f"{B} tokens for {len(rows)} rows of a cache of {io.batch}")
        if B and (min(rows) < 0 or max(rows) >= own.k[0].shape[0]):
            raise ValueError("a row is outside the cache")
        io.tokens[:B] = tokens
        io.rows[:B] = rows
        self.lib.decode_step(self._model_at, io.at, B, p)
        cache.pos = p + 1
        return io.logits[:B].copy()


class CSampler:
    """`sampling.sample` compiled (model/generation/sample_step.c): the same
    steps and the same draws from the request's `Noise`, so the same token,
    at a fraction of NumPy's per-call cost.

    It runs once per row per token, so its Python side is kept to a copy
    into buffers whose addresses are known (per thread: the bridge's worker
    and the demo may share an engine)."""

    @classmethod
    def build(cls) -> CSampler | None:
        lib = load_library()
        return None if lib is None else cls(lib)

    def __init__(self, lib):
        f = lib.sample_row
        I, F, P = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
        f.argtypes = [P, I, F, I, F, P, P, P]
        f.restype = I
        self.f = f
        g = lib.sample_rows
        g.argtypes = [P, I, I, F, I, F, P, P, P, P]
        g.restype = I
        self.g = g
        self._local = threading.local()

    def _buffers(self, V: int) -> _SampleBuffers:
        b = getattr(self._local, "buffers", None)
        if b is None or b.V != V:
            b = self._local.buffers = _SampleBuffers(V)
        return b

    def __call__(self, logits: np.ndarray, controls: Controls, noise: Noise) -> int:
        V = len(logits)
        b = self._buffers(V)
        np.copyto(b.logits, logits)
        t = self.f(
            b.logits_at,
            V,
            controls.temperature,
            controls.top_k or 0,
            controls.top_p,
            noise.address(V),
            b.used_at,
            b.work_at,
        )
        if t < 0:
            raise ValueError("no token is allowed")
        noise.take(b.used.value)
        return t

    def rows(self, logits: np.ndarray, controls: Controls, noise: Noise) -> list[int]:
        """A token for each row of filtered logits (B, V), in order: the
        same tokens and draws as calling this sampler row by row, in one
        call (model/generation/rows.py)."""
        B, V = logits.shape
        logits = np.ascontiguousarray(logits, dtype=np.float32)
        b = self._buffers(V)
        out = np.empty(B, dtype=np.int32)
        bad = self.g(
            logits.ctypes.data,
            B,
            V,
            controls.temperature,
            controls.top_k or 0,
            controls.top_p,
            noise.address(B * V),
            b.used_at,
            b.work_at,
            out.ctypes.data,
        )
        noise.take(b.used.value)
        if bad >= 0:
            raise ValueError("no token is allowed")
        return out.tolist()


class _SampleBuffers:
    """One thread's input, work and count buffers for CSampler, V tokens."""

    def __init__(self, V: int):
        self.V = V
        self.logits = np.empty(V, dtype=np.float32)
        self.work = np.empty(2 * V, dtype=np.int32)  # (value, id) pairs
        self.used = ctypes.c_int(0)
        self.logits_at, self.work_at = self.logits.ctypes.data, self.work.ctypes.data
        self.used_at = ctypes.addressof(self.used)
