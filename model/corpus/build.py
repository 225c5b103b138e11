"""`midifill corpus --out DIR`: build the offline training corpus.

Sources (all installable by package name): the music21 corpus (Bach
chorales, Palestrina, other composers, folk tunes in ABC) and Debian's MMA
groove library rendering the folk tunes' chord progressions and progressions
of our own. See docs/corpus.md.

Layout of DIR:
    midi/<source>/<piece>[__<variant>].mid
    manifest.jsonl   one JSON object per file (path, source, licence, piece,
                     tracks, bars, split, hash)
    summary.json     the counts of the last build (files, bars, duplicates,
                     failures, reserved files skipped)
    reserved.txt     the inputs and outputs the reserve check kept out
    failures.txt     one line per failed item (or rendering) with the reason
    .cache/items.jsonl  one record per finished item; a rebuild skips those

The cache is an append-only log written as each item finishes, so an
interrupted build keeps its work. Duplicates (same notes) are detected in
item order, so which copy is kept does not depend on --jobs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

from ..files import atomic_path
from ..splits import SPLITS, split_of
from .items import ALIASES, SOURCES, Item, build_item, enumerate_items, licence_for
from .reserve import recheck_cached

log = logging.getLogger("midifill.corpus")

CACHE = Path(".cache") / "items.jsonl"


def load_split(corpus_dir: str | os.PathLike, split: str) -> list[Path]:
    """Paths of the corpus files in one split ('train', 'valid' or 'test')."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    corpus_dir = Path(corpus_dir)
    manifest = corpus_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise FileNotFoundError(
            f"{manifest}: no manifest; build the corpus with `midifill corpus --out {corpus_dir}`"
        )
    out = []
    for entry in read_jsonl(manifest):
        if entry.get("split") == split:
            out.append(corpus_dir / entry["path"])
    return out


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut short by a killed build
                log.warning("%s: skipping an unreadable line", path)
    return rows


def _write_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


# --- the build --------------------------------------------------------------------


def parse_sources(text: str) -> list[str]:
    chosen: list[str] = []
    for name in (s.strip() for s in text.split(",") if s.strip()):
        for s in ALIASES.get(name, [name]):
            if s not in SOURCES:
                raise ValueError(
                    f"unknown source {name!r}; choose from {', '.join(SOURCES + sorted(ALIASES))}"
                )
            if s not in chosen:
                chosen.append(s)
    return chosen


def parse_limit(text: str) -> int | dict:
    """'500' -> 500; 'palestrina=300,folk=2000' -> {'palestrina': 300, 'folk': 2000}."""
    try:
        if "=" not in text:
            n = int(text)
            if n < 0:
                raise ValueError
            return n
        out = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            for s in parse_sources(name):
                out[s] = int(value)
                if out[s] < 0:
                    raise ValueError
        return out
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--limit takes N or SOURCE=N,... with N >= 0, not {text!r} ({exc})"
        ) from None


def _load_cache(out: Path) -> dict[str, dict]:
    path = out / CACHE
    return {r["item"]: r for r in read_jsonl(path)} if path.is_file() else {}


def _is_done(record: dict, out: Path, retry_failed: bool) -> bool:
    if retry_failed and record.get("failures"):
        return False
    return all((out / e["path"]).is_file() for e in record.get("entries", []))


def build(
    out: Path,
    sources: list[str],
    limit: int | dict | None = None,
    jobs: int = 1,
    grooves: int = 4,
    progressions: int = 150,
    retry_failed: bool = False,
    timeout: int = 40,
    progress: bool = True,
    items: list[Item] | None = None,
    pop909: str | Path | None = None,
    reserved: str | Path | None = None,
) -> dict:
    """Build (or complete) the corpus in `out`; returns the summary.
    `items` replaces the enumeration of `sources` (tests, custom builds).
    `pop909`: the POP909 folder; `reserved`: the reserve checker
    (model/corpus/reserve.py), run on every input and output file."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / CACHE).parent.mkdir(exist_ok=True)
    started = time.time()
    check = None
    if reserved is not None:
        from .reserve import load_reserve_check

        reserved = str(Path(reserved).resolve())
        check = load_reserve_check(reserved)
    if items is None:
        items = enumerate_items(sources, limit, progressions, pop909)
    cache = _load_cache(out)
    todo = [
        it for it in items if not (it.key in cache and _is_done(cache[it.key], out, retry_failed))
    ]
    if check is not None:  # what an earlier build kept without this checker: check it now
        changed = recheck_cached(
            cache, {it.key: it for it in items}, {it.key for it in todo}, out, check
        )
        with open(out / CACHE, "a", encoding="utf-8") as fh:  # the later record wins
            fh.writelines(json.dumps(r) + "\n" for r in changed)
    # Every note hash already kept, in cache order: new items cannot displace them.
    kept: dict[str, str] = {}
    todo_keys = {it.key for it in todo}
    for rec in cache.values():
        if rec["item"] in todo_keys:
            continue
        for e in rec.get("entries", []):
            kept.setdefault(e["hash"], e["path"])
    work = partial(
        build_item, out_dir=str(out), grooves=grooves, timeout=timeout, reserved=reserved
    )
    new_counts: Counter = Counter()
    last_write = time.time()
    with open(out / CACHE, "a", encoding="utf-8") as log_fh:
        for record in _run(work, todo, jobs, progress):
            _dedupe(record, kept, out)
            log_fh.write(json.dumps(record) + "\n")
            log_fh.flush()
            cache[record["item"]] = record
            new_counts[record["source"]] += 1
            if time.time() - last_write > 60:  # a long build is usable while it runs
                _finish(out, cache, new_counts, len(items) - len(todo))
                last_write = time.time()
    summary = _finish(out, cache, new_counts, len(items) - len(todo))
    summary["seconds"] = round(time.time() - started, 1)
    summary["reserve_check"] = (
        f"{check.path} ({check.fingerprint})" if check is not None else "not run (no --reserved)"
    )
    _write_atomic(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary


def _run(work, todo: list[Item], jobs: int, progress: bool):
    from tqdm import tqdm

    bar = tqdm(
        total=len(todo),
        desc="corpus",
        unit="item",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        if jobs <= 1 or len(todo) <= 1:
            for it in todo:
                yield work(it)
                bar.update(1)
        else:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(jobs) as pool:
                # ordered imap: duplicates resolve in item order whatever the timing
                for record in pool.imap(work, todo, chunksize=1):
                    yield record
                    bar.update(1)
    finally:
        bar.close()


def _dedupe(record: dict, kept: dict[str, str], out: Path) -> None:
    entries, dups = [], record.setdefault("duplicates", [])
    for e in record["entries"]:
        first = kept.get(e["hash"])
        if first is not None and first != e["path"]:
            (out / e["path"]).unlink(missing_ok=True)
            dups.append({"path": e["path"], "same_as": first})
        else:
            kept[e["hash"]] = e["path"]
            entries.append(e)
    record["entries"] = entries


def track_kind(track: dict) -> str:
    """drums, bass, chords, melody or other, from a manifest track."""
    name = track["name"].split()[0] if track["name"] else ""
    if track["is_drum"]:
        return "drums"
    if name == "bass":  # MMA bass lines and the chorales' bass voice
        return "bass"
    if name in ("chords", "arpeggio", "piano"):  # MMA's and POP909's accompaniment
        return "chords"
    if name in ("melody", "soprano"):
        return "melody"
    return "other"


def _finish(out: Path, cache: dict[str, dict], new_counts: Counter, cached: int) -> dict:
    """Rewrite manifest.jsonl and failures.txt from the cache; count."""
    entries, failures, kept_out = [], [], []
    files: Counter[str] = Counter()
    dups: Counter[str] = Counter()
    fails: Counter[str] = Counter()
    skips: Counter[str] = Counter()
    pieces: set[str] = set()
    reserved: Counter[str] = Counter()
    unchecked = 0
    for rec in cache.values():
        for e in rec.get("entries", []):
            if not (out / e["path"]).is_file():
                continue
            entries.append(
                {**e, "licence": licence_for(e["source"]), "split": split_of(e["piece"])}
            )
            files[e["source"]] += 1
            pieces.add(e["piece"])
        dups[rec["source"]] += len(rec.get("duplicates", []))
        skips[rec["source"]] += 1 if rec.get("skipped") else 0
        reserved[rec["source"]] += len(rec.get("reserved", []))
        kept_out += [f"{rec['item']}\t{p}" for p in rec.get("reserved", [])]
        unchecked += 0 if rec.get("reserve_checked") else 1
        for reason in rec.get("failures", []):
            failures.append(f"{rec['item']}\t{reason}")
            fails[rec["source"]] += 1
    entries.sort(key=lambda e: e["path"])
    _write_atomic(out / "manifest.jsonl", "".join(json.dumps(e) + "\n" for e in entries))
    _write_atomic(out / "failures.txt", "".join(f + "\n" for f in sorted(failures)))
    _write_atomic(out / "reserved.txt", "".join(f + "\n" for f in sorted(kept_out)))
    return {
        "files": sum(files.values()),
        "pieces": len(pieces),
        "bars": sum(e["bars"] for e in entries),
        "files_by_source": dict(sorted(files.items())),
        "splits": dict(Counter(e["split"] for e in entries)),
        "tracks_by_kind": dict(Counter(track_kind(t) for e in entries for t in e["tracks"])),
        "duplicates_removed": dict(sorted(dups.items())),
        "failures": dict(sorted(fails.items())),
        "skipped": {k: v for k, v in sorted(skips.items()) if v},
        "reserved_skipped": {k: v for k, v in sorted(reserved.items()) if v},
        "items_not_reserve_checked": unchecked,
        "items_built_now": dict(sorted(new_counts.items())),
        "items_cached": cached,
    }


# --- the command ------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="corpus directory")
    parser.add_argument(
        "--sources",
        default="all",
        help=f"comma-separated: {', '.join(SOURCES)}, or mma, music21, all (default: all)",
    )
    parser.add_argument(
        "--limit",
        type=parse_limit,
        default=None,
        help="at most N items per source (a quick build), or per source: palestrina=300,folk=2000",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all CPUs)"
    )
    parser.add_argument(
        "--grooves",
        type=int,
        default=4,
        help="MMA renders per folk tune or progression (default 4)",
    )
    parser.add_argument(
        "--progressions",
        type=int,
        default=150,
        help="made-up chord progressions to render (default 150)",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="build again the items that failed last time"
    )
    parser.add_argument(
        "--timeout", type=int, default=40, help="seconds allowed per item (default 40)"
    )
    parser.add_argument(
        "--pop909",
        type=Path,
        default=None,
        metavar="DIR",
        help="add the POP909 songs in DIR (folders NNN/NNN.mid with "
        "beat_midi.txt; MIT licence, Music X Lab)",
    )
    parser.add_argument(
        "--reserved",
        type=Path,
        default=None,
        metavar="PATH",
        help="the reserve checker your project gives you (reserved.py, or "
        "its folder): every input and output file is checked, and "
        "reserved ones are left out and counted",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    try:
        sources = parse_sources(args.sources)
        if args.pop909 is not None and "pop909" not in sources:
            sources.append("pop909")
        if "pop909" in sources and args.pop909 is None:
            raise ValueError("the pop909 source needs --pop909 DIR")
        if args.pop909 is not None:
            from .pop909 import song_folders

            song_folders(args.pop909)
        if args.reserved is not None:
            from .reserve import load_reserve_check

            load_reserve_check(str(Path(args.reserved).resolve()))
    except (ValueError, FileNotFoundError) as exc:
        print(f"midifill corpus: {exc}", file=sys.stderr)
        return 2
    if any(s.startswith("mma") for s in sources):
        from .mma import mma_available

        if not mma_available():
            print(
                "midifill corpus: the mma sources need Debian's `mma` (apt-get install mma)",
                file=sys.stderr,
            )
            return 2
    summary = build(
        args.out,
        sources,
        limit=args.limit,
        jobs=max(1, args.jobs),
        grooves=args.grooves,
        progressions=args.progressions,
        retry_failed=args.retry_failed,
        timeout=args.timeout,
        progress=not args.no_progress,
        pop909=args.pop909,
        reserved=args.reserved,
    )
    print(format_summary(summary, args.out))
    return 0


def format_summary(s: dict, out: Path) -> str:
    lines = [
        f"corpus in {out}: {s['files']} files, {s['pieces']} pieces, {s['bars']} bars "
        f"({s.get('seconds', 0)} s)",
        "  files by source: " + _fmt(s["files_by_source"]),
        "  splits: " + _fmt(s["splits"]),
        "  tracks by kind: " + _fmt(s["tracks_by_kind"]),
        f"  duplicates removed: {sum(s['duplicates_removed'].values())} "
        f"({_fmt(s['duplicates_removed'])})",
        f"  failures: {sum(s['failures'].values())} ({_fmt(s['failures'])}); "
        f"see {out / 'failures.txt'}",
        f"  items skipped (not usable by their source, e.g. a meter with no "
        f"groove): {_fmt(s.get('skipped', {}))}",
        f"  reserved files left out: {sum(s.get('reserved_skipped', {}).values())} "
        f"({_fmt(s.get('reserved_skipped', {}))}); items not reserve-checked: "
        f"{s.get('items_not_reserve_checked', 0)}; check: {s.get('reserve_check', '-')}",
        f"  items built now: {_fmt(s['items_built_now'])}; skipped (cached): {s['items_cached']}",
    ]
    return "\n".join(lines)


def _fmt(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"
