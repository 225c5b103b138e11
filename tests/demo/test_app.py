"""The Gradio demo through gradio_client, against the launched app with a real
(tiny) model, real MIDI files, FluidSynth and the effects chain."""

import re
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.support import IN_CI, ROOT, require_module

gradio_client = require_module("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from midifill.demo.render import SAMPLE_RATE, read_wav, synth_available  # noqa: E402
from midifill.model.midi_io import read_midi  # noqa: E402

EXAMPLE = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"
CEILING = 10 ** (-1.0 / 20)  # the documented -1 dBFS limiter ceiling
LSB = 1 / 32767  # 16-bit WAV rounding


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client(tiny_checkpoint):
    ok, why = synth_available()
    if not ok:
        if IN_CI:
            pytest.fail(f"FluidSynth is required under CI: {why}")
        pytest.skip(why)
    from midifill.demo import app
    from midifill.model import Engine

    port = free_port()
    app.launch(port=port, engine=Engine.from_checkpoint(tiny_checkpoint), block=False)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        app.demo.close()


def notes_of(song, track_id, inside, start, end):
    notes = next(t for t in song.tracks if t.id == track_id).notes
    keep = [n for n in notes if (start <= n.start < end) == inside]
    return sorted((n.pitch, round(n.start, 4), round(n.duration, 4), n.velocity) for n in keep)


def test_describe_lists_the_tracks(client):
    table, target, first, last, info = client.predict(
        handle_file(str(EXAMPLE)), api_name="/describe"
    )
    rows = table["data"]
    assert [r[1] for r in rows] == ["Drums", "Bass", "Chords", "Lead"]
    assert rows[1][2] == "Electric Bass (finger)" and rows[3][3] == 35 and rows[0][4] == "1-8"
    assert target["value"] == ["3"] and 1 <= first <= last <= 8
    assert "8 bars" in info


def test_fill_two_variations_changes_only_the_target_range(client):
    result = client.predict(
        midi=handle_file(str(EXAMPLE)),
        mode="fill",
        target="3",
        bar_start=5,
        bar_end=6,
        variations=2,
        seed=11,
        api_name="/generate",
    )
    summary, slots = result[0], [result[1 + 3 * i : 4 + 3 * i] for i in range(4)]
    assert "**2 variations** of Lead, bars 5-6 (fill)" in summary
    assert "seed **11**." in summary  # typed in: no "drawn" note
    assert all(x is None for slot in slots[2:] for x in slot)  # unused slots stay empty
    start, end = 16.0, 24.0  # bars 5-6 of a 4/4 song
    original = read_midi(EXAMPLE)
    songs = []
    for roll, wav, downloads in slots[:2]:
        assert Path(roll).suffix == ".png" and Path(roll).stat().st_size > 10_000
        assert len(downloads) == 1  # the .wav is the player's, not listed twice
        mid = next(p for p in downloads if p.endswith(".mid"))
        assert wav.endswith(".wav")
        song = read_midi(mid)
        songs.append(song)
        # everything outside the target range, on every track, is the original
        assert [t.id for t in song.tracks] == [t.id for t in original.tracks]
        for t in original.tracks:
            if t.id == "3":
                assert notes_of(song, "3", False, start, end) == notes_of(
                    original, "3", False, start, end
                )
            else:
                assert notes_of(song, t.id, False, -1, -1) == notes_of(
                    original, t.id, False, -1, -1
                )
        # the audio: 44.1 kHz stereo, not silent, under the limiter's ceiling
        audio, sr = read_wav(wav)
        assert sr == SAMPLE_RATE == 44100 and audio.shape[0] == 2
        # bars 3-8 (the fill and 2 bars each side; 13.1 s at 110 bpm), the release and tail
        assert 13 * SAMPLE_RATE < audio.shape[1] < 17 * SAMPLE_RATE
        assert np.sqrt(np.mean(audio**2)) > 0.01
        assert np.max(np.abs(audio)) <= CEILING + LSB
    # the two variations differ, and only inside the target range of the target track
    assert notes_of(songs[0], "3", True, start, end) != notes_of(songs[1], "3", True, start, end)
    for t in original.tracks:
        lo, hi = (start, end) if t.id == "3" else (-1, -1)  # (-1, -1): every note is outside
        assert notes_of(songs[0], t.id, False, lo, hi) == notes_of(songs[1], t.id, False, lo, hi)


def test_several_tracks_are_filled_in_one_run(client):
    """Drums and bass over bars 5-6 (issue 31): the summary names both and the
    order they were written in; each variation's download holds both fills,
    as many notes as the summary says, and nothing outside the range changes."""
    result = client.predict(
        midi=handle_file(str(EXAMPLE)),
        target=["1", "0"],
        bar_start=5,
        bar_end=6,
        variations=2,
        seed=5,
        api_name="/generate",
    )
    summary, slots = result[0], [result[1 + 3 * i : 4 + 3 * i] for i in range(2)]
    assert "**2 variations** of Bass and Drums, written in the order Drums \u2192 Bass" in summary
    counts = re.search(
        r"Notes written: 1 Bass (\d+), Drums (\d+); 2 Bass (\d+), Drums (\d+)\.", summary
    )
    assert counts, summary
    start, end = 16.0, 24.0
    original = read_midi(EXAMPLE)
    inside = []
    for k, (roll, wav, downloads) in enumerate(slots):
        assert Path(roll).stat().st_size > 10_000 and wav.endswith(".wav")
        song = read_midi(downloads[0])
        assert [t.id for t in song.tracks] == [t.id for t in original.tracks]
        for t in original.tracks:
            lo, hi = (start, end) if t.id in ("0", "1") else (-1, -1)
            assert notes_of(song, t.id, False, lo, hi) == notes_of(original, t.id, False, lo, hi)
        bass, drums = (notes_of(song, i, True, start, end) for i in ("1", "0"))
        assert (len(bass), len(drums)) == (int(counts[2 * k + 1]), int(counts[2 * k + 2]))
        inside.append((bass, drums))
    assert inside[0] != inside[1]


def test_a_new_track_is_added_with_the_chosen_instrument(client):
    result = client.predict(
        midi=handle_file(str(EXAMPLE)),
        target="new",
        new_instrument="33",
        bar_start=1,
        bar_end=2,
        variations=1,
        seed=3,
        api_name="/generate",
    )
    mid = next(p for p in result[3] if p.endswith(".mid"))
    song = read_midi(mid)
    assert len(song.tracks) == 5
    new = song.tracks[-1]
    assert new.program == 33 and not new.is_drum
    assert all(0.0 <= n.start < 8.0 for n in new.notes)


@pytest.mark.parametrize(
    "case, kwargs, message",
    [
        ("not midi", {"content": b"this is a text file, not MIDI\n"}, "not a MIDI file"),
        ("empty", {"content": b""}, "empty"),
        # refused before it is stored: the server's max_file_size, which gradio_client
        # also reads and checks before sending (tests/demo/test_app_api.py: the 413)
        ("too big", {"content": b"MThd" + b"\0" * (2 * 1024 * 1024 + 10)}, "maximum file size"),
        ("bars out of range", {"bar_start": 5, "bar_end": 40}, "out of range"),
        ("bars reversed", {"bar_start": 6, "bar_end": 2}, "out of range"),
        ("no such track", {"target": "7"}, "does not exist"),
        ("pitch range upside down", {"pitch_range": "90-40"}, "Pitch range"),
    ],
)
def test_bad_input_is_explained_and_the_app_keeps_running(client, tmp_path, case, kwargs, message):
    content = kwargs.pop("content", None)
    path = EXAMPLE
    if content is not None:
        path = tmp_path / "upload.mid"
        path.write_bytes(content)
    args = dict(
        midi=handle_file(str(path)), target="3", bar_start=1, bar_end=1, variations=1, seed=1
    )
    args.update(kwargs)
    with pytest.raises((AppError, ValueError), match=message):
        client.predict(**args, api_name="/generate")
    # the same server still answers
    table = client.predict(handle_file(str(EXAMPLE)), api_name="/describe")[0]
    assert len(table["data"]) == 4


def test_bad_upload_is_refused_when_the_file_is_chosen(client, tmp_path):
    path = tmp_path / "notes.mid"
    path.write_bytes(b"MThd garbage that is not a MIDI header")
    with pytest.raises(AppError, match="cannot be used"):
        client.predict(handle_file(str(path)), api_name="/describe")


def test_the_queue_serves_several_visitors(client):
    jobs = [
        client.submit(
            midi=handle_file(str(EXAMPLE)),
            mode=mode,
            target="1",
            bar_start=a,
            bar_end=b,
            variations=1,
            seed=5,
            api_name="/generate",
        )
        for mode, a, b in [("fill", 2, 2), ("continue", 9, 9), ("generate", 1, 1)]
    ]
    results = [j.result(timeout=240) for j in jobs]
    for r, mode in zip(results, ["fill", "continue", "generate"]):
        assert f"({mode})" in r[0]
        assert read_wav(r[2])[1] == SAMPLE_RATE
    # the continuation reaches past the original 8 bars only inside bar 9
    song = read_midi(next(p for p in results[1][3] if p.endswith(".mid")))
    bass = next(t for t in song.tracks if t.id == "1")
    assert all(n.start < 36.0 for n in bass.notes)


def test_a_fill_may_run_past_the_end_of_the_song(client):
    # extending an 8-bar loop: bars 7-10 are beats 24-40, half of them new
    result = client.predict(
        midi=handle_file(str(EXAMPLE)),
        mode="fill",
        target="1",
        bar_start=7,
        bar_end=10,
        variations=1,
        seed=2,
        harmony=0.0,
        api_name="/generate",
    )
    assert "of Bass, bars 7-10 (fill)" in result[0]
    song, original = read_midi(next(p for p in result[3] if p.endswith(".mid"))), read_midi(EXAMPLE)
    assert notes_of(song, "1", False, 24.0, 40.0) == notes_of(original, "1", False, 24.0, 40.0)
    assert notes_of(song, "1", True, 24.0, 40.0)
    assert all(n.end <= 40.0 + 1e-6 for n in song.track("1").notes)


def test_the_download_keeps_every_event_of_the_upload(client, tmp_path):
    """Issue 30 item 1 through the page: a file with CCs, bends, a program,
    markers, a key signature, tracks on channels 3 and 10 and 480 ticks a
    beat comes back as it was but for the Keys track's notes in bars 3-4."""
    import mido

    from tests.support import rich_midi

    path = tmp_path / "rich.mid"
    rich_midi.build(path)
    table = client.predict(handle_file(str(path)), api_name="/describe")[0]["data"]
    keys = next(row[0] for row in table if row[1] == "Keys")
    result = client.predict(
        midi=handle_file(str(path)),
        target=keys,
        bar_start=3,
        bar_end=4,
        variations=2,
        seed=4,
        api_name="/generate",
    )
    assert "of Keys, bars 3-4 (fill)" in result[0]
    tpb = rich_midi.TPB
    for downloads in (result[3], result[6]):
        written = mido.MidiFile(downloads[0])
        inside = rich_midi.assert_only_the_fill_changed(
            mido.MidiFile(path), written, 1, 8 * tpb, 16 * tpb
        )
        assert all(channel == 2 for _, _, channel, _, _ in inside)


def test_an_example_download_is_the_example_file_but_the_fill(client):
    """The bundled examples take the same path: every track chunk but the
    target's is the example's own bytes."""
    from midifill.model.midi_patch import _chunks

    result = client.predict(
        midi=handle_file(str(EXAMPLE)),
        target="1",
        bar_start=2,
        bar_end=3,
        variations=1,
        api_name="/generate",
    )
    header, chunks = _chunks(EXAMPLE.read_bytes())
    out_header, out_chunks = _chunks(Path(result[3][0]).read_bytes())
    assert out_header == header and len(out_chunks) == len(chunks)
    assert sum(a != b for a, b in zip(chunks, out_chunks)) <= 1
    # no seed typed: one was drawn, and the summary shows it to type in
    assert re.search(r"seed \*\*\d+\*\* \(drawn for this run", result[0])


def test_a_run_without_a_seed_draws_a_new_one_each_time(client):
    seeds = set()
    for _ in range(3):
        summary = client.predict(
            midi=handle_file(str(EXAMPLE)),
            target="1",
            bar_start=2,
            bar_end=2,
            variations=1,
            api_name="/generate",
        )[0]
        seeds.add(re.search(r"seed \*\*(\d+)\*\*", summary).group(1))
    assert len(seeds) == 3
