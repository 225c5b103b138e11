"""Sampling: small pure logit filters chained in one loop; the draw that
follows them (temperature, top-k and top-p) is model/generation/draw.py.

Every filter has the signature `f(logits, step) -> logits` on a 1-D float32
NumPy array over the vocabulary: it returns a new array in which the tokens
it forbids are -inf (or its input, untouched, when it forbids nothing), and
never changes its input. `step` is a `Step` holding the row's grammar state
and the request controls. Filters and the draw run in NumPy, not torch: on a
vocabulary of about a thousand tokens a torch op's fixed cost is most of a
step (docs/speed.md), and they run for every row of every token.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..scales import scale_pitch_classes
from .draw import NEG_INF, Noise, sample  # noqa: F401  (the draw, model/generation/draw.py)
from .grammar import FillState
from .groove_lean import groove_filter
from .line_lean import line_filter


class _Auto:
    """The state of a control left to the engine: `AUTO` follows the target
    part's own nearby bars, and `follow.resolve` turns it into a value (or
    None, off) before any filter reads it. Its own state, not a number. It is
    falsy, so code that reads a control before it is resolved treats it as
    off, never as a value."""

    _one = None

    def __new__(cls):
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return "auto"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return "AUTO"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


AUTO = _Auto()


@dataclass
class Controls:
    """A request's controls. The follow-the-part controls (pitch_range,
    max_polyphony, kit, groove, groove_lean, line_lean, durations, feel,
    harmony) default to AUTO: the engine sets them from the part's own
    nearby bars (model/generation/follow.py); None switches one off."""

    temperature: float = 1.0
    top_p: float = 0.95
    top_k: int = 0
    seed: int | None = None
    variations: int = 1
    # fills sampled to keep the closest to the part (choose.py); AUTO:
    # CANDIDATES, DRUM_CANDIDATES for a drum part (follow.resolve)
    candidates: int | _Auto = AUTO
    pitch_range: tuple[int, int] | None | _Auto = AUTO  # AUTO: the part's own range
    key: str | None = None
    max_polyphony: int | None | _Auto = AUTO  # AUTO: the part's own most notes at once
    density: float | None = None  # notes per bar; None: the model chooses; 0: sparse allowed
    # 0-1: lean towards the pitch classes the other tracks sound; AUTO: the
    # strength that follows the part (model/generation/harmony.py)
    harmony: float | None | _Auto = AUTO
    kit: tuple[int, ...] | None | _Auto = AUTO  # drum keys allowed; None: any
    groove: bool | _Auto = AUTO  # choose drum fills by onsets per drum group
    # 0-1: lean a drum fill towards carrying on the part's own bars
    # (model/generation/groove_lean.py); AUTO: from how much the part repeats
    groove_lean: float | None | _Auto = AUTO
    # 0-1: its pitched counterpart (model/generation/line_lean.py)
    line_lean: float | None | _Auto = AUTO
    # AUTO: the part's note lengths, resolved to (lo, hi) ticks; None: off
    durations: tuple[int, int] | None | _Auto = AUTO
    feel: str | None | _Auto = AUTO  # "straight", "triplet", "swing", "loose" (follow.FEELS)

    @property
    def sparse(self) -> bool:
        return self.density is not None and self.density <= 0


@dataclass
class Step:
    state: FillState
    controls: Controls


Filter = Callable[[np.ndarray, Step], np.ndarray]


def acts_in(*phases: str):
    """Mark a filter with the grammar phases in which it may forbid a token
    the grammar allows. In any other phase, after grammar_filter, it would
    change nothing, so apply_filters skips it: half of a fill's tokens are
    velocities and durations, and the chain runs for every row of every
    token. The filter alone still works in every phase."""

    def mark(f):
        f.phases = frozenset(phases)
        return f

    return mark


def _forbid(logits: np.ndarray, *ranges: tuple[int, int]) -> np.ndarray:
    """A copy of `logits` with the token ranges [a, b) set to -inf."""
    out = logits.copy()
    for a, b in ranges:
        out[a:b] = NEG_INF
    return out


# What a filter forbids for one row: None (nothing), or items (a, b, mask):
# the tokens [a, b), or those of them where the boolean `mask` (b - a,) is
# set. The same items make the filter on one row (`forbids`) and on all
# live rows at once (model/generation/rows.py), so the two cannot differ.
Forbid = list[tuple[int, int, "np.ndarray | None"]] | None


def forbids(*phases: str, fixed: tuple[str, ...] = ()):
    """A filter from a function step -> Forbid, marked `acts_in(*phases)`;
    the function stays reachable as the filter's `spec`. `fixed`: the
    phases in which the spec reads only the request's controls, the plan,
    the tokenizer and the phase, never the rest of the row's state, so that
    its items there hold for every row and step of a request
    (model/generation/rows.py works those out once per request)."""

    def make(spec):
        def f(logits, step: Step):
            items = spec(step)
            if not items:
                return logits
            out = logits.copy()
            for a, b, m in items:
                if m is None:
                    out[a:b] = NEG_INF
                else:
                    out[a:b][m] = NEG_INF
            return out

        f.__name__, f.__qualname__, f.__doc__ = spec.__name__, spec.__qualname__, spec.__doc__
        f.spec = spec
        f.fixed = frozenset(fixed)
        return acts_in(*phases)(f)

    return make


def grammar_filter(logits, step: Step):
    """Only tokens that keep the fill section decodable."""
    out = np.empty_like(logits)
    out.fill(NEG_INF)
    for a, b in step.state.allowed_ranges():
        out[a:b] = logits[a:b]
    return out


@forbids("in_bar", "after_pos", fixed=("in_bar", "after_pos"))
def family_filter(step: Step) -> Forbid:
    """Drum tracks write DRUM tokens, pitched tracks PITCH tokens."""
    a, b = step.state.tok.range("PITCH" if step.state.plan.is_drum else "DRUM")
    return [(a, b, None)]


@forbids("in_bar", "after_pos", fixed=("in_bar", "after_pos"))
def pitch_range_filter(step: Step) -> Forbid:
    """Pitched notes inside controls.pitch_range (inclusive)."""
    rng = step.controls.pitch_range
    if not rng or step.state.plan.is_drum:  # None, or AUTO not resolved
        return None
    a, _ = step.state.tok.range("PITCH")
    return [(a, a + rng[0], None), (a + rng[1] + 1, a + 128, None)]


@forbids("in_bar", "after_pos", fixed=("in_bar", "after_pos"))
def scale_filter(step: Step) -> Forbid:
    """Pitched notes in the scale of controls.key ("E minor", "F# dorian")."""
    if not step.controls.key or step.state.plan.is_drum:
        return None
    a, b = step.state.tok.range("PITCH")
    return [(a, b, _outside_scale(step.controls.key))]


@lru_cache(maxsize=64)
def _outside_scale(key: str) -> np.ndarray:
    classes = scale_pitch_classes(key)
    return np.array([p % 12 not in classes for p in range(128)])


@forbids("in_bar", "after_pos", fixed=("in_bar", "after_pos"))
def kit_filter(step: Step) -> Forbid:
    """Drum hits on the keys of controls.kit only."""
    kit = step.controls.kit
    if not kit or not step.state.plan.is_drum:
        return None
    a, b = step.state.tok.range("DRUM")
    return [(a, b, _outside_kit(tuple(kit)))]


@lru_cache(maxsize=64)
def _outside_kit(kit: tuple[int, ...]) -> np.ndarray:
    return ~np.isin(np.arange(128), kit)


@forbids("in_bar", fixed=("in_bar",))
def feel_filter(step: Step) -> Forbid:
    """New positions only on the plan's grid: the onset ticks within a beat
    the part's feel uses (follow.py). Closing the bar stays allowed."""
    grid, st = step.state.plan.grid, step.state
    if not grid or st.phase != "in_bar":
        return None
    a, b = st.tok.range("POS")
    return [(a, b, _off_grid(tuple(grid), st.tok.tpb, b - a))]


@lru_cache(maxsize=64)
def _off_grid(grid: tuple[int, ...], tpb: int, n: int) -> np.ndarray:
    return ~np.isin(np.arange(n) % tpb, grid)


@forbids("after_vel", fixed=("after_vel",))
def durations_filter(step: Step) -> Forbid:
    """Pitched note lengths inside controls.durations (lo, hi), in ticks:
    the part's own lengths, so staccato stays staccato and pads stay long."""
    rng, st = step.controls.durations, step.state
    if not rng or st.phase != "after_vel" or st.hits:
        return None
    a, b = st.tok.range("DUR")  # DUR_d is a + d - 1
    return [(a, a + rng[0] - 1, None), (a + rng[1], b, None)]


@forbids("in_bar")
def polyphony_filter(step: Step) -> Forbid:
    """No new note where controls.max_polyphony notes already sound. With k
    the limit, k notes sound at a tick exactly when the k-th latest end is
    after it: the positions before that end are one range."""
    limit = step.controls.max_polyphony
    st = step.state
    if not limit or st.phase != "in_bar":
        return None
    ends = st.active_ends()
    if len(ends) < limit:
        return None
    kth = ends[-limit]  # they are kept in rising order
    a, b = st.tok.range("POS")
    out = [(a, a + min(b - a, max(0, kth - st.bar_starts[st.bar_i])), None)]
    if st.pos is not None and kth > st.abs_tick:
        a, b = st.tok.range(st.note_kind)
        out.append((a, b, None))
    return out


# `idle(step)`: True where a filter that reads the row's state forbids or
# adds nothing for any row of the request, from its controls and plan alone
# (model/generation/rows.py then skips it for the request)
polyphony_filter.idle = lambda step: not step.controls.max_polyphony


@forbids("density", "in_bar", fixed=("density",))
def no_silence_filter(step: Step) -> Forbid:
    """Against long silence, into which a small model left alone drifts.
    Unless the user asked for sparse output: no empty density level, no
    closing the fill before its first note, and, when the density asks for
    more than a note a bar, no closing a bar that is still empty."""
    if step.controls.sparse:
        return None
    st, tok = step.state, step.state.tok
    if st.phase == "density":
        d = tok.offset["DENSITY"]
        return [(d, d + 1, None)]
    if st.phase == "in_bar":
        # the last bar that can hold a note of the target range
        closing_fill = (
            st.bar_i == len(st.plan.bars) - 1 or st.bar_starts[st.bar_i + 1] >= st.plan.hi_tick
        )
        busy = st.density is not None and st.density >= 2
        if (closing_fill and not st.notes) or (busy and st.notes_in_bar == 0):
            t = st.next_bar_token()
            return [(t, t + 1, None)]
    return None


@forbids("in_bar")
def density_filter(step: Step) -> Forbid:
    """Keep each bar's note count inside the range of the fill's DENSITY
    level (scaled by how much of the bar the target covers): no closing a bar
    below the range, no new note above it. The token conditions the model;
    this makes the control hold while the model is still learning it."""
    st = step.state
    if st.phase != "in_bar" or st.density is None or step.controls.sparse:
        return None
    tok = st.tok
    lo, hi = tok.density_range(st.density)
    start = st.bar_starts[st.bar_i]
    covered = min(st.plan.hi_tick, start + st.bar_lens[st.bar_i]) - max(st.plan.lo_tick, start)
    share = max(0.0, covered / st.bar_lens[st.bar_i])
    if st.notes_in_bar < math.floor(lo * share):
        t = st.next_bar_token()
        return [(t, t + 1, None)]
    if math.isfinite(hi) and st.notes_in_bar >= max(1, math.ceil(hi * share)):
        return [(*tok.range("POS"), None), (*tok.range(st.note_kind), None)]
    return None


@forbids("after_pitch", fixed=("after_pitch",))
def velocity_filter(step: Step) -> Forbid:
    """Velocities inside the plan's range: the part's own nearby dynamics."""
    rng = step.state.plan.velocities
    if rng is None or step.state.phase != "after_pitch":
        return None
    a, b = step.state.tok.range("VEL")
    return [(a, a + rng[0], None), (a + rng[1] + 1, b, None)]


# controls.harmony 1.0 adds this many nats to the pitches whose class the
# other tracks sound: at 4 a sounding pitch class is e^4 (55x) likelier
# than before, enough to outvote a model that does not hear the chord,
# while a strong preference of the model for a passing note still wins.
HARMONY_NATS = 4.0
# controls.harmony when a request leaves it out and the part has too few
# nearby notes to follow (model/generation/harmony.py: follow_strength), in `generate`
# mode, and the demo slider's resting place: on the valid split's fit table,
# 0.3 brought fills up to the originals' harmonic fit on average
HARMONY_DEFAULT = 0.3


def harmony_bonus(step: Step) -> tuple[int, int, np.ndarray] | None:
    """What harmony_filter adds for one row: (a, b, nats for tokens [a, b)),
    or None."""
    strength = step.controls.harmony
    st = step.state
    if not strength or st.plan.is_drum or st.plan.sounding is None or st.pos is None:
        return None
    classes = st.plan.sounding.code(st.abs_tick)  # Sounding.at's classes as bits
    if not classes:
        return None
    a, b = st.tok.range("PITCH")
    return a, b, _harmony_bonus(classes, float(strength))


@acts_in("in_bar", "after_pos")
def harmony_filter(logits, step: Step):
    """Lean pitched notes towards the pitch classes the other pitched tracks
    sound at the note's onset (the plan's `sounding`), by controls.harmony x
    HARMONY_NATS. A soft rule: it forbids nothing."""
    bonus = harmony_bonus(step)
    if bonus is None:
        return logits
    a, b, nats = bonus
    out = logits.copy()
    out[a:b] += nats
    return out


def _harmony_items(step: Step) -> list | None:
    bonus = harmony_bonus(step)
    return None if bonus is None else [bonus]


# what a soft filter adds, as items (a, b, nats); rows.py adds them for all rows
harmony_filter.bonus = _harmony_items
harmony_filter.idle = lambda step: (
    not step.controls.harmony or step.state.plan.is_drum or step.state.plan.sounding is None
)


@lru_cache(maxsize=4096)
def _harmony_bonus(classes: int, strength: float) -> np.ndarray:
    on = np.array([(classes >> (p % 12)) & 1 for p in range(128)], dtype=np.float32)
    return on * np.float32(strength * HARMONY_NATS)


FILTERS: list[Filter] = [
    grammar_filter,
    family_filter,
    pitch_range_filter,
    scale_filter,
    kit_filter,
    feel_filter,
    durations_filter,
    velocity_filter,
    no_silence_filter,
    polyphony_filter,
    density_filter,
    harmony_filter,
    groove_filter,
    line_filter,
]


def apply_filters(logits: np.ndarray, step: Step, filters: list[Filter] = FILTERS):
    """Chain the filters. Should the chain leave nothing, the result after
    the longest prefix of the chain that leaves something wins: the filters
    are ordered from hard (grammar, the user's pitch, key, kit and feel
    limits, which never forbid closing a bar, then durations and velocities)
    to soft (no silence, polyphony, density), so a soft rule gives way before
    a hard one ever does. Polyphony gives way to no silence alone: where a
    note held from before the target sounds over all of it, a solo line's
    fill gets a note over it rather than none (issue 32: no empty fills).

    A filter marked with `acts_in` is skipped, once grammar_filter has run,
    in the phases where it could not change the result."""
    out = logits
    stages = []
    phase = step.state.phase
    graded = False  # grammar_filter has run
    for f in filters:
        if graded and phase not in getattr(f, "phases", (phase,)):
            continue
        out = f(out, step)
        stages.append(out)
        graded = graded or f is grammar_filter
    if len(stages) == 1 and graded:
        return out  # the grammar's alone: the fallback below gives the same
    for out in reversed(stages):
        if out.max() > NEG_INF:
            return out
    return grammar_filter(logits, step)
