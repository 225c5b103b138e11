"""The groove lean: a soft decoding prior that leans a drum fill towards
carrying on the part's own bars.

Real drum parts repeat a bar of their context about seven times in ten; a
small network's fills differ from every context bar by a few hits even on
a groove that repeats exactly (docs/fit.md). Like the harmony lean
(sampling.harmony_filter) this forbids nothing: it adds nats to the tokens
that would carry on the context bars which agree with the bar written so
far, and the network may still go elsewhere.

For the bar being written, the matching context bars are those of its
length whose (tick, key) hits contain the bar's hits so far (all of them at
the bar's start), or, where none does, those fewest hits away. Each
matching bar says what comes next: another key at the open position (the
lowest it has above the last key written there), its next onset after the
position, or, with no hit left before the end of the bar or of the target,
closing the bar. A token gets controls.groove_lean x GROOVE_NATS times the
share of the matching bars that say it. Velocities are left alone.

The context bars are read once per request (`GrooveBars`, from the
profile's exact drum hits, follow.py); what a row's bar state asks of them
is kept with them, so rows and steps that reach the same state cost a
look-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:  # sampling imports this module for its filter chain
    from .sampling import Step

# controls.groove_lean 1.0 adds this many nats to the token every matching
# context bar says comes next. On the dev set (30 drum fills, seed 0, auto
# strength, docs/fit.md) onset F1 rose 0.47 (off), 0.51 (3), 0.58 (6), 0.65
# (10), 0.71 (16) to 0.74 at 24 and stayed there at 40, while pattern copy
# rose 0.00 to 0.41 (24) and 0.52 (40), the originals' being 0.70: 24 is
# where F1 stops rising. Strong, but the network can still overrule it where
# it is sure, and the bars that lean are only those the fill agrees with.
GROOVE_NATS = 24.0

# A bar: its length in ticks and its hits, (tick from the bar's start, key)
Hits = frozenset[tuple[int, int]]


def repetition(bars: Iterable[tuple[int, Hits]]) -> float | None:
    """The share of the part's non-empty context bars equal (length and
    hits) to another of them; None without two non-empty bars."""
    full = [b for b in bars if b[1]]
    if len(full) < 2:
        return None
    return sum(full.count(b) > 1 for b in full) / len(full)


class ContextBar:
    """One context bar: its hits, its onsets in order and its keys at each;
    for a pitched part (line_lean.py) each note's length in ticks too."""

    __slots__ = ("hits", "onsets", "keys", "durs")

    def __init__(self, hits: Hits, durs: dict[tuple[int, int], int] | None = None):
        self.hits = hits
        self.onsets = sorted({t for t, _ in hits})
        self.keys = {t: sorted(k for s, k in hits if s == t) for t in self.onsets}
        self.durs = durs

    def next_token(self, tok, pos, last_key, first, limit, closer, kind="DRUM"):
        """The token this bar says comes next, or None (no opinion: a key
        is due and it has none at the position); `kind`: DRUM or PITCH."""
        if pos is not None:
            key = next((k for k in self.keys.get(pos, ()) if k > last_key), None)
            if key is not None:
                return tok.offset[kind] + key
            if last_key < 0:  # after a POS a key must come
                return None
        lo = first if pos is None else max(first, pos + 1)
        t = next((t for t in self.onsets if t >= lo), None)
        if t is None or t >= limit:
            return closer
        return tok.offset["POS"] + t


class GrooveBars:
    """The part's own context bars of each length, read once per request."""

    def __init__(self, bars: Iterable[tuple[int, Hits]]):
        self.by_length: dict[int, list[ContextBar]] = {}
        self.memo: dict = {}  # a bar state -> lean_items' answer
        for length, hits in bars:
            if hits:
                self.add(length, ContextBar(hits))

    def add(self, length: int, bar: ContextBar) -> None:
        self.by_length.setdefault(length, []).append(bar)

    def __bool__(self) -> bool:
        return bool(self.by_length)

    def matching(self, length: int, hits: Hits, pos: int | None) -> list[ContextBar]:
        """The context bars of `length` whose hits contain `hits`; where
        none does, those fewest hits away (hits of the bar not in theirs,
        and theirs before `pos` the bar skipped)."""
        bars = self.by_length.get(length, [])
        inside = [b for b in bars if hits <= b.hits]
        if inside or not bars:
            return inside
        cut = -1 if pos is None else pos

        def away(b: ContextBar) -> int:
            return len(hits - b.hits) + sum(1 for t, k in b.hits - hits if t < cut)

        d = [away(b) for b in bars]
        best = min(d)
        return [b for b, x in zip(bars, d) if x == best]


def lean_items(step: Step) -> list[tuple[int, int, float]] | None:
    """What groove_filter adds for one row: items (a, b, nats) for tokens
    [a, b), or None. Kept per bar state in the request's GrooveBars."""
    strength = cast(float, step.controls.groove_lean)  # AUTO is resolved before (falsy)
    st = step.state
    plan = st.plan
    if (
        not strength
        or not plan.is_drum
        or not plan.groove
        or st.phase not in ("in_bar", "after_pos")
        or st.forced
    ):
        return None
    start, length = st.bar_starts[st.bar_i], st.bar_lens[st.bar_i]
    if st.phase == "after_pos":
        last = -1
    else:
        last = st.last_pitch if st.pos is not None else -1
    hits = st.bar_hits  # the bar's notes so far, bar 0's prefix included
    first = max(0, plan.lo_tick - start)
    limit = min(length, plan.hi_tick - start)
    closer = st.next_bar_token() if st.phase == "in_bar" else -1
    memo = plan.groove.memo
    key = (length, hits, st.pos, last, first, limit, closer, float(strength))
    if key in memo:
        return memo[key]
    says: dict[int, int] = {}
    opinions = 0
    for bar in plan.groove.matching(length, hits, st.pos):
        t = bar.next_token(st.tok, st.pos, last, first, limit, closer)
        if t is None or t < 0:
            continue
        opinions += 1
        says[t] = says.get(t, 0) + 1
    out = None
    if opinions:
        scale = float(strength) * GROOVE_NATS / opinions
        out = [(t, t + 1, c * scale) for t, c in sorted(says.items())]
    memo[key] = out
    return out


def groove_filter(logits: np.ndarray, step: Step) -> np.ndarray:
    """Lean a drum fill towards carrying on the part's own context bars that
    agree with the bar written so far, by controls.groove_lean x
    GROOVE_NATS. A soft rule: it forbids nothing."""
    return add_items(logits, lean_items(step))


def add_items(logits: np.ndarray, items: list[tuple[int, int, float]] | None) -> np.ndarray:
    """The logits with a lean's items (a, b, nats) added to tokens [a, b)."""
    if not items:
        return logits
    out = logits.copy()
    for a, b, nats in items:
        out[a:b] += nats
    return out


groove_filter.phases = frozenset({"in_bar", "after_pos"})  # type: ignore[attr-defined]
groove_filter.bonus = lean_items  # type: ignore[attr-defined]
groove_filter.idle = lambda step: (  # type: ignore[attr-defined]
    not step.controls.groove_lean or not step.state.plan.is_drum or not step.state.plan.groove
)  # no lean for any row of the request (sampling.py's `idle`)
