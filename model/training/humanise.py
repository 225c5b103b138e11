"""Humanised timing for training examples cut from quantised songs.

The music21 and MMA parts of the corpus sit exactly on the grid with flat
velocities; producers' parts and POP909's performances do not. For a share
of training examples (`TrainConfig.humanise`), a song whose onsets all lie
on the tokenizer's grid is played a little less like a machine:

- every onset moves by a gaussian amount (sigma 1/48 beat, cut at 2 sigma),
  the note keeping its length;
- a song with drums (in this corpus: an MMA render) is swung, with
  probability SWING_SHARE: notes on the off-beat eighth move later by 1/12
  to 1/6 beat (light swing to triplet feel);
- velocities follow a smooth curve over the song (two slow sines), up to
  +/- 20 %.

Everything is drawn from the caller's random generator, so a run's seed
fixes it. A song that is not on the grid (a performance) is left as it is.
"""

from __future__ import annotations

import math
import random

from ..song import Note, Song, Track

JITTER = 1 / 48  # beats, standard deviation of an onset's move
JITTER_CUT = 2  # moves are cut at this many standard deviations
SWING_SHARE = 0.3  # of the humanised songs with drums
SWING = (1 / 12, 1 / 6)  # beats an off-beat eighth moves later
VELOCITY_DEPTH = (0.05, 0.2)
GRID = 24  # onsets per beat that count as quantised


def is_quantised(song: Song, grid: int = GRID) -> bool:
    """Do all onsets lie on a 1/grid-beat grid?"""
    return all(
        abs(n.start * grid - round(n.start * grid)) < 1e-3 for t in song.tracks for n in t.notes
    )


def humanise(song: Song, rng: random.Random) -> Song:
    """A copy of the song with moved onsets, perhaps swing, and a velocity curve."""
    has_drums = any(t.is_drum and t.notes for t in song.tracks)
    swing = rng.uniform(*SWING) if has_drums and rng.random() < SWING_SHARE else 0.0
    depth = rng.uniform(*VELOCITY_DEPTH)
    periods = (rng.uniform(8, 32), rng.uniform(2, 8))  # beats: phrase and bar-scale swells
    phases = (rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))

    def gain(beat: float) -> float:
        wave = 0.7 * math.sin(2 * math.pi * beat / periods[0] + phases[0]) + 0.3 * math.sin(
            2 * math.pi * beat / periods[1] + phases[1]
        )
        return 1.0 + depth * wave

    cut = JITTER * JITTER_CUT
    tracks = []
    for t in song.tracks:
        notes = []
        for n in t.notes:
            start, dur = n.start, n.duration
            if swing and abs(start % 1.0 - 0.5) < 1e-3:
                start, dur = start + swing, max(dur - swing, 1 / 48)
            start = max(0.0, start + max(-cut, min(cut, rng.gauss(0.0, JITTER))))
            vel = min(127, max(1, round(n.velocity * gain(n.start))))
            notes.append(Note(n.pitch, start, dur, vel))
        notes.sort(key=lambda n: (n.start, n.pitch))
        tracks.append(Track(t.id, t.program, t.is_drum, notes, t.name))
    return Song(tracks, song.time_signatures, song.tempos)
