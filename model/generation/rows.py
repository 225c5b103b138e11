"""Rows together: the filter chain and the draw for every live row of a
batch at once, instead of row by row.

With 8 candidates a fill is a batch of 8, and the chain of
model/generation/sampling.py on one row costs a dozen NumPy calls of a few
microseconds each, for every row of every token: after the compiled step
got faster it was about as long as the step itself (docs/speed.md). Here
the grammar's allowed ranges and each filter's forbidden tokens (its
`spec`, the same items its one-row form applies) are written into one
(rows, V) mask, each filter's stage is one NumPy operation over the rows it
touches, and the compiled sampler draws every row in one call.

Exact: row r of `filter_rows` equals `apply_filters(logits[r], steps[r])`,
the fallback included (a filter that would leave a row nothing is, for
that row, where the chain stops: later filters only forbid more, so the
last stage that leaves something is the one before it), and
`sample_rows` takes the same uniform draws in the same order as the
samplers one row at a time (tests/model/generation/test_rows.py).

Given a `memo` (a dict the engine keeps for one request: the controls and
the plan are then the same for every row and step), the grammar's ranges
and the filters that are `fixed` in the row's phase (sampling.forbids) are
worked out once per phase and set of ranges, not per row and step: the
filters a phase runs start with its fixed ones, so the memo holds the mask
after them and the stage where the chain ran dry, if it did; the filters
that read the row's state (no silence, polyphony, density, and the soft
leans of harmony and groove, which add nats through their `bonus`) run
per row as before. Most tokens of a fill (pitch, velocity, duration) have
only fixed filters: their rows cost a dictionary look-up.
"""

from __future__ import annotations

import numpy as np

from .sampling import FILTERS, NEG_INF, Controls, Noise, Step, apply_filters, grammar_filter, sample


def _batchable(filters) -> bool:
    return (
        bool(filters)
        and filters[0] is grammar_filter
        and all(hasattr(f, "bonus") or hasattr(f, "spec") for f in filters[1:])
    )


def _by_phase(filters) -> dict:
    """phase -> ([(stage, filter)] of the filters after the grammar that can
    act in it (`acts_in`), in chain order; how many of them, from the
    first, are `fixed` in it)."""
    phases = set().union(*(f.phases for f in filters[1:]))
    out = {}
    for ph in phases:
        acting = [(i, f) for i, f in enumerate(filters[1:]) if ph in f.phases]
        lead = 0
        while lead < len(acting) and ph in getattr(acting[lead][1], "fixed", ()):
            lead += 1
        out[ph] = (acting, lead)
    return out


_PHASES: dict = {}
_NONE: tuple = ((), 0)


def _fixed_mask(ranges, step: Step, fixed, V: int):
    """The grammar's `ranges`, then the `fixed` filters in order, for one
    row: (its allowed mask (V,), the stage where the chain ran dry or None)."""
    mask = np.zeros(V, dtype=bool)
    for a, b in ranges:
        mask[a:b] = True
    for i, f in fixed:
        items = f.spec(step)
        if not items:
            continue
        cand = mask.copy()
        for a, b, m in items:
            if m is None:
                cand[a:b] = False
            else:
                cand[a:b] &= ~m
        if not cand.any():
            return mask, i
        mask = cand
    return mask, None


def filter_rows(
    logits: np.ndarray, steps: list[Step], filters=FILTERS, memo: dict | None = None
) -> np.ndarray:
    """apply_filters on each row of `logits` (rows, V) with its `steps[r]`.
    `memo`: a dict kept for steps of one request's controls and plan (the
    module's doc), or None."""
    key = tuple(filters)
    by_phase = _PHASES.get(key)
    if by_phase is None:
        by_phase = _PHASES[key] = _by_phase(filters) if _batchable(filters) else {}
    if not by_phase:
        return np.stack([apply_filters(x, s, filters) for x, s in zip(logits, steps)])
    B, V = logits.shape
    allowed = np.zeros((B, V), dtype=bool)
    stages: dict[int, list] = {}  # stage -> [(row, items)]
    bonus = []
    dry = {}  # row -> the stage at which its chain ran dry
    for r, s in enumerate(steps):
        ph = s.state.phase
        acting, lead = by_phase.get(ph, _NONE)
        ranges = s.state.allowed_ranges()
        if memo is not None:
            hit = memo.get((ph, ranges))
            if hit is None:
                hit = memo[(ph, ranges)] = _fixed_mask(ranges, s, acting[:lead], V)
            allowed[r] = hit[0]
            if hit[1] is not None:
                dry[r] = hit[1]
                continue  # the dynamic filters come later in the chain
            acting = acting[lead:]
        else:
            for a, b in ranges:
                allowed[r, a:b] = True
        for i, f in acting:
            if hasattr(f, "bonus"):  # a soft filter: it adds, forbids nothing
                for x in f.bonus(s) or ():
                    bonus.append((i, r, x))
            else:
                items = f.spec(s)
                if items:
                    stages.setdefault(i, []).append((r, items))
    for i in sorted(stages):
        hit = [(r, items) for r, items in stages[i] if r not in dry]
        if not hit:
            continue
        rows = [r for r, _ in hit]
        cand = allowed[rows]  # a copy
        for k, (_, items) in enumerate(hit):
            for a, b, m in items:
                if m is None:
                    cand[k, a:b] = False
                else:
                    cand[k, a:b] &= ~m
        left = cand.any(axis=1)
        if left.all():
            allowed[rows] = cand
            continue
        for k, r in enumerate(rows):
            if left[k]:
                allowed[r] = cand[k]
            else:
                dry[r] = i  # this filter would leave nothing: the chain stops before it
    out = np.where(allowed, logits, NEG_INF)
    for i, r, (a, b, nats) in bonus:
        if dry.get(r, i + 1) > i:
            out[r, a:b] += nats
    return out


def sample_rows(sampler, logits: np.ndarray, controls: Controls, noise: Noise) -> list[int]:
    """A token for each row of filtered `logits`, in row order, with
    `sampler` (the compiled one draws all rows in one call)."""
    if hasattr(sampler, "rows"):
        return sampler.rows(logits, controls, noise)
    draw = sampler or sample
    return [draw(x, controls, noise) for x in logits]
