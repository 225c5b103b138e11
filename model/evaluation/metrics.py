"""Fill-quality measures: a generated span beside the original it replaced."""

from __future__ import annotations

from collections import Counter

from ..scales import ROOT_NAMES, detect_key, scale_pitch_classes
from ..song import Note


def scale_degrees(notes: list[Note], tonic: int) -> Counter:
    """Pitch classes counted from the key's tonic (0 = tonic), so that
    histograms of pieces in different keys can be pooled."""
    return Counter((n.pitch - tonic) % 12 for n in notes)


def best_scale(notes: list[Note]) -> frozenset[int]:
    """Pitch classes of the song's detected key (midifill.model.scales.detect_key)."""
    key = detect_key(notes)
    return scale_pitch_classes(key) if key else frozenset()


def in_scale_ratio(notes: list[Note], scale: frozenset[int]) -> float:
    return sum(1 for n in notes if n.pitch % 12 in scale) / len(notes) if notes else 0.0


def range_overlap(a: list[Note], b: list[Note]) -> float:
    """Intersection over union of the two pitch ranges (inclusive)."""
    if not a or not b:
        return 0.0
    lo1, hi1 = min(n.pitch for n in a), max(n.pitch for n in a)
    lo2, hi2 = min(n.pitch for n in b), max(n.pitch for n in b)
    inter = max(0, min(hi1, hi2) - max(lo1, lo2) + 1)
    return inter / (max(hi1, hi2) - min(lo1, lo2) + 1)


def polyphony(notes: list[Note]) -> float:
    """Mean number of notes sounding at each onset."""
    if not notes:
        return 0.0
    onsets = sorted({n.start for n in notes})
    return sum(sum(1 for n in notes if n.start <= t < n.end) for t in onsets) / len(onsets)


def onset_positions(notes: list[Note], bar_starts: list[float], ticks_per_beat: int) -> Counter:
    """Histogram of onsets by their tick within the bar."""
    out: Counter = Counter()
    for n in notes:
        start = max((s for s in bar_starts if s <= n.start + 1e-9), default=0.0)
        out[round((n.start - start) * ticks_per_beat)] += 1
    return out


def tonic_of(notes: list[Note]) -> int | None:
    key = detect_key(notes)
    return ROOT_NAMES.index(key.split()[0]) if key else None
