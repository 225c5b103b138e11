"""What goes into the corpus: work items, and how one item becomes MIDI files.

An item is the unit of work, of caching and of failure: one score, one folk
tune, one folk tune rendered in several grooves, or one progression rendered
in several keys and grooves. Every file an item writes shares the item's
piece id, so the split by piece keeps them together.
"""

from __future__ import annotations

import hashlib
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from ..midi_io import write_midi
from ..scales import NOTE_NAMES
from ..song import Song

BUILT_IN = ["bach", "palestrina", "other", "folk", "mma-folk", "mma-prog"]
# sources read from a folder the user names (--pop909 DIR); not part of "all"
SOURCES = BUILT_IN + ["pop909"]
ALIASES = {
    "mma": ["mma-folk", "mma-prog"],
    "music21": ["bach", "palestrina", "other", "folk"],
    "all": BUILT_IN,
}
FOLK_COLLECTIONS = [
    "ryansMammoth",
    "oneills1850",
    "essenFolksong",
    "airdsAirs",
    "miscFolk",
    "nottingham-dataset",
]
FIDDLE_COLLECTIONS = {"ryansMammoth", "oneills1850", "airdsAirs", "miscFolk", "nottingham-dataset"}
LICENCE_M21 = (
    "public-domain composition, encoding from the music21 corpus, redistributed "
    "with the encoders' permission (music21/corpus/license.txt)"
)
LICENCE_MMA = (
    "accompaniment generated with the MMA groove library (GPL-2.0-or-later); "
    "melody: public-domain folk tune from the music21 corpus"
)
LICENCE_PROG = (
    "generated with the MMA groove library (GPL-2.0-or-later) over "
    "chord progressions written for midifill"
)


def licence_for(source: str) -> str:
    """The licence note of a manifest source ('music21/bach', 'mma/folk', ...)."""
    if source == "pop909":
        from .pop909 import LICENCE_POP909

        return LICENCE_POP909
    if source == "mma/folk":
        return LICENCE_MMA
    if source.startswith("mma/"):
        return LICENCE_PROG
    return LICENCE_M21


@dataclass(frozen=True)
class Item:
    source: str  # one of SOURCES
    key: str  # unique, stable: the cache key
    piece: str  # shared by every variant of one tune
    args: tuple  # what the builder needs (paths, tune number, ...)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


# --- enumerating ----------------------------------------------------------------


def enumerate_items(
    sources: list[str],
    limit: int | dict | None,
    progressions: int,
    pop909: str | Path | None = None,
) -> list[Item]:
    """Items of the chosen sources in a fixed order. `limit`: at most that
    many per source, or a dict source -> limit (absent: no limit). `pop909`:
    the POP909 folder, needed by the pop909 source."""
    from . import music21 as m21

    root = m21.music21_corpus_root() if set(sources) & set(BUILT_IN) else Path(".")
    items: list[Item] = []
    for source in sources:
        if source == "pop909":
            if pop909 is None:
                raise ValueError("the pop909 source reads the folder named by --pop909 DIR")
            from .pop909 import song_folders

            found = [
                Item("pop909", f"pop909:{d.name}", f"pop909/{d.name}", (str(d),))
                for d in song_folders(pop909)
            ]
        elif source in ("bach", "palestrina"):
            found = _score_items(source, sorted((root / source).rglob("*")), root)
        elif source == "other":
            skip = {"bach", "palestrina", *FOLK_COLLECTIONS}
            # smallest first: --limit then takes many short pieces, not one symphony
            paths = sorted(
                (
                    p
                    for p in root.rglob("*")
                    if p.is_file() and p.relative_to(root).parts[0] not in skip
                ),
                key=lambda p: (p.stat().st_size, str(p)),
            )
            found = _score_items("other", paths, root)
        elif source in ("folk", "mma-folk"):
            found = _folk_items(source, root)
        elif source == "mma-prog":
            found = _progression_items(progressions)
        else:
            raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
        n = limit.get(source) if isinstance(limit, dict) else limit
        items += found[:n] if n is not None else found
    return items


_SCORE_SUFFIXES = {
    ".mxl",
    ".xml",
    ".musicxml",
    ".krn",
    ".abc",
    ".rntxt",
    ".mid",
    ".midi",
    ".md",
    ".mei",
    ".capx",
    ".nwctxt",
}


def _score_items(source: str, paths: list[Path], root: Path) -> list[Item]:
    items = []
    for p in paths:
        if not p.is_file() or p.suffix.lower() not in _SCORE_SUFFIXES or p.name.startswith("_"):
            continue
        rel = p.relative_to(root)
        piece = "/".join(rel.with_suffix("").parts)
        items.append(Item(source, f"{source}:{rel.as_posix()}", piece, (str(p), p.suffix.lower())))
    return items


def _folk_items(source: str, root: Path) -> list[Item]:
    """One item per tune, collections interleaved so that --limit samples all."""
    from .music21 import split_abc

    per_collection = []
    for coll in FOLK_COLLECTIONS:
        found = []
        for path in sorted((root / coll).glob("*.abc")):
            tunes = split_abc(path.read_text(encoding="utf-8", errors="replace"))
            numbers = [n for n, _ in tunes]
            for i, (number, _text) in enumerate(tunes):
                tag = number if numbers.count(number) == 1 else f"{number}-{i}"
                piece = f"folk/{coll}/{path.stem}/{tag}"
                found.append(Item(source, f"{source}:{piece}", piece, (str(path), i, coll)))
        per_collection.append(found)
    items = []
    for row in range(max((len(f) for f in per_collection), default=0)):
        items += [f[row] for f in per_collection if row < len(f)]
    return items


def _progression_items(made_up: int) -> list[Item]:
    from .mma import NAMED

    items = [
        Item("mma-prog", f"mma-prog:{name}", f"prog/{name}", ("named", name)) for name in NAMED
    ]
    items += [
        Item("mma-prog", f"mma-prog:made-up-{i:04d}", f"prog/made-up-{i:04d}", ("made-up", i))
        for i in range(made_up)
    ]
    return items


def input_files(item: Item) -> list[Path]:
    """The files an item is made from, for the reserve check (a progression
    has none: it is our own)."""
    if item.source in ("bach", "palestrina", "other", "folk", "mma-folk"):
        return [Path(item.args[0])]
    if item.source == "pop909":
        folder = Path(item.args[0])
        return [folder / f"{folder.name}.mid"]
    return []


# --- building one item ------------------------------------------------------------


def note_hash(song: Song) -> str:
    """A hash of the note content (pitch, onset, duration of every track, on a
    1/48-beat grid), blind to track order, names, programs and velocities."""
    parts = []
    for t in song.tracks:
        notes = sorted(
            (n.pitch, round(float(n.start) * 48), round(float(n.duration) * 48)) for n in t.notes
        )
        parts.append(repr((bool(t.is_drum), notes)))
    return hashlib.sha1("\n".join(sorted(parts)).encode()).hexdigest()


def describe(song: Song) -> dict:
    return {
        "tracks": [
            {
                "name": t.name,
                "program": int(t.program),
                "is_drum": bool(t.is_drum),
                "notes": len(t.notes),
            }
            for t in song.tracks
        ],
        "bars": len(song.bars()),
    }


class ItemTimeout(Exception):
    pass


class SkipItem(Exception):
    """Valid input that this source does not use (say, a meter with no groove)."""


def _on_alarm(signum, frame):
    raise ItemTimeout()


def build_item(
    item: Item, out_dir: str, grooves: int = 4, timeout: int = 120, reserved: str | None = None
) -> dict:
    """Build one item: write its files, return its cache record. Never raises
    for bad input: a failure is part of the record. `reserved`: the reserve
    checker (model/corpus/reserve.py); an item made from a reserved file is
    not built, and a written file that is reserved is deleted, both recorded."""
    record = {
        "item": item.key,
        "source": item.source,
        "piece": item.piece,
        "inputs": [str(p) for p in input_files(item)],
        "entries": [],
        "failures": [],
    }
    check = None
    if reserved:
        from .reserve import load_reserve_check

        check = load_reserve_check(reserved)
        record["reserve_checked"] = check.fingerprint
        hits = [p for p in record["inputs"] if check(p, remember=True)]
        if hits:
            record["reserved"] = hits
            return record
    # SIGALRM stops a parse that hangs; signals only work on the main thread
    use_alarm = threading.current_thread() is threading.main_thread() and timeout > 0
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(timeout)
    try:
        for variant, licence, source, song_or_error in _songs(item, grooves):
            if isinstance(song_or_error, Exception):
                record["failures"].append(f"{variant or '-'}: {_reason(song_or_error)}")
                continue
            song = song_or_error
            if not any(t.notes for t in song.tracks):
                record["failures"].append(f"{variant or '-'}: no notes")
                continue
            # the source folder already says bach/palestrina/folk; 'other' keeps the composer
            stem = item.piece if item.source == "other" else item.piece.split("/", 1)[-1]
            name = safe_name(stem.replace("/", "-"))
            if variant:
                name += "__" + safe_name(variant)
            rel = Path("midi") / item.source / f"{name}.mid"
            (Path(out_dir) / rel).parent.mkdir(parents=True, exist_ok=True)
            write_midi(song, Path(out_dir) / rel)
            if check is not None and check(Path(out_dir) / rel):
                (Path(out_dir) / rel).unlink()
                record.setdefault("reserved", []).append(rel.as_posix())
                continue
            record["entries"].append(
                {
                    "path": rel.as_posix(),
                    "source": source,
                    "licence": licence,
                    "piece": item.piece,
                    **describe(song),
                    "hash": note_hash(song),
                }
            )
    except SkipItem as exc:
        record["skipped"] = str(exc)
    except ItemTimeout:
        record["failures"].append(f"timed out after {timeout}s")
    except Exception as exc:  # a parser bug must cost one item, not the build
        record["failures"].append(_reason(exc))
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    return record


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _songs(item: Item, grooves: int):
    """Yield (variant, licence, manifest source, Song or the Exception)."""
    from . import music21 as m21

    if item.source in ("bach", "palestrina", "other"):
        path, suffix = item.args
        variant = "" if suffix in (".mxl", ".krn") else suffix.lstrip(".")
        score = m21.parse_file(path)
        top = item.piece.split("/")[0]
        if item.source == "other":
            song = m21.score_to_song(score, default_program=m21.PIANO)
        else:
            song = m21.score_to_song(score, program=m21.CHOIR)
        yield variant, LICENCE_M21, f"music21/{top}", song
    elif item.source == "folk":
        score, coll = _folk_score(item)
        program = 40 if coll in FIDDLE_COLLECTIONS else 73  # fiddle tunes; Essen songs on flute
        song = m21.score_to_song(score, program=program, names=["melody"], tempo=110)
        song.tracks = song.tracks[:1]
        yield "", LICENCE_M21, "music21/folk", song
    elif item.source == "mma-folk":
        yield from _mma_folk(item, grooves)
    elif item.source == "mma-prog":
        yield from _mma_prog(item, grooves)
    elif item.source == "pop909":
        from .pop909 import LICENCE_POP909, song_from_folder

        yield "", LICENCE_POP909, "pop909", song_from_folder(item.args[0])


def _folk_score(item: Item):
    from .music21 import parse_abc_tune, split_abc

    path, index, coll = item.args
    text = split_abc(Path(path).read_text(encoding="utf-8", errors="replace"))[index][1]
    return parse_abc_tune(text), coll


def _mma_folk(item: Item, grooves: int):
    from . import mma
    from . import music21 as m21

    score, _ = _folk_score(item)
    sigs = m21.time_signatures(score, 0.0)
    if len({(s.numerator, s.denominator) for s in sigs}) > 1:
        raise SkipItem("the meter changes inside the tune")
    meter = (sigs[0].numerator, sigs[0].denominator)
    fam = mma.folk_family(*meter)
    if fam is None:
        raise SkipItem(f"no groove for meter {meter[0]}/{meter[1]}")
    song = m21.score_to_song(score, program=0)
    melody = song.tracks[0].notes if song.tracks else []
    if not melody:
        raise ValueError("the tune has no notes")
    chords = m21.chord_timeline(score)
    if len({c for _, c in chords}) < 3:  # no usable chord symbols: harmonize the melody
        from .harmony import harmonize

        key = score.analyze("key")
        chords = harmonize(melody, key.tonic.pitchClass, key.mode == "minor", *meter)
    if len({c for _, c in chords}) < 2:
        raise SkipItem("fewer than two distinct chords")
    pickup = m21.pickup_shift(score) > 0
    rng = mma.stable_rng(item.piece)
    choices = mma.grooves_for(fam[0])
    for groove in rng.sample(choices, min(grooves, len(choices))):
        transpose = rng.randint(-5, 6)
        tempo = rng.randint(*groove.tempo)
        program = rng.choice([0, 40, 73, 65, 56, 11, 24, 71, 80])
        shift = "orig" if transpose == 0 else f"{'up' if transpose > 0 else 'down'}{abs(transpose)}"
        variant = f"{groove.name}_{shift}"
        try:
            yield (
                variant,
                LICENCE_MMA,
                "mma/folk",
                mma.folk_song(melody, chords, meter, groove, transpose, tempo, pickup, program),
            )
        except Exception as exc:
            yield variant, LICENCE_MMA, "mma/folk", exc


def _mma_prog(item: Item, grooves: int):
    from . import mma

    kind, which = item.args
    if kind == "named":
        bars, family = mma.NAMED[which]
    else:
        bars, family = mma.made_up_progression(which)
    rng = mma.stable_rng(item.piece)
    choices = mma.grooves_for(family)
    if which.startswith("blues") if isinstance(which, str) else False:
        choices = [
            g
            for g in choices
            if "blues" in g.name.lower() or "swing" in g.name.lower() or "boggie" in g.name.lower()
        ] or choices
    keys = rng.sample(range(12), 2)
    picked = rng.sample(choices, min(grooves, len(choices)))
    for j, groove in enumerate(picked):
        tonic = keys[j % len(keys)]
        tempo = rng.randint(*groove.tempo)
        variant = f"{groove.name}_{NOTE_NAMES[tonic]}"
        try:
            yield (
                variant,
                LICENCE_PROG,
                "mma/progressions",
                mma.progression_song(bars, family, groove, tonic, tempo),
            )
        except Exception as exc:
            yield variant, LICENCE_PROG, "mma/progressions", exc
