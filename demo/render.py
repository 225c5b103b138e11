"""Songs to audio with a real General MIDI SoundFont.

The synthesizer is FluidSynth, reached through PyPI's `pyfluidsynth` (module
`fluidsynth`, a ctypes binding to the system's libfluidsynth: Debian
`libfluidsynth3`, Homebrew `fluid-synth`); where that library is missing,
`midirenderer` (a wheel on every OS: demo/midirenderer_synth.py) plays the
same SoundFont, and MIDIFILL_SYNTH chooses one of them. FluidSynth is the reference SF2
player; the SoundFont is the TimGM6mb.sf2 that `pretty_midi` ships, so nothing
is downloaded. Output is float32 stereo at SAMPLE_RATE, with FluidSynth's own
reverb and chorus off: all colouring happens in demo/effects.py, so the "dry"
preset really is the bare instruments.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from midifill.model.files import atomic_path
from midifill.model.midi_io import track_channels
from midifill.model.song import Note, Song, TempoChange, TimeSignature, Track

SAMPLE_RATE = 44100  # Hz; every WAV the demo writes uses it
TAIL_SECONDS = 1.0  # rendered after the last note-off so releases ring out
SYNTH_GAIN = 0.4  # FluidSynth's master gain; leaves headroom for dense four-track songs
DRUM_BANK = 128  # the SF2 percussion bank
BLOCK = 4096  # frames per call when nothing happens in between
SYNTH_CHANNELS = 64  # FluidSynth's channels: a song's tracks rarely need to share one
CONTEXT_BARS = 2  # bars rendered before and after the fill, so it is heard in place
MAX_RENDER_SECONDS = 90.0  # the most audio one variation renders, tail included


class SynthUnavailable(RuntimeError):
    """The SoundFont synthesizer cannot run on this machine (says what to install)."""


def soundfont_path() -> Path:
    """pretty_midi's bundled General MIDI SoundFont."""
    import pretty_midi

    return Path(os.path.dirname(pretty_midi.__file__)) / "TimGM6mb.sf2"


def _load_fluidsynth():
    try:
        import fluidsynth  # pyfluidsynth
    except ImportError as exc:
        # pyfluidsynth raises ImportError both when it is absent and when it
        # cannot find libfluidsynth; name both fixes.
        raise SynthUnavailable(
            "FluidSynth is not available: install the Python binding with "
            "`pip install pyfluidsynth` and the library with `apt-get install libfluidsynth3` "
            f"(macOS: `brew install fluid-synth`). ({exc})"
        ) from exc
    if not hasattr(fluidsynth, "Synth"):
        raise SynthUnavailable(
            "the `fluidsynth` module found is not pyfluidsynth; "
            "`pip uninstall fluidsynth && pip install pyfluidsynth`"
        )
    return fluidsynth


SYNTH_ENV = "MIDIFILL_SYNTH"  # "fluidsynth" or "midirenderer"; unset: FluidSynth if it loads


def synth_name() -> str:
    """The synthesizer render_song uses: the one MIDIFILL_SYNTH names, else
    FluidSynth where it loads, else midirenderer (demo/midirenderer_synth.py,
    a wheel on every OS), else SynthUnavailable naming both."""
    from . import midirenderer_synth

    chosen = os.environ.get(SYNTH_ENV, "").strip().lower()
    if chosen == "fluidsynth":
        _load_fluidsynth()
    elif chosen == "midirenderer":
        try:
            midirenderer_synth.load()
        except ImportError as exc:
            raise SynthUnavailable(
                f"{SYNTH_ENV}=midirenderer but it cannot be imported "
                f"(`pip install midirenderer`): {exc}"
            ) from exc
    elif chosen:
        raise SynthUnavailable(f"{SYNTH_ENV}={chosen!r}: expected fluidsynth or midirenderer")
    else:
        try:
            _load_fluidsynth()
            return "fluidsynth"
        except SynthUnavailable as no_fluidsynth:
            try:
                midirenderer_synth.load()
            except ImportError:
                raise SynthUnavailable(
                    "no SoundFont synthesizer: `pip install midirenderer` "
                    "(a wheel on every OS, part of midifill[demo]), or "
                    f"FluidSynth: {no_fluidsynth}"
                ) from None
            return "midirenderer"
    return chosen


def synth_available() -> tuple[bool, str]:
    """(True, "") when a song can be rendered here, else (False, why)."""
    try:
        synth_name()
    except SynthUnavailable as exc:
        return False, str(exc)
    if not soundfont_path().is_file():
        return False, f"SoundFont missing: {soundfont_path()} (reinstall pretty_midi)"
    return True, ""


class _Synth:
    """One FluidSynth instance, rendering float32 stereo on demand."""

    def __init__(self, sample_rate: int):
        fluidsynth = _load_fluidsynth()
        sf2 = soundfont_path()
        if not sf2.is_file():
            raise SynthUnavailable(f"SoundFont missing: {sf2} (reinstall pretty_midi)")
        self.fs = fluidsynth
        self.synth = fluidsynth.Synth(
            gain=SYNTH_GAIN, samplerate=float(sample_rate), channels=SYNTH_CHANNELS
        )
        for opt in ("synth.reverb.active", "synth.chorus.active"):
            self.synth.setting(opt, 0)
        self.sfid = self.synth.sfload(str(sf2))
        if self.sfid == -1:
            raise SynthUnavailable(f"FluidSynth could not load the SoundFont {sf2}")
        # Float output avoids the 16-bit clamp of get_samples(); fall back to it
        # if this libfluidsynth lacks the symbol.
        self._write_float = getattr(
            getattr(fluidsynth, "_fl", None), "fluid_synth_write_float", None
        )
        if self._write_float is not None:
            self._write_float.restype = ctypes.c_int
            self._write_float.argtypes = [
                ctypes.c_void_p,
                ctypes.c_int,
                ctypes.c_void_p,
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_void_p,
                ctypes.c_int,
                ctypes.c_int,
            ]

    def samples(self, frames: int) -> np.ndarray:
        """The next `frames` frames as a (frames, 2) float32 array."""
        if frames <= 0:
            return np.zeros((0, 2), np.float32)
        if self._write_float is not None:
            buf = np.zeros((frames, 2), np.float32)
            ptr = buf.ctypes.data_as(ctypes.c_void_p)
            self._write_float(self.synth.synth, frames, ptr, 0, 2, ptr, 1, 2)
            return buf
        s16 = np.asarray(self.synth.get_samples(frames), dtype=np.float32)
        return (s16 / 32768.0).reshape(-1, 2)

    def close(self):
        self.synth.delete()


def beat_to_seconds(song: Song, beats: np.ndarray | float) -> np.ndarray:
    """Seconds at each beat position, following the song's tempo changes."""
    tempos = sorted(song.tempos, key=lambda t: t.beat) or [TempoChange(0.0, 120.0)]
    if tempos[0].beat > 0:  # the first tempo holds from beat 0
        tempos = [TempoChange(0.0, tempos[0].bpm)] + tempos
    b = np.asarray(beats, dtype=np.float64)
    starts = np.array([t.beat for t in tempos])
    spb = np.array([60.0 / t.bpm for t in tempos])  # seconds per beat in each segment
    seg_seconds = np.concatenate([[0.0], np.cumsum(np.diff(starts) * spb[:-1])])
    idx = np.clip(np.searchsorted(starts, b, side="right") - 1, 0, len(starts) - 1)
    return seg_seconds[idx] + (b - starts[idx]) * spb[idx]


def section(
    song: Song,
    start: float,
    end: float,
    context: int = CONTEXT_BARS,
    max_seconds: float = MAX_RENDER_SECONDS,
) -> tuple[float, float, int, int]:
    """(first beat, last beat, first bar, last bar) of what the demo renders
    for a fill of beats [start, end): the fill's bars and `context` bars each
    side that the song has (bars numbered from 1), cut where the audio would
    pass `max_seconds` with its tail. Rendering it costs what the fill asks,
    whatever the song's length."""
    # bars() is arithmetic over at most the read limit's 1,024 bars: cheap
    bars = song.bars(until=max(end, song.end_beat, 1e-3))
    first = next((b.index for b in reversed(bars) if b.start <= start + 1e-9), 0)
    last = next((b.index for b in bars if b.end >= end - 1e-9), len(bars) - 1)
    lo, hi = max(0, first - context), min(len(bars) - 1, last + context)
    a, b = bars[lo].start, bars[hi].end
    budget = float(beat_to_seconds(song, a)) + max_seconds - TAIL_SECONDS
    if float(beat_to_seconds(song, b)) > budget:  # the last beat inside the budget
        low, high = a, b
        for _ in range(60):
            mid = (low + high) / 2
            low, high = (mid, high) if float(beat_to_seconds(song, mid)) <= budget else (low, mid)
        b = low
        hi = next((k for k in range(hi, lo - 1, -1) if bars[k].start < b), lo)
    return a, b, lo + 1, hi + 1


def excerpt(song: Song, a: float, b: float) -> Song:
    """Beats [a, b) of `song` as a song of its own that starts at beat a: a
    note held into it sounds from its start, one held past it stops at its
    end; the tempo and time signature in force at `a` hold from beat 0."""

    def shifted(changes, make):
        before = [c for c in changes if c.beat <= a + 1e-9]
        out = [make(0.0, before[-1])] if before else []
        return out + [make(c.beat - a, c) for c in changes if a + 1e-9 < c.beat < b]

    tracks = [
        Track(
            t.id,
            t.program,
            t.is_drum,
            [
                Note(n.pitch, max(n.start, a) - a, min(n.end, b) - max(n.start, a), n.velocity)
                for n in t.notes
                if n.end > a and n.start < b
            ],
            t.name,
        )
        for t in song.tracks
    ]
    tempos = shifted(
        sorted(song.tempos, key=lambda t: t.beat), lambda beat, t: TempoChange(beat, t.bpm)
    ) or [TempoChange(0.0, 120.0)]
    sigs = shifted(
        sorted(song.time_signatures, key=lambda s: s.beat),
        lambda beat, s: TimeSignature(beat, s.numerator, s.denominator),
    )
    return Song(tracks, sigs or [TimeSignature(0.0, 4, 4)], tempos)


def render_song(song: Song, sample_rate: int = SAMPLE_RATE, progress=None) -> np.ndarray:
    """Render every track of `song` to a (2, frames) float32 array.

    `progress`, if given, is called with a fraction in [0, 1].
    """
    if synth_name() == "midirenderer":
        from . import midirenderer_synth

        if not soundfont_path().is_file():
            raise SynthUnavailable(f"SoundFont missing: {soundfont_path()} (reinstall pretty_midi)")
        audio = midirenderer_synth.render(
            song, soundfont_path().read_bytes(), sample_rate, TAIL_SECONDS
        )
        if progress is not None:
            progress(1.0)
        return audio
    synth = _Synth(sample_rate)
    try:
        events = []  # (frame, order, channel, pitch, velocity); offs (order 0) before ons
        for track, ch in zip(song.tracks, track_channels(song.tracks, SYNTH_CHANNELS)):
            bank = DRUM_BANK if track.is_drum else 0
            synth.synth.program_select(ch, synth.sfid, bank, 0 if track.is_drum else track.program)
            if not track.notes:
                continue
            starts = np.array([n.start for n in track.notes])
            ends = np.array([n.end for n in track.notes])
            on = np.round(beat_to_seconds(song, starts) * sample_rate).astype(np.int64)
            off = np.round(beat_to_seconds(song, ends) * sample_rate).astype(np.int64)
            off = np.maximum(off, on + 1)
            for n, a, b in zip(track.notes, on, off):
                vel = int(min(127, max(1, n.velocity)))
                events.append((int(a), 1, ch, n.pitch, vel))
                events.append((int(b), 0, ch, n.pitch, 0))
        events.sort()
        total = (events[-1][0] if events else 0) + int(TAIL_SECONDS * sample_rate)
        chunks, pos = [], 0
        for i, (frame, order, ch, pitch, vel) in enumerate(events):
            if frame > pos:
                chunks.append(synth.samples(frame - pos))
                pos = frame
            if order == 1:
                synth.synth.noteon(ch, pitch, vel)
            else:
                synth.synth.noteoff(ch, pitch)
            if progress is not None and i % 256 == 0:
                progress(i / max(1, len(events)))
        while pos < total:
            n = min(BLOCK, total - pos)
            chunks.append(synth.samples(n))
            pos += n
        if progress is not None:
            progress(1.0)
        audio = np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)
        return np.ascontiguousarray(audio.T)
    finally:
        synth.close()


def write_wav(audio: np.ndarray, path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write (channels, frames) float audio as 16-bit PCM WAV, atomically."""
    import wave

    path = Path(path)
    pcm = np.clip(np.asarray(audio, np.float64), -1.0, 1.0)
    pcm = np.round(pcm.T * 32767.0).astype("<i2")
    with atomic_path(path) as tmp, wave.open(tmp, "wb") as wf:
        wf.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        wf.setsampwidth(2)
        wf.setframerate(int(sample_rate))
        wf.writeframes(pcm.tobytes())
    return path


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV as ((channels, frames) float32, sample_rate)."""
    import wave

    with wave.open(str(path), "rb") as wf:
        sr, nch, width = wf.getframerate(), wf.getnchannels(), wf.getsampwidth()
        if width != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * width}-bit")
        data = np.frombuffer(wf.readframes(wf.getnframes()), "<i2")
    return (data.reshape(-1, nch).T.astype(np.float32) / 32767.0), sr
