"""Prompts: the song around a fill, cropped to fit the model.

Cropping rule (documented in the README). The room is the model's block
less the fill section's token budget and the fixed tokens; it is spent in
this order, each step on what the ones before it left:

1. The target's own part. Its fill bars (FILL_BAR), then its own context
   bars one at a time, always the one nearest the fill (the earlier one when
   both sides are equally near), up to OWN_CONTEXT_BARS on each side, while
   they fit. A part repeats itself (a drum groove, a bass line, a riff, a
   chorale voice's phrase), so its own bars say most about what the fill
   should be; they come before any other track's, whatever those weigh.
2. The other tracks' bars of the fill, one track at a time in the order of
   `usefulness` (what a track tells about this fill: see there). A track
   whose header, fill bars and UNSEEN_BAR tokens do not fit in what is left
   is left out, and the next one is tried.
3. The bars of every track kept around the fill, one bar of all of them at
   a time, nearest first as in 1, while they fit.

An other track's bar inside the target's own window (1) but outside the
common one (3) is one UNSEEN_BAR token, so every track spans the same bars.
With a tokenizer of the older format (no UNSEEN_BAR) step 1 keeps only the
fill's bars. `continue` sees nothing after the fill; `generate` sees no
notes but the target's bars written by earlier chunks.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from operator import attrgetter

from ..limits import CONTEXT_BARS as OWN_CONTEXT_BARS  # the target's own bars shown each side
from ..network.tokenizer import Tokenizer
from ..song import Bar, Note, Song, Track
from .grammar import FillPlan
from .harmony import bar_pitch_classes

TOKENS_PER_BAR_BUDGET = 80  # room for about 20 notes a bar in the fill section
FILL_OVERHEAD = 3  # FILL_START, DENSITY, FILL_END
TOKENS_PER_NOTE = 4  # POS, PITCH, VEL, DUR at most
BASS_PROGRAMS = range(32, 40)  # General MIDI's bass family
BASS_BELOW = 48  # a pitched part whose median pitch is under C3 carries the bass
HARMONIC_NOTES_PER_ONSET = 1.5  # a part sounding this many notes at once plays chords


@dataclass
class Prompt:
    tokens: list[int]
    plan: FillPlan
    window: tuple[int, int]  # bars [w0, w1) of the timeline in the prompt
    tracks: list[str]  # track ids in the prompt, in order


class LazyBars:
    """A track's tokens bar by bar, each bar encoded only when the cropping
    asks for it, so a long song costs no more than the bars that fit."""

    def __init__(self, tok: Tokenizer, track: Track, bars: list[Bar]):
        self.tok, self.track, self.bars = tok, track, bars
        self.notes = sorted(track.notes, key=attrgetter("start"))
        self.starts = [n.start for n in self.notes]
        self.done: dict[int, list[int]] = {}

    def blank(self, b: int) -> None:
        self.done[b] = [self.tok.FILL_BAR]

    def notes_in(self, b0: int, b1: int) -> list[Note]:
        """The notes starting in bars [b0, b1) (none if the span is empty)."""
        if b0 >= b1:
            return []
        half = 0.5 / self.tok.tpb  # a note this close before the bar line snaps onto it
        lo = bisect.bisect_left(self.starts, self.bars[b0].start - half)
        hi = bisect.bisect_left(self.starts, self.bars[b1 - 1].end - half)
        return self.notes[lo:hi]

    def __getitem__(self, b: int) -> list[int]:
        if b not in self.done:
            bar = self.bars[b]
            half = 0.5 / self.tok.tpb
            lo = bisect.bisect_left(self.starts, bar.start - half)
            hi = bisect.bisect_left(self.starts, bar.end)
            part = Track(self.track.id, self.track.program, self.track.is_drum, self.notes[lo:hi])
            self.done[b] = self.tok.encode_bars(part, [bar])[0]
        return self.done[b]


@dataclass
class Part:
    """What the ranking of tracks reads of one: its kind, and the notes it
    plays in the bars around the fill that the prompt may show."""

    is_drum: bool
    program: int
    pitches: list[int]  # sorted
    notes_per_onset: float

    @classmethod
    def of(cls, track: Track, notes: list[Note], tpb: int) -> Part:
        onsets = len({round(n.start * tpb) for n in notes})
        return cls(
            track.is_drum,
            int(track.program),
            sorted(int(n.pitch) for n in notes),
            len(notes) / onsets if onsets else 0.0,
        )

    @property
    def bass(self) -> bool:
        """A pitched part of General MIDI's bass family, or pitched low."""
        return not self.is_drum and (
            self.program in BASS_PROGRAMS
            or bool(self.pitches)
            and self.pitches[len(self.pitches) // 2] < BASS_BELOW
        )

    @property
    def harmonic(self) -> bool:
        return not self.is_drum and self.notes_per_onset >= HARMONIC_NOTES_PER_ONSET

    def register(self) -> tuple[int, int] | None:
        """The middle 80 % of its pitches, lowest to highest."""
        p = self.pitches
        return (p[len(p) // 10], p[len(p) - 1 - len(p) // 10]) if p and not self.is_drum else None


def usefulness(target: Part, other: Part) -> int:
    """How much another track tells about the target's fill, 0 (least) to 5;
    the cropping keeps the most useful tracks while room is short.

    A drum part locks to the other drums, then to the bass (kick and bass
    line move together): 5 and 4, any other part 2. A pitched part follows
    the bass, the root of its harmony: 5; then the parts that play chords
    (the harmony itself) and those sounding in its own register (what it
    doubles, answers or must not clash with): 4 for both, 3 for either; any
    other pitched part 2; drums 1, they say nothing of pitch. A part silent
    in the bars around the fill says least: 0."""
    if not other.pitches:
        return 0
    if target.is_drum:
        return 5 if other.is_drum else 4 if other.bass else 2
    if other.is_drum:
        return 1
    if other.bass:
        return 5
    mine, theirs = target.register(), other.register()
    near = (
        mine is not None
        and theirs is not None
        and max(mine[0], theirs[0]) <= min(mine[1], theirs[1])
    )
    return 2 + other.harmonic + near


def note_tokens(tok: Tokenizer | None, is_drum: bool) -> int:
    """Tokens one note takes in a fill: POS, PITCH, VEL and DUR; a drum hit
    has no DUR where the tokenizer writes drums without durations."""
    if is_drum and tok is not None and not tok.config.drum_durations:
        return TOKENS_PER_NOTE - 1
    return TOKENS_PER_NOTE


def fill_budget(
    n_bars: int,
    block_size: int,
    tok: Tokenizer | None = None,
    density_level: int | None = None,
    is_drum: bool = False,
) -> int:
    """Tokens reserved for the fill section. With a known density level the
    density filter caps each bar at the level's upper edge, so only that
    much is reserved (a bar line and `note_tokens` a note: 3 for a drum hit
    without a duration) and the rest of the block shows more of the song;
    without one, TOKENS_PER_BAR_BUDGET. A pitched bar's CHORD tokens come on
    top (drum fills have none)."""
    per_bar = TOKENS_PER_BAR_BUDGET
    if tok is not None and density_level is not None:
        hi = tok.density_range(density_level)[1]
        if math.isfinite(hi):
            per_bar = min(per_bar, 2 + note_tokens(tok, is_drum) * math.ceil(hi))
    if tok is not None and not is_drum:
        per_bar += tok.config.chord_tokens
    return min(block_size // 2, FILL_OVERHEAD + n_bars * per_bar)


def fill_chords(
    tok: Tokenizer, song: Song, bars: list[Bar], target: Track, mode: str
) -> list[list[int]] | None:
    """The CHORD tokens that open each fill bar: the other pitched tracks'
    harmony there. None for a drum part, in `generate` mode (which sees no
    other notes) and for a tokenizer without them."""
    if not tok.config.chord_tokens or target.is_drum or mode == "generate":
        return None
    spans = [(tok.to_tick(b.start), tok.to_tick(b.start) + tok.bar_ticks(b)) for b in bars]
    off = tok.offset["CHORD"]
    return [
        [off + pc for pc in pcs]
        for pcs in bar_pitch_classes(song, target.id, spans, tok.tpb, tok.config.chord_tokens)
    ]


def build_prompt(
    tok: Tokenizer,
    song: Song,
    bars: list[Bar],
    target_id: str,
    fill: tuple[int, int],
    blank: tuple[int, int],
    lo_tick: int,
    hi_tick: int,
    mode: str,
    block_size: int,
    density_level: int | None,
    written_from: int | None = None,
    budget: int | None = None,
    first: tuple[str, ...] = (),
) -> Prompt:
    """The prompt for filling bars [fill[0], fill[1]) of the target track.

    `blank` ([fill[0], b1) ⊇ fill) are the target's bars shown as FILL_BAR:
    these and the bars later chunks will write. Bars [written_from, fill[0])
    were written by earlier chunks: shown as written, in `generate` mode too.
    `budget` (tokens for the fill section) defaults to fill_budget's.
    `first`: tracks ranked before every other (the parts a request of
    several targets wrote before this one, engine.py), in their own order.
    """
    f0, f1 = fill
    target = song.track(target_id)
    tracks = list(song.tracks)
    if mode == "generate":
        lo = bars[written_from].start if written_from is not None else bars[f0].start
        kept = [n for n in target.notes if lo <= n.start < bars[f0].start]
        tracks = [Track(target.id, target.program, target.is_drum, kept, target.name)]
    last_bar = f1 if mode == "continue" else len(bars)
    bar_tokens = {t.id: LazyBars(tok, t, bars) for t in tracks}
    for b in range(max(blank[0], 0), min(blank[1], last_bar)):
        bar_tokens[target_id].blank(b)

    # the target's notes from the fill's first bar line to lo_tick, in the
    # track's order (a note a beat or more away is never on those ticks)
    t0, near = tok.to_tick(bars[f0].start), (bars[f0].start - 1, lo_tick / tok.tpb + 1)
    prefix = [
        n
        for n in (target.notes if mode != "generate" else [])
        if near[0] < n.start < near[1] and t0 <= tok.to_tick(n.start) < lo_tick
    ]
    if budget is None:  # the notes forced in before the target start come on top
        budget = fill_budget(f1 - f0, block_size, tok, density_level, target.is_drum) + note_tokens(
            tok, target.is_drum
        ) * len(prefix)
    fixed = 1 + 1 + (1 if density_level is not None else 0)  # BOS, FILL_START, DENSITY
    crop = _Crop(bar_tokens, fill, last_bar, block_size - budget - fixed)
    own = crop.own_window(target_id, OWN_CONTEXT_BARS if tok.UNSEEN_BAR is not None else 0)
    ranked = _ranked(tok, bar_tokens, target_id, fill, blank, last_bar)
    ranked = [i for i in first if i in ranked] + [i for i in ranked if i not in first]
    kept = set(crop.others(ranked, own))
    ids = [t.id for t in tracks if t.id == target_id or t.id in kept]
    w0, w1 = crop.window(ids, target_id, own)
    s0, s1 = min(w0, own[0]), max(w1, own[1])

    seq = [tok.BOS]
    for t in tracks:
        if t.id not in ids:
            continue
        seq += tok.header(t)
        shown = (s0, s1) if t.id == target_id else (w0, w1)
        for b in range(s0, s1):
            seq += bar_tokens[t.id][b] if shown[0] <= b < shown[1] else [tok.UNSEEN_BAR]
        seq.append(tok.TRACK_END)
    seq.append(tok.FILL_START)

    plan = FillPlan(
        bars[f0:f1],
        lo_tick,
        hi_tick,
        target.is_drum,
        prefix,
        budget,
        chords=fill_chords(tok, song, bars[f0:f1], target, mode),
    )
    return Prompt(seq, plan, (s0, s1), ids)


def _ranked(
    tok: Tokenizer,
    bar_tokens: dict[str, LazyBars],
    target_id: str,
    fill: tuple[int, int],
    blank: tuple[int, int],
    last_bar: int,
) -> list[str]:
    """The other tracks, most useful first (`usefulness`, on the bars the
    prompt may show around the fill: the target's own outside its FILL_BAR
    ones), the lighter first of equally useful ones (so more of them fit),
    then in the song's order."""
    near0, near1 = max(0, fill[0] - OWN_CONTEXT_BARS), min(last_bar, fill[1] + OWN_CONTEXT_BARS)
    mine = bar_tokens[target_id]
    target = Part.of(
        mine.track,
        mine.notes_in(near0, fill[0]) + mine.notes_in(max(blank[1], fill[1]), near1),
        tok.tpb,
    )
    scored = []
    for k, (i, lazy) in enumerate(bar_tokens.items()):
        if i != target_id:
            other = Part.of(lazy.track, lazy.notes_in(near0, near1), tok.tpb)
            weight = sum(len(lazy[b]) for b in range(*fill))
            scored.append((-usefulness(target, other), weight, k, i))
    return [i for *_, i in sorted(scored)]


class _Crop:
    """The cropping rule of the module docstring, on the bars' token counts.
    `left` starts as the room the block leaves for the tracks' sections once
    the fill's budget and the fixed tokens are taken; each step spends it."""

    def __init__(
        self, bar_tokens: dict[str, LazyBars], fill: tuple[int, int], last_bar: int, room: int
    ):
        self.bar_tokens, self.fill, self.last_bar, self.left = bar_tokens, fill, last_bar, room

    def fill_cost(self, i: str) -> int:
        """A track's section over the fill's bars: TRACK and its kind, the
        bars, TRACK_END."""
        return 3 + sum(len(self.bar_tokens[i][b]) for b in range(*self.fill))

    def own_window(self, target_id: str, limit: int) -> tuple[int, int]:
        """Step 1: the target's section over the fill, then its own bars,
        `limit` a side at most."""
        need = self.fill_cost(target_id)
        if need > self.left:
            raise ValueError("the fill's own bars do not fit in the model's block")
        self.left -= need
        return self._grow(lambda b: len(self.bar_tokens[target_id][b]), limit)

    def others(self, ranked: list[str], own: tuple[int, int]) -> list[str]:
        """Step 2: the other tracks whose fill bars fit, in `ranked` order;
        each also pays an UNSEEN_BAR for every own bar of the target."""
        unseen = (own[1] - own[0]) - (self.fill[1] - self.fill[0])
        kept = []
        for i in ranked:
            cost = self.fill_cost(i) + unseen
            if cost <= self.left:
                kept.append(i)
                self.left -= cost
        return kept

    def window(self, ids: list[str], target_id: str, own: tuple[int, int]) -> tuple[int, int]:
        """Step 3: bars [w0, w1) of every track kept. A bar inside the
        target's own window costs the other tracks' tokens less the
        UNSEEN_BAR tokens they replace, one outside it every track's."""
        others = [i for i in ids if i != target_id]

        def cost(b: int) -> int:
            if own[0] <= b < own[1]:
                return sum(len(self.bar_tokens[i][b]) - 1 for i in others)
            return sum(len(self.bar_tokens[i][b]) for i in ids)

        return self._grow(cost, self.last_bar)

    def _grow(self, cost, limit: int) -> tuple[int, int]:
        """Bars added to the fill nearest-first (the earlier one when both
        sides are equally near) while `cost(bar)` fits in what is left, at
        most `limit` bars beyond the fill on each side; the first bar that
        does not fit stops the growth."""
        f0, f1 = self.fill
        w0, w1 = self.fill
        while True:
            before = w0 - 1 if w0 > max(0, f0 - limit) else None
            after = w1 if w1 < min(self.last_bar, f1 + limit) else None
            if before is None and after is None:
                break
            pick = (
                before
                if after is None or (before is not None and f0 - before <= after - f1 + 1)
                else after
            )
            extra = cost(pick)
            if extra > self.left:
                break
            self.left -= extra
            if pick == before:
                w0 -= 1
            else:
                w1 += 1
        return w0, w1


def own_context_shown(tok: Tokenizer, prompt: Prompt, target_id: str) -> int:
    """How many of the target's own context bars (OWN_CONTEXT_BARS on each
    side of the fill) the prompt shows as notes rather than FILL_BAR."""
    f0, f1 = prompt.plan.bars[0].index, prompt.plan.bars[-1].index + 1
    section, slot, shown = prompt.tracks.index(target_id), -1, 0
    inside = False
    for t in prompt.tokens:
        if t == tok.TRACK:
            section -= 1
            inside = section == -1
        elif inside and t == tok.TRACK_END:
            break
        elif inside and (t == tok.FILL_BAR or tok.kind(t) in ("BAR", "UNSEEN")):
            slot += 1
            b = prompt.window[0] + slot
            shown += tok.kind(t) == "BAR" and (
                f0 - OWN_CONTEXT_BARS <= b < f0 or f1 <= b < f1 + OWN_CONTEXT_BARS
            )
    return shown
