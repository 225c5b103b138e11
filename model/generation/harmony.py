"""What the other tracks sound: the pitch classes heard at each grid tick.

A fill belongs to a song when its notes agree with the harmony the other
pitched tracks play at the same moment. `Sounding` holds that harmony for a
range of ticks; the harmony control (model/generation/sampling.py) leans the fill
towards it, and the fit measures (model/evaluation/fit.py) count how often a fill's
notes land on it.
"""

from __future__ import annotations

import numpy as np

from ..song import Note, Song

# With the other tracks silent at an onset (a rest, a staccato chord), the
# harmony of the last 2 beats still holds for the listener: a melody note
# after a short chord stab is still heard against that chord.
HOLD_BEATS = 2.0
# A request that leaves controls.harmony out gets a strength that follows the
# part: its own nearby notes' harmonic fit less FOLLOW_OFFSET, within
# 0..FOLLOW_MAX. A chordal pop part (fit about 0.75) gets about 0.4, a
# contrapuntal voice whose passing notes fit about 0.45 of the time gets about
# 0.1. On the valid split the real-vs-generated classifier told these fills
# apart less well than at any one fixed strength, on Bach and Palestrina and on
# MMA renders alike; the offset was 0.25 for midifill-small-v3 and is 0.35 from
# v4 on, whose networks follow the other tracks more by themselves (0.35 held
# for v5 against 0.45 and 0.55: docs/fit.md).
FOLLOW_OFFSET = 0.35
FOLLOW_MAX = 0.6
FOLLOW_MIN_NOTES = 3  # fewer nearby notes than this say too little about the part


class Sounding:
    """Pitch classes of the other pitched tracks, tick by tick over
    [lo_tick, hi_tick). `at(tick)` is a 12-long bool array (all False where
    nothing sounds and nothing sounded in the last HOLD_BEATS)."""

    def __init__(self, lo_tick: int, table: np.ndarray):
        self.lo_tick = lo_tick
        self.table = table
        self._silent = np.zeros(12, dtype=bool)
        self._codes: list[int] | None = None  # `code`'s, made on first use

    @classmethod
    def of(
        cls, song: Song, target_id: str, lo_tick: int, hi_tick: int, tpb: int, hold: bool = True
    ) -> Sounding:
        n = max(0, hi_tick - lo_tick)
        heard = np.zeros((n, 12), dtype=bool)
        held = np.zeros((n, 12), dtype=bool)
        reach = int(round(HOLD_BEATS * tpb)) if hold else 0
        for track in song.tracks:
            if track.id == target_id or track.is_drum:
                continue
            for note in track.notes:
                a = int(round(note.start * tpb)) - lo_tick
                b = max(a + 1, int(round(note.end * tpb))) - lo_tick
                pc = note.pitch % 12
                if b > 0 and a < n:
                    heard[max(a, 0) : min(b, n), pc] = True
                if reach and b + reach > 0 and b < n:
                    held[max(b, 0) : min(b + reach, n), pc] = True
        if reach:
            quiet = ~heard.any(axis=1)
            heard[quiet] = held[quiet]
        return cls(lo_tick, heard)

    def at(self, tick: int) -> np.ndarray:
        i = tick - self.lo_tick
        if 0 <= i < len(self.table):
            return self.table[i]
        return self._silent

    def code(self, tick: int) -> int:
        """`at(tick)` as an int, bit c set where pitch class c sounds (0:
        none). The harmony lean asks it for every row and step, so the whole
        table is turned into ints once."""
        if self._codes is None:
            self._codes = (self.table @ (1 << np.arange(12))).tolist()
        i = tick - self.lo_tick
        return self._codes[i] if 0 <= i < len(self._codes) else 0


def bar_pitch_classes(
    song: Song, target_id: str, spans: list[tuple[int, int]], tpb: int, most: int
) -> list[list[int]]:
    """For each bar, given as ticks [a, b), the pitch classes the other
    pitched tracks sound there, longest first (the lower class on a tie), at
    most `most` of them; a class heard for less than a quarter of the
    longest one's time is a passing note and left out. These are the fill
    section's CHORD tokens (model/network/tokenizer.py)."""
    if not spans or most <= 0:
        return [[] for _ in spans]
    lo = min(a for a, _ in spans)
    table = Sounding.of(song, target_id, lo, max(b for _, b in spans), tpb, hold=False).table
    out = []
    for a, b in spans:
        heard = table[a - lo : b - lo].sum(axis=0)
        order = sorted(range(12), key=lambda pc: (-heard[pc], pc))[:most]
        out.append([pc for pc in order if heard[pc] > 0 and 4 * heard[pc] >= heard.max()])
    return out


def sounding_at_onsets(notes: list[Note], song: Song, target_id: str, tpb: int) -> list[np.ndarray]:
    """For each note, the pitch classes the other pitched tracks sound at its
    onset (strictly: no held harmony), in the notes' order."""
    if not notes:
        return []
    ticks = [int(round(n.start * tpb)) for n in notes]
    lo, hi = min(ticks), max(ticks) + 1
    s = Sounding.of(song, target_id, lo, hi, tpb, hold=False)
    return [s.at(t) for t in ticks]


def harmonic_fit(notes: list[Note], song: Song, target_id: str, tpb: int) -> float | None:
    """Share of the notes whose pitch class sounds in another pitched track at
    the note's onset; None when there are no notes."""
    if not notes:
        return None
    on = sounding_at_onsets(notes, song, target_id, tpb)
    return sum(bool(c[n.pitch % 12]) for c, n in zip(on, notes)) / len(notes)


def follow_strength(part_notes: list[Note], song: Song, target_id: str, tpb: int) -> float | None:
    """The harmony strength that follows a part, from its own nearby notes
    (FOLLOW_OFFSET above); None with fewer than FOLLOW_MIN_NOTES of them."""
    if len(part_notes) < FOLLOW_MIN_NOTES:
        return None
    fit = harmonic_fit(part_notes, song, target_id, tpb)
    return round(min(FOLLOW_MAX, max(0.0, fit - FOLLOW_OFFSET)), 3)
