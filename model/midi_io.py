"""MIDI files in and out.

Reading goes through pretty_midi, and every position is taken back to the
file's own tick grid (ticks / resolution = beats) instead of through seconds,
so tempo changes never smear a note off its beat. Writing uses mido directly
because pretty_midi cannot write tempo changes.

Before pretty_midi sees a file, `scan_midi` walks its bytes the way mido
reads them and counts what parsing would cost (events, notes, the last tick
and the bars it reaches): pretty_midi allocates 8 bytes per tick up to the
last event, so a file of a few bytes with one note at a late tick would
cost minutes and gigabytes (one such file: docs/speed.md). The limits are
the table in docs/osc.md.
"""

from __future__ import annotations

import io
import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import mido
import pretty_midi

from .errors import MidiFileError, MidiLimitError
from .files import atomic_path
from .limits import MAX_BARS, MAX_FILE_BYTES, MAX_NOTES
from .song import Note, Song, TempoChange, TimeSignature, Track

WRITE_PPQ = 960
DRUM_CHANNEL = 9

# Read limits (docs/osc.md, Limits): the file's bytes, the bars and notes
# are model/limits.py's, shared with the engine and the demo.
MAX_EVENTS = 200_000
MAX_TICK = (
    4_000_000  # 1,024 bars of 4/4 at 960 ticks a beat; pretty_midi builds 8-byte tables per tick
)
# data bytes after a status byte, as mido reads them (0xF4, 0xF5, 0xF9, 0xFD undefined)
_DATA_BYTES = {
    **{s: 2 for s in range(0x80, 0xC0)},
    **{s: 1 for s in range(0xC0, 0xE0)},
    **{s: 2 for s in range(0xE0, 0xF0)},
    0xF1: 1,
    0xF2: 2,
    0xF3: 1,
    0xF6: 0,
    0xF8: 0,
    0xFA: 0,
    0xFB: 0,
    0xFC: 0,
    0xFE: 0,
}


@dataclass
class MidiFacts:
    """What a file would cost to parse, found without parsing it."""

    resolution: int
    tracks: int = 0
    events: int = 0
    notes: int = 0
    bends: int = 0  # pitch-bend events
    last_tick: int = 0
    time_signatures: list = field(default_factory=list)  # (tick, numerator, denominator)

    @property
    def bars(self) -> int:
        """Bars from beat 0 to the last event, as Song.bars counts them."""
        # numerator 0 is refused by pretty_midi; a denominator of 2**255 makes
        # bars so short that Song.bars() would build billions of them
        return count_bars(
            [
                (tick / self.resolution, num * 4.0 / den)
                for tick, num, den in self.time_signatures
                if num > 0
            ],
            self.last_tick / self.resolution,
        )


def count_bars(changes: list[tuple[float, float]], end: float) -> int:
    """Bars from beat 0 to `end` under (beat, bar length) changes, counted
    arithmetically, as Song.bars would build them (a change inside a bar
    cuts that bar short)."""
    by_beat = dict(sorted(changes))
    changes = sorted(by_beat.items()) or [(0.0, 4.0)]
    if changes[0][0] > 0:
        changes.insert(0, (0.0, changes[0][1]))
    bars = 0
    for i, (beat, length) in enumerate(changes):
        stop = min(end, changes[i + 1][0]) if i + 1 < len(changes) else end
        if stop > beat:
            bars += math.ceil((stop - beat) / max(length, 1e-300) - 1e-9)
    return max(1, bars)


class _Corrupt(Exception):
    pass


def scan_midi(data: bytes) -> MidiFacts:
    """Walk a Standard MIDI File's chunks and events as mido would, counting.

    Raises MidiFileError naming what is wrong (and where), and MidiLimitError
    as soon as a count passes its limit.
    """
    if data[:4] != b"MThd":
        raise MidiFileError("not a MIDI file (it does not start with 'MThd')")
    try:
        return _scan(data)
    except (_Corrupt, IndexError) as exc:  # IndexError: the data ran out mid-event
        reason = (
            str(exc) if isinstance(exc, _Corrupt) else "the file ends in the middle of an event"
        )
        raise MidiFileError(f"corrupt MIDI file: {reason}") from None


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A variable-length quantity; the standard's are at most 4 bytes (a
    run of 5,000 continuation bytes once made a number too long to print)."""
    value, start = 0, pos
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos
        if pos - start >= 4:
            raise _Corrupt(f"a variable-length number longer than 4 bytes (byte {start})")


def _scan(data: bytes) -> MidiFacts:
    size = struct.unpack(">L", data[4:8])[0] if len(data) >= 8 else 0
    if len(data) < 8 + 6 or size < 6:
        raise _Corrupt("the header chunk is cut short")
    _, n_tracks, division = struct.unpack(">hhh", data[8:14])
    if division <= 0:
        raise _Corrupt(
            f"time division {division}: SMPTE time (or 0 ticks per beat) is not "
            "supported; export with ticks per quarter note"
        )
    if n_tracks <= 0:
        raise _Corrupt("the header declares no tracks")
    facts = MidiFacts(division)
    pos, end = 8 + size, len(data)
    for t in range(n_tracks):
        if pos + 8 > end:
            raise _Corrupt(f"the header declares {n_tracks} tracks, the file ends after {t}")
        if data[pos : pos + 4] != b"MTrk":
            raise _Corrupt(f"track {t + 1} does not start with 'MTrk' (byte {pos})")
        length = struct.unpack(">L", data[pos + 4 : pos + 8])[0]
        pos = _scan_track(data, pos + 8, length, t, facts)
    return facts


def _scan_track(data: bytes, start: int, length: int, t: int, facts: MidiFacts) -> int:
    """Counts track t's events (its chunk's body is `length` bytes from
    `start`) into facts; returns where the next chunk starts. One loop for
    every kind of event, since running status carries from one to the next."""
    pos, end = start, len(data)
    tick, status_kept = 0, None
    while pos - start != length:  # mido's rule: a chunk ends exactly where it says
        if pos >= end:
            raise _Corrupt(
                f"track {t + 1} is cut short: it claims {length} bytes, {end - start} remain"
            )
        delta, pos = _varint(data, pos)
        tick += delta
        status = data[pos]
        pos += 1
        peek = 0
        if status < 0x80:
            if status_kept is None:
                raise _Corrupt(
                    f"track {t + 1}: a data byte where an event should start (byte {pos - 1})"
                )
            status, peek = status_kept, 1
            pos -= 1
        elif status != 0xFF:
            status_kept = status
        if status == 0xFF:
            kind = data[pos]
            n, pos = _varint(data, pos + 1)
            if kind == 0x58 and n >= 2:
                facts.time_signatures.append((tick, data[pos], 2 ** data[pos + 1]))
        elif status in (0xF0, 0xF7):
            n, pos = _varint(data, pos)
        elif status in _DATA_BYTES:
            n = _DATA_BYTES[status]
            body = data[pos : pos + n]
            if len(body) < n:
                raise IndexError
            if max(body, default=0) > 127:
                raise _Corrupt(f"track {t + 1}: a data byte over 127 (byte {pos})")
            if status & 0xF0 == 0x90 and body[1]:
                facts.notes += 1
            elif status & 0xF0 == 0xE0:
                facts.bends += 1
        else:
            raise _Corrupt(
                f"track {t + 1}: undefined status byte 0x{status:02x} (byte {pos - 1 + peek})"
            )
        pos += n
        if pos > end:
            raise IndexError
        facts.events += 1
        if facts.events > MAX_EVENTS or facts.notes > MAX_NOTES or tick > MAX_TICK:
            _over_a_limit(facts, tick)
    facts.tracks += 1
    facts.last_tick = max(facts.last_tick, tick)
    return pos


def _over_a_limit(facts: MidiFacts, tick: int) -> None:
    if facts.notes > MAX_NOTES:
        raise MidiLimitError(f"more than {MAX_NOTES:,} notes; the limit is {MAX_NOTES:,}")
    if facts.events > MAX_EVENTS:
        raise MidiLimitError(f"more than {MAX_EVENTS:,} events; the limit is {MAX_EVENTS:,}")
    raise MidiLimitError(
        f"an event at tick {tick:,} (beat {tick / facts.resolution:,.0f}); "
        f"files are read up to tick {MAX_TICK:,}"
    )


def read_midi(path: str | os.PathLike) -> Song:
    """Read a Standard MIDI File into a Song (beats).

    Raises MidiFileError for a missing, empty (0 bytes), corrupt or non-MIDI
    file, and MidiLimitError (a MidiFileError) for one over a limit, found
    from its size and a scan of its events before it is parsed. A valid file
    with no notes gives a Song with no notes.
    """
    path = Path(path)
    if path.is_dir():
        raise MidiFileError(f"{path}: is a folder, not a MIDI file")
    if not path.exists():
        raise MidiFileError(f"{path}: no such file")
    if not path.is_file():  # a FIFO or device would never end
        raise MidiFileError(f"{path}: not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MidiLimitError(
                f"{path}: {size:,} bytes; MIDI files are read up to {MAX_FILE_BYTES:,} bytes"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise MidiFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not data:
        raise MidiFileError(f"{path}: the file is empty (0 bytes), not a MIDI file")
    try:
        facts = scan_midi(data)
        if facts.bars > MAX_BARS:
            raise MidiLimitError(
                f"the last event lies in bar {facts.bars:,} (tick "
                f"{facts.last_tick:,} at {facts.resolution} ticks per beat); "
                f"the limit is {MAX_BARS:,} bars"
            )
    except MidiFileError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # pretty_midi/mido raise many types on bad data
        raise MidiFileError(f"{path}: corrupt MIDI file ({_explain(exc)})") from exc
    song = _from_pretty_midi(pm)
    # the same count on what pretty_midi made of the file, before anyone calls bars()
    bars = count_bars([(s.beat, s.bar_beats) for s in song.time_signatures], song.end_beat)
    if bars > MAX_BARS:
        raise MidiLimitError(
            f"{path}: the notes reach bar {bars:,}; the limit is {MAX_BARS:,} bars"
        )
    return song


def _explain(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _from_pretty_midi(pm: pretty_midi.PrettyMIDI) -> Song:
    res = float(pm.resolution)

    def beats(seconds: float) -> float:
        return int(pm.time_to_tick(seconds)) / res

    tracks = []
    for i, inst in enumerate(pm.instruments):
        notes = [
            Note(
                int(n.pitch),
                beats(n.start),
                max(0.0, beats(n.end) - beats(n.start)),
                int(n.velocity),
            )
            for n in inst.notes
        ]
        notes.sort(key=lambda n: (n.start, n.pitch))
        tracks.append(
            Track(
                id=str(i),
                program=int(inst.program),
                is_drum=bool(inst.is_drum),
                notes=notes,
                name=inst.name.strip(),
            )
        )
    sigs = [
        TimeSignature(beats(ts.time), int(ts.numerator), int(ts.denominator))
        for ts in pm.time_signature_changes
    ]
    sigs = _dedupe_by_beat(sigs) or [TimeSignature(0.0, 4, 4)]
    times, bpms = pm.get_tempo_changes()
    tempos = _dedupe_by_beat(
        [TempoChange(beats(t), round(float(b), 3)) for t, b in zip(times, bpms)]
    )
    return Song(tracks, sigs, tempos or [TempoChange(0.0, 120.0)])


def _dedupe_by_beat(changes):
    """Keep the last change at each beat, in order of beat."""
    by_beat = {}
    for c in changes:
        by_beat[round(c.beat, 6)] = c
    return [by_beat[k] for k in sorted(by_beat)]


def song_to_midifile(song: Song, ppq: int = WRITE_PPQ) -> mido.MidiFile:
    mf = mido.MidiFile(type=1, ticks_per_beat=ppq)

    def tick(beat: float) -> int:
        return max(0, int(round(beat * ppq)))

    conductor = [
        (tick(t.beat), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(t.bpm)))
        for t in song.tempos
    ]
    conductor += [
        (
            tick(s.beat),
            0,
            mido.MetaMessage("time_signature", numerator=s.numerator, denominator=s.denominator),
        )
        for s in song.time_signatures
    ]
    mf.tracks.append(_to_track(conductor))
    for track, ch in zip(song.tracks, track_channels(song.tracks)):
        events = [
            (0, 0, mido.MetaMessage("track_name", name=track.name or f"track {track.id}")),
            (0, 1, mido.Message("program_change", channel=ch, program=track.program)),
        ]
        for n in track.notes:
            on, off = tick(n.start), tick(n.end)
            off = max(off, on + 1)
            vel = min(127, max(1, int(n.velocity)))
            # note-offs sort before note-ons at the same tick so repeated notes survive
            events.append((on, 3, mido.Message("note_on", channel=ch, note=n.pitch, velocity=vel)))
            events.append((off, 2, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
        mf.tracks.append(_to_track(events))
    return mf


def track_channels(tracks, n_channels: int = 16) -> list[int]:
    """The channel of each track, for writing and for playing: drums share
    DRUM_CHANNEL (General MIDI's), the others take the rest in turn and
    start over when they run out."""
    pitched = [c for c in range(n_channels) if c != DRUM_CHANNEL]
    out, n_pitched = [], 0
    for track in tracks:
        if track.is_drum:
            out.append(DRUM_CHANNEL)
        else:
            out.append(pitched[n_pitched % len(pitched)])
            n_pitched += 1
    return out


def _to_track(events) -> mido.MidiTrack:
    track = mido.MidiTrack()
    last = 0
    for t, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=t - last))
        last = t
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def write_midi(song: Song, path: str | os.PathLike, ppq: int = WRITE_PPQ) -> Path:
    """Write a Song as a type-1 MIDI file, atomically (no half-written file)."""
    path = Path(path)
    mf = song_to_midifile(song, ppq)
    with atomic_path(path) as tmp:
        mf.save(filename=tmp)
    return path
