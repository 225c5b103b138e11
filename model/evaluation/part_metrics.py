"""How a pitched fill's texture compares with the part it replaced.

Small pure measures beside model/evaluation/fit.py's (pitch-class overlap,
harmonic fit, copy rate): chords against lines, note lengths, register.
Times are beats; `tpb` is the tokenizer's grid (ticks a beat).
"""

from __future__ import annotations

import statistics

from ..song import Note


def notes_per_onset(notes: list[Note], tpb: int) -> float | None:
    """Notes over distinct onsets (read at the tokenizer's grid): 1 for a
    line, 3 for block triads; None without notes."""
    if not notes:
        return None
    return len(notes) / len({round(n.start * tpb) for n in notes})


def median_duration(notes: list[Note]) -> float | None:
    """The median note length in beats; None without notes."""
    return statistics.median(n.duration for n in notes) if notes else None


def pitch_offset(generated: list[Note], original: list[Note]) -> float | None:
    """Mean pitch of the fill minus the original's, in semitones; None when
    either has no notes."""
    if not generated or not original:
        return None
    return statistics.fmean(n.pitch for n in generated) - statistics.fmean(
        n.pitch for n in original
    )


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or b is 0."""
    return None if a is None or not b else a / b
