"""Fills on real many-track songs: the model beside the paste baselines.

4-bar fills with 8 bars of the track's context on each side, drawn with a
seed from songs of at least `min_tracks` tracks, half of them drum parts
(where the songs have any) and half pitched. Each is written by every
system of `systems` and measured with real_table.Tally; beside them, how
many of the target's own 16 context bars the prompt shows (`coverage`).
`midifill eval --devset DIR` runs it on the out-of-corpus dev set
(docs/devset.md) and on the corpus's own split side by side.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path

from ..generation.nearby import context_density
from ..generation.prompt import build_prompt
from ..song import Note, Song, Track
from .fit_eval import CONTEXT, SPAN, Case, paste_previous, paste_random, random_notes
from .real_table import Tally, rows

MIN_TRACKS = 5
ORIGINAL = "the original"
DEFAULT = "model, default controls"


def follow_off() -> dict | None:
    """The controls that switch every follow-the-part control off (those
    whose default is AUTO and that have an "off" state, from the engine's
    control table), for the row "model, follow-the-part controls off";
    None with an engine that has no such table. `midifill eval
    --follow-off JSON` gives others for one run."""
    try:
        from ..generation import controls as C
    except ImportError:
        return None
    return {
        c.name: C.OFF_TEXT for c in C.TABLE if c.default is C.AUTO and c.off is not C.NO
    } or None


def load_folder(
    folder: str | Path, tok, min_tracks: int = MIN_TRACKS, max_tracks: int = 16
) -> list[Song]:
    """The songs of a folder of MIDI files (searched below it) with
    `min_tracks`..`max_tracks` tracks that have notes."""
    from ..training.dataset import load_songs

    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    songs, _ = load_songs(files, tok)
    return [s for s in songs if min_tracks <= len(s.tracks) <= max_tracks]


def draw_fills(songs: list[Song], n: int, rng: random.Random, tries: int = 60) -> list[Case]:
    """Up to n spans: n // 2 of drum parts (as many as can be found), the
    rest of pitched parts; each with CONTEXT bars on both sides, every bar of
    the window of one length, notes in the original."""
    bars_of = {id(s): s.bars() for s in songs}
    usable = [s for s in songs if len(bars_of[id(s)]) >= SPAN + 2 * CONTEXT]
    out: list[Case] = []
    for drums, want in ((True, n // 2), (False, n - n // 2)):
        found = 0
        for _ in range(want * tries):
            if found == want or not usable:
                break
            song = rng.choice(usable)
            bars = bars_of[id(song)]
            b0 = rng.randrange(CONTEXT, len(bars) - SPAN - CONTEXT + 1)
            if len({b.beats for b in bars[b0 - CONTEXT : b0 + SPAN + CONTEXT]}) > 1:
                continue
            start, end = bars[b0].start, bars[b0 + SPAN - 1].end
            tracks = [t for t in song.tracks if t.is_drum == drums and t.notes_in(start, end)]
            if tracks:
                out.append(Case(song, rng.choice(tracks), bars, b0))
                found += 1
    return out


def emptied(case: Case) -> Song:
    """The case's song with every other track's notes removed."""
    s = case.song
    return Song(
        [
            t if t.id == case.track.id else Track(t.id, t.program, t.is_drum, [], t.name)
            for t in s.tracks
        ],
        s.time_signatures,
        s.tempos,
    )


def engine_writer(engine, controls: dict | None = None, alone: bool = False):
    """The engine on a case: default controls but a fresh seed and
    `controls`; `alone`: the other tracks emptied from the request."""

    def write(case: Case, rng: random.Random) -> list[Note]:
        song = emptied(case) if alone else case.song
        req = dict(
            song.to_payload(),
            mode="fill",
            target={"track": case.track.id, "start": case.start, "end": case.end},
            controls={"seed": rng.randrange(2**31), **(controls or {})},
        )
        return [Note.from_list(n) for n in engine.run(req)["variations"][0]["notes"]]

    return write


def systems(engine, off: dict | None = None) -> dict:
    out = {DEFAULT: engine_writer(engine)}
    off = follow_off() if off is None else off
    if off:
        out["model, follow-the-part controls off"] = engine_writer(engine, off)
    out["model, other tracks emptied"] = engine_writer(engine, alone=True)
    out.update(
        {
            "paste the previous 4 bars": paste_previous,
            "paste 4 random bars of the context": paste_random,
            "random notes from the context": random_notes,
            ORIGINAL: lambda case, rng: case.original,
        }
    )
    return out


def own_bars_shown(engine, case: Case, song: Song | None = None) -> tuple[int, int]:
    """How many of the target's own context bars (CONTEXT on each side) lie
    in the window of the prompt the engine builds for this fill, and how
    many other tracks the prompt keeps."""
    tok, song = engine.tok, song or case.song
    bars = song.bars(until=max(case.end, song.end_beat))
    b0, b1 = case.b0, case.b0 + SPAN
    lo, hi = tok.range_ticks(case.start, case.end)
    density = context_density(tok, song.track(case.track.id), bars, b0, b1)
    prompt = build_prompt(
        tok,
        song,
        bars,
        case.track.id,
        (b0, b1),
        (b0, b1),
        lo,
        hi,
        "fill",
        engine.config.block_size,
        density,
        written_from=b0,
    )
    w0, w1 = prompt.window
    shown = sum(w0 <= b < w1 for b in [*range(b0 - CONTEXT, b0), *range(b1, b1 + CONTEXT)])
    return shown, len(prompt.tracks) - 1


def _bucket(tracks: int) -> str:
    return "2-4 tracks" if tracks < 5 else "5-7 tracks" if tracks < 8 else "8-16 tracks"


def coverage(engine, cases: list[Case]) -> dict:
    """Median own context bars shown (of 2 * CONTEXT), with the song as it
    is and with the other tracks emptied, by kind of target and track count."""
    groups: dict[str, list[tuple[int, int, int]]] = {}
    for case in cases:
        shown = (*own_bars_shown(engine, case), own_bars_shown(engine, case, emptied(case))[0])
        kind = "drums" if case.track.is_drum else "pitched"
        for key in (kind, f"{kind}, {_bucket(len(case.song.tracks))}"):
            groups.setdefault(key, []).append(shown)
    return {
        key: {
            "fills": len(v),
            "median_shown": statistics.median(a for a, _, _ in v),
            "none_shown": sum(a == 0 for a, _, _ in v),
            "median_other_tracks_kept": statistics.median(k for _, k, _ in v),
            "median_shown_other_tracks_emptied": statistics.median(b for _, _, b in v),
        }
        for key, v in sorted(groups.items())
    }


def real_table(
    engine, songs: list[Song], fills: int = 60, seed: int = 0, off: dict | None = None
) -> dict:
    """Every system on the same `fills` spans: {"songs", "fills", "coverage",
    "drums": {system: row}, "pitched": {system: row}}."""
    tpb = engine.tok.tpb
    cases = draw_fills(songs, fills, random.Random(seed))
    tallies = {}
    for name, write in systems(engine, off).items():
        rng = random.Random(seed + 1)  # every system sees the same draws
        by_kind = {"drums": Tally(), "pitched": Tally()}
        for case in cases:
            by_kind["drums" if case.track.is_drum else "pitched"].add(case, write(case, rng), tpb)
        tallies[name] = by_kind
    out = {
        "songs": len(songs),
        "fills": {
            "drums": sum(c.track.is_drum for c in cases),
            "pitched": sum(not c.track.is_drum for c in cases),
        },
        "coverage": coverage(engine, cases),
    }
    out.update(rows(tallies, ORIGINAL))
    return out


def run_sets(
    engine,
    devset=None,
    data=None,
    split: str = "test",
    fills: int = 60,
    seed: int = 0,
    min_tracks: int = MIN_TRACKS,
    off: dict | None = None,
) -> dict:
    """The table on the corpus's own split (its multi-track songs, as the fit
    table takes them) and on a dev set folder (songs of `min_tracks`-16
    tracks), each given."""
    from .fit_eval import held_out_groups

    sets = {}
    if data is not None:
        own = [s for group in held_out_groups(data, split, engine.tok).values() for s in group]
        sets[f"own {split} split"] = real_table(engine, own, fills, seed, off)
    if devset is not None:
        songs = load_folder(devset, engine.tok, min_tracks)
        if not songs:
            raise SystemExit(
                f"{devset}: no MIDI songs of {min_tracks}-16 tracks "
                "(build the dev set with `midifill devset`)"
            )
        sets["dev set"] = real_table(engine, songs, fills, seed, off)
    return sets
