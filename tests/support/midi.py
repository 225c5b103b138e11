"""MIDI files built event by event with mido, and the checks that read them
back (tests/model/test_midi_patch.py, tests/bridge/test_cmd_generate.py)."""

import io
from collections import defaultdict

import mido

M, m = mido.MetaMessage, mido.Message


def build(tracks, res=480, fmt=1) -> bytes:
    """A file from [[(tick, msg), ...], ...] in absolute ticks."""
    mf = mido.MidiFile(type=fmt, ticks_per_beat=res)
    for events in tracks:
        tr, last = mido.MidiTrack(), 0
        for t, msg in sorted(events, key=lambda e: e[0]):
            tr.append(msg.copy(time=t - last))
            last = t
        tr.append(M("end_of_track", time=res))
        mf.tracks.append(tr)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def song_file(res=480) -> bytes:
    """A real-looking song: conductor with copyright, markers, key signatures
    and tempo changes; bass on channel 3 (CCs, bends, a program change
    mid-track), drums on channel 10 with SysEx, keys on channel 1."""
    conductor = [
        (0, M("copyright", text="(c) a producer")),
        (0, M("set_tempo", tempo=500000)),
        (0, M("time_signature", numerator=4, denominator=4)),
        (0, M("key_signature", key="E")),
        (0, M("marker", text="verse")),
        (res * 8, M("key_signature", key="Am")),
        (res * 12, M("cue_marker", text="drop")),
        (res * 16, M("set_tempo", tempo=450000)),
    ]
    return build(
        [
            conductor,
            part(
                "bass",
                2,
                33,
                [40, 43, 45],
                res,
                extra=[(res * 4, m("program_change", channel=2, program=34))],
            ),
            part(
                "drums",
                9,
                0,
                [36, 38, 42],
                res // 2,
                extra=[(res, m("sysex", data=[0x7E, 0x7F, 9, 1]))],
            ),
            part("keys", 0, 4, [60, 64, 67, 72], res),
        ],
        res,
    )


def absolute(track):
    t, out = 0, []
    for msg in track:
        t += msg.time
        out.append((t, msg.copy(time=0)))
    return out


def without_notes(events, channel, lo, hi, res):  # a second pairing, simpler than pretty_midi's
    """Events minus note events of `channel` whose note starts in [lo, hi)
    beats (and the offs that close them), minus end_of_track."""
    out, open_ = [], defaultdict(list)
    for t, msg in events:
        if msg.type == "end_of_track":
            continue
        if msg.type in ("note_on", "note_off") and msg.channel == channel:
            key = msg.note
            if msg.type == "note_on" and msg.velocity > 0:
                inside = lo <= t / res < hi
                open_[key].append(inside)
                if inside:
                    continue
            elif open_[key]:
                flags, open_[key] = open_[key], []
                if all(flags):
                    continue
        out.append((t, msg))
    return out


def check_pairs(track, min_len=None):
    """No note-on of a channel and pitch while one is open; each note lasts
    at least min_len ticks."""
    open_ = {}
    for t, msg in absolute(track):
        key = (getattr(msg, "channel", None), getattr(msg, "note", None))
        if msg.type == "note_on" and msg.velocity > 0:
            assert key not in open_, f"overlapping on/off pairs at tick {t}: {msg}"
            open_[key] = t
        elif msg.type in ("note_on", "note_off") and key in open_:
            if min_len:
                assert t - open_[key] >= min_len, f"a note of {t - open_[key]} ticks"
            del open_[key]


def part(name, ch, prog, pitches, step, n=32, extra=()):
    ev = [
        (0, M("track_name", name=name)),
        (0, m("program_change", channel=ch, program=prog)),
        (0, m("control_change", channel=ch, control=7, value=100)),
        (0, m("control_change", channel=ch, control=10, value=30)),
    ]
    for k in range(n):
        t, p = k * step, pitches[k % len(pitches)]
        ev += [
            (t, m("note_on", channel=ch, note=p, velocity=80 + k % 20)),
            (t + step // 2, m("note_on", channel=ch, note=p, velocity=0)),
            (t + 5, m("control_change", channel=ch, control=64, value=127 * (k % 2))),
            (t + 7, m("pitchwheel", channel=ch, pitch=(k * 300) % 8000 - 4000)),
        ]
    return ev + list(extra)
