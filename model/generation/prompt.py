"""Prompts: the song around a fill, cropped to fit the model.

Cropping rule (documented in the README): the prompt keeps the fill's own
bars of every track, then adds bars one at a time, always the one nearest
the fill (the earlier one when both sides are equally near), while the prompt
plus the fill's token budget fit in the model's block. If even the fill's
own bars do not fit, other tracks are left out, the one with most tokens
first. `continue` sees nothing after the fill; `generate` sees no notes.

With a tokenizer that has the UNSEEN_BAR token, the target track's own
context comes first: its bars are added the same way, up to OWN_CONTEXT_BARS
on each side, with up to OWN_SHARE of the room, each charged as if the other
tracks were unseen there; then every track's bars as above with the rest.
A part repeats itself (a bass line, a riff, a chorale voice's phrase), so its
own bars say most about what the fill should be; the other tracks' bars
outside their window are one UNSEEN_BAR token each.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from .grammar import FillPlan
from .harmony import bar_pitch_classes
from ..song import Bar, Song, Track
from ..network.tokenizer import Tokenizer

TOKENS_PER_BAR_BUDGET = 80  # room for about 20 notes a bar in the fill section
FILL_OVERHEAD = 3  # FILL_START, DENSITY, FILL_END
TOKENS_PER_NOTE = 4  # POS, PITCH, VEL, DUR at most
OWN_CONTEXT_BARS = 8  # the target's own bars a prompt may show on each side
OWN_SHARE = 0.5  # of the room left once the fill's bars are in


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
        self.notes = sorted(track.notes, key=lambda n: n.start)
        self.starts = [n.start for n in self.notes]
        self.done: dict[int, list[int]] = {}

    def blank(self, b: int) -> None:
        self.done[b] = [self.tok.FILL_BAR]

    def __getitem__(self, b: int) -> list[int]:
        if b not in self.done:
            bar = self.bars[b]
            half = 0.5 / self.tok.tpb  # a note this close before the bar line snaps onto it
            lo = bisect.bisect_left(self.starts, bar.start - half)
            hi = bisect.bisect_left(self.starts, bar.end)
            part = Track(self.track.id, self.track.program, self.track.is_drum,
                         self.notes[lo:hi])
            self.done[b] = self.tok.encode_bars(part, [bar])[0]
        return self.done[b]


def fill_budget(n_bars: int, block_size: int, tok: Tokenizer | None = None,
                density_level: int | None = None) -> int:
    """Tokens reserved for the fill section. With a known density level the
    density filter caps each bar at the level's upper edge, so only that
    much is reserved (a bar line and TOKENS_PER_NOTE a note) and the rest of
    the block shows more of the song; without one, TOKENS_PER_BAR_BUDGET.
    A bar's CHORD tokens come on top."""
    per_bar = TOKENS_PER_BAR_BUDGET
    if tok is not None and density_level is not None:
        hi = tok.density_range(density_level)[1]
        if math.isfinite(hi):
            per_bar = min(per_bar, 2 + TOKENS_PER_NOTE * math.ceil(hi))
    if tok is not None:
        per_bar += tok.config.chord_tokens
    return min(block_size // 2, FILL_OVERHEAD + n_bars * per_bar)


def fill_chords(tok: Tokenizer, song: Song, bars: list[Bar], target: Track,
                mode: str) -> list[list[int]] | None:
    """The CHORD tokens that open each fill bar: the other pitched tracks'
    harmony there. None for a drum part, in `generate` mode (which sees no
    other notes) and for a tokenizer without them."""
    if not tok.config.chord_tokens or target.is_drum or mode == "generate":
        return None
    spans = [(tok.to_tick(b.start), tok.to_tick(b.start) + tok.bar_ticks(b)) for b in bars]
    off = tok.offset["CHORD"]
    return [[off + pc for pc in pcs]
            for pcs in bar_pitch_classes(song, target.id, spans, tok.tpb, tok.config.chord_tokens)]


def build_prompt(tok: Tokenizer, song: Song, bars: list[Bar], target_id: str,
                 fill: tuple[int, int], blank: tuple[int, int], lo_tick: int, hi_tick: int,
                 mode: str, block_size: int, density_level: int | None,
                 written_from: int | None = None, budget: int | None = None) -> Prompt:
    """The prompt for filling bars [fill[0], fill[1]) of the target track.

    `blank` ([fill[0], b1) ⊇ fill) are the target's bars shown as FILL_BAR:
    these and the bars later chunks will write. Bars [written_from, fill[0])
    were written by earlier chunks: shown as written, in `generate` mode too.
    `budget` (tokens for the fill section) defaults to fill_budget's.
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

    bar0 = bars[f0]
    prefix = [n for n in target.notes
              if tok.to_tick(bar0.start) <= tok.to_tick(n.start) < lo_tick] \
        if mode != "generate" else []
    if budget is None:  # the notes forced in before the target start come on top
        budget = fill_budget(f1 - f0, block_size, tok, density_level) + \
            TOKENS_PER_NOTE * len(prefix)
    fixed = 1 + 1 + (1 if density_level is not None else 0)  # BOS, FILL_START, DENSITY
    crop = _Crop(bar_tokens, fill, last_bar, block_size - budget - fixed)
    ids = crop.tracks([t.id for t in tracks], target_id)
    own = crop.own_window(ids, target_id) if tok.UNSEEN_BAR is not None else fill
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

    plan = FillPlan(bars[f0:f1], lo_tick, hi_tick, target.is_drum, prefix, budget,
                    chords=fill_chords(tok, song, bars[f0:f1], target, mode))
    return Prompt(seq, plan, (s0, s1), [i for i in ids])


class _Crop:
    """The cropping rule of the module docstring, on the bars' token counts:
    `room` is what the block leaves for the tracks' sections once the fill's
    budget and the fixed tokens are taken."""

    def __init__(self, bar_tokens: dict[str, LazyBars], fill: tuple[int, int], last_bar: int,
                 room: int):
        self.bar_tokens, self.fill, self.last_bar, self.room = bar_tokens, fill, last_bar, room

    def cost(self, ids: list[str], w0: int, w1: int) -> int:
        """Tokens of these tracks' sections over bars [w0, w1): TRACK and its
        kind, the bars, TRACK_END."""
        return sum(3 + sum(len(self.bar_tokens[i][b]) for b in range(w0, w1)) for i in ids)

    def tracks(self, ids: list[str], target_id: str) -> list[str]:
        """The tracks whose fill bars fit, leaving out the heaviest other one
        while they do not."""
        f0, f1 = self.fill
        ids = list(ids)
        while self.cost(ids, f0, f1) > self.room and len(ids) > 1:
            others = [i for i in ids if i != target_id]
            heaviest = max(others,
                           key=lambda i: sum(len(self.bar_tokens[i][b]) for b in range(f0, f1)))
            ids.remove(heaviest)
        if self.cost(ids, f0, f1) > self.room:
            raise ValueError("the fill's own bars do not fit in the model's block")
        return ids

    def _grow(self, span: tuple[int, int], room: int, cost, limit: int) -> tuple[int, int]:
        """Bars added to `span` nearest-first (the earlier one when both sides
        are equally near) while `cost(bar)` fits in `room`, at most `limit`
        bars beyond the fill on each side."""
        f0, f1 = self.fill
        w0, w1 = span
        while True:
            before = w0 - 1 if w0 > max(0, f0 - limit) else None
            after = w1 if w1 < min(self.last_bar, f1 + limit) else None
            if before is None and after is None:
                break
            pick = before if after is None or (before is not None
                                               and f0 - before <= after - f1 + 1) else after
            extra = cost(pick)
            if extra > room:
                break
            room -= extra
            if pick == before:
                w0 -= 1
            else:
                w1 += 1
        return w0, w1

    def free(self, ids: list[str]) -> int:
        """The room left once these tracks' fill bars are in."""
        return self.room - self.cost(ids, *self.fill)

    def own_window(self, ids: list[str], target_id: str) -> tuple[int, int]:
        """The target's own bars around the fill: OWN_CONTEXT_BARS a side at
        most, within OWN_SHARE of the room; each bar is charged an
        UNSEEN_BAR token for every other track too."""
        others = len(ids) - 1
        return self._grow(self.fill, int(OWN_SHARE * self.free(ids)),
                          lambda b: len(self.bar_tokens[target_id][b]) + others,
                          OWN_CONTEXT_BARS)

    def window(self, ids: list[str], target_id: str, own: tuple[int, int]) -> tuple[int, int]:
        """Bars [w0, w1) of every track around the fill, with what the
        target's own window `own` (the fill itself in the older format) left
        of the room: a bar inside it costs the other tracks' tokens less the
        UNSEEN_BAR tokens they replace, one outside it every track's tokens."""
        others = [i for i in ids if i != target_id]
        room = self.free(ids) - sum(len(self.bar_tokens[target_id][b]) + len(others)
                                    for b in range(*own)
                                    if not self.fill[0] <= b < self.fill[1])

        def cost(b: int) -> int:
            if own[0] <= b < own[1]:
                return sum(len(self.bar_tokens[i][b]) - 1 for i in others)
            return sum(len(self.bar_tokens[i][b]) for i in ids)
        return self._grow(self.fill, room, cost, self.last_bar)
