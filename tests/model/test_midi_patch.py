"""A fill written back into the user's own file (model/midi_patch.py): every
event but the target's notes in the range stays as it was, in time and
content; notes of one pitch never overlap on a channel; writes are atomic."""

import io
import os

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from midifill.model.errors import MidiFileError
from midifill.model.midi_io import read_midi
from midifill.model.midi_patch import instruments, pair_notes, patch_midi, write_patched
from midifill.model.song import Note, Track
from tests.support.midi import M, absolute, build, check_pairs, m, song_file, without_notes


def read(data):
    return mido.MidiFile(file=io.BytesIO(data))


def test_every_event_but_the_filled_notes_is_kept():
    data = song_file(480)
    new = [Note(50, 8.0, 1.0, 90), Note(52, 15.5, 0.5, 70)]
    before, after = read(data), read(patch_midi(data, 1, 8.0, 16.0, new))  # bass, program 34
    assert after.ticks_per_beat == 480 and len(after.tracks) == 4
    for i in (0, 2, 3):
        assert absolute(after.tracks[i]) == absolute(before.tracks[i])
    kept = without_notes(absolute(before.tracks[1]), 2, 8.0, 16.0, 480)
    assert without_notes(absolute(after.tracks[1]), 2, 8.0, 16.0, 480) == kept
    assert len(kept) > 100  # CCs, bends, program changes and the notes outside the range
    ons = [
        (t, msg.note, msg.channel)
        for t, msg in absolute(after.tracks[1])
        if msg.type == "note_on" and msg.velocity and 8 * 480 <= t < 16 * 480
    ]
    assert ons == [(3840, 50, 2), (7440, 52, 2)]
    song = read_midi_bytes(patch_midi(data, 1, 8.0, 16.0, new))
    assert [(n.pitch, n.start, n.duration) for n in song.tracks[1].notes_in(8, 16)] == [
        (50, 8.0, 1.0),
        (52, 15.5, 0.5),
    ]


def test_untouched_tracks_are_copied_byte_for_byte():
    data = song_file(96)
    out = patch_midi(data, 1, 4.0, 8.0, [Note(41, 4.0, 0.5, 80)])
    assert out[:14] == data[:14]  # header: format, tracks, 96 ticks a beat
    chunks = lambda d: d[14:].split(b"MTrk")  # noqa: E731
    a, b = chunks(data), chunks(out)
    assert a[1] == b[1] and a[3] == b[3] and a[4] == b[4] and a[2] != b[2]


def test_same_pitch_notes_never_overlap_on_the_channel():
    data = song_file(480)
    new = [
        Note(50, 8.0, 2.0, 90),
        Note(50, 9.0, 1.0, 90),  # trimmed to 1 beat
        Note(52, 10.0, 1.0, 80),
        Note(52, 10.0625, 1.0, 70),
    ]  # merged: too close to trim
    song_notes = read_midi_bytes(patch_midi(data, 1, 8.0, 16.0, new))
    after = read(patch_midi(data, 1, 8.0, 16.0, new))
    check_pairs(after.tracks[1], min_len=60)
    got = sorted((n.pitch, n.start, n.duration) for n in song_notes.tracks[1].notes_in(8, 16))
    assert (50, 8.0, 1.0) in got and (50, 9.0, 1.0) in got
    assert (52, 10.0, 1.0625) in got and not any(n[:2] == (52, 10.0625) for n in got)


def test_a_note_held_into_the_range_keeps_its_pitch_free():
    res = 480
    data = build(
        [
            [
                (0, m("note_on", channel=0, note=60, velocity=90)),
                (6 * res, m("note_off", channel=0, note=60, velocity=0)),
            ]
        ],
        res,
    )
    out = read(patch_midi(data, 0, 4.0, 8.0, [Note(60, 4.5, 1.0, 80), Note(62, 6.0, 0.5, 80)]))
    check_pairs(out.tracks[0])
    ons = [msg.note for _, msg in absolute(out.tracks[0]) if msg.type == "note_on"]
    assert ons == [60, 62]  # the new 60 under the held one is left out


def test_a_new_track_is_appended_on_a_free_channel():
    data = song_file(480)
    out = patch_midi(data, 0, 0.0, 4.0, [Note(70, 0.0, 1.0, 90)], Track("4", 25, False, [], "gtr"))
    before, after = read(data), read(out)
    assert len(after.tracks) == 5
    assert all(absolute(a) == absolute(b) for a, b in zip(before.tracks, after.tracks))
    chans = {msg.channel for msg in after.tracks[4] if hasattr(msg, "channel")}
    assert chans == {1}  # 0, 2 and 9 are the file's
    one = build(
        [
            [
                (0, m("note_on", channel=0, note=60, velocity=90)),
                (480, m("note_off", channel=0, note=60)),
            ]
        ],
        fmt=0,
    )
    assert read(patch_midi(one, 0, 0, 4, [Note(38, 0, 0.25, 90)], Track("1", 0, True))).type == 1


def test_the_largest_legal_tempo_is_written_back_as_it_was(tmp_path):
    data = build(
        [
            [
                (0, M("set_tempo", tempo=0xFFFFFF)),
                (0, m("note_on", channel=0, note=60, velocity=90)),
                (480, m("note_off", channel=0, note=60)),
            ]
        ]
    )
    path = write_patched(tmp_path / "out.mid", data, 0, 1.0, 2.0, [Note(62, 1.0, 0.5, 90)])
    assert read(path.read_bytes()).tracks[0][0].tempo == 0xFFFFFF


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "out.mid"
    path.write_bytes(b"the old file")
    with pytest.raises(MidiFileError, match="instruments"):
        write_patched(path, song_file(), 9, 0.0, 4.0, [Note(60, 0.0, 1.0, 90)])
    assert path.read_bytes() == b"the old file" and os.listdir(tmp_path) == ["out.mid"]


def test_instruments_are_found_in_pretty_midis_order(tmp_path):
    data = song_file(480)
    (tmp_path / "s.mid").write_bytes(data)
    song = read_midi(tmp_path / "s.mid")
    found = instruments(read(data))
    assert [(i.program, i.channel == 9, len(i.notes)) for i in found] == [
        (t.program, t.is_drum, len(t.notes)) for t in song.tracks
    ]


def read_midi_bytes(data):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.mid")
        with open(p, "wb") as f:
            f.write(data)
        return read_midi(p)


CHANNEL_EVENTS = st.one_of(
    st.builds(
        lambda c, v: m("control_change", channel=c, control=v % 120, value=v),
        st.integers(0, 15),
        st.integers(0, 127),
    ),
    st.builds(
        lambda c, v: m("pitchwheel", channel=c, pitch=v),
        st.integers(0, 15),
        st.integers(-8192, 8191),
    ),
    st.builds(
        lambda c, v: m("program_change", channel=c, program=v),
        st.integers(0, 15),
        st.integers(0, 127),
    ),
    st.builds(
        lambda c, p: m("note_on", channel=c, note=p, velocity=90),
        st.integers(0, 15),
        st.integers(30, 90),
    ),
    st.builds(
        lambda c, p: m("note_off", channel=c, note=p), st.integers(0, 15), st.integers(30, 90)
    ),
    st.builds(lambda t: M("marker", text=t), st.text("abc ", max_size=5)),
    st.builds(lambda d: m("sysex", data=d), st.lists(st.integers(0, 127), max_size=4)),
)
TRACKS = st.lists(
    st.lists(st.tuples(st.integers(0, 4800), CHANNEL_EVENTS), max_size=40), min_size=1, max_size=4
)


@settings(max_examples=60, deadline=None)
@given(
    TRACKS,
    st.sampled_from([96, 480, 960]),
    st.integers(0, 7),
    st.integers(1, 4),
    st.lists(st.tuples(st.integers(30, 90), st.integers(0, 31), st.integers(1, 16)), max_size=12),
    st.data(),
)
def test_random_files_keep_every_event_outside_the_fill(tracks, res, lo, span, notes, data):
    src = build([[(t * res // 480, msg) for t, msg in tr] for tr in tracks], res)
    insts = instruments(read(src))
    if not insts:
        return
    k = data.draw(st.integers(0, len(insts) - 1))
    inst, hi = insts[k], lo + span
    new = [
        Note(p, lo + s / 8, min(d / 8, hi - lo - s / 8), 80) for p, s, d in notes if s / 8 < span
    ]
    out = read(patch_midi(src, k, lo, hi, [n for n in new if n.duration > 0]))
    before = read(src)
    for i, (a, b) in enumerate(zip(before.tracks, out.tracks)):
        if i != inst.track:
            assert absolute(a) == absolute(b)
    a, b = before.tracks[inst.track], out.tracks[inst.track]
    ch = inst.channel

    def not_notes(track):
        return [
            (t, msg)
            for t, msg in absolute(track)
            if msg.type != "end_of_track"
            and not (msg.type in ("note_on", "note_off") and msg.channel == ch)
        ]

    def notes(track):  # (program, start, pitch, end tick) of every closed note of the channel
        ticks = [t for t, _ in absolute(track)]
        closed, never = pair_notes(track)
        return sorted((p, s, n, ticks[off]) for p, c, s, n, _, off in closed if c == ch), sorted(
            (s, n) for c, s, n, _ in never if c == ch
        )

    assert not_notes(a) == not_notes(b)  # CCs, bends, programs, meta, SysEx, other channels
    (na, open_a), (nb, open_b) = notes(a), notes(b)
    kept = [x for x in na if not (x[0] == inst.program and lo <= x[1] / res < hi)]
    rest = list(nb)
    for x in kept:
        assert x in rest, f"lost or changed: {x}"
        rest.remove(x)
    assert all(lo <= s / res < hi for _, s, _, _ in rest)  # what is new lies in the range
    assert open_a == open_b
    check_pairs(b) if not open_a else None


def test_two_ranges_of_one_track_written_as_the_song_holds_them():
    """The later range first in the request: its new note of the pitch held
    from the earlier range (which that range's fill replaces) is written,
    as front.apply_response has it, not cut by the note going away."""
    from midifill.model.generation import front
    from midifill.model.midi_patch import patch_variation

    data = build(
        [
            [
                (0, m("program_change", channel=0, program=5)),
                (960, m("note_on", channel=0, note=60, velocity=90)),
                (2880, m("note_off", channel=0, note=60, velocity=0)),
                (4320, m("note_on", channel=0, note=67, velocity=90)),
                (4800, m("note_off", channel=0, note=67, velocity=0)),
            ]
        ]
    )
    song = read_midi_bytes(data)
    request = front.build_targets_request(song, [("0", (2, 2)), ("0", (1, 1))], "fill", {})
    variation = {
        "targets": [
            dict(request["targets"][0], notes=[[60, 4.5, 1.0, 80]]),
            dict(request["targets"][1], notes=[[64, 0.0, 1.0, 80]]),
        ]
    }
    out, written = patch_variation(data, song, request, variation)
    assert [[n.pitch for n in notes] for notes in written] == [[60], [64]]
    (heard,) = front.apply_response(song, request, {"variations": [variation]})
    got = read_midi_bytes(out).tracks[0]
    assert got.program == 5
    assert (
        [(n.pitch, n.start, n.end) for n in got.sorted_notes()]
        == [(n.pitch, n.start, n.end) for n in heard.track("0").sorted_notes()]
        == [(64, 0.0, 1.0), (60, 4.5, 5.5), (67, 9.0, 10.0)]
    )
