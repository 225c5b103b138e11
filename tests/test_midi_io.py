"""MIDI files in and out through the tick grid."""

import pytest

from midifill.model.errors import MidiFileError
from midifill.model.midi_io import read_midi, write_midi


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
