"""How alike two distributions of notes are: the overlap of their normalised
histograms. One measure for the engine, which keeps the sampled fills whose
pitch classes are closest to the part's (model/generation/choose.py), and for
the evaluation, which compares fills with the originals (model/evaluation/)."""

from __future__ import annotations

from collections import Counter

from .song import Note


def histogram_overlap(a: Counter, b: Counter) -> float:
    """Sum of the minimum of the two normalised histograms: 1 for the same
    shape, 0 for disjoint keys or an empty side."""
    nb = sum(b.values())
    if not nb:
        return 0.0
    na = sum(a.values())
    return sum(min(count / na, b[key] / nb) for key, count in a.items())


def pitch_classes(notes: list[Note]) -> Counter:
    return Counter(n.pitch % 12 for n in notes)


def pitch_class_overlap(a: list[Note], b: list[Note]) -> float:
    """The overlap of the two pitch-class histograms (octaves folded)."""
    return histogram_overlap(pitch_classes(a), pitch_classes(b))
