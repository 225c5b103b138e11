"""Building and loading the compiled kernels: decode_step.c (a decode step,
its rows shared among threads by step_pool.c), prefill.c (a prompt's
forward pass), both on kernels.c's arithmetic, and
sample_step.c (the sampler), one shared library built on first use with the
system C compiler and kept under the user's cache folder, one file per
source version, flags and machine. The build is tried with -march=native,
then without; each with -pthread, then with -DMIDIFILL_NO_THREADS (a step
on the calling thread only). Where no compiler is found or every build
fails, `load_library` returns None and the engine keeps the NumPy path.
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

from ..network.config import LN_EPS

log = logging.getLogger("midifill.fast_c")
HERE = Path(__file__).parent
COMPILED = [HERE / n for n in ("decode_step.c", "prefill.c", "sample_step.c")]
# kernels.c: included by the first two; step_pool.c: by decode_step.c
SOURCES = [*COMPILED, HERE / "kernels.c", HERE / "step_pool.c"]
# the fallbacks, in order: the CPU's own instructions, then the compiler's
# defaults; threads where pthreads build, else none
VARIANTS = [
    [*arch, *threads]
    for arch in (["-march=native"], [])
    for threads in (["-pthread"], ["-DMIDIFILL_NO_THREADS"])
]
PANEL = 16  # columns per panel of a packed matrix; the C step gets it as PW
PREFILL_CHUNK = 64  # tokens of a prompt run together through every layer (CH)
# fused multiply-adds where the CPU has them (-march=native): the logits then
# differ from torch's by float32 rounding, as NumPy's do (1e-4, tested)
FLAGS = ["-O3", f"-DPW={PANEL}", f"-DCH={PREFILL_CHUNK}", f"-DEPS={LN_EPS!r}f"]
_LIB = None
_TRIED = False


def up(n: int) -> int:
    """n rounded up to whole panels."""
    return -(-n // PANEL) * PANEL


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "midifill"


def find_compiler() -> str | None:
    """The C compiler: $CC, else cc, gcc or clang on the PATH; None: none."""
    return (
        os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    )


def load_library():
    """The compiled kernels (built once per source version and machine), or None."""
    global _LIB, _TRIED
    if _TRIED:
        return _LIB
    _TRIED = True
    cc = find_compiler()
    if not cc:
        log.info("no C compiler found: decoding with NumPy")
        return None
    src = b"".join(p.read_bytes() for p in SOURCES)
    tag = hashlib.sha1(
        src + " ".join(FLAGS).encode() + platform.machine().encode() + platform.node().encode()
    ).hexdigest()[:12]
    lib = _cache_dir() / f"decode_step-{tag}.so"
    if not lib.is_file() and not _build(cc, lib):
        return None
    try:
        _LIB = ctypes.CDLL(str(lib))
    except OSError as exc:
        log.warning("loading the C decode step failed: %s", exc)
        return None
    return _LIB


def _build(cc: str, lib: Path) -> bool:
    try:
        lib.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
            out = Path(tmp) / lib.name
            for flags in VARIANTS:
                r = subprocess.run(
                    [cc, *FLAGS, *flags, "-shared", "-fPIC", "-o", str(out), *map(str, COMPILED)]
                    + ["-lm"],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if r.returncode == 0:
                    break
            if r.returncode != 0:
                log.warning("building the C decode step failed: %s", r.stderr[-500:])
                return False
            os.replace(out, lib)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("building the C decode step failed: %s", exc)
        return False
    return True
