"""How a drum fill compares with the part it replaced: small pure measures.

Times are beats; `tpb` is the tokenizer's grid (ticks a beat). Drum keys
are grouped as General MIDI names them: kick (35, 36), snare (37-40:
side stick, snare, clap, electric snare), hats (42, 44, 46) and the rest.
"""

from __future__ import annotations

import statistics

from ..groove import HATS, KICK, SNARE
from ..song import Bar, Note

GROUPS = {"kick": KICK, "snare": SNARE, "hats": HATS}  # the groups' one home: model/groove.py
GROUP_NAMES = ("kick", "snare", "hats", "other")
TOLERANCE = 0.125  # beats: a 32nd note either way


def group_of(pitch: int) -> str:
    return next((name for name, keys in GROUPS.items() if pitch in keys), "other")


def _onsets(notes: list[Note], group: str | None) -> list[float]:
    """The distinct onsets of a group's hits (all hits: None), in order; two
    keys of one group struck together are one onset."""
    return sorted({round(n.start, 6) for n in notes if group is None or group_of(n.pitch) == group})


def _matches(a: list[float], b: list[float], tol: float) -> int:
    """Onsets of `a` paired one to one with onsets of `b` within `tol`,
    walking both in time order (each takes the earliest free partner)."""
    i = j = found = 0
    while i < len(a) and j < len(b):
        if abs(a[i] - b[j]) <= tol + 1e-9:
            found, i, j = found + 1, i + 1, j + 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return found


def onset_f1(
    generated: list[Note], original: list[Note], group: str | None = None, tol: float = TOLERANCE
) -> float | None:
    """F1 of the fill's onsets against the original's, each group matched
    apart (a kick does not answer a snare) within `tol` beats; `group`: one
    group only. None when neither has a hit there."""
    names = GROUP_NAMES if group is None else (group,)
    hits = {g: (_onsets(generated, g), _onsets(original, g)) for g in names}
    n_gen = sum(len(a) for a, _ in hits.values())
    n_orig = sum(len(b) for _, b in hits.values())
    if n_gen + n_orig == 0:
        return None
    matched = sum(_matches(a, b, tol) for a, b in hits.values())
    return 2 * matched / (n_gen + n_orig)


def kit_share(generated: list[Note], context: list[Note]) -> float | None:
    """Share of the fill's hits on keys the part's context plays; None
    without hits."""
    if not generated:
        return None
    kit = {n.pitch for n in context}
    return sum(n.pitch in kit for n in generated) / len(generated)


def grid_share(notes: list[Note], tpb: int, division: int = 4) -> float | None:
    """Share of onsets on the grid of `division` steps a beat (4: 16ths),
    onsets read at the tokenizer's grid; None without notes."""
    if not notes:
        return None
    step = tpb // division
    return sum(round(n.start * tpb) % step == 0 for n in notes) / len(notes)


def _bar(notes: list[Note], bar: Bar) -> list[Note]:
    return [n for n in notes if bar.start - 1e-9 <= n.start < bar.end - 1e-9]


def _shifted(notes: list[Note], by: float) -> list[Note]:
    return [Note(n.pitch, n.start + by, n.duration, n.velocity) for n in notes]


def bar_features(
    notes: list[Note], bar: Bar, context: list[Note], context_bars: list[Bar], tpb: int
) -> list[float]:
    """What the real-vs-generated classifier sees of one drum bar, read
    against the part's own context: hits over the context's hits a bar,
    shares on the 16th and 8th grids, share on the context's keys, distinct
    keys over the context's, the shares of kick, snare, hats and other, mean
    velocity over the context's, and the best onset F1 against any context
    bar moved onto this one."""
    inside = _bar(notes, bar)
    rate = len(context) / max(1, len(context_bars))
    kit = {n.pitch for n in context}
    vel = statistics.fmean([n.velocity for n in context]) if context else 96.0
    if not inside:
        return [0.0] * 11
    best = max(
        (
            onset_f1(inside, _shifted(_bar(context, b), bar.start - b.start)) or 0.0
            for b in context_bars
        ),
        default=0.0,
    )
    groups = [sum(group_of(n.pitch) == g for n in inside) / len(inside) for g in GROUP_NAMES]
    return [
        len(inside) / max(rate, 0.5),
        grid_share(inside, tpb, 4),
        grid_share(inside, tpb, 2),
        kit_share(inside, context),
        len({n.pitch for n in inside}) / max(1, len(kit)),
        *groups,
        statistics.fmean([n.velocity for n in inside]) / vel,
        best,
    ]


FEATURE_NAMES = [
    "hits per bar / context",
    "on the 16th grid",
    "on the 8th grid",
    "on the context's keys",
    "keys / context keys",
    "kick share",
    "snare share",
    "hats share",
    "other share",
    "velocity / context",
    "best F1 with a context bar",
]
