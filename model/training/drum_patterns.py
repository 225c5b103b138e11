"""Made-up drum grooves for training: a part the network can only continue
by reading it.

The corpus's drum parts are MMA's grooves: about sixty patterns the network
can learn by heart, with MMA's percussion (shakers, cabasa, claves). On real
songs that is what its drum fills played, whatever the part around them did:
it had learnt the grooves, not to carry on the groove it is shown. For a
share of training draws (`TrainConfig.drum_patterns`) the song's drum part
is replaced (or, in a song without drums, one is added) by a groove drawn at
random for that draw, and that part is the one to fill:

- a kit of a kick, a snare (or rim, clap), a hi-hat or ride, and up to three
  other sounds from General MIDI's kit, chosen at random;
- a grid of 16ths, 8th triplets or 16th triplets;
- a pattern one, two or four bars long, repeated through the song with a
  hit or two changed in some bars, a fill (snare and toms) at the end of some
  phrases and a crash on some phrase starts;
- velocities with accents that repeat with the pattern.

Nothing of it can be remembered from one draw to the next, so the loss on
these fills falls only as the network learns to copy a part's own bars,
which is what real songs ask of it (their drum parts repeat a bar of the
context about three times in four).
"""

from __future__ import annotations

import random

from ..song import Bar, Note, Song, Track

KICKS = (36, 36, 35)
SNARES = (38, 38, 40, 37, 39)
TIMEKEEPERS = (42, 42, 42, 44, 46, 51, 51, 53, 54, 70, 82)  # hats, rides, shakers
EXTRAS = (41, 43, 45, 47, 48, 50, 56, 54, 39, 60, 61, 62, 63, 64, 69, 75, 76, 77, 46, 49)
TOMS = (50, 48, 47, 45, 43, 41)
CRASHES = (49, 57)
GRIDS = {4: 0.75, 3: 0.15, 6: 0.10}  # steps a beat: 16ths, 8th triplets, 16th triplets
PERIODS = {1: 0.5, 2: 0.4, 4: 0.1}  # bars before the pattern repeats
HIT = 0.1  # beats: drum hits are written without durations


def _choice(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Groove:
    """One made-up groove: its kit, grid and the pattern of each bar of its
    period, each pattern a list of (step, key, velocity)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.grid = _choice(rng, GRIDS)
        self.period = _choice(rng, PERIODS)
        self.kick = rng.choice(KICKS)
        self.snare = rng.choice(SNARES)
        self.keeper = rng.choice(TIMEKEEPERS)
        self.extras = rng.sample(EXTRAS, rng.randint(0, 3))
        self.keeper_every = rng.choice((1, 2, 2)) if self.grid != 3 else rng.choice((1, 3))
        self.phrase = rng.choice((4, 8))
        self.fill_share = rng.uniform(0.2, 0.8)
        self.variation = rng.uniform(0.0, 0.3)  # share of bars with a hit or two changed
        self.patterns: dict[tuple[float, int], list[tuple[int, int, int]]] = {}

    def _pattern(self, beats: float) -> list[tuple[int, int, int]]:
        rng, g = self.rng, self.grid
        steps = max(1, round(beats * g))
        hits = [(0, self.kick, rng.randint(95, 120))]
        kick_p, extra_p = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.25)
        for s in range(1, steps):
            if rng.random() < kick_p * (1.5 if s % g == 0 else 1.0):
                hits.append((s, self.kick, rng.randint(80, 115)))
        for beat in range(1, int(beats), 2):  # the back beat, mostly
            if rng.random() < 0.85:
                hits.append((beat * g, self.snare, rng.randint(90, 120)))
        for s in range(steps):
            if s % g and rng.random() < 0.06:  # ghost notes
                hits.append((s, self.snare, rng.randint(25, 50)))
        accent = rng.randint(8, 25)
        for s in range(0, steps, self.keeper_every):
            if rng.random() < 0.92:
                hits.append((s, self.keeper, rng.randint(55, 80) + (accent if s % g == 0 else 0)))
        for key in self.extras:
            for s in range(steps):
                if rng.random() < extra_p / max(1, len(self.extras)):
                    hits.append((s, key, rng.randint(50, 100)))
        return hits

    def bar(self, bar: Bar, n: int) -> list[Note]:
        """The notes of the song's n-th bar."""
        key = (bar.beats, n % self.period)
        if key not in self.patterns:
            self.patterns[key] = self._pattern(bar.beats)
        hits = list(self.patterns[key])
        rng, g = self.rng, self.grid
        steps = max(1, round(bar.beats * g))
        if rng.random() < self.variation:
            for _ in range(rng.randint(1, 2)):
                if hits and rng.random() < 0.5:
                    hits.pop(rng.randrange(len(hits)))
                else:
                    hits.append(
                        (
                            rng.randrange(steps),
                            rng.choice((self.kick, self.snare, self.keeper)),
                            rng.randint(60, 110),
                        )
                    )
        if n % self.phrase == self.phrase - 1 and rng.random() < self.fill_share:
            start = steps - g * rng.choice((1, 2))
            hits = [h for h in hits if h[0] < start or h[1] == self.kick]
            toms = sorted(rng.sample(TOMS, 3), reverse=True)
            for i, s in enumerate(range(max(0, start), steps, rng.choice((1, 2)))):
                hits.append(
                    (
                        s,
                        toms[i % len(toms)] if rng.random() < 0.6 else self.snare,
                        rng.randint(85, 125),
                    )
                )
        if n % self.phrase == 0 and n and rng.random() < 0.5:
            hits.append((0, rng.choice(CRASHES), rng.randint(90, 120)))
        seen, notes = set(), []
        for s, k, v in sorted(hits):
            if (s, k) not in seen:
                seen.add((s, k))
                notes.append(Note(k, bar.start + s / g, HIT, max(1, min(127, v))))
        return notes


def with_drum_pattern(song: Song, rng: random.Random) -> tuple[Song, str]:
    """The song with its first drum part's notes (or a new drum part's, in a
    song without one) replaced by a made-up groove over all its bars, and
    that track's id."""
    bars = song.bars()
    groove = Groove(rng)
    notes = [n for i, b in enumerate(bars) for n in groove.bar(b, i)]
    drums = next((t for t in song.tracks if t.is_drum), None)
    if drums is None:
        drums = Track("made-up drums", 0, True, [], "drums")
        tracks = list(song.tracks) + [drums]
    else:
        tracks = list(song.tracks)
    tracks = [Track(t.id, t.program, t.is_drum, notes, t.name) if t is drums else t for t in tracks]
    return Song(tracks, song.time_signatures, song.tempos), drums.id
