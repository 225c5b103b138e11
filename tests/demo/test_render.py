"""SoundFont rendering and the piano roll, with real FluidSynth and real MIDI files."""

import time

import numpy as np
import pytest

from midifill.demo.effects import PRESETS, apply, peak_dbfs
from midifill.demo.render import (
    SAMPLE_RATE,
    beat_to_seconds,
    read_wav,
    render_song,
    soundfont_path,
    synth_available,
    write_wav,
)
from midifill.model.midi_io import read_midi, write_midi
from midifill.model.song import Note, Song, TempoChange, Track
from tests.support import IN_CI, ROOT

EXAMPLES = ROOT / "demo" / "examples"


def require_synth():
    ok, why = synth_available()
    if not ok:
        if IN_CI:
            pytest.fail(f"FluidSynth is required under CI: {why}")
        pytest.skip(why)


@pytest.fixture(autouse=True)
def _synth():
    require_synth()


def onset_seconds(audio, threshold=1e-3):
    loud = np.nonzero(np.max(np.abs(audio), axis=0) > threshold)[0]
    return loud[0] / SAMPLE_RATE if len(loud) else None


def test_soundfont_is_the_one_pretty_midi_ships():
    assert soundfont_path().name == "TimGM6mb.sf2" and soundfont_path().stat().st_size > 1e6


def test_example_renders_every_track_as_stereo_at_the_documented_rate():
    song = read_midi(EXAMPLES / "pop_c_major_8_bars.mid")
    audio = render_song(song)
    seconds = beat_to_seconds(song, song.end_beat)
    assert audio.dtype == np.float32 and audio.shape[0] == 2
    assert audio.shape[1] == pytest.approx((seconds + 1.0) * SAMPLE_RATE, abs=SAMPLE_RATE * 0.05)
    assert np.sqrt(np.mean(audio**2)) > 0.005  # not silent
    assert np.max(np.abs(audio)) < 1.0  # the synth gain leaves headroom
    # each track on its own is audible (drums come from the percussion bank)
    for track in song.tracks:
        alone = Song([track], song.time_signatures, song.tempos)
        assert np.max(np.abs(render_song(alone))) > 0.01, track.name


def test_notes_sound_when_the_tempo_map_says():
    # beat 4 at 120 bpm is 2.0 s; after a change to 60 bpm at beat 4, beat 6 is 2 + 2 = 4.0 s
    song = Song([Track("0", 0, False, [Note(60, 4.0, 1.0, 100)])])
    assert onset_seconds(render_song(song)) == pytest.approx(2.0, abs=0.02)
    song = Song(
        [Track("0", 0, False, [Note(60, 6.0, 1.0, 100)])],
        tempos=[TempoChange(0.0, 120.0), TempoChange(4.0, 60.0)],
    )
    assert beat_to_seconds(song, 6.0) == pytest.approx(4.0)
    assert onset_seconds(render_song(song)) == pytest.approx(4.0, abs=0.02)


def test_instruments_sound_different():
    def spectrum(program):
        song = Song([Track("0", program, False, [Note(60, 0.0, 2.0, 100)])])
        mag = np.abs(np.fft.rfft(render_song(song).mean(axis=0)[:SAMPLE_RATE]))
        return mag / np.linalg.norm(mag)

    piano, flute = spectrum(0), spectrum(73)
    assert float(piano @ flute) < 0.9  # a SoundFont, not one waveform for everything


def test_an_empty_song_renders_a_short_silence():
    audio = render_song(Song([Track("0")]))
    assert audio.shape == (2, SAMPLE_RATE) and not np.any(audio)


def test_wav_round_trip(tmp_path):
    song = read_midi(EXAMPLES / "pop_c_major_8_bars.mid")
    audio = apply(render_song(song), SAMPLE_RATE, PRESETS["room"])
    path = write_wav(audio, tmp_path / "x.wav")
    back, sr = read_wav(path)
    assert sr == SAMPLE_RATE == 44100 and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) < 2 / 32767
    assert peak_dbfs(back) <= -1.0 + 1e-3
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]  # no temporary left behind


def test_thirty_seconds_of_four_tracks_render_and_finish_quickly(tmp_path):
    song = read_midi(EXAMPLES / "groove_e_minor_12_bars.mid")
    assert len(song.tracks) == 4 and 29.5 < beat_to_seconds(song, song.end_beat) < 31
    start = time.perf_counter()
    audio = apply(render_song(song), SAMPLE_RATE, PRESETS["master"])
    write_wav(audio, tmp_path / "groove.wav")
    elapsed = time.perf_counter() - start
    print(f"render + master + write of 30 s, 4 tracks: {elapsed:.2f} s")
    assert elapsed < 30  # generous: a shared 2-core machine; measured about 1 s


def test_pianoroll_highlights_the_generated_notes(tmp_path):
    from matplotlib.image import imread

    from midifill.demo.pianoroll import draw_pianoroll

    song = read_midi(EXAMPLES / "pop_c_major_8_bars.mid")
    new = [Note(79, 16.0 + i, 0.5, 100) for i in range(8)]
    after = song.with_notes_replaced("3", 16.0, 24.0, new)
    path = draw_pianoroll(song, after, "3", 16.0, 24.0, tmp_path / "roll.png", "variation 1")
    img = imread(path)[..., :3]
    orange = (
        (np.abs(img[..., 0] - 1.0) < 0.05)
        & (np.abs(img[..., 1] - 0.498) < 0.05)
        & (img[..., 2] < 0.1)
    )
    rows = np.nonzero(orange.any(axis=1))[0]
    h = img.shape[0]
    # orange appears in the lower ("after") panel and in the legend, never in the upper panel's plot
    assert any(r > h * 0.55 for r in rows)
    assert not orange[int(h * 0.08) : int(h * 0.45), : int(img.shape[1] * 0.85)].any()


def test_written_examples_read_back(tmp_path):
    # the bundled examples are what make_examples composes, byte for byte
    from midifill.demo.make_examples import EXAMPLES as SPECS
    from midifill.demo.make_examples import build_song

    for name, spec in SPECS.items():
        write_midi(build_song(spec), tmp_path / name)
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_audio_follows_the_fill_not_the_song():
    """A few notes in bar 1 and one in bar 1020 (issue 30: 343 MB WAVs, 107 s
    for 4 variations): a fill of bars 1-2 renders bars 1-4 only."""
    from midifill.demo.render import CONTEXT_BARS, excerpt, section

    song = Song(
        [
            Track(
                "0",
                0,
                False,
                [Note(60, 0.0, 1.0, 90), Note(64, 2.0, 1.0, 90), Note(67, 4076.0, 1.0, 90)],
            )
        ]
    )
    a, b, first, last = section(song, 0.0, 8.0)
    assert (a, b, first, last) == (0.0, 16.0, 1, 2 + CONTEXT_BARS)
    t0 = time.perf_counter()
    audio = render_song(excerpt(song, a, b))
    assert time.perf_counter() - t0 < 5.0
    # to the last note-off (beat 3, 1.5 s) and its tail, never to bar 1020
    assert audio.shape[1] == pytest.approx((1.5 + 1.0) * SAMPLE_RATE, abs=SAMPLE_RATE * 0.05)
    # in the middle of a song: context both sides, the note at the excerpt's start on time
    a, b, first, last = section(song, 40.0, 48.0)
    assert (a, b, first, last) == (32.0, 56.0, 9, 14)  # bars 11-12, two each side
    held = Song([Track("0", 0, False, [Note(60, 30.0, 4.0, 90), Note(62, 40.0, 1.0, 90)])])
    cut = excerpt(held, a, b)
    assert [(n.pitch, n.start, n.duration) for n in cut.tracks[0].notes] == [
        (60, 0.0, 2.0),
        (62, 8.0, 1.0),
    ]
    assert onset_seconds(render_song(cut)) == pytest.approx(0.0, abs=0.02)


def test_audio_never_passes_its_cap():
    from midifill.demo.render import MAX_RENDER_SECONDS, excerpt, section

    slow = Song(
        [Track("0", 0, False, [Note(60, float(k), 1.0, 90) for k in range(64)])],
        tempos=[TempoChange(0.0, 20.0)],
    )  # 16 bars at 20 bpm: 192 s
    a, b, _, _ = section(slow, 0.0, 64.0)
    assert float(beat_to_seconds(slow, b)) <= MAX_RENDER_SECONDS - 1.0 + 1e-6
    audio = render_song(excerpt(slow, a, b))
    assert audio.shape[1] <= MAX_RENDER_SECONDS * SAMPLE_RATE
