"""The demo's second synthesizer: `midirenderer`, a wheel on Linux, macOS and
Windows (a Rust SoundFont player; nothing to install from the system), for
machines without libfluidsynth. demo/render.py uses it when FluidSynth cannot
be loaded, or when MIDIFILL_SYNTH=midirenderer asks for it.

It plays the same SoundFont (pretty_midi's TimGM6mb.sf2) from a Standard MIDI
File of the song, always at 48 kHz; the audio is resampled here to the
demo's rate with a band-limited (FFT) resampler and brought to FluidSynth's
level. Compared with FluidSynth on the pop example (measured when this was
written): integrated loudness within 0.2 LU after the gain below, band
levels within 1-4 dB from 50 Hz to 16 kHz (a little duller above 800 Hz),
loudness envelopes correlated 0.94. midirenderer offers no switch for its
reverb and chorus and no progress while it renders (it renders the whole
song in one call, about 0.3 s for 17 s of four tracks).
"""

from __future__ import annotations

import io
import math
import wave

import mido
import numpy as np

from midifill.model.midi_io import song_to_midifile
from midifill.model.song import Song

RENDER_RATE = 48000  # what midirenderer writes, whatever is asked
# brings midirenderer's level to FluidSynth's at render.SYNTH_GAIN: measured
# on the three demo examples, midirenderer was 1.5 LU louder
LEVEL = 0.84


def load():
    """The midirenderer module, or ImportError."""
    import midirenderer

    if not hasattr(midirenderer, "render_wave_from"):
        raise ImportError("the `midirenderer` module found has no render_wave_from")
    return midirenderer


def midi_bytes(song: Song, tail_seconds: float) -> bytes:
    """The song as a Standard MIDI File with a marker `tail_seconds` after
    its last event, so the renderer lets the releases ring out."""
    mf = song_to_midifile(song)
    tempo = 500000  # the tempo in force at the end, for the tail's ticks
    for msg in mido.merge_tracks(mf.tracks):
        if msg.type == "set_tempo":
            tempo = msg.tempo
    tail = int(round(tail_seconds * 1e6 / tempo * mf.ticks_per_beat))
    song_end = max(sum(msg.time for msg in track) for track in mf.tracks)
    conductor = mf.tracks[0]
    if conductor and conductor[-1].type == "end_of_track":
        conductor.pop()
    here = sum(msg.time for msg in conductor)
    conductor.append(mido.MetaMessage("marker", text="tail", time=song_end + tail - here))
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def _smooth(n: int) -> int:
    """The smallest 2^a 3^b 5^c at least n (a length the FFT is quick for)."""
    best, p2 = None, 1
    while p2 < 2 * n:
        p3 = p2
        while p3 < 2 * n:
            p5 = p3
            while p5 < n:
                p5 *= 5
            best = p5 if best is None else min(best, p5)
            p3 *= 3
        p2 *= 2
    return best


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """(channels, frames) audio at `rate_out`, band-limited through the FFT.
    The input is padded with silence to a length the FFT is quick for and
    whose output length is whole (the song ends in silence, so neither the
    padding nor the transform's wrap-around is heard)."""
    if rate_in == rate_out or audio.shape[-1] == 0:
        return audio.astype(np.float32)
    n_in = audio.shape[-1]
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    blocks = _smooth(-(-n_in // down))
    padded = np.zeros(audio.shape[:-1] + (blocks * down,), np.float64)
    padded[..., :n_in] = audio
    spectrum = np.fft.rfft(padded, axis=-1)
    keep = min(spectrum.shape[-1], blocks * up // 2 + 1)
    out = np.fft.irfft(spectrum[..., :keep], blocks * up, axis=-1) * (up / down)
    return out[..., : int(round(n_in * up / down))].astype(np.float32)


def render(song: Song, soundfont: bytes, sample_rate: int, tail_seconds: float) -> np.ndarray:
    """The song as (2, frames) float32 at `sample_rate`."""
    midirenderer = load()
    data = midirenderer.render_wave_from(soundfont, midi_bytes(song, tail_seconds))
    with wave.open(io.BytesIO(data), "rb") as wf:
        rate, nch, width = wf.getframerate(), wf.getnchannels(), wf.getsampwidth()
        if width != 2:
            raise RuntimeError(f"midirenderer wrote {8 * width}-bit audio, expected 16-bit")
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), "<i2")
    audio = pcm.reshape(-1, nch).T.astype(np.float32) / 32768.0
    if nch == 1:
        audio = np.repeat(audio, 2, axis=0)
    return np.ascontiguousarray(resample(audio, rate, sample_rate) * LEVEL)
