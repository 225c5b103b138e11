"""Chords for a melody that has none, so that MMA can accompany it.

Most folk tunes in the music21 corpus carry no chord symbols. A plain
harmonizer is enough for training material: for each harmonic segment (half
a 4/4 bar, else a bar) pick the diatonic chord whose tones cover most of the
melody there, with notes on the segment's downbeat counting more, a small
preference for the primary chords, for staying put, and for the tonic at the
end.
"""

from __future__ import annotations

from ..scales import NOTE_NAMES
from ..song import Note

# (semitones above the tonic, MMA suffix, prior weight)
MAJOR = [
    (0, "", 0.3),
    (5, "", 0.2),
    (7, "", 0.2),
    (7, "7", -0.15),
    (9, "m", 0.05),
    (2, "m", 0.0),
    (4, "m", -0.05),
]
MINOR = [
    (0, "m", 0.3),
    (5, "m", 0.2),
    (7, "", 0.15),
    (7, "7", -0.1),
    (3, "", 0.05),
    (8, "", 0.05),
    (10, "", 0.05),
    (7, "m", 0.0),
]
TONES = {"": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10)}


def chord_tones(root: int, suffix: str) -> set[int]:
    return {(root + i) % 12 for i in TONES[suffix]}


def segment_beats(numerator: int, denominator: int) -> float:
    bar = numerator * 4 / denominator
    return bar / 2 if (numerator, denominator) in ((4, 4), (2, 2)) else bar


def harmonize(
    melody: list[Note], tonic: int, minor: bool, numerator: int, denominator: int
) -> list[tuple[float, str]]:
    """(beat, MMA chord name) per harmonic segment; repeated chords merged."""
    if not melody:
        return []
    seg = segment_beats(numerator, denominator)
    end = max(n.end for n in melody)
    table = MINOR if minor else MAJOR
    out: list[tuple[float, str]] = []
    prev = None
    start = 0.0
    while start < end - 1e-9:
        stop = start + seg
        weights: dict[int, float] = {}
        for n in melody:
            overlap = min(n.end, stop) - max(n.start, start)
            if overlap <= 0:
                continue
            w = overlap * (1.5 if abs(n.start - start) < 1e-6 else 1.0)
            weights[n.pitch % 12] = weights.get(n.pitch % 12, 0.0) + w
        if weights:
            last = stop >= end - 1e-9
            best, best_score = None, None
            for degree, suffix, prior in table:
                root = (tonic + degree) % 12
                tones = chord_tones(root, suffix)
                score = sum(w if pc in tones else -0.5 * w for pc, w in weights.items())
                score += prior * seg
                if (root, suffix) == prev:
                    score += 0.1 * seg
                if last and degree == 0:
                    score += 1.0 * seg
                if best_score is None or score > best_score + 1e-9:
                    best, best_score = (root, suffix), score
            if best is not None and best != prev:
                out.append((start, NOTE_NAMES[best[0]] + best[1]))
                prev = best
        start = stop
    return out
