"""Choosing among sampled fills.

Where the target part has pitched notes near the fill, the engine samples
more fills than it was asked for and keeps those whose pitch classes are
closest to the part's own nearby bars: each sampled fill stays a coherent
draw from the network (no token is pushed anywhere), and the draws that
wander off the part's pitch set are dropped. Measured on held-out songs
(docs/fit.md, "Choosing among sampled fills"), this is what lifted the
fills' pitch-class overlap with the originals above the paste baselines;
biasing the pitch tokens towards the same classes, one token at a time,
had lowered it.
"""
from __future__ import annotations

from ..histograms import pitch_class_overlap
from ..song import Note

# fills sampled per chunk of a request, shared among its variations
CANDIDATES = 8


def pool_size(rows: int, variations: int, candidates: int) -> int:
    """How many fills to sample for `rows` of a request's `variations`: each
    variation gets an equal share of `candidates`, and at least itself."""
    return max(rows, candidates * rows // variations)


def closest(fills: list[list[Note]], part: list[Note], keep: int) -> list[int]:
    """The indices of the `keep` fills whose pitch classes are closest to the
    part's (model/histograms.py), closest first; equal ones keep the order they were sampled in."""
    score = [pitch_class_overlap(f, part) for f in fills]
    return sorted(range(len(fills)), key=lambda i: -score[i])[:keep]
