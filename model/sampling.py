"""Sampling: small pure logit filters chained in one loop, then temperature,
top-k and top-p.

Every filter has the signature `f(logits, step) -> logits`: it returns a new
tensor in which the tokens it forbids are -inf, and never changes its input.
`step` is a `Step` holding the row's grammar state and the request controls.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

from .grammar import FillState
from .scales import scale_pitch_classes

NEG_INF = float("-inf")


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


Filter = Callable[[torch.Tensor, Step], torch.Tensor]


def _forbid(logits: torch.Tensor, forbidden: torch.Tensor) -> torch.Tensor:
    return logits.masked_fill(forbidden, NEG_INF)


def grammar_filter(logits, step: Step):
    """Only tokens that keep the fill section decodable."""
    return _forbid(logits, step.state.forbidden())


def family_filter(logits, step: Step):
    """Drum tracks write DRUM tokens, pitched tracks PITCH tokens."""
    tok = step.state.tok
    return _forbid(logits, _range_mask(tok.vocab_size, *tok.range(
        "PITCH" if step.state.plan.is_drum else "DRUM")))


@lru_cache(maxsize=64)
def _range_mask(vocab_size: int, a: int, b: int) -> torch.Tensor:
    mask = torch.zeros(vocab_size, dtype=torch.bool)
    mask[a:b] = True
    return mask


def pitch_range_filter(logits, step: Step):
    """Pitched notes inside controls.pitch_range (inclusive)."""
    rng = step.controls.pitch_range
    if rng is None or step.state.plan.is_drum:
        return logits
    a, _ = step.state.tok.range("PITCH")
    out = logits.clone()
    out[a:a + rng[0]] = NEG_INF
    out[a + rng[1] + 1:a + 128] = NEG_INF
    return out


def scale_filter(logits, step: Step):
    """Pitched notes in the scale of controls.key ("E minor", "F# dorian")."""
    if not step.controls.key or step.state.plan.is_drum:
        return logits
    a, b = step.state.tok.range("PITCH")
    out = logits.clone()
    out[a:b] = out[a:b].masked_fill(_outside_scale(step.controls.key), NEG_INF)
    return out


@lru_cache(maxsize=64)
def _outside_scale(key: str) -> torch.Tensor:
    classes = scale_pitch_classes(key)
    return torch.tensor([p % 12 not in classes for p in range(128)])


def polyphony_filter(logits, step: Step):
    """No new note where controls.max_polyphony notes already sound."""
    limit = step.controls.max_polyphony
    st = step.state
    if not limit or st.phase != "in_bar":
        return logits
    tok = st.tok
    ends = torch.tensor(st.active_ends() or [-1])
    out = logits.clone()
    bar_start = st.bar_starts[st.bar_i]
    a, b = tok.range("POS")
    ticks = bar_start + torch.arange(b - a)
    sounding = (ends[None, :] > ticks[:, None]).sum(1)
    out[a:b] = out[a:b].masked_fill(sounding >= limit, NEG_INF)
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
        out = logits.clone()
        out[tok.offset["DENSITY"]] = NEG_INF
    elif st.phase == "in_bar":
        closing_fill = st.bar_i == len(st.plan.bars) - 1
        busy = st.density is not None and st.density >= 2
        if (closing_fill and not st.notes) or (busy and st.notes_in_bar == 0):
            out = logits.clone()
            out[st.next_bar_token()] = NEG_INF
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
    out = logits
    if st.notes_in_bar < math.floor(lo * share):
        out = logits.clone()
        out[st.next_bar_token()] = NEG_INF
    elif math.isfinite(hi) and st.notes_in_bar >= max(1, math.ceil(hi * share)):
        out = logits.clone()
        a, b = tok.range("POS")
        out[a:b] = NEG_INF
        a, b = tok.range("DRUM" if st.plan.is_drum else "PITCH")
        out[a:b] = NEG_INF
    return out


FILTERS: list[Filter] = [grammar_filter, family_filter, pitch_range_filter, scale_filter,
                         polyphony_filter, no_silence_filter, density_filter]


def apply_filters(logits: torch.Tensor, step: Step, filters: list[Filter] = FILTERS):
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
        if not torch.isinf(out).all():
            return out
    return grammar_filter(logits, step)


def sample(logits: torch.Tensor, controls: Controls, generator: torch.Generator) -> int:
    """One token from 1-D filtered logits with temperature, top-k and top-p.

    The arithmetic runs in NumPy on the allowed tokens only (a few dozen of
    1054), which is ~10x cheaper per step than the torch ops on the whole
    vocabulary. The draw is torch.multinomial's own for one sample,
    argmax(p / q) with q ~ Exp(1) over the whole vocabulary from `generator`,
    so a seed gives the same tokens as `torch.multinomial` would
    (tests/test_sampling.py compares the two)."""
    values = logits.detach().numpy()
    allowed = np.flatnonzero(~np.isinf(values))
    if len(allowed) == 1:
        return int(allowed[0])
    if controls.temperature <= 0:
        return int(np.argmax(values))
    v = values[allowed] / np.float32(controls.temperature)
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
    q = torch.empty(len(values), dtype=logits.dtype).exponential_(1, generator=generator)
    return int(allowed[np.argmax(p / q.numpy()[allowed])])
