"""POP909 (Music X Lab, MIT licence) as a corpus source: 909 pop songs as
performed piano arrangements, each a folder `NNN/` holding `NNN.mid`
(tracks MELODY, BRIDGE and PIANO) and `beat_midi.txt`, the song's beats.

The MIDI is played, not quantised, so its own tick grid says little about
where the bars are. `beat_midi.txt` gives every beat's time in seconds and
two downbeat flags: the second column marks the first beat of every 2-beat
group (of every 3-beat group in songs in triple time), the third the first
beat of every 4-beat group (6 in triple time). A song is in triple time when
the second column's marks lie mostly three beats apart; its bars are then
the second column's groups (3/4), otherwise the third column's (4/4). An
annotated bar of another length keeps its length (a 2/4 or 6/4 bar in the
song's time-signature list; over 8 beats it is cut into bars of 4).

Each note's time in seconds is mapped through the beat grid: beat i at the
i-th annotated time, linear in between (and past both ends at the nearest
beat's spacing), so bars land on downbeats and the playing keeps its
timing within the beat. Nothing is quantised. The tempo of each bar is
written as a tempo change, so the file still sounds as performed.

Only the main `NNN.mid` is read, never `versions/`.
"""

from __future__ import annotations

import bisect
import random
from pathlib import Path

from ..errors import MidifillError
from ..midi_io import read_midi
from ..song import Note, Song, TempoChange, TimeSignature, Track

LICENCE_POP909 = (
    "MIT licence, (c) 2020 Music X Lab: POP909 dataset (github.com/music-x-lab/POP909-Dataset)"
)
MAX_BAR = 8  # beats; the tokenizer's longest bar
# POP909 track -> (our name, General MIDI programs to choose from, 0-based). Every
# track is piano in the files; the melody is a sung line, the bridge a
# counter-melody. A song takes one program per track, fixed by its number.
TRACKS = {
    "MELODY": ("melody", (73, 53, 65, 80, 40, 56, 0)),  # flute, voice, alto sax, square lead...
    "BRIDGE": ("counter-melody", (48, 11, 24, 71, 68, 4, 0)),  # strings, vibes, guitar...
    "PIANO": ("piano", (0,)),
}


class BeatFileError(MidifillError, ValueError):
    """A POP909 beat annotation that cannot be used."""

    code = "bad_beat_file"


def song_folders(root: str | Path) -> list[Path]:
    """Song folders under `root` (the POP909 folder, or a checkout holding
    one), in number order: those with both NNN.mid and beat_midi.txt."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--pop909 {root}: no such folder")
    if (root / "POP909").is_dir() and not _songs_in(root):
        root = root / "POP909"
    found = _songs_in(root)
    if not found:
        raise FileNotFoundError(
            f"--pop909 {root}: no song folders (NNN/NNN.mid with NNN/beat_midi.txt)"
        )
    return found


def _songs_in(root: Path) -> list[Path]:
    return sorted(
        d
        for d in root.iterdir()
        if d.is_dir() and (d / f"{d.name}.mid").is_file() and (d / "beat_midi.txt").is_file()
    )


def read_beats(path: str | Path) -> tuple[list[float], list[int], int]:
    """(beat times in seconds, indices of the downbeats, beats in the usual bar)."""
    times: list[float] = []
    duple: list[bool] = []
    quad: list[bool] = []
    for number, line in enumerate(Path(path).read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            t, a, b = (float(x) for x in line.split()[:3])
        except ValueError:
            raise BeatFileError(f"{path}: line {number} is not 'seconds flag flag'") from None
        if times and not t > times[-1]:
            raise BeatFileError(f"{path}: line {number}: beat times must rise")
        times.append(t)
        duple.append(a >= 0.5)
        quad.append(b >= 0.5)
    if len(times) < 2:
        raise BeatFileError(f"{path}: fewer than two beats")
    marks2 = [i for i, d in enumerate(duple) if d]
    gaps = [b - a for a, b in zip(marks2, marks2[1:])]
    triple = bool(gaps) and sum(g == 3 for g in gaps) > len(gaps) / 2
    meter, marks = (3, marks2) if triple else (4, [i for i, d in enumerate(quad) if d])
    return times, marks or [0], meter


class BeatGrid:
    """Seconds <-> beat index through annotated beat times (piecewise linear)."""

    def __init__(self, times: list[float]):
        self.times = times

    def beat(self, seconds: float) -> float:
        t = self.times
        i = min(max(bisect.bisect_right(t, seconds) - 1, 0), len(t) - 2)
        return i + (seconds - t[i]) / (t[i + 1] - t[i])

    def seconds(self, beat: float) -> float:
        t = self.times
        i = min(max(int(beat // 1), 0), len(t) - 2)
        return t[i] + (beat - i) * (t[i + 1] - t[i])


def bar_starts(downbeats: list[int], meter: int, lo: float, hi: float) -> list[float]:
    """Bar lines (beat indices) covering [lo, hi): the annotated downbeats,
    bars of `meter` before the first and after the last, and any annotated
    bar longer than MAX_BAR cut into bars of 4."""
    starts = [float(downbeats[0])]
    while starts[0] > lo:
        starts.insert(0, starts[0] - meter)
    for d in downbeats[1:]:
        if d - starts[-1] > MAX_BAR:
            while d - starts[-1] > 4:
                starts.append(starts[-1] + 4)
        starts.append(float(d))
    while starts[-1] <= hi:
        starts.append(starts[-1] + meter)
    while len(starts) > 2 and starts[1] <= lo:  # no empty bars before the first note
        starts.pop(0)
    return starts


def _seconds_of(song: Song):
    """A function: beat on the file's tick grid -> seconds, from its tempo map."""
    changes = sorted(song.tempos, key=lambda c: c.beat) or [TempoChange(0.0, 120.0)]
    if changes[0].beat > 0:
        changes.insert(0, TempoChange(0.0, 120.0))
    marks, at = [], 0.0
    for k, c in enumerate(changes):
        marks.append(at)
        if k + 1 < len(changes):
            at += (changes[k + 1].beat - c.beat) * 60.0 / c.bpm
    beats = [c.beat for c in changes]

    def seconds(beat: float) -> float:
        k = max(bisect.bisect_right(beats, beat) - 1, 0)
        return marks[k] + (beat - changes[k].beat) * 60.0 / changes[k].bpm

    return seconds


def song_from_folder(folder: str | Path) -> Song:
    """The song of one POP909 folder, with bars on its annotated downbeats."""
    folder = Path(folder)
    times, downbeats, meter = read_beats(folder / "beat_midi.txt")
    performed = read_midi(folder / f"{folder.name}.mid")
    to_seconds, grid = _seconds_of(performed), BeatGrid(times)
    rng = random.Random(f"pop909/{folder.name}")
    tracks, lo, hi = [], float("inf"), float("-inf")
    for t in performed.tracks:
        if not t.notes:
            continue
        name, programs = TRACKS.get(t.name.strip().upper(), (t.name.strip().lower(), (0,)))
        notes = []
        for n in t.notes:
            a = grid.beat(to_seconds(n.start))
            b = grid.beat(to_seconds(n.end))
            notes.append((n.pitch, a, max(b - a, 1 / 48), n.velocity))
            lo, hi = min(lo, a), max(hi, a + max(b - a, 1 / 48))
        tracks.append((name, rng.choice(programs), notes))
    if not tracks:
        return Song([], [TimeSignature(0.0, meter, 4)], [TempoChange(0.0, 120.0)])
    starts = bar_starts(downbeats, meter, lo, hi)
    origin = starts[0]
    sigs: list = []
    tempos: list = []
    for a, b in zip(starts, starts[1:]):
        beats = int(round(b - a))
        if not sigs or sigs[-1].numerator != beats:
            sigs.append(TimeSignature(a - origin, beats, 4))
        bpm = round(60.0 * (b - a) / (grid.seconds(b) - grid.seconds(a)), 2)
        if not tempos or abs(tempos[-1].bpm - bpm) > 0.5:
            tempos.append(TempoChange(a - origin, bpm))
    out = [
        Track(
            str(i),
            program,
            False,
            sorted(
                (Note(p, a - origin, d, v) for p, a, d, v in notes),
                key=lambda n: (n.start, n.pitch),
            ),
            name,
        )
        for i, (name, program, notes) in enumerate(tracks)
    ]
    return Song(out, sigs, tempos)
