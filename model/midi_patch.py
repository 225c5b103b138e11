"""Writing a fill back into the user's own MIDI file, event by event.

`midi_io.read_midi` turns a file into a Song through pretty_midi, which
splits each file track into one instrument per (program, channel) and pairs
note-ons with note-offs its own way. Writing that Song back would lose what
the Song does not hold (control changes, pitch bends, SysEx, markers, key
signatures, the channels, the tick resolution). So a fill is written here
with mido, on the file's own tracks and ticks:

- the target's instrument is found again as pretty_midi found it (the same
  walk: a note-off closes every open note of its channel and pitch that did
  not start at its tick; an instrument is (program, channel, file track) in
  the order its first note closed), so Song track `i` is instrument `i` of
  the file as read; with several targets (patch_targets, patch_variation)
  each is found again by (program, channel, file track) after the fills
  before it, since a fill can reorder a file track's instruments, and the
  ranges of one instrument are written in one pass;
- in the target's file track, the note-on of each of the instrument's notes
  that starts inside the range is removed, and each note-off that closes
  only such notes;
- the new notes are added on the instrument's channel, at the file's
  resolution, under the same-pitch rule of model/same_pitch.py against the
  notes of that channel and track that stay;
- every other chunk is copied byte for byte; the header changes only when a
  new track is added (its track count, and format 0 becomes 1). The one
  event outside the fill that may move is the target track's end_of_track,
  which goes after the last new note-off if the fill reaches past it.

A new track ("--track new") is appended as a track of its own: its name, a
program change and the notes, on the drum channel for drums, else on the
first channel no event of the file uses (the last pitched channel when all
16 are taken).
"""

from __future__ import annotations

import io
import math
import struct
from collections import defaultdict
from dataclasses import dataclass, field

import mido

from .errors import MidiFileError
from .limits import MIN_PITCHED_BEATS
from .same_pitch import tidy
from .song import Note, Song, Track

DRUM_CHANNEL = 9


@dataclass
class Instrument:
    program: int
    channel: int
    track: int  # index of the file track
    notes: list = field(default_factory=list)  # (start_tick, pitch, on_index, off_index)


def instruments(mf: mido.MidiFile) -> list[Instrument]:
    """The file's instruments as pretty_midi finds them, in its order."""
    found: dict[tuple, Instrument] = {}
    for ti, track in enumerate(mf.tracks):
        for program, channel, start, pitch, on, off in pair_notes(track)[0]:
            k = (program, channel, ti)
            found.setdefault(k, Instrument(*k)).notes.append((start, pitch, on, off))
    return list(found.values())


def pair_notes(track: mido.MidiTrack) -> tuple[list, list]:
    """([(program, channel, start_tick, pitch, on_index, off_index)] in the
    order the notes close, [(channel, start_tick, pitch, on_index)] never
    closed), pairing as pretty_midi does."""
    tick, program, closed = 0, [0] * 16, []
    open_notes = defaultdict(list)  # (channel, pitch) -> [(start_tick, on_index)]
    for i, msg in enumerate(track):
        tick += msg.time
        if msg.type == "program_change":
            program[msg.channel] = msg.program
        elif msg.type == "note_on" and msg.velocity > 0:
            open_notes[(msg.channel, msg.note)].append((tick, i))
        elif msg.type in ("note_off", "note_on"):
            key = (msg.channel, msg.note)
            if key not in open_notes:
                continue
            close = [o for o in open_notes[key] if o[0] != tick]
            stay = [o for o in open_notes[key] if o[0] == tick]
            closed += [
                (program[msg.channel], msg.channel, start, msg.note, on, i) for start, on in close
            ]
            if close and stay:
                open_notes[key] = stay
            else:
                del open_notes[key]
    never = [
        (ch, start, pitch, on) for (ch, pitch), opened in open_notes.items() for start, on in opened
    ]
    return closed, never


def _chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    """(header chunk, [the declared track chunks, then whatever bytes follow
    them, if any]) as raw bytes, each chunk with its 8-byte head."""
    size = struct.unpack(">L", data[4:8])[0]
    n_tracks = struct.unpack(">h", data[10:12])[0]
    header, pos, out = data[: 8 + size], 8 + size, []
    for _ in range(n_tracks):
        length = struct.unpack(">L", data[pos + 4 : pos + 8])[0]
        out.append(data[pos : pos + 8 + length])
        pos += 8 + length
    if pos < len(data):
        out.append(data[pos:])
    return header, out


def _encode(track: mido.MidiTrack) -> bytes:
    buf = io.BytesIO()
    mido.MidiFile(type=1, tracks=[track]).save(file=buf)
    _, (chunk,) = _chunks(buf.getvalue())
    return chunk


def min_ticks(resolution: int, is_drum: bool) -> int:
    """The shortest note written: a 32nd for pitched notes, one tick for drums."""
    return 1 if is_drum else max(1, math.ceil(resolution * MIN_PITCHED_BEATS - 1e-9))


def patch_midi(
    data: bytes,
    track_index: int,
    start: float,
    end: float,
    notes: list[Note],
    new_track: Track | None = None,
) -> bytes:
    """The bytes of `data` with Song track `track_index`'s notes that start in
    beats [start, end) replaced by `notes`; with `new_track`, `notes` go to a
    new file track made for it instead (track_index is then not used).

    Raises MidiFileError where the file does not hold the instrument."""
    return patch_targets(
        data, [(None if new_track is not None else track_index, start, end, notes)], new_track
    )


def patch_variation(
    data: bytes, song: Song, request: dict, variation: dict, new_track: Track | None = None
) -> tuple[bytes, list[list[Note]]]:
    """(the bytes of `data` with every target of one variation of the
    response written in, [the notes written for each target, in the
    variation's order]), for `midifill generate` and the demo alike.

    `song` is the song the request was built from (with `new_track`, the
    Track added for a target "new", as its last track); each target's notes
    go through front.fill_notes (snapped, the same-pitch rule, notes in any
    range of the request not kept), then patch_targets writes them all."""
    from .generation.front import fill_notes

    filled = variation.get("targets") or [dict(request["target"], notes=variation["notes"])]
    ranges = request.get("targets", [])
    index = {t.id: i for i, t in enumerate(song.tracks)}
    fills, written = [], []
    for target in filled:
        notes = fill_notes(song, target, target["notes"], ranges)
        is_new = new_track is not None and target["track"] == new_track.id
        fills.append(
            (None if is_new else index[target["track"]], target["start"], target["end"], notes)
        )
        written.append(notes)
    return patch_targets(data, fills, new_track), written


def patch_targets(
    data: bytes,
    fills: list[tuple[int | None, float, float, list[Note]]],
    new_track: Track | None = None,
) -> bytes:
    """The bytes of `data` with several fills written in, each (Song track
    index, start, end, notes) as patch_midi takes one; an index of None puts
    its notes on `new_track`, a file track added after the others.

    Each target's instrument is taken from `data` as it was before any fill
    and found again, after the fills before it, by (program, channel, file
    track), never by its place: a fill can empty an instrument or change
    which of a file track's instruments closes a note first, and so renumber
    the others. The ranges of one instrument are written in one pass, so a
    range's new notes meet the instrument's notes that stay (same-pitch
    rule), not the notes another range replaces.

    Raises MidiFileError where the file does not hold an instrument."""
    mf = _read_again(data)
    res = mf.ticks_per_beat
    header, chunks = _chunks(data)
    insts = instruments(mf)
    groups: dict[tuple, list] = {}
    added: list[Note] = []
    for index, start, end, notes in fills:
        if index is None:
            added += notes
            continue
        if not 0 <= index < len(insts):
            raise MidiFileError(
                f"the input file holds {len(insts)} instruments, not track "
                f"{index}; was it changed while the fill was made?"
            )
        inst = insts[index]
        groups.setdefault((inst.program, inst.channel, inst.track), []).append((start, end, notes))
    tracks = list(mf.tracks)
    for key, ranges in groups.items():
        found = _instrument(tracks[key[2]], *key)
        if found is None:  # cannot happen with a file read once; said rather than guessed
            raise MidiFileError(
                f"instrument (program {key[0]}, channel {key[1] + 1}) is no "
                f"longer in file track {key[2]}"
            )
        tracks[key[2]] = _refilled(tracks[key[2]], found, ranges, res)
        chunks[key[2]] = _encode(tracks[key[2]])
    if new_track is None:
        return header + b"".join(chunks)
    ch = DRUM_CHANNEL if new_track.is_drum else _free_channel(mf)
    chunks.insert(len(tracks), _encode(_new_track(new_track, ch, added, res)))
    fmt = max(1, struct.unpack(">h", header[8:10])[0])
    header = header[:8] + struct.pack(">hh", fmt, len(tracks) + 1) + header[12:]
    return header + b"".join(chunks)


def _read_again(data: bytes) -> mido.MidiFile:
    try:
        return mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:  # the file was read once already; say so if it changed
        raise MidiFileError(
            f"the input file cannot be read again to write the fill ({type(exc).__name__})"
        ) from exc


def _instrument(track: mido.MidiTrack, program: int, channel: int, index: int) -> Instrument | None:
    """Instrument (program, channel) of file track `index`, as it is now."""
    notes = [
        (s, p, on, off)
        for prog, ch, s, p, on, off in pair_notes(track)[0]
        if (prog, ch) == (program, channel)
    ]
    return Instrument(program, channel, index, notes) if notes else None


def _refilled(
    track: mido.MidiTrack, inst: Instrument, ranges: list[tuple[float, float, list[Note]]], res: int
) -> mido.MidiTrack:
    """`track` without inst's notes that start in any range [start, end),
    with every range's notes."""
    drop_on = {
        on for s, _, on, _ in inst.notes if any(start <= s / res < end for start, end, _ in ranges)
    }
    ticks, t = [], 0
    for msg in track:
        t += msg.time
        ticks.append(t)
    # a note-off goes with the notes it closes only when it closes no other
    # note (of this instrument or of another program on the channel)
    closers, never = _channel_notes(track, inst.channel)
    drop = drop_on | {
        off for off, starts in closers.items() if all(on in drop_on for _, _, on in starts)
    }
    kept = [
        (p, s, ticks[off])
        for off, starts in closers.items()
        for s, p, on in starts
        if on not in drop_on
    ]
    # a note-on never closed sounds on to the end: no new note of its pitch after it
    kept += [(p, s, math.inf) for p, s, _ in never]
    new = [
        (n.pitch, int(round(n.start * res)), int(round(n.end * res)), n.velocity)
        for _, _, notes in ranges
        for n in notes
    ]
    new = [(p, s, e, v) for p, s, e, v in new if e > s]
    new = tidy(
        new,
        kept,
        key=lambda n: n[:3],
        make=lambda n, s, e: (n[0], s, e) + n[3:],
        min_len=min_ticks(res, inst.channel == DRUM_CHANNEL),
    )
    events = []  # (tick, order, msg): new offs first at a tick, new ons after the file's
    eot = None
    for i, (msg, tick) in enumerate(zip(track, ticks)):
        if i in drop:
            continue
        if msg.type == "end_of_track":
            eot = (tick, msg)
            continue
        events.append((tick, 1, i, msg))
    for k, (p, s, e, v) in enumerate(new):
        vel = min(127, max(1, int(v)))
        events.append(
            (s, 2, k, mido.Message("note_on", channel=inst.channel, note=p, velocity=vel))
        )
        events.append((e, 0, k, mido.Message("note_off", channel=inst.channel, note=p, velocity=0)))
    events.sort(key=lambda ev: ev[:3])
    out, last = mido.MidiTrack(), 0
    for tick, _, _, msg in events:
        out.append(msg.copy(time=tick - last))
        last = tick
    if eot is not None:
        out.append(eot[1].copy(time=max(eot[0], last) - last))
    return out


def _channel_notes(track: mido.MidiTrack, channel: int) -> tuple[dict, list]:
    """({note-off index: [(start_tick, pitch, on_index)] it closes},
    [(pitch, start_tick, on_index)] never closed) for every note of `channel`
    in `track`, whatever its program."""
    closed, never = pair_notes(track)
    found: dict = {}
    for _, ch, s, p, on, off in closed:
        if ch == channel:
            found.setdefault(off, []).append((s, p, on))
    return found, [(p, s, on) for ch, s, p, on in never if ch == channel]


def _free_channel(mf: mido.MidiFile) -> int:
    used = {m.channel for t in mf.tracks for m in t if hasattr(m, "channel")}
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    return free[0] if free else 15


def _new_track(spec: Track, channel: int, notes: list[Note], res: int) -> mido.MidiTrack:
    new = [(n.pitch, int(round(n.start * res)), int(round(n.end * res)), n.velocity) for n in notes]
    new = tidy(
        [n for n in new if n[2] > n[1]],
        [],
        key=lambda n: n[:3],
        make=lambda n, s, e: (n[0], s, e) + n[3:],
        min_len=min_ticks(res, spec.is_drum),
    )
    events = [
        (0, 0, mido.MetaMessage("track_name", name=spec.name or "midifill")),
        (
            0,
            1,
            mido.Message(
                "program_change", channel=channel, program=0 if spec.is_drum else spec.program
            ),
        ),
    ]
    for p, s, e, v in new:
        events.append(
            (
                s,
                3,
                mido.Message("note_on", channel=channel, note=p, velocity=min(127, max(1, int(v)))),
            )
        )
        events.append((e, 2, mido.Message("note_off", channel=channel, note=p, velocity=0)))
    out, last = mido.MidiTrack(), 0
    for tick, _, msg in sorted(events, key=lambda ev: ev[:2]):
        out.append(msg.copy(time=tick - last))
        last = tick
    out.append(mido.MetaMessage("end_of_track", time=0))
    return out


def write_patched(
    path,
    data: bytes,
    track_index: int,
    start: float,
    end: float,
    notes: list[Note],
    new_track: Track | None = None,
):
    """patch_midi's bytes written to `path` atomically (model/files.py): a
    reader sees the old file or the whole new one, never half of one."""
    from pathlib import Path

    from .files import atomic_path

    out = patch_midi(data, track_index, start, end, notes, new_track)
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(out)
    return path
