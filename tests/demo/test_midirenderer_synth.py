"""The demo's wheel synthesizer (demo/midirenderer_synth.py): the SoundFont
player a pip-only install on macOS and Windows gets, held against FluidSynth
where both exist."""

import io

import mido
import numpy as np
import pytest

from tests.support import ROOT, require_module

require_module("midirenderer")

from midifill.demo import midirenderer_synth as ms  # noqa: E402
from midifill.demo import render  # noqa: E402
from midifill.model.midi_io import read_midi  # noqa: E402

POP = ROOT / "demo" / "examples" / "pop_c_major_8_bars.mid"


def test_resample_keeps_a_tone_and_the_duration():
    t = np.arange(48000 * 2) / 48000
    tone = np.stack([np.sin(2 * np.pi * 1000 * t), 0.5 * np.sin(2 * np.pi * 440 * t)])
    out = ms.resample(tone.astype(np.float32), 48000, 44100)
    assert out.shape == (2, 88200) and out.dtype == np.float32
    for ch, hz, amp in ((0, 1000, 1.0), (1, 440, 0.5)):
        spectrum = np.abs(np.fft.rfft(out[ch]))
        assert abs(np.argmax(spectrum) * 44100 / out.shape[1] - hz) < 1.0
        assert abs(np.max(np.abs(out[ch, 4410:-4410])) - amp) < 0.01


def test_the_midi_file_lasts_past_the_last_note_by_the_tail():
    song = read_midi(POP)
    plain = mido.MidiFile(file=io.BytesIO(ms.midi_bytes(song, 0.0))).length
    tailed = mido.MidiFile(file=io.BytesIO(ms.midi_bytes(song, 1.0))).length
    assert tailed == pytest.approx(plain + 1.0, abs=0.01)


def test_midirenderer_plays_the_song_as_fluidsynth_does(monkeypatch):
    pyloudnorm = require_module("pyloudnorm")
    song = read_midi(POP)
    monkeypatch.setenv(render.SYNTH_ENV, "midirenderer")
    assert render.synth_name() == "midirenderer"
    seen = []
    wheel = render.render_song(song, progress=seen.append)
    assert wheel.shape[0] == 2 and wheel.dtype == np.float32 and seen[-1] == 1.0
    assert 0.05 < np.abs(wheel).max() < 1.0
    # the last second is the tail: releases fade, nothing is cut off
    tail = wheel[:, -render.SAMPLE_RATE // 10 :]
    assert np.sqrt(np.mean(tail**2)) < 0.01
    monkeypatch.setenv(render.SYNTH_ENV, "fluidsynth")
    ok, why = render.synth_available()
    if not ok:
        pytest.skip(f"no FluidSynth to compare with: {why}")
    fluid = render.render_song(song)
    assert abs(wheel.shape[1] - fluid.shape[1]) <= 2
    meter = pyloudnorm.Meter(render.SAMPLE_RATE)
    lufs = [meter.integrated_loudness(a.T) for a in (wheel, fluid)]
    assert abs(lufs[0] - lufs[1]) < 1.0, lufs


def test_an_unknown_synth_is_one_clear_refusal(monkeypatch):
    monkeypatch.setenv(render.SYNTH_ENV, "timidity")
    ok, why = render.synth_available()
    assert not ok and "MIDIFILL_SYNTH" in why and "midirenderer" in why
