"""The reserve check of the corpus build (`midifill corpus --reserved PATH`).

A project may keep some music back to judge the model on songs it has
never seen, and give its people a checker for it: a Python file
(`reserved.py`) with a function `is_reserved(path) -> bool`, usually beside
the hash lists it reads. The build runs that checker on every input file of
every item and on every MIDI file it writes; a hit keeps the item (or the
file) out of the corpus, and is counted. Nothing of the checker is copied
into the corpus or the repository.

A checker's fingerprint (a hash of the checker and the lists beside it)
is stored with each item it passed, so a rebuild checks again the items a
different checker, or none, has seen.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

from ..errors import MidifillError


class ReserveCheckError(MidifillError, ValueError):
    """A reserve checker that cannot be loaded or used."""

    code = "bad_reserve_check"


class ReserveCheck:
    def __init__(self, path: str | Path):
        path = Path(path)
        script = path / "reserved.py" if path.is_dir() else path
        if not script.is_file() or script.suffix != ".py":
            raise ReserveCheckError(
                f"--reserved {path}: give the checker (reserved.py) or the folder that holds it"
            )
        spec = importlib.util.spec_from_file_location("midifill_reserve_check", script)
        if spec is None or spec.loader is None:
            raise ReserveCheckError(f"--reserved {path}: {script} cannot be loaded as Python")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ReserveCheckError(
                f"--reserved {script}: cannot be loaded ({type(exc).__name__}: {exc})"
            ) from exc
        if not callable(getattr(module, "is_reserved", None)):
            raise ReserveCheckError(f"--reserved {script}: has no is_reserved(path) function")
        self.path = script.resolve()
        self._is_reserved = module.is_reserved
        digest = hashlib.sha1(script.read_bytes())
        for lst in sorted(script.parent.glob("*.txt")):
            digest.update(lst.name.encode() + lst.read_bytes())
        self.fingerprint = digest.hexdigest()[:16]
        self._seen: dict[str, bool] = {}  # one ABC file feeds hundreds of folk tunes

    def __call__(self, path: str | Path, remember: bool = False) -> bool:
        """Is the file reserved? `remember`: keep the answer (for input files,
        which do not change during a build; written files may)."""
        key = str(path)
        if key in self._seen:
            return self._seen[key]
        hit = Path(key).is_file() and bool(self._is_reserved(key))
        if remember:
            self._seen[key] = hit
        return hit


@lru_cache(maxsize=4)
def load_reserve_check(path: str) -> ReserveCheck:
    """One checker per path and process (the build's workers load it once)."""
    return ReserveCheck(path)


def recheck_cached(
    cache: dict[str, dict], items: dict, todo: set[str], out: Path, check: ReserveCheck
) -> list[dict]:
    """Run the reserve check on cached items it has not passed: their inputs
    (one reserved: all the item's files go) and each file they wrote. Returns
    the records it changed (the build appends them to its cache log)."""
    from .items import input_files

    changed = []
    for key, rec in cache.items():
        if key in todo or rec.get("reserve_checked") == check.fingerprint:
            continue
        inputs = rec.get("inputs")
        if inputs is None:
            inputs = [str(p) for p in input_files(items[key])] if key in items else []
        rec["inputs"] = inputs
        hits = [p for p in inputs if check(p, remember=True)]
        if hits:
            for e in rec["entries"]:
                (out / e["path"]).unlink(missing_ok=True)
            rec["entries"], rec["reserved"] = [], hits
        else:
            kept = []
            for e in rec["entries"]:
                if check(out / e["path"]):
                    (out / e["path"]).unlink(missing_ok=True)
                    rec.setdefault("reserved", []).append(e["path"])
                else:
                    kept.append(e)
            rec["entries"] = kept
        rec["reserve_checked"] = check.fingerprint
        changed.append(rec)
    return changed
