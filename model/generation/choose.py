"""Choosing among sampled fills.

Where the target part has pitched notes near the fill, the engine samples
more fills than it was asked for and keeps those whose pitch classes are
closest to the part's own nearby bars: each sampled fill stays a coherent
draw from the network (no token is pushed anywhere), and the draws that
wander off the part's pitch set are dropped. Measured on held-out songs
(docs/fit.md, "Choosing among sampled fills"), this is what lifted the
fills' pitch-class overlap with the originals above the paste baselines;
biasing the pitch tokens towards the same classes, one token at a time,
had lowered it. Drum fills are chosen the same way by their groove: how
close their onsets per drum group come to the part's own bars
(model/groove.py), where controls.groove is on.
"""

from __future__ import annotations

from ..groove import SLOT_BEATS, groove_closeness, onset_set
from ..histograms import pitch_class_overlap
from ..song import Bar, Note

# fills sampled per chunk of a request, shared among its variations
CANDIDATES = 8
# the same for a drum part (controls.candidates left to auto, follow.resolve):
# its fills are long (three tokens a hit) and every token of every candidate
# is a row of the decode step, so 4 halve a drum fill's decode; on the dev
# set (30 drum fills) the groove choice among 4 kept onset F1 at 0.47
# against 0.48 among 8 (docs/speed.md)
DRUM_CANDIDATES = 4


def pool_size(rows: int, variations: int, candidates: int) -> int:
    """How many fills to sample for `rows` of a request's `variations`: each
    variation gets an equal share of `candidates`, and at least itself."""
    return max(rows, candidates * rows // variations)


def closest(fills: list[list[Note]], part: list[Note], keep: int) -> list[int]:
    """The indices of the `keep` fills whose pitch classes are closest to the
    part's (model/histograms.py), closest first; equal ones keep the order they were sampled in."""
    score = [pitch_class_overlap(f, part) for f in fills]
    return sorted(range(len(fills)), key=lambda i: -score[i])[:keep]


def closest_groove(
    fills: list[list[Note]],
    bars: list[Bar],
    lo: float,
    hi: float,
    part: tuple[frozenset, ...],
    keep: int,
) -> list[int]:
    """The indices of the `keep` drum fills over beats [lo, hi) of `bars`
    whose onsets per drum group come closest to the part's bars (`part`:
    each bar's onset set, model/groove.py), closest first; equal ones keep
    the order they were sampled in."""
    spans = [(b, max(lo, b.start), min(hi, b.end)) for b in bars if b.start < hi and b.end > lo]
    slots = [
        ((a - b.start) / SLOT_BEATS - 0.5, (z - b.start) / SLOT_BEATS - 0.5) for b, a, z in spans
    ]
    # a fill holds notes inside [lo, hi) only: its onsets in a bar are those in the span
    score = [
        groove_closeness(
            [(onset_set(f, b.start, b.end), s0, s1) for (b, _, _), (s0, s1) in zip(spans, slots)],
            list(part),
        )
        for f in fills
    ]
    return sorted(range(len(fills)), key=lambda i: -score[i])[:keep]
