"""Rows together: the filter chain and the draw for every live row of a
batch at once, instead of row by row.

With 8 candidates a fill is a batch of 8, and the chain of
model/generation/sampling.py on one row costs a dozen NumPy calls of a few
microseconds each, for every row of every token: after the compiled step
got faster it was about as long as the step itself (docs/speed.md). Here
the grammar's allowed ranges and each filter's forbidden tokens (its
`spec`, the same items its one-row form applies) and added nats (its
`bonus`) make one vector per row, and the compiled sampler draws every row
in one call.

Exact: row r of `filter_rows` equals `apply_filters(logits[r], steps[r])`,
the fallback included (a filter that would leave a row nothing is, for
that row, where the chain stops: later filters only forbid more, so the
last stage that leaves something is the one before it), and
`sample_rows` takes the same uniform draws in the same order as the
samplers one row at a time (tests/model/generation/test_rows.py).

Given a `memo` (a dict the engine keeps for one request: the controls and
the plan are then the same for every row and step), the filters that are
`fixed` in a phase (sampling.forbids) are asked once per phase, and the
grammar's ranges with them worked out once per set of ranges, not per row
and step: the filters a phase runs start with its fixed ones, so the memo
holds the vector after them and the stage where the chain ran dry, if it
did. The filters that read the row's state (no silence, polyphony,
density, and the soft leans of harmony, groove and line, which add nats
through their `bonus`) are asked per row what they forbid or add, except where
they are `idle` for the request (sampling.py); the row's whole filter is then one
float32 vector over the vocabulary, kept in the memo under those answers:
0 where the chain allows a token, -inf where it forbids one, the nats
where a lean adds them. A row's filtered logits are its logits plus its
vector (x + 0 is x, x + -inf is -inf, and x + nats is the one addition the
chain makes, so nothing changes by a bit; a row two leans add to gets the
second's as a vector of its own, added after), and the compiled sampler adds
and draws every row in one call (`draw_rows`, sample_step.c:
sample_rows_add), without a (rows, V) array being made in Python. Rows
that reach a state seen before (most rows of a fill: pitch, velocity and
duration tokens, and drum bars that repeat) cost a dictionary look-up.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from .sampling import FILTERS, NEG_INF, Controls, Noise, Step, apply_filters, grammar_filter, sample


def _batchable(filters) -> bool:
    return (
        bool(filters)
        and filters[0] is grammar_filter
        and all(hasattr(f, "bonus") or hasattr(f, "spec") for f in filters[1:])
    )


def _by_phase(filters) -> dict:
    """phase -> ([(stage, filter, is_soft)] of the filters after the grammar
    that can act in it (`acts_in`), in chain order; how many of them, from
    the first, are `fixed` in it)."""
    phases = set().union(*(f.phases for f in filters[1:]))
    out = {}
    for ph in phases:
        acting = [(i, f, hasattr(f, "bonus")) for i, f in enumerate(filters[1:]) if ph in f.phases]
        lead = 0
        while lead < len(acting) and ph in getattr(acting[lead][1], "fixed", ()):
            lead += 1
        out[ph] = (acting, lead)
    return out


_PHASES: dict = {}
_NONE: tuple = ((), 0)


def _forbid(mask: np.ndarray, items) -> np.ndarray:
    """A copy of `mask` with a filter's items (sampling.Forbid) taken out."""
    cand = mask.copy()
    for a, b, m in items:
        if m is None:
            cand[a:b] = False
        else:
            cand[a:b] &= ~m
    return cand


def _vector(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """0 where `mask` allows, -inf elsewhere; with its address, for the
    compiled sampler."""
    vec = np.where(mask, np.float32(0), NEG_INF)
    return vec, vec.ctypes.data


def _phase(step: Step, acting, lead: int, V: int) -> tuple:
    """What a phase's filters are for this request, worked out on its first
    row: the allowed mask after each fixed filter that forbids something,
    cumulated, [(stage, mask)] (their items hold for every row of the
    phase); the last of them as a vector, and how many tokens it allows
    below each id (a list: a row's count is then two look-ups a range); the
    filters after them that are not idle."""
    stages, cum = [], np.ones(V, dtype=bool)
    for i, f, _ in acting[:lead]:
        items = f.spec(step)
        if items:
            cum = _forbid(cum, items)
            stages.append((i, cum))
    below = np.concatenate([[0], np.cumsum(cum)]).tolist()
    dynamic = [x for x in acting[lead:] if not _idle(x[1], step)]
    return stages, _vector(cum)[0], below, dynamic


def _fixed(ranges, phase: tuple, V: int):
    """The grammar's `ranges`, then the fixed filters' stages in order, for
    one row: (its vector and the vector's address, the stage where the
    chain ran dry or None). The stages only forbid more, so where the last
    leaves something, every one does: the vector is then the last stage's
    over the ranges."""
    stages, last, below = phase[0], phase[1], phase[2]
    if sum(below[b] - below[a] for a, b in ranges):
        vec = np.full(V, NEG_INF)
        for a, b in ranges:
            vec[a:b] = last[a:b]
        return vec, vec.ctypes.data, None
    mask = np.zeros(V, dtype=bool)
    for a, b in ranges:
        mask[a:b] = True
    for i, cum in stages:
        cand = mask & cum
        if not cand.any():
            return (*_vector(mask), i)
        mask = cand
    return (*_vector(mask), None)  # the ranges allow nothing at all


def _key(items) -> tuple:
    """A filter's answer for one row as a dictionary key: a mask or an
    array of nats by identity (the memo keeps the answer, so the array
    lives as long as the key), everything else by value."""
    for _, _, m in items:
        if m is not None and type(m) is not float:
            return tuple((a, b, x if x is None or type(x) is float else id(x)) for a, b, x in items)
    return tuple(items)


def _idle(f, step: Step) -> bool:
    """Whether a filter that reads the row's state says nothing for any row
    of this request (its `idle`, from the controls and plan alone)."""
    idle = getattr(f, "idle", None)
    return idle is not None and idle(step)


def row_vector(step: Step, by_phase: dict, memo: dict, V: int) -> tuple:
    """The row's filter as one float32 vector (the module's doc) and its
    address; where two soft leans add to the row (the harmony and line
    leans on a pitched note), a fourth item, the later leans' vectors, each
    to be added after it: their sum would round apart from adding them one
    after the other, as the chain does."""
    st = step.state
    ph = st.phase
    ranges = st.allowed_ranges()
    phase = memo.get(ph)
    if phase is None:
        acting, lead = by_phase.get(ph, _NONE)
        phase = memo[ph] = _phase(step, acting, lead, V)
    dynamic = phase[3]
    hit = memo.get((ph, ranges))
    if hit is None:
        hit = memo[(ph, ranges)] = _fixed(ranges, phase, V)
    if hit[2] is not None or not dynamic:
        return hit  # dry in a fixed filter: the dynamic ones come later in the chain
    said, parts = [], [ph, ranges]
    for i, f, soft in dynamic:
        items = f.bonus(step) if soft else f.spec(step)
        if items:
            said.append((i, soft, items))
            parts += (i, _key(items))
    if not said:
        return hit
    key = tuple(parts)
    got = memo.get(key)
    if got is None:
        got = memo[key] = (_dynamic(hit[0], said), said)
    return got[0]


def _dynamic(vec: np.ndarray, said) -> tuple:
    """The vector after the row's own filters' answers, in chain order,
    from the fixed filters' `vec`: a filter that would leave nothing is
    where the chain stops (later filters only forbid more, so the last
    stage that leaves something is the one before it), and a lean after
    that point adds nothing. A second lean's nats come as a vector of
    their own (row_vector)."""
    bonus, own = [], False  # own: vec is a copy made here, not the fixed filters'
    for _, soft, items in said:
        if soft:
            bonus.append(items)
            continue
        cand = vec.copy()
        for a, b, m in items:
            if m is None:
                cand[a:b] = NEG_INF
            else:
                cand[a:b][m] = NEG_INF
        if not cand.max() > NEG_INF:
            break
        vec, own = cand, True
    if bonus:
        vec = vec if own else vec.copy()
        for a, b, nats in bonus[0]:
            vec[a:b] += nats
    later = []
    for items in bonus[1:]:
        extra = np.zeros_like(vec)
        for a, b, nats in items:
            extra[a:b] += nats
        later.append(extra)
    return (vec, vec.ctypes.data, None, tuple(later)) if later else (vec, vec.ctypes.data)


def _vectors(steps: list[Step], filters, memo: dict | None, V: int) -> list | None:
    """row_vector for each step, or None where the filters cannot be
    batched (a filter without `spec` or `bonus`)."""
    key = tuple(filters)
    by_phase = _PHASES.get(key)
    if by_phase is None:
        by_phase = _PHASES[key] = _by_phase(filters) if _batchable(filters) else {}
    if not by_phase:
        return None
    memo = {} if memo is None else memo
    return [row_vector(s, by_phase, memo, V) for s in steps]


def filter_rows(
    logits: np.ndarray, steps: list[Step], filters=FILTERS, memo: dict | None = None
) -> np.ndarray:
    """apply_filters on each row of `logits` (rows, V) with its `steps[r]`.
    `memo`: a dict kept for steps of one request's controls and plan (the
    module's doc), or None."""
    vecs = _vectors(steps, filters, memo, logits.shape[1])
    if vecs is None:
        return np.stack([apply_filters(x, s, filters) for x, s in zip(logits, steps)])
    out = np.empty_like(logits)
    for r, (x, v) in enumerate(zip(logits, vecs)):
        out[r] = x + v[0]
        for extra in _later(v):
            out[r] += extra
    return out


def _later(v: tuple) -> tuple:
    """A row vector's later leans (row_vector's fourth item), or ()."""
    return v[3] if len(v) > 3 else ()


def sample_rows(sampler, logits: np.ndarray, controls: Controls, noise: Noise) -> list[int]:
    """A token for each row of filtered `logits`, in row order, with
    `sampler` (the compiled one draws all rows in one call)."""
    if hasattr(sampler, "rows"):
        return sampler.rows(logits, controls, noise)
    draw = sampler or sample
    return [draw(x, controls, noise) for x in logits]


def draw_rows(
    sampler,
    logits: np.ndarray,
    lines: list[int],
    steps: list[Step],
    controls: Controls,
    noise: Noise,
    memo: dict | None = None,
    filters=FILTERS,
) -> list[int]:
    """A token for each step: steps[r]'s row is logits[lines[r]]. The same
    tokens and draws as `sample_rows(sampler, filter_rows(logits[lines],
    steps))`; with the compiled sampler, the rows' vectors are added and
    drawn in C (`RowSampler`) and no filtered array is made."""
    rs = RowSampler.build() if hasattr(sampler, "rows") else None
    V = logits.shape[1]
    vecs = None if rs is None else _vectors(steps, filters, memo, V)
    if rs is None or vecs is None:
        together = filter_rows(logits[lines], steps, filters, memo)
        return sample_rows(sampler, together, controls, noise)
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    base, keep = logits.ctypes.data, []
    xs, adds = [], []
    for r, line in enumerate(lines):
        v = vecs[r]
        later = _later(v)
        if later:  # two leans: the first added here, the last in C
            x = logits[line] + v[0]
            for extra in later[:-1]:
                x += extra
            keep.append(x)
            xs.append(x.ctypes.data)
            adds.append(later[-1].ctypes.data)
        else:
            xs.append(base + 4 * V * line)
            adds.append(v[1])
    return rs.draw(xs + adds, V, controls, noise)


class _Buffers:
    """One thread's pointer, output, work and count buffers for RowSampler,
    for up to `rows` rows of V tokens, with their addresses looked up once."""

    def __init__(self, rows: int, V: int):
        self.rows, self.V = rows, V
        self.ptrs = np.zeros(2 * rows, dtype=np.uintp)
        self.out = np.zeros(rows, dtype=np.int32)
        self.work = np.empty(2 * V, dtype=np.int32)  # (value, id) pairs
        self.used = ctypes.c_int(0)
        self.at = (self.ptrs.ctypes.data, self.out.ctypes.data, self.work.ctypes.data)
        self.used_at = ctypes.addressof(self.used)


class RowSampler:
    """sample_step.c's sample_rows_add through ctypes: one call draws every
    row from its logits plus its vector. One per process, its buffers per
    thread (the bridge's worker and the demo may share an engine)."""

    _one: RowSampler | None = None
    _tried = False

    @classmethod
    def build(cls) -> RowSampler | None:
        if not cls._tried:
            cls._tried = True
            from .c_build import load_library  # the compiled kernels, built on first use

            lib = load_library()
            cls._one = None if lib is None else cls(lib)
        return cls._one

    def __init__(self, lib):
        f = lib.sample_rows_add
        I, F, P = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
        f.argtypes = [P, P, I, I, F, I, F, P, P, P, P]
        f.restype = I
        self.f = f
        self._zeros: dict[int, tuple] = {}
        self._local = threading.local()

    def zeros(self, V: int) -> tuple[np.ndarray, int]:
        """A vector that adds nothing, and its address."""
        z = self._zeros.get(V)
        if z is None:
            z = self._zeros[V] = _vector(np.ones(V, dtype=bool))
        return z

    def draw(self, ptrs: list[int], V: int, controls: Controls, noise: Noise) -> list[int]:
        """`ptrs`: the addresses of B rows of logits (float32, V), then of
        their B vectors."""
        B = len(ptrs) // 2
        buf = getattr(self._local, "buffers", None)
        if buf is None or buf.rows < B or buf.V != V:
            buf = self._local.buffers = _Buffers(max(B, 8), V)
        buf.ptrs[: 2 * B] = ptrs
        at, out, work = buf.at
        bad = self.f(
            at,
            at + buf.ptrs.itemsize * B,
            B,
            V,
            controls.temperature,
            controls.top_k or 0,
            controls.top_p,
            noise.address(B * V),
            buf.used_at,
            work,
            out,
        )
        noise.take(buf.used.value)
        if bad >= 0:
            raise ValueError("no token is allowed")
        return buf.out[:B].tolist()
