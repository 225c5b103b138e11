"""Round trips compare everything they promise to keep, not pitch and start
alone: durations, velocities, programs, drum flags, names, tempo changes and
time signatures, through the tokenizer and through a MIDI file."""

import pytest

from midifill.model.midi_io import read_midi, write_midi
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Song, TempoChange, TimeSignature, Track

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
