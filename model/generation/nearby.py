"""The target part's own nearby bars: up to CONTEXT_BARS bars on each side of
the fill, and what the engine reads from them when a request leaves a
control to follow the part (its density, register, dynamics and harmony
strength; follow.py reads the rest)."""

from __future__ import annotations

from ..limits import CONTEXT_BARS
from ..network.tokenizer import Tokenizer
from ..song import Note
from .follow import register
from .harmony import follow_strength
from .sampling import HARMONY_DEFAULT


def nearby_bars(bars, b0: int, b1: int) -> list[int]:
    """Indices of up to CONTEXT_BARS bars on each side of bars [b0, b1)."""
    return list(range(max(0, b0 - CONTEXT_BARS), b0)) + list(
        range(b1, min(len(bars), b1 + CONTEXT_BARS))
    )


def nearby_notes(track, bars, b0: int, b1: int) -> tuple[list[Note], int]:
    """The track's own notes in up to CONTEXT_BARS bars on each side of bars
    [b0, b1), and how many bars that is."""
    near = nearby_bars(bars, b0, b1)
    if not near:
        return [], 0
    lo, hi = bars[near[0]].start, bars[near[-1]].end
    notes = [
        n
        for n in track.notes
        if lo <= n.start < hi and not bars[b0].start <= n.start < bars[b1 - 1].end
    ]
    return notes, len(near)


def nearby_density(tok: Tokenizer, notes: list[Note], n_bars: int) -> int | None:
    return max(1, tok.density_level(len(notes) / n_bars)) if notes else None


def nearby_velocities(tok: Tokenizer, notes: list[Note]) -> tuple[int, int] | None:
    if len(notes) < 3:
        return None
    bins = [tok.velocity_bin(n.velocity) for n in notes]
    return max(0, min(bins) - 1), min(tok.config.velocity_bins - 1, max(bins) + 1)


def context_density(tok: Tokenizer, track, bars, b0: int, b1: int) -> int | None:
    """The density level of the target track's own nearby notes, or None (the
    model chooses) when it has none there: a producer filling bars of a part
    expects them about as busy as the rest of it."""
    return nearby_density(tok, *nearby_notes(track, bars, b0, b1))


def context_register(track, bars, b0: int, b1: int) -> tuple[int, int] | None:
    """The pitch range of a pitched target track's own nearby notes
    (follow.register), or None for a drum track or with fewer than 3 of
    them: a bass fill stays a bass line."""
    return None if track.is_drum else register(nearby_notes(track, bars, b0, b1)[0])


def context_velocities(tok: Tokenizer, track, bars, b0: int, b1: int) -> tuple[int, int] | None:
    """The velocity bins of the target track's own nearby notes, one bin wider
    each way, or None with fewer than 3 of them: a fill plays at the part's
    dynamics (measured on held-out songs, velocity was what most gave the
    fills of MMA parts away, docs/fit.md)."""
    return nearby_velocities(tok, nearby_notes(track, bars, b0, b1)[0])


def context_harmony(tok: Tokenizer, song, track, bars, b0: int, b1: int) -> float:
    """controls.harmony for a request that leaves it out: the strength that
    follows the part's own nearby bars (model/generation/harmony.py), or HARMONY_DEFAULT
    where the part has too few notes there to tell."""
    notes, _ = nearby_notes(track, bars, b0, b1)
    follow = follow_strength(notes, song, track.id, tok.tpb)
    return HARMONY_DEFAULT if follow is None else follow
