"""MIDI files built to be expensive or broken: each is refused by read_midi
from a scan of its bytes before pretty_midi parses it, in well under 2 s,
with a sentence naming the file and the problem (issue 15)."""

import io
import os
import random
import time

import mido
import pytest

from midifill.model.errors import MidiFileError, MidiLimitError
from midifill.model.midi_io import MAX_FILE_BYTES, read_midi, scan_midi


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


def test_paths_that_are_not_files(tmp_path):
    with pytest.raises(MidiFileError, match="is a folder"):
        read_midi(tmp_path)
    fifo = tmp_path / "pipe.mid"
    os.mkfifo(fifo)
    with pytest.raises(MidiFileError, match="not a regular file"):
        read_midi(fifo)  # reading it would wait forever


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


def test_file_limits_are_the_engine_limits():
    from midifill.model import midi_io
    from midifill.model.generation.request import LIMITS

    assert (midi_io.MAX_NOTES, midi_io.MAX_BARS) == (LIMITS["notes"], LIMITS["bars"])


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
