"""Track-major, bar-aware tokens in the manner of MMM.

A sequence lists every track, each as a header and then one group of tokens
per bar. To fill bars of one track, those bars become FILL_BAR in the prompt
and their content is written after FILL_START at the end of the sequence:

    BOS
    TRACK PROGRAM_33      BAR_4/4 POS_0 PITCH_40 VEL_23 DUR_12 ... BAR_4/4 FILL_BAR ... TRACK_END
    TRACK DRUMS           BAR_4/4 POS_0 DRUM_36 VEL_27 POS_12 DRUM_42 VEL_20 ...        TRACK_END
    FILL_START DENSITY_4  BAR_4/4 POS_0 PITCH_43 VEL_24 DUR_12 ... FILL_END

Positions are ticks from the bar line at TICKS_PER_BEAT per quarter note
(24 resolves 32nd notes, 3 ticks, and 16th-note triplets, 4 ticks). Within a
bar, notes are ordered by position then pitch; a POS token is written once
per position. A drum hit has no DUR token: a drum sound's length is the
sample's, not the note's, and drum notes of real files are mostly one tick
long, which taught a model that shared the DUR tokens to write one-tick
melody notes. Drum notes decode to DRUM_TICKS (a 16th note).

Each bar of a pitched fill section opens with the harmony of the other
tracks in that bar: up to `chord_tokens` CHORD tokens, the pitch classes
sounding there longest, longest first (model/generation/harmony.py). They are given,
never sampled: the prompt holds the other tracks, but the harmony of the
bar being written sits right beside its notes, where a small model can read
it, and survives the cropping of long songs.

    FILL_START DENSITY_4  BAR_4/4 CHORD_7 CHORD_11 CHORD_2 POS_0 PITCH_43 ...

A prompt may show the target track's own context over more bars than the
other tracks' (model/generation/prompt.py). Every track section then spans
the same bars, and a bar of another track outside its window is one
UNSEEN_BAR token: "something plays here, not shown", which an empty bar
(a bare BAR token) would misstate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction

from ..song import Bar, Note, Song, Track

SPECIALS = ["PAD", "BOS", "TRACK", "TRACK_END", "FILL_BAR", "FILL_START", "FILL_END", "DRUMS"]


def _default_time_signatures() -> list[list[int]]:
    sigs = []
    for den in (2, 4, 8, 16):
        for num in range(1, 17):
            if num * 4 / den <= 8:
                sigs.append([num, den])
    return sigs


@dataclass
class TokenizerConfig:
    ticks_per_beat: int = 24
    max_bar_beats: int = 8
    velocity_bins: int = 32
    max_duration_beats: int = 16
    # notes per bar: a fill whose density is below edge[i] gets level i
    density_edges: list[float] = field(default_factory=lambda: [1e-9, 1.5, 3, 5, 7, 10, 14, 20, 28])
    time_signatures: list[list[int]] = field(default_factory=_default_time_signatures)
    # drum notes carry a DUR token (the format of checkpoints written before
    # this field existed, which load with it set)
    drum_durations: bool = False
    # CHORD tokens at the start of each pitched fill bar (0: none, the format
    # of checkpoints written before this field existed)
    chord_tokens: int = 4
    # a prompt may show the target track over more bars than the other
    # tracks, whose bars outside their window are then one UNSEEN_BAR token
    # each (False: the format of checkpoints written before this field
    # existed; model/generation/prompt.py)
    unseen_bars: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TokenizerConfig:
        if "drum_durations" not in d:
            d = dict(d, drum_durations=True)
        if "chord_tokens" not in d:
            d = dict(d, chord_tokens=0)
        if "unseen_bars" not in d:
            d = dict(d, unseen_bars=False)
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        unknown = set(d) - set(known)
        if unknown:
            raise ValueError(f"unknown tokenizer config fields: {sorted(unknown)}")
        return cls(**known)


class Tokenizer:
    # the special tokens' ids, one attribute per name of SPECIALS (set in __init__)
    PAD: int
    BOS: int
    TRACK: int
    TRACK_END: int
    FILL_BAR: int
    FILL_START: int
    FILL_END: int
    DRUMS: int

    def __init__(self, config: TokenizerConfig | None = None):
        self.config = c = config or TokenizerConfig()
        self.tpb = c.ticks_per_beat
        self.max_pos = c.ticks_per_beat * c.max_bar_beats
        self.max_dur = c.ticks_per_beat * c.max_duration_beats
        self.drum_ticks = c.ticks_per_beat // 4  # a drum hit decodes as a 16th note
        self.n_density = len(c.density_edges) + 1
        names = list(SPECIALS)
        self.offset: dict[str, int] = {}

        def block(kind: str, labels):
            self.offset[kind] = len(names)
            names.extend(f"{kind}_{x}" for x in labels)

        block("PROGRAM", range(128))
        block("BAR", [f"{n}/{d}" for n, d in c.time_signatures])
        block("POS", range(self.max_pos))
        block("PITCH", range(128))
        block("DRUM", range(128))
        block("VEL", range(c.velocity_bins))
        block("DUR", range(1, self.max_dur + 1))
        block("DENSITY", range(self.n_density))
        if c.chord_tokens:
            block("CHORD", range(12))
        if c.unseen_bars:
            block("UNSEEN", ["BAR"])
        self.names = names
        self.vocab_size = len(names)
        self.ids = {n: i for i, n in enumerate(names)}
        for i, n in enumerate(SPECIALS):
            setattr(self, n, i)
        self.UNSEEN_BAR = self.offset.get("UNSEEN")  # None in the older format
        self._ts_index = {tuple(ts): i for i, ts in enumerate(c.time_signatures)}
        self.sizes = {
            "PROGRAM": 128,
            "BAR": len(c.time_signatures),
            "POS": self.max_pos,
            "PITCH": 128,
            "DRUM": 128,
            "VEL": c.velocity_bins,
            "DUR": self.max_dur,
            "DENSITY": self.n_density,
            "CHORD": 12,
            "UNSEEN": 1,
        }
        # every token's kind and value, looked up rather than searched for:
        # the decoder asks for each sampled token of each row
        self._kinds = list(SPECIALS) + [k for k in self.offset for _ in range(self.sizes[k])]
        self._values: list[int | None] = [None] * len(SPECIALS)
        self._values += [
            None if k == "UNSEEN" else v + (k == "DUR")
            for k in self.offset
            for v in range(self.sizes[k])
        ]
        self.density_bounds = [0.0] + list(c.density_edges) + [float("inf")]

    # --- token kinds ------------------------------------------------------
    def kind(self, token: int) -> str:
        if not 0 <= token < self.vocab_size:
            raise ValueError(f"token {token} outside the vocabulary")
        return self._kinds[token]

    def value(self, token: int) -> int:
        """The number a token carries: a program, time-signature index,
        position, pitch, velocity bin, duration in ticks (from 1), density
        level or pitch class."""
        if not 0 <= token < self.vocab_size:
            raise ValueError(f"token {token} outside the vocabulary")
        v = self._values[token]
        if v is None:
            raise ValueError(f"{self.names[token]} carries no value")
        return v

    def range(self, kind: str) -> tuple[int, int]:
        off = self.offset[kind]
        return off, off + self.sizes[kind]

    def supports_time_signature(self, num: int, den: int) -> bool:
        return (num, den) in self._ts_index

    def bar_token(self, bar: Bar) -> int:
        try:
            return self.offset["BAR"] + self._ts_index[(bar.numerator, bar.denominator)]
        except KeyError:
            raise ValueError(
                f"time signature {bar.numerator}/{bar.denominator} is not supported"
                f" (bars up to {self.config.max_bar_beats} beats)"
            ) from None

    def bar_ticks(self, bar: Bar) -> int:
        return int(round(bar.beats * self.tpb))

    # --- values -----------------------------------------------------------
    def velocity_bin(self, velocity: int) -> int:
        v = min(127, max(1, int(velocity)))
        return min(self.config.velocity_bins - 1, (v - 1) * self.config.velocity_bins // 127)

    def bin_velocity(self, b: int) -> int:
        """The velocity at the middle of bin b."""
        lo = -(-b * 127 // self.config.velocity_bins) + 1
        hi = -(-(b + 1) * 127 // self.config.velocity_bins)
        return (lo + hi) // 2

    def density_level(self, notes_per_bar: float) -> int:
        for i, edge in enumerate(self.config.density_edges):
            if notes_per_bar < edge:
                return i
        return len(self.config.density_edges)

    def density_range(self, level: int) -> tuple[float, float]:
        return self.density_bounds[level], self.density_bounds[level + 1]

    def to_tick(self, beat: float) -> int:
        return int(round(beat * self.tpb))

    def range_ticks(self, start: float, end: float) -> tuple[int, int]:
        """The grid ticks [lo, hi) inside [start, end): rounded inwards, so a
        note on them never leaves the range however the range is cut."""
        return math.ceil(start * self.tpb - 1e-6), math.floor(end * self.tpb + 1e-6)

    # --- encoding ---------------------------------------------------------
    def header(self, track: Track) -> list[int]:
        kind = self.DRUMS if track.is_drum else self.offset["PROGRAM"] + int(track.program)
        return [self.TRACK, kind]

    def encode_bars(self, track: Track, bars: list[Bar]) -> list[list[int]]:
        """One token list per bar (each starting with its BAR token).

        Notes are snapped to the tick grid; a note is placed in the bar that
        holds its snapped start; notes outside the bars are ignored; at most
        one note per (position, pitch) is kept, the longest.
        """
        starts = [self.to_tick(b.start) for b in bars]
        ends = [s + self.bar_ticks(b) for s, b in zip(starts, bars)]
        per_bar: list[dict[tuple[int, int], tuple[int, int]]] = [{} for _ in bars]
        tpb, max_dur = self.tpb, self.max_dur  # to_tick below is int(round(beat * tpb))
        for n in track.notes:
            t = int(round(n.start * tpb))
            i = _find_bar(starts, ends, t)
            if i is None:
                continue
            dur = min(max_dur, max(1, int(round(n.end * tpb)) - t))
            key = (t - starts[i], int(n.pitch))
            held = per_bar[i].get(key)
            if held is None or held[0] < dur:
                per_bar[i][key] = (dur, self.velocity_bin(n.velocity))
        pitch_off = self.offset["DRUM" if track.is_drum else "PITCH"]
        pos_off, vel_off, dur_off = self.offset["POS"], self.offset["VEL"], self.offset["DUR"] - 1
        with_dur = not track.is_drum or self.config.drum_durations
        out = []
        for b, notes in zip(bars, per_bar):
            toks = [self.bar_token(b)]
            last_pos = None
            for (pos, pitch), (dur, vel) in sorted(notes.items()):
                if pos != last_pos:
                    toks.append(pos_off + pos)
                    last_pos = pos
                toks += (
                    (pitch_off + pitch, vel_off + vel, dur_off + dur)
                    if with_dur
                    else (pitch_off + pitch, vel_off + vel)
                )
            out.append(toks)
        return out

    def decode_bars(
        self, tokens: list[int], bars: list[Bar], end_tick: int | None = None
    ) -> list[Note]:
        """Notes from a run of BAR-led groups, placed on `bars` in order.

        Tokens other than BAR/POS/PITCH/DRUM/VEL/DUR are ignored; a note
        missing its velocity or duration is an error. A drum hit lasts
        drum_ticks, and ends at end_tick if that comes first (as in a fill,
        whose grammar state clips it the same way).
        """
        notes: list[Note] = []
        bar_i, pos, hit = -1, 0, False
        pending: list[int] = []

        def close(duration_ticks):
            if bar_i < 0:
                raise ValueError("a note before the first BAR token")
            start = Fraction(self.to_tick(bars[bar_i].start) + pos, self.tpb)
            notes.append(
                Note(
                    pending[0],
                    float(start),
                    duration_ticks / self.tpb,
                    self.bin_velocity(pending[1]),
                )
            )

        for tok in tokens:
            k = self.kind(tok)
            if k == "BAR":
                bar_i += 1
                pos = 0
                if bar_i >= len(bars):
                    raise ValueError("more BAR tokens than bars")
            elif k == "POS":
                pos = self.value(tok)
            elif k in ("PITCH", "DRUM"):
                pending, hit = [self.value(tok)], k == "DRUM" and not self.config.drum_durations
            elif k == "VEL" and len(pending) == 1:
                pending.append(self.value(tok))
                if hit:  # a drum hit is complete without a duration
                    at = self.to_tick(bars[bar_i].start) + pos if bar_i >= 0 else 0
                    close(
                        self.drum_ticks
                        if end_tick is None
                        else max(1, min(self.drum_ticks, end_tick - at))
                    )
                    pending = []
            elif k == "DUR" and len(pending) == 2:
                close(self.value(tok))
                pending = []
            elif k in ("VEL", "DUR"):
                raise ValueError(f"{self.names[tok]} out of order")
        if pending:
            raise ValueError("the last note is incomplete")
        return notes

    def encode_song(self, song: Song, bars: list[Bar] | None = None) -> list[int]:
        """A plain sequence (no fill) of the whole song: BOS, tracks."""
        bars = bars if bars is not None else song.bars()
        seq = [self.BOS]
        for track in song.tracks:
            seq += self.header(track)
            for b in self.encode_bars(track, bars):
                seq += b
            seq.append(self.TRACK_END)
        return seq

    def decode_song(self, tokens: list[int], bars: list[Bar]) -> list[Track]:
        """Tracks from a plain sequence made by encode_song (ids '0', '1', ...)."""
        tracks: list[Track] = []
        i = 0
        while i < len(tokens):
            if tokens[i] == self.TRACK:
                kind_tok = tokens[i + 1]
                j = tokens.index(self.TRACK_END, i)
                is_drum = kind_tok == self.DRUMS
                program = 0 if is_drum else self.value(kind_tok)
                tracks.append(
                    Track(
                        str(len(tracks)),
                        program,
                        is_drum,
                        self.decode_bars(tokens[i + 2 : j], bars),
                    )
                )
                i = j + 1
            else:
                i += 1
        return tracks


def _find_bar(starts: list[int], ends: list[int], tick: int) -> int | None:
    lo, hi = 0, len(starts) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if tick < starts[mid]:
            hi = mid - 1
        elif tick >= ends[mid]:
            lo = mid + 1
        else:
            return mid
    return None
