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
(model/groove.py), where controls.groove is on. A target written after
others in one request is also chosen by how well it agrees with their new
notes over the same bars (agreement.py): a bass with the new kick, a chord
part with the new bass.
"""

from __future__ import annotations

from ..groove import SLOT_BEATS, f1, onset_set
from ..histograms import pitch_class_overlap
from ..song import Bar, Note
from .agreement import agreement

# fills sampled per chunk of a request, shared among its variations. 8
# until the line lean (line_lean.py) came: leaning each draw towards the
# part's own bars does much of what choosing among more did, and on the dev
# set (100 pitched fills, seeds 0 / 1, docs/fit.md) 4 against 8 gave pc
# overlap 0.734 / 0.694 against 0.727 / 0.691, harmonic fit 0.768 / 0.758
# against 0.767 / 0.766, AUC 0.686 / 0.622 against 0.682 / 0.632, at half
# the rows of the decode step
CANDIDATES = 4
# the same for a drum part (controls.candidates left to auto, follow.resolve):
# its fills are long (three tokens a hit) and every token of every candidate
# is a row of the decode step, so 4 halve a drum fill's decode; on the dev
# set (30 drum fills) the groove choice among 4 kept onset F1 at 0.47
# against 0.48 among 8 (docs/speed.md)
DRUM_CANDIDATES = 4
# how much a later target's agreement with the earlier targets' new notes
# (agreement.py, 0..1) counts beside its closeness to its own part (0..1):
# on the dev set's two-part spans (docs/fit.md) weight 1 lifted the pair
# measures halfway to the originals', 2 to within 0.05 of them with the
# second part's classifier AUC no worse, 4 a little further at a higher AUC
AGREEMENT_WEIGHT = 2.0


def pool_size(rows: int, variations: int, candidates: int) -> int:
    """How many fills to sample for `rows` of a request's `variations`: each
    variation gets an equal share of `candidates`, and at least itself."""
    return max(rows, candidates * rows // variations)


def best(scores: list[float], keep: int) -> list[int]:
    """The indices of the `keep` highest scores, highest first; equal ones
    keep the order they were sampled in."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])[:keep]


def pitch_scores(fills: list[list[Note]], part: list[Note]) -> list[float]:
    """How close each fill's pitch classes come to the part's (model/histograms.py)."""
    return [pitch_class_overlap(f, part) for f in fills]


def closest(fills: list[list[Note]], part: list[Note], keep: int) -> list[int]:
    """The indices of the `keep` fills whose pitch classes are closest to the
    part's, closest first; equal ones keep the order they were sampled in."""
    return best(pitch_scores(fills, part), keep)


def agreement_scores(
    fills: list[list[Note]], role: int, heard: list[tuple[int, list[Note]]], tpb: int
) -> list[float] | None:
    """How well each fill (of a part of `role`) agrees with the parts written
    before it, each (role, its new notes over the fill's span): the mean of
    the measures that apply (agreement.py); None where none applies."""
    out = []
    for f in fills:
        vals = [v for r, notes in heard if (v := agreement(f, role, notes, r, tpb)) is not None]
        out.append(sum(vals) / len(vals) if vals else None)
    if all(v is None for v in out):
        return None
    return [0.0 if v is None else v for v in out]


def groove_scores(
    fills: list[list[Note]], bars: list[Bar], lo: float, hi: float, part: tuple[frozenset, ...]
) -> list[float]:
    """How close each drum fill over beats [lo, hi) of `bars` comes to the
    part's bars by its onsets per drum group (`part`: each bar's onset set,
    model/groove.py)."""
    spans = [(b, max(lo, b.start), min(hi, b.end)) for b in bars if b.start < hi and b.end > lo]
    slots = [
        ((a - b.start) / SLOT_BEATS - 0.5, (z - b.start) / SLOT_BEATS - 0.5) for b, a, z in spans
    ]
    if not spans or not part:
        return [0.0 for _ in fills]
    # groove_closeness (model/groove.py) for each fill, with the part's bars
    # cut to each span's slots once rather than once a fill: the mean over
    # the spans of the best F1 against any cut part bar
    cut = [[frozenset(o for o in p if s0 <= o[1] < s1) for p in part] for s0, s1 in slots]
    # a fill holds notes inside [lo, hi) only: its onsets in a bar are those in the span
    return [
        sum(max(f1(onsets, c) for c in cuts) for onsets, cuts in zip(_onsets(f, spans), cut))
        / len(spans)
        for f in fills
    ]


def _onsets(fill: list[Note], spans: list) -> list[frozenset]:
    """The fill's onset set in each span's bar (groove_scores)."""
    return [onset_set(fill, b.start, b.end) for b, _, _ in spans]


def closest_groove(
    fills: list[list[Note]],
    bars: list[Bar],
    lo: float,
    hi: float,
    part: tuple[frozenset, ...],
    keep: int,
) -> list[int]:
    """The indices of the `keep` drum fills whose groove comes closest to
    the part's (groove_scores), closest first; equal ones keep the order
    they were sampled in."""
    return best(groove_scores(fills, bars, lo, hi, part), keep)


def choice(
    fills: list[list[Note]],
    keep: int,
    tpb: int,
    part: list[Note] | None = None,
    groove: tuple[list[Bar], float, float, tuple[frozenset, ...]] | None = None,
    role: int = 0,
    heard: list[tuple[int, list[Note]]] | None = None,
) -> list[int]:
    """The indices of the `keep` fills to keep, best first: scored by their
    pitch classes against the part's nearby notes (`part`) or, for drums,
    by their groove against the part's bars (`groove`: bars, lo, hi, the
    part's onset sets), plus how well they agree with the parts written
    before them (`heard`, see agreement_scores) times AGREEMENT_WEIGHT."""
    scores = [0.0] * len(fills)
    if groove is not None:
        scores = groove_scores(fills, *groove)
    elif part:
        scores = pitch_scores(fills, part)
    extra = agreement_scores(fills, role, heard, tpb) if heard else None
    if extra is not None:
        scores = [s + AGREEMENT_WEIGHT * e for s, e in zip(scores, extra)]
    return best(scores, keep)


def first_bar_pruner(plan, lo_tick: int, hi_tick: int, tpb: int, part, keep: int):
    """For a drum pool chosen by groove: a function of the rows' fill states
    that, once every row has written the first bar, names the `keep` rows
    whose first bar comes closest to the part's bars (groove_scores), best
    first. The rest need not be decoded further."""
    bar = plan.bars[0]

    def prune(states) -> list[int]:
        end = (plan.bars[1].start if len(plan.bars) > 1 else bar.end) * tpb
        heads = [
            [Note(p, t / tpb, d / tpb, 1) for t, p, d, _ in st.notes if t < end] for st in states
        ]
        scores = groove_scores(heads, [bar], lo_tick / tpb, min(hi_tick, end) / tpb, part)
        return best(scores, keep)

    return prune
