"""MIDI files in and out.

Reading goes through pretty_midi, and every position is taken back to the
file's own tick grid (ticks / resolution = beats) instead of through seconds,
so tempo changes never smear a note off its beat. Writing uses mido directly
because pretty_midi cannot write tempo changes.
"""
from __future__ import annotations

import os
from pathlib import Path

import mido
import pretty_midi

from .errors import MidiFileError
from .files import atomic_path
from .song import Note, Song, TempoChange, TimeSignature, Track

WRITE_PPQ = 960
DRUM_CHANNEL = 9


def read_midi(path: str | os.PathLike) -> Song:
    """Read a Standard MIDI File into a Song (beats).

    Raises MidiFileError for a missing, empty (0 bytes), corrupt or non-MIDI
    file. A valid file with no notes gives a Song with no notes.
    """
    path = Path(path)
    if not path.is_file():
        raise MidiFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise MidiFileError(f"{path}: the file is empty (0 bytes), not a MIDI file")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"MThd":
        raise MidiFileError(f"{path}: not a MIDI file (it does not start with 'MThd')")
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # pretty_midi/mido raise many types on bad data
        raise MidiFileError(f"{path}: corrupt MIDI file ({type(exc).__name__}: {exc})") from exc
    return _from_pretty_midi(pm)


def _from_pretty_midi(pm: pretty_midi.PrettyMIDI) -> Song:
    res = float(pm.resolution)

    def beats(seconds: float) -> float:
        return int(pm.time_to_tick(seconds)) / res

    tracks = []
    for i, inst in enumerate(pm.instruments):
        notes = [Note(int(n.pitch), beats(n.start), max(0.0, beats(n.end) - beats(n.start)),
                      int(n.velocity)) for n in inst.notes]
        notes.sort(key=lambda n: (n.start, n.pitch))
        tracks.append(Track(id=str(i), program=int(inst.program), is_drum=bool(inst.is_drum),
                            notes=notes, name=inst.name.strip()))
    sigs = [TimeSignature(beats(ts.time), int(ts.numerator), int(ts.denominator))
            for ts in pm.time_signature_changes]
    sigs = _dedupe_by_beat(sigs) or [TimeSignature(0.0, 4, 4)]
    times, bpms = pm.get_tempo_changes()
    tempos = _dedupe_by_beat([TempoChange(beats(t), round(float(b), 3)) for t, b in zip(times, bpms)])
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

    conductor = [(tick(t.beat), 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(t.bpm)))
                 for t in song.tempos]
    conductor += [(tick(s.beat), 0, mido.MetaMessage("time_signature", numerator=s.numerator,
                                                     denominator=s.denominator))
                  for s in song.time_signatures]
    mf.tracks.append(_to_track(conductor))
    pitched_channels = [c for c in range(16) if c != DRUM_CHANNEL]
    n_pitched = 0
    for track in song.tracks:
        if track.is_drum:
            ch = DRUM_CHANNEL
        else:
            ch = pitched_channels[n_pitched % len(pitched_channels)]
            n_pitched += 1
        events = [(0, 0, mido.MetaMessage("track_name", name=track.name or f"track {track.id}")),
                  (0, 1, mido.Message("program_change", channel=ch, program=track.program))]
        for n in track.notes:
            on, off = tick(n.start), tick(n.end)
            off = max(off, on + 1)
            vel = min(127, max(1, int(n.velocity)))
            # note-offs sort before note-ons at the same tick so repeated notes survive
            events.append((on, 3, mido.Message("note_on", channel=ch, note=n.pitch, velocity=vel)))
            events.append((off, 2, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
        mf.tracks.append(_to_track(events))
    return mf


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
