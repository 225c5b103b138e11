"""The decode step compiled: model/decode_step.c, built on first use with the
system C compiler and loaded through ctypes.

A token of the small model is ~1 M multiply-adds; in NumPy it also costs
~150 calls of fixed overhead, which is most of the time. In C the step is one
call. Where no compiler is found or the build fails, `CDecoder.build` returns
None and the engine keeps the NumPy path (`FastDecoder`), so nothing breaks on
a machine without a compiler. MIDIFILL_C=0 turns it off.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .fast import FastDecoder
from .transformer import KVCache, Transformer

log = logging.getLogger("midifill.fast_c")
SOURCE = Path(__file__).with_name("decode_step.c")
_LIB = None
_TRIED = False


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "midifill"


def load_library():
    """The compiled step (built once per source version and machine), or None."""
    global _LIB, _TRIED
    if _TRIED:
        return _LIB
    _TRIED = True
    if os.environ.get("MIDIFILL_C", "1") == "0":
        return None
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        log.info("no C compiler found: decoding with NumPy")
        return None
    src = SOURCE.read_bytes()
    tag = hashlib.sha1(src + platform.machine().encode() + platform.node().encode()).hexdigest()[:12]
    lib = _cache_dir() / f"decode_step-{tag}.so"
    if not lib.is_file():
        try:
            lib.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
                out = Path(tmp) / lib.name
                # -ffp-contract=off: no fused multiply-adds, so sums round as NumPy's do
                for flags in (["-march=native"], []):
                    r = subprocess.run([cc, "-O3", *flags, "-ffp-contract=off", "-shared", "-fPIC",
                                        "-o", str(out), str(SOURCE), "-lm"],
                                       capture_output=True, text=True, timeout=120)
                    if r.returncode == 0:
                        break
                if r.returncode != 0:
                    log.warning("building the C decode step failed: %s", r.stderr[-500:])
                    return None
                os.replace(out, lib)
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("building the C decode step failed: %s", exc)
            return None
    try:
        _LIB = ctypes.CDLL(str(lib))
    except OSError as exc:
        log.warning("loading the C decode step failed: %s", exc)
        return None
    return _LIB


def _ptr(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(ctypes.c_void_p)


class CDecoder(FastDecoder):
    """FastDecoder's folded weights, stepped by the compiled kernel."""

    @classmethod
    def build(cls, model: Transformer) -> "CDecoder | None":
        lib = load_library()
        return None if lib is None else cls(model, lib)

    def __init__(self, model: Transformer, lib):
        super().__init__(model)
        self.lib = lib
        n = len(self.layers)
        P = ctypes.c_void_p * n
        # keep the arrays alive: ctypes holds only their addresses
        self._arrays = {k: [np.ascontiguousarray(L[k], dtype=np.float32) if L[k] is not None
                            else None for L in self.layers]
                        for k in ("qkv_w", "qkv_b", "proj_w", "proj_b", "fc_w", "fc_b",
                                  "mproj_w", "mproj_b")}
        self._ptrs = {k: P(*[_ptr(a) for a in v]) for k, v in self._arrays.items()}
        self.head_w = np.ascontiguousarray(self.head_w, dtype=np.float32)
        self.wte = np.ascontiguousarray(self.wte, dtype=np.float32)
        self.wpe = np.ascontiguousarray(self.wpe, dtype=np.float32)
        f = lib.decode_step
        f.restype = None

    def decode(self, tokens, cache: KVCache) -> np.ndarray:
        p = cache.pos
        if p + 1 > min(cache.length, self.config.block_size):
            raise ValueError(f"sequence of {p + 1} tokens exceeds the cache")
        cfg = self.config
        B, C, V = len(tokens), cfg.n_embd, cfg.vocab_size
        toks = np.asarray(tokens, dtype=np.int64)
        n = len(self.layers)
        kc = (ctypes.c_void_p * n)(*[t.data_ptr() for t in cache.k])
        vc = (ctypes.c_void_p * n)(*[t.data_ptr() for t in cache.v])
        x = np.empty((B, C), dtype=np.float32)
        logits = np.empty((B, V), dtype=np.float32)
        scratch = np.empty(10 * B * C + p + 1, dtype=np.float32)
        a = self._ptrs
        self.lib.decode_step(
            ctypes.c_int(B), ctypes.c_int(n), ctypes.c_int(C), ctypes.c_int(self.n_head),
            ctypes.c_int(cache.length), ctypes.c_int(p), ctypes.c_int(V), _ptr(toks),
            _ptr(self.wte), _ptr(self.wpe), a["qkv_w"], a["qkv_b"], a["proj_w"], a["proj_b"],
            a["fc_w"], a["fc_b"], a["mproj_w"], a["mproj_b"], kc, vc, _ptr(self.head_w),
            _ptr(self.head_b), _ptr(x), _ptr(logits), _ptr(scratch))
        cache.pos = p + 1
        return logits
