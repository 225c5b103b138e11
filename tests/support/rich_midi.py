"""A MIDI file that holds more than notes, built with mido, and the event
lists the demo's download tests compare (tests/demo/test_task.py,
tests/demo/test_app.py).

480 ticks a beat, 4/4, 8 bars: a conductor track (tempo, time signature,
key signature, copyright, two markers), "Keys" on channel 3 (MIDI channel
index 2: program, volume, pan, sustain pedal, pitch bends, a note every
beat) and "Kit" on channel 10 (index 9: a CC and a hit every half beat).
"""

from __future__ import annotations

import mido

TPB = 480
BARS = 8


def _track(events) -> mido.MidiTrack:
    """A track from (tick, message) pairs, sorted stably by tick."""
    out, last = mido.MidiTrack(), 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        out.append(msg.copy(time=tick - last))
        last = tick
    out.append(mido.MetaMessage("end_of_track", time=0))
    return out


def build(path) -> None:
    beats = BARS * 4
    conductor = [
        (0, mido.MetaMessage("set_tempo", tempo=500_000)),
        (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, mido.MetaMessage("key_signature", key="C")),
        (0, mido.MetaMessage("copyright", text="(c) test")),
        (0, mido.MetaMessage("marker", text="Verse")),
        (16 * TPB, mido.MetaMessage("marker", text="Chorus")),
    ]
    keys = [
        (0, mido.MetaMessage("track_name", name="Keys")),
        (0, mido.Message("program_change", channel=2, program=4)),
        (0, mido.Message("control_change", channel=2, control=7, value=100)),
        (0, mido.Message("control_change", channel=2, control=10, value=30)),
    ]
    for b in range(beats):
        pitch = (60, 64, 67, 72)[b % 4]
        keys += [
            (b * TPB, mido.Message("note_on", channel=2, note=pitch, velocity=80)),
            (b * TPB + 400, mido.Message("note_off", channel=2, note=pitch, velocity=0)),
        ]
        keys.append((b * TPB + 240, mido.Message("pitchwheel", channel=2, pitch=(b % 5) * 700)))
        if b % 4 == 0:
            keys += [
                (b * TPB + 10, mido.Message("control_change", channel=2, control=64, value=127)),
                (b * TPB + 1900, mido.Message("control_change", channel=2, control=64, value=0)),
            ]
    kit = [
        (0, mido.MetaMessage("track_name", name="Kit")),
        (0, mido.Message("control_change", channel=9, control=91, value=40)),
    ]
    for h in range(beats * 2):
        note = 36 if h % 4 == 0 else 42
        kit += [
            (h * TPB // 2, mido.Message("note_on", channel=9, note=note, velocity=100)),
            (h * TPB // 2 + 60, mido.Message("note_off", channel=9, note=note, velocity=0)),
        ]
    mf = mido.MidiFile(type=1, ticks_per_beat=TPB)
    mf.tracks += [_track(conductor), _track(keys), _track(kit)]
    mf.save(path)


def timed(track: mido.MidiTrack) -> list[tuple[int, str]]:
    """(absolute tick, the message without its delta) of every event."""
    out, tick = [], 0
    for msg in track:
        tick += msg.time
        out.append((tick, str(msg.copy(time=0))))
    return out


def notes(track: mido.MidiTrack) -> list[tuple]:
    """(start tick, end tick, channel, pitch, velocity) of each note, paired
    first in, first out per channel and pitch."""
    tick, open_, out = 0, {}, []
    for msg in track:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            open_.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
        elif msg.type in ("note_on", "note_off") and open_.get((msg.channel, msg.note)):
            start, vel = open_[(msg.channel, msg.note)].pop(0)
            out.append((start, tick, msg.channel, msg.note, vel))
    return sorted(out)


def assert_only_the_fill_changed(original, written, target: int, lo: int, hi: int) -> list:
    """Every event of every track but `target` the same at the same tick,
    the target's events other than notes too, and its notes that start
    outside ticks [lo, hi); returns the target's notes inside them."""
    assert written.ticks_per_beat == original.ticks_per_beat
    assert len(written.tracks) == len(original.tracks)
    for k, (a, b) in enumerate(zip(original.tracks, written.tracks)):
        if k != target:
            assert timed(b) == timed(a), f"track {k} changed"
            continue

        def other(track):
            return [e for e in timed(track) if not e[1].startswith(("note_on", "note_off"))]

        assert other(b) == other(a)
        outside = [n for n in notes(a) if not lo <= n[0] < hi]
        assert [n for n in notes(b) if not lo <= n[0] < hi] == outside
    return [n for n in notes(written.tracks[target]) if lo <= n[0] < hi]
