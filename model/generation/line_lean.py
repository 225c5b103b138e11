"""The line lean: the groove lean's pitched counterpart, a soft decoding
prior that leans a pitched fill towards carrying on the part's own bars (a
riff, a bass line, a repeated phrase).

Real pitched parts repeat their bars (pattern copy about 0.7 on the dev
set, docs/fit.md) where the network's fills almost never do. As the groove
lean does for drums (groove_lean.py, whose context bars and matching this
reuses), it adds nats to the tokens that would carry on the context bars
which agree with the bar written so far, and forbids nothing.

For the bar being written, the matching context bars are those of its
length whose (tick, pitch) notes contain the bar's notes so far, or, where
none does, those fewest notes away. Each says what comes next: another
pitch at the open position (the lowest it has above the last written
there), its next onset, or closing the bar; and once a note's pitch and
velocity are written, its length, where the bar has that note (the matching
bars for the bar with the note added). A bar's pitch that the other tracks
do not sound at the position (the harmony lean's `sounding`) says nothing:
copied over another chord, it clashes. A token gets controls.line_lean x
LINE_NATS times the share of the matching bars with an opinion that say
it. Velocities are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import numpy as np

from .groove_lean import ContextBar, GrooveBars, add_items

if TYPE_CHECKING:  # sampling imports this module for its filter chain
    from .sampling import Step

# controls.line_lean 1.0 adds this many nats to the token every matching
# context bar says comes next. On the dev set (100 pitched fills, seeds 0
# and 1, docs/fit.md) 8 took copy 0.04 to 0.24 / 0.21 and AUC 0.74 to 0.68
# / 0.76 to 0.63; 24 (without the harmony gate) copied more (0.42) but
# gave fills away more (AUC 0.71 against 0.70 at 8)
LINE_NATS = 8.0

# a pitched bar: its length in ticks and its notes, (tick from the bar's
# start, pitch, length in ticks as the tokenizer writes it)
Notes = frozenset[tuple[int, int, int]]


def line_hits(bars: Iterable[tuple[int, Notes]]) -> list[tuple[int, frozenset[tuple[int, int]]]]:
    """The bars as (length, (tick, pitch) hits), for groove_lean.repetition."""
    return [(length, frozenset((t, p) for t, p, _ in notes)) for length, notes in bars]


class LineBars(GrooveBars):
    """A pitched part's own context bars of each length, read once per
    request, each note's length kept beside its (tick, pitch) hit."""

    def __init__(self, bars: Iterable[tuple[int, Notes]]):
        super().__init__(())
        for length, notes in bars:
            if notes:
                durs: dict[tuple[int, int], int] = {}
                for t, p, d in sorted(notes):  # a doubled note: its longest
                    durs[(t, p)] = d
                self.add(length, ContextBar(frozenset(durs), durs))


def _duration(st, bars: list[ContextBar], note: tuple[int, int]) -> dict[int, int]:
    """DUR token -> how many of `bars` give the open note that length,
    clamped to what the grammar allows there."""
    tok, plan = st.tok, st.plan
    longest = min(tok.max_dur, plan.hi_tick - st.abs_tick)
    says: dict[int, int] = {}
    for bar in bars:
        d = bar.durs.get(note) if bar.durs else None
        if d is not None:
            t = tok.offset["DUR"] + max(st.min_dur, min(longest, d)) - 1
            says[t] = says.get(t, 0) + 1
    return says


def lean_items(step: Step) -> list[tuple[int, int, float]] | None:
    """What line_filter adds for one row: items (a, b, nats) for tokens
    [a, b), or None. Kept per bar state in the request's LineBars."""
    strength = cast(float, step.controls.line_lean)  # AUTO is resolved before (falsy)
    st = step.state
    plan = st.plan
    line = plan.line
    if (
        not strength
        or plan.is_drum
        or not line
        or st.phase not in ("in_bar", "after_pos", "after_vel")
        or st.forced
    ):
        return None
    start, length = st.bar_starts[st.bar_i], st.bar_lens[st.bar_i]
    hits = st.bar_hits  # the bar's notes so far, bar 0's prefix included
    memo = line.memo
    if st.phase == "after_vel":
        note = (cast(int, st.pos), cast(int, st.pitch))  # set in phase after_vel
        key: tuple = (length, hits, note, st.abs_tick, plan.hi_tick, float(strength))
        if key in memo:
            return memo[key]
        says = _duration(st, line.matching(length, hits | {note}, st.pos), note)
    else:
        last = st.last_pitch if st.phase == "in_bar" and st.pos is not None else -1
        first = max(0, plan.lo_tick - start)
        limit = min(length, plan.hi_tick - start)
        closer = st.next_bar_token() if st.phase == "in_bar" else -1
        # the pitch classes the other tracks sound at the open position (the
        # harmony lean's, where it is on): a bar's pitch outside them says nothing
        chord = (
            plan.sounding.code(st.abs_tick)
            if plan.sounding is not None and st.pos is not None
            else 0
        )
        key = (length, hits, st.pos, last, first, limit, closer, chord, float(strength))
        if key in memo:
            return memo[key]
        says = {}
        pitch = st.tok.offset["PITCH"]
        for bar in line.matching(length, hits, st.pos):
            t = bar.next_token(st.tok, st.pos, last, first, limit, closer, "PITCH")
            if t is None or t < 0:
                continue
            if chord and pitch <= t < pitch + 128 and not (chord >> ((t - pitch) % 12)) & 1:
                continue
            says[t] = says.get(t, 0) + 1
    out = None
    if says:
        scale = float(strength) * LINE_NATS / sum(says.values())
        out = [(t, t + 1, c * scale) for t, c in sorted(says.items())]
    memo[key] = out
    return out


def line_filter(logits: np.ndarray, step: Step) -> np.ndarray:
    """Lean a pitched fill towards carrying on the part's own context bars
    that agree with the bar written so far, by controls.line_lean x
    LINE_NATS. A soft rule: it forbids nothing."""
    return add_items(logits, lean_items(step))


line_filter.phases = frozenset({"in_bar", "after_pos", "after_vel"})  # type: ignore[attr-defined]
line_filter.bonus = lean_items  # type: ignore[attr-defined]
line_filter.idle = lambda step: (  # type: ignore[attr-defined]
    not step.controls.line_lean or step.state.plan.is_drum or not step.state.plan.line
)  # no lean for any row of the request (sampling.py's `idle`)
