"""MIDI files in and out through the tick grid.

MIDI files built to be expensive or broken: each is refused by read_midi
from a scan of its bytes before pretty_midi parses it, in well under 2 s,
with a sentence naming the file and the problem (issue 15).

Round trips compare everything they promise to keep, not pitch and start
alone: durations, velocities, programs, drum flags, names, tempo changes and
time signatures, through the tokenizer and through a MIDI file."""

import io
import os
import random
import time

import mido
import pytest

from midifill.model.errors import MidiFileError, MidiLimitError
from midifill.model.midi_io import MAX_FILE_BYTES, read_midi, scan_midi, write_midi
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Song, TempoChange, TimeSignature, Track


def test_reads_multitrack_with_drums_and_tempo_change(fixtures_dir):
    song = read_midi(fixtures_dir / "pop_4-4_tempo_change.mid")
    assert [t.name for t in song.tracks] == ["drums", "bass", "keys", "flute"]
    assert song.tracks[0].is_drum and not song.tracks[1].is_drum
    assert song.tracks[1].program == 33
    assert [(t.beat, t.bpm) for t in song.tempos] == [(0.0, 110.0), (16.0, 128.0)]
    # positions come from ticks: a note after the tempo change is still on its beat
    assert {n.start for n in song.tracks[1].notes if n.start >= 16} >= {16.0, 17.5, 18.0, 19.0}


def test_time_signature_changes_and_triplets(fixtures_dir):
    jig = read_midi(fixtures_dir / "jig_6-8.mid")
    assert [(s.beat, s.numerator, s.denominator) for s in jig.time_signatures] == [
        (0.0, 6, 8),
        (24.0, 12, 8),
    ]
    assert [b.beats for b in jig.bars()] == [3.0] * 8 + [6.0] * 2
    waltz = read_midi(fixtures_dir / "waltz_3-4.mid")
    starts = sorted(n.start for n in waltz.tracks[2].notes)[:5]
    assert starts == pytest.approx([0, 1, 4 / 3, 5 / 3, 2], abs=1 / 960)


def test_empty_file_gives_an_empty_song(fixtures_dir):
    song = read_midi(fixtures_dir / "empty.mid")
    assert song.tracks == [] and song.end_beat == 0


@pytest.mark.parametrize(
    "name, words", [("corrupt.mid", "corrupt"), ("not_midi.mid", "not a MIDI file")]
)
def test_bad_files_raise_clear_errors(fixtures_dir, name, words):
    with pytest.raises(MidiFileError, match=words):
        read_midi(fixtures_dir / name)


def test_zero_byte_and_missing_files(tmp_path):
    (tmp_path / "zero.mid").write_bytes(b"")
    with pytest.raises(MidiFileError, match="empty"):
        read_midi(tmp_path / "zero.mid")
    with pytest.raises(MidiFileError, match="no such file"):
        read_midi(tmp_path / "missing.mid")


def test_write_and_read_back(fixtures_dir, tmp_path):
    song = read_midi(fixtures_dir / "jig_6-8.mid")
    out = write_midi(song, tmp_path / "again.mid")
    again = read_midi(out)
    assert [(n.pitch, n.start, n.duration) for n in again.tracks[1].notes] == [
        (n.pitch, n.start, n.duration) for n in song.tracks[1].notes
    ]
    assert again.time_signatures == song.time_signatures
    assert not list(tmp_path.glob(".tmp-*"))  # nothing half-written left behind


def test_one_channel_assignment_for_files_and_the_synth():
    from types import SimpleNamespace

    from midifill.model.midi_io import DRUM_CHANNEL, track_channels

    tracks = [SimpleNamespace(is_drum=d) for d in [False] * 9 + [True] + [False] * 7 + [True]]
    chans = track_channels(tracks)
    assert chans[9] == chans[-1] == DRUM_CHANNEL
    pitched = [c for c, t in zip(chans, tracks) if not t.is_drum]
    assert pitched == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 0]  # skips 9, wraps at 16
    assert track_channels(tracks, 64)[-2] == 16  # the synth has more channels before it wraps


def smf(events, ppq=96, tracks=None):
    """A one-track file from (delta, message) pairs, through mido."""
    mf = mido.MidiFile(ticks_per_beat=ppq)
    for track_events in tracks or [events]:
        track = mido.MidiTrack()
        for delta, msg in track_events:
            track.append(msg.copy(time=delta))
        mf.tracks.append(track)
    out = io.BytesIO()
    mf.save(file=out)
    return out.getvalue()


def note(delta=0, length=48, pitch=60):
    return [
        (delta, mido.Message("note_on", note=pitch, velocity=90)),
        (length, mido.Message("note_off", note=pitch, velocity=0)),
    ]


def time_signature(num, den_power):
    data = smf(
        [(0, mido.MetaMessage("time_signature", numerator=num, denominator=4))] + note(0, 96 * 40)
    )
    i = data.index(b"\xff\x58\x04")
    return data[: i + 3] + bytes([num, den_power]) + data[i + 5 :]


def refused(tmp_path, data, words, kind=MidiFileError):
    path = tmp_path / "x.mid"
    path.write_bytes(data)
    started = time.perf_counter()
    with pytest.raises(kind) as err:
        read_midi(path)
    assert time.perf_counter() - started < 2.0
    assert str(path) in str(err.value) and words in str(err.value), str(err.value)


@pytest.mark.hostile
@pytest.mark.parametrize(
    "make, words, kind",
    [
        (lambda: smf(note(9_999_990), ppq=1), "read up to tick 4,000,000", MidiLimitError),
        (lambda: smf(note(3_000_000), ppq=480), "the limit is 1,024 bars", MidiLimitError),
        (lambda: time_signature(1, 40), "the limit is 1,024 bars", MidiLimitError),  # 2**40
        (lambda: time_signature(1, 255), "the limit is 1,024 bars", MidiLimitError),
        (
            lambda: smf([e for i in range(50_001) for e in note(0, 1)]),
            "50,000 notes",
            MidiLimitError,
        ),
        (
            lambda: smf(
                [
                    (0, mido.Message("control_change", control=1, value=i % 128))
                    for i in range(200_001)
                ]
            ),
            "200,000 events",
            MidiLimitError,
        ),
        (lambda: b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\x00\x60", "no tracks", MidiFileError),
        (
            lambda: b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\xe7\x28" + smf(note())[14:],
            "SMPTE",
            MidiFileError,
        ),
        (lambda: smf(note())[:-5], "ends in the middle of an event", MidiFileError),
        (
            lambda: b"MThd\x00\x00\x00\x06\x00\x00\x00\x02\x00\x60" + smf(note())[14:],
            "declares 2 tracks",
            MidiFileError,
        ),
        (lambda: b"MThd\x00\x00", "header chunk is cut short", MidiFileError),
        (
            lambda: b"MThd" + b"\x00" * (MAX_FILE_BYTES + 1),
            "bytes; MIDI files are read up to",
            MidiLimitError,
        ),
    ],
)
def test_expensive_and_broken_files_are_refused_before_parsing(tmp_path, make, words, kind):
    refused(tmp_path, make(), words, kind)


@pytest.mark.hostile
def test_paths_that_are_not_files(tmp_path):
    with pytest.raises(MidiFileError, match="is a folder"):
        read_midi(tmp_path)
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    with pytest.raises(MidiFileError, match="not a regular file"):
        read_midi(fifo)  # reading it would wait forever


@pytest.mark.hostile
def test_the_scan_counts_what_mido_reads(fixtures_dir):
    """Every fixture and 300 mutations of them: where mido reads the bytes,
    the scan counts the same notes, last tick and tracks."""
    rng = random.Random(3)
    seeds = [f.read_bytes() for f in sorted(fixtures_dir.glob("*.mid"))]
    checked = 0
    for k in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(k and rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            mf = mido.MidiFile(file=io.BytesIO(bytes(data)))
            facts = scan_midi(bytes(data))
        except Exception:  # either refused: compared only where both read it
            continue
        notes = sum(m.type == "note_on" and m.velocity > 0 for t in mf.tracks for m in t)
        last = max(sum(m.time for m in t) for t in mf.tracks)
        assert (facts.notes, facts.last_tick, facts.tracks) == (notes, last, len(mf.tracks))
        checked += 1
    assert checked > 30


@pytest.mark.hostile
def test_file_limits_are_the_engine_limits():
    from midifill.model import midi_io
    from midifill.model.generation.request import LIMITS

    assert (midi_io.MAX_NOTES, midi_io.MAX_BARS) == (LIMITS["notes"], LIMITS["bars"])


@pytest.mark.hostile
def test_a_delta_time_that_never_ends_is_a_corrupt_file(tmp_path):
    """5 KB of continuation bytes once raised ValueError (an int too long to
    print) while the limit's message was written (issue 30)."""
    body = b"\x80" * 5000 + b"\x00\x90\x3c\x40"
    data = (
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0"
        + b"MTrk"
        + len(body).to_bytes(4, "big")
        + body
    )
    path = tmp_path / "endless.mid"
    path.write_bytes(data)
    with pytest.raises(MidiFileError, match="longer than 4 bytes"):
        read_midi(path)


TOK = Tokenizer()
FIXTURES = ("pop_4-4_tempo_change.mid", "waltz_3-4.mid", "jig_6-8.mid")


def expected_tokens_notes(track):
    """What the tokenizer promises to bring back of a track: notes on the
    tick grid, one per (position, pitch) (the longest), durations 1 tick to
    16 beats (a drum hit: a 16th), velocities at the middle of their bin."""
    kept = {}
    for n in track.notes:
        t = TOK.to_tick(n.start)
        dur = min(TOK.max_dur, max(1, TOK.to_tick(n.end) - t))
        key = (t, n.pitch)
        if key not in kept or kept[key][0] < dur:
            kept[key] = (dur, TOK.bin_velocity(TOK.velocity_bin(n.velocity)))
    return sorted(
        (t, p, TOK.drum_ticks if track.is_drum else d, v) for (t, p), (d, v) in kept.items()
    )


def ticks(notes):
    return sorted(
        (round(n.start * TOK.tpb), n.pitch, round(n.duration * TOK.tpb), n.velocity) for n in notes
    )


@pytest.mark.promise
@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_tokens_round_trip_keeps_every_field(fixtures_dir, name):
    song = read_midi(fixtures_dir / name)
    bars = song.bars()
    tracks = TOK.decode_song(TOK.encode_song(song, bars), bars)
    assert len(tracks) == len(song.tracks)
    for a, b in zip(song.tracks, tracks):
        assert (b.program, b.is_drum) == (0 if a.is_drum else a.program, a.is_drum), name
        assert ticks(b.notes) == expected_tokens_notes(a), (name, a.id)
    # the fixtures are real tests of this: several programs, drums, velocities, lengths
    assert len({t.program for t in song.tracks}) >= 2
    assert len({n.velocity for t in song.tracks for n in t.notes}) >= 3
    assert len({round(n.duration, 3) for t in song.tracks for n in t.notes}) >= 2


@pytest.mark.promise
def test_velocity_bins_hold_their_middle_and_cover_1_to_127():
    assert TOK.velocity_bin(1) == 0 and TOK.velocity_bin(127) == TOK.config.velocity_bins - 1
    assert TOK.velocity_bin(0) == 0 and TOK.velocity_bin(200) == TOK.config.velocity_bins - 1
    width = 127 / TOK.config.velocity_bins
    for b in range(TOK.config.velocity_bins):
        mid = TOK.bin_velocity(b)
        assert 1 <= mid <= 127 and TOK.velocity_bin(mid) == b, b
    for v in range(1, 128):
        assert abs(TOK.bin_velocity(TOK.velocity_bin(v)) - v) <= width / 2 + 1, v
    bins = [TOK.velocity_bin(v) for v in range(1, 128)]
    assert bins == sorted(bins) and set(bins) == set(range(TOK.config.velocity_bins))


@pytest.mark.promise
@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_midi_round_trip_keeps_every_field(fixtures_dir, tmp_path, name):
    song = read_midi(fixtures_dir / name)
    again = read_midi(write_midi(song, tmp_path / name))
    assert [(t.program, t.is_drum, t.name) for t in again.tracks] == [
        (t.program, t.is_drum, t.name) for t in song.tracks
    ]
    for a, b in zip(song.tracks, again.tracks):
        assert [(n.pitch, n.start, n.duration, n.velocity) for n in b.sorted_notes()] == [
            (n.pitch, n.start, n.duration, n.velocity) for n in a.sorted_notes()
        ], (name, a.id)
    assert again.tempos == song.tempos
    assert again.time_signatures == song.time_signatures


@pytest.mark.promise
def test_a_written_song_keeps_tempo_changes_signatures_and_edge_values(tmp_path):
    song = Song(
        [
            Track(
                "0",
                81,
                False,
                [Note(0, 0.0, 0.5, 1), Note(127, 3.25, 10.0, 127), Note(60, 3.25, 0.125, 64)],
                "lead",
            ),
            Track("1", 0, True, [Note(36, 1.0, 0.25, 100), Note(42, 1.5, 0.25, 50)], "kit"),
            Track("2", 127, False, [Note(40, 0.5, 2.0, 90)], ""),
        ],
        [TimeSignature(0.0, 4, 4), TimeSignature(8.0, 7, 8), TimeSignature(11.5, 3, 4)],
        [TempoChange(0.0, 97.5), TempoChange(6.0, 140.0), TempoChange(12.0, 60.0)],
    )
    again = read_midi(write_midi(song, tmp_path / "edge.mid"))
    assert again.tempos == song.tempos
    assert again.time_signatures == song.time_signatures
    assert [(t.program, t.is_drum) for t in again.tracks] == [(81, False), (0, True), (127, False)]
    assert [t.name for t in again.tracks][:2] == ["lead", "kit"]
    for a, b in zip(song.tracks, again.tracks):
        assert [(n.pitch, n.start, n.duration, n.velocity) for n in b.sorted_notes()] == [
            (n.pitch, n.start, n.duration, n.velocity) for n in a.sorted_notes()
        ]
