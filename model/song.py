"""The musical data model: notes, tracks and songs, with time in beats.

A beat is a quarter note, as REAPER (QN) and Live count it. Beat 0 is a bar
line. Tempo and time signatures are lists of changes, each at a beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter


@dataclass(frozen=True)
class Note:
    pitch: int
    start: float  # beats
    duration: float  # beats
    velocity: int = 96

    @property
    def end(self) -> float:
        return self.start + self.duration

    def to_list(self) -> list:
        return [self.pitch, round(self.start, 6), round(self.duration, 6), self.velocity]

    @classmethod
    def from_list(cls, item) -> Note:
        pitch, start, duration, velocity = item
        return cls(int(pitch), float(start), float(duration), int(velocity))


@dataclass
class Track:
    id: str
    program: int = 0
    is_drum: bool = False
    notes: list[Note] = field(default_factory=list)
    name: str = ""

    def sorted_notes(self) -> list[Note]:
        return sorted(self.notes, key=lambda n: (n.start, n.pitch, n.duration, n.velocity))

    def notes_in(self, start: float, end: float) -> list[Note]:
        """Notes that start inside [start, end)."""
        return [n for n in self.notes if start <= n.start < end]


@dataclass(frozen=True)
class TimeSignature:
    beat: float
    numerator: int
    denominator: int

    @property
    def bar_beats(self) -> float:
        return self.numerator * 4.0 / self.denominator


@dataclass(frozen=True)
class TempoChange:
    beat: float
    bpm: float


@dataclass(frozen=True)
class Bar:
    index: int
    start: float
    numerator: int
    denominator: int

    @property
    def beats(self) -> float:
        return self.numerator * 4.0 / self.denominator

    @property
    def end(self) -> float:
        return self.start + self.beats


@dataclass
class Song:
    tracks: list[Track] = field(default_factory=list)
    time_signatures: list[TimeSignature] = field(default_factory=lambda: [TimeSignature(0.0, 4, 4)])
    tempos: list[TempoChange] = field(default_factory=lambda: [TempoChange(0.0, 120.0)])

    # --- time -----------------------------------------------------------
    @property
    def end_beat(self) -> float:
        return max(
            (max([n.start + n.duration for n in t.notes]) for t in self.tracks if t.notes),
            default=0.0,
        )

    def bars(self, until: float | None = None) -> list[Bar]:
        """Bars from beat 0 until they cover `until` (default: the last note).

        A time-signature change that does not fall on a bar line starts a
        new bar where it falls, as notation programs and DAWs do.
        """
        until = self.end_beat if until is None else until
        sigs = sorted(self.time_signatures, key=lambda s: s.beat) or [TimeSignature(0.0, 4, 4)]
        if sigs[0].beat > 0:
            sigs = [TimeSignature(0.0, sigs[0].numerator, sigs[0].denominator)] + sigs
        bars: list[Bar] = []
        pos, k = 0.0, 0
        while pos < until - 1e-9 or not bars:
            while k + 1 < len(sigs) and sigs[k + 1].beat <= pos + 1e-9:
                k += 1
            sig = sigs[k]
            bars.append(Bar(len(bars), pos, sig.numerator, sig.denominator))
            nxt = pos + sig.bar_beats
            if k + 1 < len(sigs) and pos + 1e-9 < sigs[k + 1].beat < nxt - 1e-9:
                nxt = sigs[k + 1].beat  # a change mid-bar cuts the bar short
            pos = nxt
            if until <= 0:
                break
        return bars

    def bar_span(self, first: int, last: int) -> tuple[float, float]:
        """Beats [start, end) of bars first..last, numbered from 1 as DAWs do,
        inclusive; bars past the song's end continue its last signature."""
        if not 1 <= first <= last:
            raise ValueError(f"bars {first}-{last}: need 1 <= first <= last")
        bars = self.bars(until=max(self.end_beat, 1e-3))
        while len(bars) < last:
            bars = self.bars(until=bars[-1].end + 4.0 * (last - len(bars)))
        return bars[first - 1].start, bars[last - 1].end

    @property
    def tempo(self) -> float:
        return self.tempos[0].bpm if self.tempos else 120.0

    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    # --- edits ----------------------------------------------------------
    def with_notes_replaced(
        self, track_id: str, start: float, end: float, notes: list[Note]
    ) -> Song:
        """A copy in which the target track's notes that start in [start, end)
        are replaced by `notes`; every other note is kept as it was."""
        tracks = []
        for t in self.tracks:
            if t.id == track_id:
                kept = [n for n in t.notes if not (start <= n.start < end)]
                t = Track(
                    t.id,
                    t.program,
                    t.is_drum,
                    sorted(kept + list(notes), key=attrgetter("start", "pitch")),
                    t.name,
                )
            else:
                t = Track(t.id, t.program, t.is_drum, list(t.notes), t.name)
            tracks.append(t)
        return Song(tracks, list(self.time_signatures), list(self.tempos))

    # --- the request contract --------------------------------------------
    def to_payload(self) -> dict:
        """The song part of a request (tracks, time signature(s), tempo)."""
        sigs = sorted(self.time_signatures, key=lambda s: s.beat)
        payload = {
            "time_signature": [sigs[0].numerator, sigs[0].denominator] if sigs else [4, 4],
            "tempo": float(self.tempo),
            "tracks": [
                {
                    "id": t.id,
                    "name": t.name,
                    "program": t.program,
                    "is_drum": t.is_drum,
                    "notes": [n.to_list() for n in t.sorted_notes()],
                }
                for t in self.tracks
            ],
        }
        if len(sigs) > 1:
            payload["time_signatures"] = [[s.beat, s.numerator, s.denominator] for s in sigs]
        if len(self.tempos) > 1:
            payload["tempos"] = [[t.beat, t.bpm] for t in self.tempos]
        return payload
