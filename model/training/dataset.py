"""Training examples: random fills, continuations and generations cut from
songs, built by the same prompt code the Engine uses, so training and
inference see identical sequences.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import MidiFileError
from ..generation.prompt import build_prompt, fill_budget, fill_chords
from ..midi_io import read_midi
from ..network.tokenizer import Tokenizer
from ..song import Note, Song, Track
from ..splits import split_of
from .drum_patterns import with_drum_pattern
from .humanise import humanise as humanise_song
from .humanise import is_quantised

log = logging.getLogger(__name__)
MODE_WEIGHTS = {"fill": 0.7, "continue": 0.15, "generate": 0.15}
SPAN_WEIGHTS = {1: 0.3, 2: 0.25, 3: 0.1, 4: 0.35}  # bars written in one fill section
# fill examples whose target has no notes of its own outside the fill: a new
# part beside the others, where only the other tracks (and the CHORD tokens)
# say what it plays; the rest teach it to carry on its own part
NEW_PART_SHARE = 0.25


def midi_files(data: str | Path, split: str) -> list[Path]:
    """Files of a split: from a corpus manifest if DIR has one, otherwise every
    .mid/.midi under DIR, split as the corpus is (model/splits.py), by the piece
    name before any "__" in the file name."""
    data = Path(data)
    if not data.is_dir():  # else "no usable MIDI files (skipped 0)" hides the typo
        raise SystemExit(
            f"--data {data}: no such folder"
            if not data.exists()
            else f"--data {data}: not a folder; give the corpus folder"
        )
    manifest = data / "manifest.jsonl"
    if manifest.is_file():
        return sorted(_manifest_files(data, manifest, split))
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    # the piece id is the name before "__" (NAME__variant.mid), as the corpus writes it
    return [p for p in files if split_of(p.stem.split("__")[0]) == split]


def _manifest_files(data: Path, manifest: Path, split: str) -> list[Path]:
    """The split's files named by a manifest. A line that is not a JSON object
    with a string path, or a path that leads out of the corpus folder (such as
    ../../etc/passwd), is skipped and reported, never used."""
    root, out, bad = data.resolve(), [], []
    for number, line in enumerate(manifest.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            bad.append(f"line {number}: not JSON")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("path"), str):
            bad.append(f"line {number}: no path")
            continue
        path = (data / row["path"]).resolve()
        if not path.is_relative_to(root):
            bad.append(f"line {number}: {row['path'][:80]!r} is outside {data}")
        elif row.get("split") == split:
            out.append(data / row["path"])
    if bad:
        log.warning("%s: %d lines skipped (%s)", manifest, len(bad), "; ".join(bad[:5]))
    return out


def load_songs(files: list[Path], tok: Tokenizer) -> tuple[list[Song], list[str]]:
    """Songs that the tokenizer can write, and a reason for each file skipped."""
    songs, skipped = [], []
    for f in files:
        try:
            song = read_midi(f)
        except MidiFileError as exc:
            skipped.append(f"{f}: {exc}")
            continue
        bad = [
            s
            for s in song.time_signatures
            if not tok.supports_time_signature(s.numerator, s.denominator)
        ]
        song.tracks = [t for t in song.tracks if t.notes]
        if bad:
            skipped.append(
                f"{f}: unsupported time signature {bad[0].numerator}/{bad[0].denominator}"
            )
        elif not song.tracks:
            skipped.append(f"{f}: no notes")
        else:
            songs.append(song)
    return songs, skipped


def _transpose(song: Song, shift: int) -> Song:
    if shift == 0:
        return song
    tracks = []
    for t in song.tracks:
        if t.is_drum:
            tracks.append(t)
            continue
        if any(not 0 <= n.pitch + shift <= 127 for n in t.notes):
            return song
        tracks.append(
            Track(
                t.id,
                t.program,
                t.is_drum,
                [Note(n.pitch + shift, n.start, n.duration, n.velocity) for n in t.notes],
                t.name,
            )
        )
    return Song(tracks, song.time_signatures, song.tempos)


@dataclass
class Example:
    tokens: list[int]
    mode: str


def make_example(
    song: Song,
    tok: Tokenizer,
    block_size: int,
    rng: random.Random,
    transpose: bool = True,
    humanise: float = 0.0,
    drum_patterns: float = 0.0,
) -> Example | None:
    """One random training sequence (prompt + fill section), or None when the
    draw does not fit (the caller draws again). `humanise`: the share of
    draws from a quantised song that get humanised timing, swing and a
    velocity curve first (model/training/humanise.py); `drum_patterns`: the
    share of draws whose drum part is a made-up groove, the part to fill
    (model/training/drum_patterns.py). 0 leaves the draws, and the
    generator's sequence, as they were."""
    bars = song.bars()
    if not bars:
        return None
    mode = rng.choices(list(MODE_WEIGHTS), weights=list(MODE_WEIGHTS.values()))[0]
    if transpose:
        song = _transpose(song, rng.randint(-5, 6))
    if humanise > 0 and rng.random() < humanise and is_quantised(song):
        song = humanise_song(song, rng)
    if drum_patterns > 0 and rng.random() < drum_patterns:
        song, target_id = with_drum_pattern(song, rng)
        target = song.track(target_id)
    else:
        target = rng.choice(song.tracks)
    span = min(rng.choices(list(SPAN_WEIGHTS), weights=list(SPAN_WEIGHTS.values()))[0], len(bars))
    f0 = rng.randrange(0, len(bars) - span + 1)
    f1 = f0 + span
    blank_end = f1
    if mode == "fill" and rng.random() < 0.2:  # later chunks of a long fill stay blank
        blank_end = min(len(bars), f1 + rng.randint(1, 8))
    lo, hi = tok.to_tick(bars[f0].start), tok.to_tick(bars[f1 - 1].end)
    notes = [n for n in target.notes if lo <= tok.to_tick(n.start) < hi]
    notes = [
        Note(n.pitch, n.start, min(n.duration, hi / tok.tpb - n.start), n.velocity) for n in notes
    ]
    density = tok.density_level(len(notes) / span)
    fill_track = Track(target.id, target.program, target.is_drum, notes)
    if mode == "fill" and rng.random() < NEW_PART_SHARE:
        song = Song(
            [
                Track(t.id, t.program, t.is_drum, [], t.name) if t.id == target.id else t
                for t in song.tracks
            ],
            song.time_signatures,
            song.tempos,
        )
    chords = fill_chords(tok, song, bars[f0:f1], target, mode) or [[] for _ in range(span)]
    fill = [tok.offset["DENSITY"] + density]
    for group, chord in zip(tok.encode_bars(fill_track, bars[f0:f1]), chords):
        fill += group[:1] + chord + group[1:]  # BAR, the bar's harmony, its notes
    fill.append(tok.FILL_END)
    # the room the Engine reserves at this density (model/generation/prompt.py), or the
    # fill's own length where one bar is busier than the level allows
    budget = max(fill_budget(span, block_size, tok, density, target.is_drum), len(fill) + 1)
    if budget > block_size // 2:
        return None
    try:
        prompt = build_prompt(
            tok,
            song,
            bars,
            target.id,
            (f0, f1),
            (f0, blank_end),
            lo,
            hi,
            mode,
            block_size,
            None,
            budget=budget,
        )
    except ValueError:
        return None
    return Example(prompt.tokens + fill, mode)
