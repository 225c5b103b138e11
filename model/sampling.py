"""Sampling: small pure logit filters chained in one loop, then temperature,
top-k and top-p.

Every filter has the signature `f(logits, step) -> logits` on a 1-D float32
NumPy array over the vocabulary: it returns a new array in which the tokens
it forbids are -inf (or its input, untouched, when it forbids nothing), and
never changes its input. `step` is a `Step` holding the row's grammar state
and the request controls. Filters and the draw run in NumPy, not torch: on a
1,054-token vocabulary a torch op's fixed cost (~5-10 us) is most of a
step, and they run for every row of every token.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from .grammar import FillState
from .scales import scale_pitch_classes

NEG_INF = np.float32(-np.inf)


@dataclass
class Controls:
    temperature: float = 1.0
    top_p: float = 0.95
    top_k: int = 0
    seed: int | None = None
    variations: int = 1
    pitch_range: tuple[int, int] | None = None
    key: str | None = None
    max_polyphony: int | None = None
    density: float | None = None  # notes per bar; None: the model chooses; 0: sparse allowed

    @property
    def sparse(self) -> bool:
        return self.density is not None and self.density <= 0


@dataclass
class Step:
    state: FillState
    controls: Controls


Filter = Callable[[np.ndarray, Step], np.ndarray]


def _forbid(logits: np.ndarray, *ranges: tuple[int, int]) -> np.ndarray:
    """A copy of `logits` with the token ranges [a, b) set to -inf."""
    out = logits.copy()
    for a, b in ranges:
        out[a:b] = NEG_INF
    return out


def grammar_filter(logits, step: Step):
    """Only tokens that keep the fill section decodable."""
    out = np.full_like(logits, NEG_INF)
    for a, b in step.state.allowed_ranges():
        out[a:b] = logits[a:b]
    return out


def family_filter(logits, step: Step):
    """Drum tracks write DRUM tokens, pitched tracks PITCH tokens."""
    tok = step.state.tok
    return _forbid(logits, tok.range("PITCH" if step.state.plan.is_drum else "DRUM"))


def pitch_range_filter(logits, step: Step):
    """Pitched notes inside controls.pitch_range (inclusive)."""
    rng = step.controls.pitch_range
    if rng is None or step.state.plan.is_drum:
        return logits
    a, _ = step.state.tok.range("PITCH")
    return _forbid(logits, (a, a + rng[0]), (a + rng[1] + 1, a + 128))


def scale_filter(logits, step: Step):
    """Pitched notes in the scale of controls.key ("E minor", "F# dorian")."""
    if not step.controls.key or step.state.plan.is_drum:
        return logits
    a, b = step.state.tok.range("PITCH")
    out = logits.copy()
    out[a:b][_outside_scale(step.controls.key)] = NEG_INF
    return out


@lru_cache(maxsize=64)
def _outside_scale(key: str) -> np.ndarray:
    classes = scale_pitch_classes(key)
    return np.array([p % 12 not in classes for p in range(128)])


def polyphony_filter(logits, step: Step):
    """No new note where controls.max_polyphony notes already sound."""
    limit = step.controls.max_polyphony
    st = step.state
    if not limit or st.phase != "in_bar":
        return logits
    tok = st.tok
    ends = np.array(st.active_ends() or [-1])
    out = logits.copy()
    a, b = tok.range("POS")
    ticks = st.bar_starts[st.bar_i] + np.arange(b - a)
    sounding = (ends[None, :] > ticks[:, None]).sum(1)
    out[a:b][sounding >= limit] = NEG_INF
    if st.pos is not None and int((ends > st.abs_tick).sum()) >= limit:
        a, b = tok.range("DRUM" if st.plan.is_drum else "PITCH")
        out[a:b] = NEG_INF
    return out


def no_silence_filter(logits, step: Step):
    """The seed project's failure was long silence; unless the user asked for
    sparse output: no empty density level, no closing the fill before its
    first note, and, when the density asks for more than a note a bar, no
    closing a bar that is still empty."""
    if step.controls.sparse:
        return logits
    st, tok = step.state, step.state.tok
    out = logits
    if st.phase == "density":
        d = tok.offset["DENSITY"]
        out = _forbid(logits, (d, d + 1))
    elif st.phase == "in_bar":
        closing_fill = st.bar_i == len(st.plan.bars) - 1
        busy = st.density is not None and st.density >= 2
        if (closing_fill and not st.notes) or (busy and st.notes_in_bar == 0):
            t = st.next_bar_token()
            out = _forbid(logits, (t, t + 1))
    return out


def density_filter(logits, step: Step):
    """Keep each bar's note count inside the range of the fill's DENSITY
    level (scaled by how much of the bar the target covers): no closing a bar
    below the range, no new note above it. The token conditions the model;
    this makes the control hold while the model is still learning it."""
    st = step.state
    if st.phase != "in_bar" or st.density is None or step.controls.sparse:
        return logits
    tok = st.tok
    lo, hi = tok.density_range(st.density)
    start = st.bar_starts[st.bar_i]
    covered = min(st.plan.hi_tick, start + st.bar_lens[st.bar_i]) - max(st.plan.lo_tick, start)
    share = max(0.0, covered / st.bar_lens[st.bar_i])
    if st.notes_in_bar < math.floor(lo * share):
        t = st.next_bar_token()
        return _forbid(logits, (t, t + 1))
    if math.isfinite(hi) and st.notes_in_bar >= max(1, math.ceil(hi * share)):
        return _forbid(logits, tok.range("POS"), tok.range("DRUM" if st.plan.is_drum else "PITCH"))
    return logits


FILTERS: list[Filter] = [grammar_filter, family_filter, pitch_range_filter, scale_filter,
                         polyphony_filter, no_silence_filter, density_filter]


def apply_filters(logits: np.ndarray, step: Step, filters: list[Filter] = FILTERS):
    """Chain the filters. Should the chain leave nothing, the result after
    the longest prefix of the chain that leaves something wins: the filters
    are ordered from hard (grammar, the user's pitch, key and polyphony
    limits, which never forbid closing a bar) to soft (no silence, density),
    so a soft rule gives way before a hard one ever does."""
    out = logits
    stages = []
    for f in filters:
        out = f(out, step)
        stages.append(out)
    for out in reversed(stages):
        if out.max() > NEG_INF:
            return out
    return grammar_filter(logits, step)


def sample(logits: np.ndarray, controls: Controls, rng: np.random.Generator) -> int:
    """One token from 1-D filtered logits with temperature, top-k and top-p.

    Only the allowed tokens (a few dozen of 1054) are worked on. The draw is
    the exponential race: the token with the largest p / E, E ~ Exp(1) drawn
    from `rng` for each candidate, which picks each with probability p."""
    allowed = np.flatnonzero(logits > NEG_INF)
    if len(allowed) == 1:
        return int(allowed[0])
    if controls.temperature <= 0:
        return int(np.argmax(logits))
    v = logits[allowed] / np.float32(controls.temperature)
    if controls.top_k and controls.top_k > 0:
        k = min(controls.top_k, len(allowed))
        kth = np.partition(v, len(v) - k)[len(v) - k]
        keep = v >= kth
        allowed, v = allowed[keep], v[keep]
    p = np.exp(v - v.max())
    p /= p.sum()
    if 0 < controls.top_p < 1:
        order = np.argsort(-p, kind="stable")
        sp = p[order]
        keep = np.cumsum(sp) - sp < controls.top_p  # always keeps the top one
        allowed, p = allowed[order[keep]], sp[keep]
    q = rng.standard_exponential(len(p), dtype=np.float32)
    return int(allowed[np.argmax(p / q)])
