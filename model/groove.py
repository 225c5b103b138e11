"""How close a drum fill's onsets come to a drum part's own bars: onsets
per General MIDI drum group (kick 35/36; snare 37-40; hats 42/44/46; every
other key), on a 32nd grid, compared bar against bar. The engine keeps the
sampled drum fills closest to the part (model/generation/choose.py); the
evaluation's matched onset F1 against the original is
model/evaluation/drum_metrics.py."""

from __future__ import annotations

from .song import Note

KICK, SNARE, HATS = frozenset({35, 36}), frozenset({37, 38, 39, 40}), frozenset({42, 44, 46})
SLOT_BEATS = 1 / 8  # onsets compared on a 32nd grid


def drum_group(key: int) -> int:
    """0 kick, 1 snare, 2 hats, 3 any other drum key."""
    return 0 if key in KICK else 1 if key in SNARE else 2 if key in HATS else 3


def onset_set(notes: list[Note], start: float, end: float) -> frozenset[tuple[int, int]]:
    """The (drum group, 32nd slot from `start`) onsets of the hits in [start, end)."""
    return frozenset(
        (drum_group(n.pitch), int(round((n.start - start) / SLOT_BEATS)))
        for n in notes
        if start - 1e-9 <= n.start < end - 1e-9
    )


def f1(a: frozenset, b: frozenset) -> float:
    """2|a & b| / (|a| + |b|); 1 for two empty sets."""
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def groove_closeness(bars: list[tuple[frozenset, float, float]], part: list[frozenset]) -> float:
    """The mean over a fill's bars of their best F1 against any of the part's
    bars. Each fill bar is (its onset set, and the slots [lo, hi) it covers,
    from its bar's start): a part bar is compared inside those slots only,
    so a fill that covers half a bar is held to that half."""
    if not bars or not part:
        return 0.0
    total = 0.0
    for onsets, lo, hi in bars:
        total += max(f1(onsets, frozenset(o for o in p if lo <= o[1] < hi)) for p in part)
    return total / len(bars)
