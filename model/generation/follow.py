"""Follow the part: what the target part's own nearby bars show, and the
follow-the-part controls set from it.

`PartProfile` is read once per request from the part's notes in up to 8
bars each side of the fill (nearby.py `nearby_notes`): its drum keys, its
most notes at once, its note lengths, its register, its feel (where its
onsets sit in the beat) and, for a drum part, its onsets per drum group bar
by bar. `resolve` turns every control left AUTO (sampling.py) into a value
from the profile, or into None (off) where the part says too little; a new
or empty part gets documented defaults: a drum part the core kit (kick,
snare, hats, toms, crash, ride), a pitched part its General MIDI
instrument's usual range, and a single line for the instruments that play
one (basses, brass, reeds, pipes, synth leads).
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from ..groove import onset_set
from ..limits import MIN_PITCHED_BEATS
from ..network.tokenizer import Tokenizer
from ..song import Bar, Note, Song, Track
from .choose import CANDIDATES, DRUM_CANDIDATES
from .groove_lean import repetition
from .harmony import follow_strength
from .line_lean import line_hits
from .sampling import AUTO, HARMONY_DEFAULT, Controls

# The register: the part's own nearby range, no wider (docs/fit.md: notes
# outside it gave generated bars away); a part that stays on a few pitches
# still gets REGISTER_MIN_WIDTH.
REGISTER_MARGIN = 0
REGISTER_MIN_WIDTH = 7  # semitones
MIN_NOTES = 3  # fewer nearby notes than this set no register, polyphony or durations
MIN_ONSETS = 8  # fewer onsets than this say nothing about the feel
# durations follow the part within [its 10th percentile / 2, its 90th
# percentile x DURATION_TOP]: on the dev set (30 pitched fills, docs/devset.md)
# a top of 2 left the fills' median length at 2.0x the originals', 1 at 1.17x
# (classifier AUC 0.77 -> 0.75, notes per onset 1.39 -> 1.34 against 1.36)
DURATION_TOP = 1

# a new or empty drum part: kick, snare, hats, toms, crash, ride
CORE_KIT = (35, 36, 38, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 57, 59)
# overlaps shorter than this are legato, not two notes at once
LEGATO_BEATS = 1 / 8

# A new part's register by General MIDI program: the usual range of the
# instrument (family-wide where one range fits the family)
_FAMILY_RANGE = [
    (36, 96),
    (48, 96),
    (36, 96),
    (40, 88),
    (28, 60),
    None,
    (36, 96),
    None,
    None,
    None,
    (48, 96),
    (36, 96),
    (36, 96),
    (48, 88),
    (36, 84),
    None,
]
_PROGRAM_RANGE = {
    40: (55, 100),
    41: (48, 88),
    42: (36, 76),
    43: (28, 60),
    44: (36, 96),
    45: (36, 96),
    46: (24, 103),
    47: (40, 57),
    52: (48, 81),
    53: (48, 81),
    54: (48, 81),
    55: (36, 96),
    48: (36, 96),
    49: (36, 96),
    50: (36, 96),
    51: (36, 96),
    56: (54, 84),
    57: (40, 72),
    58: (28, 58),
    59: (54, 84),
    60: (41, 77),
    61: (36, 84),
    62: (36, 84),
    63: (36, 84),
    64: (56, 88),
    65: (49, 81),
    66: (44, 76),
    67: (36, 69),
    68: (58, 91),
    69: (52, 81),
    70: (34, 75),
    71: (50, 94),
    72: (74, 108),
    73: (60, 96),
    74: (60, 96),
    75: (60, 96),
    76: (60, 96),
    77: (60, 96),
    78: (60, 96),
    79: (60, 96),
}
# instruments that play one note at a time: basses, solo brass, reeds, pipes, synth leads
MONO_PROGRAMS = frozenset([*range(32, 40), *range(56, 61), *range(64, 88)])

FEELS = ("straight", "triplet", "swing", "loose")


def gm_range(program: int) -> tuple[int, int] | None:
    """The usual range of General MIDI `program`, or None (sound effects)."""
    return _PROGRAM_RANGE.get(program, _FAMILY_RANGE[program // 8])


@dataclass(frozen=True)
class PartProfile:
    """What the part's own nearby bars show (ticks at the tokenizer's grid)."""

    notes: int = 0
    drum_keys: tuple[int, ...] = ()
    max_at_once: int = 0  # most notes sounding together (legato overlaps aside)
    per_onset: float = 0.0  # notes per distinct onset
    durations: tuple[int, int, int, int] | None = None  # 5th, 10th, 50th, 90th percentile
    register: tuple[int, int] | None = None
    feel: str | None = None
    grid: tuple[int, ...] | None = None  # onset ticks within the beat the part uses
    # each nearby bar's (drum group, 32nd slot) onsets (model/groove.py)
    drum_bars: tuple[frozenset, ...] = ()
    harmony: float | None = None  # the harmony strength that follows it (harmony.py)
    # each nearby bar's length in ticks and exact (tick from its start, key) hits
    drum_hits: tuple[tuple[int, frozenset[tuple[int, int]]], ...] = ()
    # a pitched part's: each nearby bar's length and (tick, pitch, length) notes
    line_notes: tuple[tuple[int, frozenset[tuple[int, int, int]]], ...] = ()


EMPTY = PartProfile()


def register(notes: list[Note]) -> tuple[int, int] | None:
    """The pitch range of the notes (widened by REGISTER_MARGIN, and evenly
    to REGISTER_MIN_WIDTH where narrower), or None with fewer than MIN_NOTES."""
    if len(notes) < MIN_NOTES:
        return None
    lo = min(n.pitch for n in notes) - REGISTER_MARGIN
    hi = max(n.pitch for n in notes) + REGISTER_MARGIN
    short = REGISTER_MIN_WIDTH - (hi - lo)
    if short > 0:
        lo, hi = lo - short // 2, hi + short - short // 2
    return max(0, lo), min(127, hi)


def profile(
    tok: Tokenizer, song: Song, track: Track, notes: list[Note], bars: list[Bar]
) -> PartProfile:
    """The profile of `track` from its `notes` in the nearby `bars`."""
    if not notes:
        return EMPTY
    tpb = tok.tpb
    starts = np.array([tok.to_tick(n.start) for n in notes])
    if track.is_drum:
        ends = starts + tok.drum_ticks
    else:
        ends = np.array([max(s + 1, tok.to_tick(n.end)) for s, n in zip(starts, notes)])
    onsets = np.unique(starts)
    # notes sounding at each onset, a note's last LEGATO ticks not counted
    legato = 0 if track.is_drum else tok.to_tick(LEGATO_BEATS)
    held_to = np.maximum(ends - legato, starts + 1)
    at_once = ((starts[None, :] <= onsets[:, None]) & (held_to[None, :] > onsets[:, None])).sum(1)
    lengths = np.sort(ends - starts)
    durations = (
        None
        if track.is_drum or len(notes) < MIN_NOTES
        else _four(int(np.percentile(lengths, q, method="nearest")) for q in (5, 10, 50, 90))
    )
    bar_ticks = [(tok.to_tick(b.start), tok.bar_ticks(b)) for b in bars]
    feel, grid = _feel(_offsets(starts, bar_ticks, tpb), tpb)
    in_bars = _by_bar(notes, bars)
    drum = track.is_drum
    drum_bars = tuple(onset_set(ns, b.start, b.end) for ns, b in zip(in_bars, bars)) if drum else ()
    drum_hits = tuple(_hits(tok, ns, b) for ns, b in zip(in_bars, bars)) if drum else ()
    line_notes = () if drum else tuple(_line(tok, ns, b) for ns, b in zip(in_bars, bars))
    return PartProfile(
        notes=len(notes),
        drum_keys=tuple(sorted({n.pitch for n in notes})) if track.is_drum else (),
        max_at_once=int(at_once.max()),
        per_onset=len(notes) / len(onsets),
        durations=durations,
        register=None if track.is_drum else register(notes),
        feel=feel,
        grid=grid,
        drum_bars=drum_bars,
        drum_hits=drum_hits,
        line_notes=line_notes,
        harmony=None if track.is_drum else follow_strength(notes, song, track.id, tpb),
    )


def _by_bar(notes: list[Note], bars: list[Bar]) -> list[list[Note]]:
    """The notes starting in each bar, from 1e-9 beat before its start to
    1e-9 before its end: those _hits and onset_set keep there, found by
    bisection rather than a pass over all the notes per bar."""
    notes = sorted(notes, key=attrgetter("start"))
    starts = [n.start for n in notes]
    return [
        notes[bisect_left(starts, b.start - 1e-9) : bisect_left(starts, b.end - 1e-9)] for b in bars
    ]


def _hits(tok: Tokenizer, notes: list[Note], bar: Bar) -> tuple[int, frozenset[tuple[int, int]]]:
    """A bar's length in ticks and its (tick from its start, key) hits."""
    start = tok.to_tick(bar.start)
    inside = (n for n in notes if bar.start - 1e-9 <= n.start < bar.end - 1e-9)
    return tok.bar_ticks(bar), frozenset((tok.to_tick(n.start) - start, n.pitch) for n in inside)


def _line(tok: Tokenizer, notes: list[Note], bar: Bar) -> tuple[int, frozenset]:
    """A pitched bar's length in ticks and its (tick from its start, pitch,
    length in ticks as the tokenizer writes it) notes."""
    start, tpb = tok.to_tick(bar.start), tok.tpb
    out = set()
    for n in notes:
        if bar.start - 1e-9 <= n.start < bar.end - 1e-9:
            t = tok.to_tick(n.start)
            out.add((t - start, n.pitch, min(tok.max_dur, max(1, int(round(n.end * tpb)) - t))))
    return tok.bar_ticks(bar), frozenset(out)


def _offsets(starts: np.ndarray, bar_ticks: list[tuple[int, int]], tpb: int) -> np.ndarray:
    """Each onset's tick within its beat, beats counted from its bar's start
    (the grid the POS tokens are on)."""
    bar_starts = np.array(sorted(s for s, _ in bar_ticks))
    i = np.searchsorted(bar_starts, starts, side="right") - 1
    return (starts - np.where(i >= 0, bar_starts[np.maximum(i, 0)], 0)) % tpb


def _feel(offsets: np.ndarray, tpb: int) -> tuple[str | None, tuple[int, ...] | None]:
    """The feel the onsets show, and the onset ticks within the beat that a
    fill may use (None: any). Straight: the 16th grid (and 32nds where the
    part plays them); triplet: 8th and 16th triplets, with the 16th grid where
    the part mixes them; swing: off-beat 8ths late, near the triplet's last
    third; loose: unquantised, more than a fifth of the onsets off every grid."""
    if len(offsets) < MIN_ONSETS:
        return None, None
    counts = np.bincount(offsets, minlength=tpb)
    share = counts / len(offsets)

    def on(step: int) -> float:
        return share[np.arange(0, tpb, tpb // step)].sum() if tpb % step == 0 else 0.0

    # on the grid of 32nds or of 16th triplets
    gridded = share[
        [o for o in range(tpb) if o % (tpb // 8 or 1) == 0 or o % (tpb // 6 or 1) == 0]
    ].sum()
    if gridded < 0.8:
        return "loose", None
    used = tuple(
        int(o)
        for o in np.flatnonzero(counts)
        if o % (tpb // 8 or 1) == 0 or o % (tpb // 6 or 1) == 0
    )
    triplet = on(6) - on(2)  # onsets on 16th triplets and not on 8ths
    sixteenth = on(8) - on(2)  # on 32nds and not on 8ths
    late = share[2 * tpb // 3] if tpb % 3 == 0 else 0.0  # the triplet's last third
    if (
        tpb % 3 == 0
        and late > 0
        and share[tpb // 2] < late / 4
        and share[tpb // 3] < late / 4
        and triplet <= late * 1.5
    ):
        return "swing", used
    if triplet > sixteenth:
        return "triplet", used
    return "straight", used


def feel_grid(feel: str | None, prof: PartProfile, tpb: int) -> tuple[int, ...] | None:
    """The onset ticks within a beat a fill may use under `feel`: where the
    feel is the part's own, the ticks its onsets use (with the 8th grid); a
    feel the user names, that feel's grid; None (any) for loose or off."""
    if feel is None or feel == "loose":
        return None
    base = {
        "straight": range(0, tpb, tpb // 4),
        "triplet": range(0, tpb, tpb // 6),
        "swing": sorted({0, tpb // 3, tpb // 2, 2 * tpb // 3}),
    }[feel]
    if feel == prof.feel and prof.grid:
        return tuple(sorted(set(prof.grid) | {0, tpb // 2}))
    return tuple(base)


def _four(values) -> tuple[int, int, int, int]:
    a, b, c, d = values
    return a, b, c, d


def resolve(
    controls: Controls, prof: PartProfile, track: Track, mode: str, tok: Tokenizer
) -> Controls:
    """A copy of `controls` with every AUTO set from the part's profile (the
    request's own values, and None, kept). `generate` writes a new part: it
    reads nothing of the track's notes and takes a new part's defaults."""
    if mode == "generate":
        prof = EMPTY
    drum = track.is_drum
    enough = prof.notes >= MIN_NOTES
    auto: dict[str, Any] = {}
    if controls.pitch_range is AUTO:
        rng = prof.register
        if rng is None and not drum:
            rng = gm_range(track.program)
        auto["pitch_range"] = None if drum else rng
    if controls.max_polyphony is AUTO:
        auto["max_polyphony"] = (
            prof.max_at_once
            if enough
            else (1 if not drum and track.program in MONO_PROGRAMS else None)
        )
    if controls.kit is AUTO:
        auto["kit"] = (prof.drum_keys or CORE_KIT) if drum else None
    if controls.candidates is AUTO:
        auto["candidates"] = DRUM_CANDIDATES if drum else CANDIDATES
    if controls.groove is AUTO:
        auto["groove"] = drum and any(prof.drum_bars)
    # a request that names a density asks for a busier or sparser fill than
    # the part's own bars: the auto leans, which carry those bars on, stand down
    leaning = controls.density is None
    if controls.groove_lean is AUTO or controls.groove_lean is None:
        # as strong as the part repeats itself; none for a pitched part (the
        # lean reads drum hits only) or where the part shows no repetition
        auto["groove_lean"] = (repetition(prof.drum_hits) or 0.0) if drum and leaning else 0.0
    if controls.line_lean is AUTO or controls.line_lean is None:
        # its pitched counterpart, the same way (line_lean.py)
        auto["line_lean"] = (
            0.0 if drum or not leaning else (repetition(line_hits(prof.line_notes)) or 0.0)
        )
    if controls.durations is AUTO:
        auto["durations"] = (
            None
            if drum or prof.durations is None
            else (
                max(1, prof.durations[1] // 2),
                min(tok.max_dur, DURATION_TOP * prof.durations[3]),
            )
        )
    if controls.feel is AUTO:
        auto["feel"] = prof.feel
    if controls.harmony is AUTO or controls.harmony is None:
        auto["harmony"] = (
            HARMONY_DEFAULT if mode == "generate" or drum or prof.harmony is None else prof.harmony
        )
    return dataclasses.replace(controls, **auto)


def min_duration(controls: Controls, prof: PartProfile, tok: Tokenizer) -> int | None:
    """The shortest pitched note the grammar allows, in ticks, where the part
    plays notes shorter than the grammar's floor (grammar.MIN_PITCHED_BEATS,
    a 32nd) and durations follow it: the part's 5th percentile; None (the
    grammar's own floor) otherwise."""
    if not controls.durations or prof.durations is None:
        return None
    shortest = max(1, prof.durations[0])
    return shortest if shortest < tok.to_tick(MIN_PITCHED_BEATS) else None
