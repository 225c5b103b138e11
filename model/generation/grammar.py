"""The grammar of a fill section, as a state machine that says which tokens
may come next, so that every sampled sequence decodes.

A fill section is: FILL_START DENSITY (BAR CHORD* events*)+ FILL_END, with exactly
the bars of the plan, positions rising within a bar, pitches rising within a
position, every note complete (pitch, velocity, duration) and every note
inside the target range [lo_tick, hi_tick). A pitched note lasts at least
MIN_PITCHED_BEATS (a 32nd): a shorter one sounds as a click, not a note
(what that cost in the fit table: docs/fit.md), unless the plan's
`min_dur` allows less: the part's own notes are shorter (real songs have
notes below a 32nd, 9 % of them in the songs of issue 32; the corpus the
floor was chosen on had none). The CHORD tokens are the plan's,
forced after each BAR.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from dataclasses import dataclass, field

from ..limits import MIN_PITCHED_BEATS  # a 32nd note
from ..network.tokenizer import Tokenizer
from ..song import Bar, Note
from .groove_lean import GrooveBars
from .harmony import Sounding
from .line_lean import LineBars


@dataclass
class FillPlan:
    """What one fill section must cover (identical for every row of a batch)."""

    bars: list[Bar]
    lo_tick: int  # absolute ticks, target range [lo, hi)
    hi_tick: int
    is_drum: bool
    prefix: list[Note] = field(default_factory=list)  # forced notes before lo in bar 0
    max_tokens: int = 512  # the fill section may not grow past this
    sounding: Sounding | None = None  # the other tracks' harmony, for controls.harmony
    velocities: tuple[int, int] | None = None  # velocity bins allowed (the part's own)
    chords: list[list[int]] | None = None  # CHORD token ids opening each bar
    # onset ticks within a beat (from the bar's start) a note may take: the
    # part's feel (follow.py, sampling.feel_filter); None: any
    grid: tuple[int, ...] | None = None
    min_dur: int | None = None  # shortest pitched note in ticks; None: MIN_PITCHED_BEATS
    groove: GrooveBars | None = None  # the part's own context bars, for controls.groove_lean
    line: LineBars | None = None  # a pitched part's, for controls.line_lean (line_lean.py)


class FillState:
    """Where one row stands in its fill section."""

    def __init__(self, tok: Tokenizer, plan: FillPlan, density: int | None):
        self.tok, self.plan = tok, plan
        self.bar_starts = [tok.to_tick(b.start) for b in plan.bars]
        self.bar_lens = [tok.bar_ticks(b) for b in plan.bars]
        # what closes bar i: the next bar's BAR token, FILL_END after the last
        self.bar_closers = [tok.bar_token(b) for b in plan.bars[1:]] + [tok.FILL_END]
        self.chords = plan.chords or [[] for _ in plan.bars]
        # tokens that close the fill after bar i: later BARs, their CHORDs, FILL_END
        self.closing = [
            len(self.chords) - i + sum(len(c) for c in self.chords[i + 1 :])
            for i in range(len(self.chords))
        ]
        self.note_kind = "DRUM" if plan.is_drum else "PITCH"
        # a drum hit ends at its velocity (no DUR token), as long as the range allows
        self.hits = plan.is_drum and not tok.config.drum_durations
        self.phase = "density"
        self.bar_i = -1
        self.pos: int | None = None  # tick within the bar of the open position
        self.last_pitch = -1
        self.pitch = self.vel = None
        self.notes: list[tuple[int, int, int, int]] = []  # (abs tick, pitch, dur, vel bin)
        self.notes_in_bar = 0
        self.prefix_notes: list[tuple[int, int, int, int]] = []
        # the open bar's hits so far, (tick from the bar's start, key), for
        # the groove and line leans (groove_lean.py, line_lean.py), kept as
        # notes close: they read them for every row and step
        self.bar_hits: frozenset[tuple[int, int]] = frozenset()
        self.keep_hits = plan.groove is not None or plan.line is not None
        self.ends: list[int] = []  # active_ends
        self.density: int | None = None
        self.tokens: list[int] = []
        self.forced: deque[int] = deque()
        if density is not None:
            self.forced.append(tok.offset["DENSITY"] + density)
        # the shortest note the fill may write, and so the latest tick it may start one
        self.min_dur = 1 if plan.is_drum else max(1, plan.min_dur or tok.to_tick(MIN_PITCHED_BEATS))

    # --- queries ------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.phase == "done"

    @property
    def abs_tick(self) -> int:
        return self.bar_starts[self.bar_i] + (self.pos or 0)

    def tokens_left(self) -> int:
        return self.plan.max_tokens - len(self.tokens)

    def closing_cost(self) -> int:
        """Tokens still needed to close: the remaining BARs, their CHORD
        tokens and FILL_END."""
        return self.closing[self.bar_i]

    def next_bar_token(self) -> int:
        """The token that closes the open bar (in phase in_bar)."""
        return self.bar_closers[self.bar_i]

    def active_ends(self) -> list[int]:
        """The end ticks of the notes written so far (the prefix's too), in
        rising order. Kept sorted as they close: the polyphony filter reads
        the k-th latest for every row and step."""
        return self.ends

    def allowed_ranges(self) -> tuple[tuple[int, int], ...]:
        """The allowed token ids as half-open ranges. Plain ints, so the
        mask for a state seen before is a cache hit."""
        tok = self.tok
        if self.forced:
            return ((self.forced[0], self.forced[0] + 1),)
        ph = self.phase
        out = []
        if ph == "density":
            out.append(tok.range("DENSITY"))
        elif ph == "in_bar":
            t = self.next_bar_token()
            out.append((t, t + 1))
            budget = self.tokens_left() - self.closing_cost()
            start = self.bar_starts[self.bar_i]
            first = max(self.plan.lo_tick - start, 0 if self.pos is None else self.pos + 1)
            # exclusive; a note opened at `last - 1` still has min_dur ticks of room
            last = min(self.plan.hi_tick - start - (self.min_dur - 1), self.bar_lens[self.bar_i])
            if budget >= 4 and first < last:
                off = tok.offset["POS"]
                out.append((off + first, off + last))
            if self.pos is not None and budget >= 3 and self.plan.lo_tick <= self.abs_tick:
                off = tok.offset[self.note_kind]
                out.append((off + self.last_pitch + 1, off + 128))
        elif ph == "after_pos":
            out.append(tok.range(self.note_kind))
        elif ph == "after_pitch":
            out.append(tok.range("VEL"))
        elif ph == "after_vel":
            # at least min_dur: in_bar opened no position with less room left
            longest = min(tok.max_dur, self.plan.hi_tick - self.abs_tick)
            off = tok.offset["DUR"]
            out.append((off + self.min_dur - 1, off + longest))
        return tuple(out)

    # --- transitions ------------------------------------------------------------
    def _open_bar(self):
        self.bar_i += 1
        self.pos, self.last_pitch, self.notes_in_bar = None, -1, 0
        self.bar_hits = frozenset()
        self.phase = "in_bar"
        self.forced.extendleft(reversed(self.chords[self.bar_i]))  # before bar 0's prefix

    def advance(self, token: int) -> None:
        tok = self.tok
        forced = bool(self.forced)
        if forced:
            if token != self.forced[0]:
                raise ValueError("a forced token was not followed")
            self.forced.popleft()
        self.tokens.append(token)
        kind = tok.kind(token)
        if self.phase == "density" and kind == "DENSITY":
            self.density = tok.value(token)
            self.forced.append(tok.bar_token(self.plan.bars[0]))
            self.forced.extend(self._prefix_tokens())
            self.phase = "bar_pending"
        elif kind == "BAR":
            self._open_bar()
        elif kind == "CHORD" and forced:
            pass
        elif token == tok.FILL_END:
            self.phase = "done"
        elif kind == "POS":
            self.pos, self.last_pitch = tok.value(token), -1
            self.phase = "after_pos"
        elif kind in ("PITCH", "DRUM"):
            self.pitch = tok.value(token)
            self.last_pitch = self.pitch
            self.phase = "after_pitch"
        elif kind == "VEL":
            self.vel = tok.value(token)
            self.phase = "after_vel"
            if self.hits:
                self._close_note(min(tok.drum_ticks, self.plan.hi_tick - self.abs_tick))
        elif kind == "DUR":
            self._close_note(tok.value(token))
        else:
            raise ValueError(f"{tok.names[token]} is not allowed in phase {self.phase}")

    def _close_note(self, duration: int) -> None:
        note = (self.abs_tick, self.pitch, duration, self.vel)
        (self.prefix_notes if note[0] < self.plan.lo_tick else self.notes).append(note)
        insort(self.ends, note[0] + duration)
        if self.keep_hits:
            self.bar_hits = self.bar_hits | {(note[0] - self.bar_starts[self.bar_i], note[1])}
        if note[0] >= self.plan.lo_tick:
            self.notes_in_bar += 1
        self.phase = "in_bar"

    def _prefix_tokens(self) -> list[int]:
        """Tokens of the existing notes in bar 0 before the target start."""
        if not self.plan.prefix:
            return []
        from ..song import Track

        bar = self.plan.bars[0]
        track = Track("prefix", 0, self.plan.is_drum, list(self.plan.prefix))
        return self.tok.encode_bars(track, [bar])[0][1:]  # without the BAR token
