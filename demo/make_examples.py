"""Compose the bundled example songs in demo/examples/ (drums, bass, chords, melody).

Run `python -m midifill.demo.make_examples` to rebuild them; the output is deterministic.
Each is a short, plain arrangement written by rule (a chord progression, a bass
on roots and fifths, a backbeat, a melody on chord tones with passing notes),
so a visitor has something sensible to fill without uploading anything.
"""

from __future__ import annotations

import random
from pathlib import Path

from midifill.model.midi_io import write_midi
from midifill.model.song import Note, Song, TempoChange, TimeSignature, Track

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
KICK, SNARE, HAT, OPEN_HAT = 36, 38, 42, 46
NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def chord(name: str) -> list[int]:
    """Pitch classes of a triad written like 'C', 'Am', 'F#m'."""
    minor = name.endswith("m")
    root_name = name[:-1] if minor else name
    root = NOTE_NAMES[root_name[0]] + (1 if "#" in root_name else -1 if "b" in root_name[1:] else 0)
    return [root % 12, (root + (3 if minor else 4)) % 12, (root + 7) % 12]


def compose(
    progression: list[str],
    beats_per_bar: int,
    scale: list[int],
    seed: int,
    bass_program: int,
    chord_program: int,
    lead_program: int,
) -> list[Track]:
    rng = random.Random(seed)
    drums, bass, chords, lead = [], [], [], []
    for bar, name in enumerate(progression):
        t0 = bar * beats_per_bar
        pcs = chord(name)
        root = pcs[0]
        # drums: kick on 1 (and 3 in 4/4), snare on the backbeat, eighth-note hats
        for beat in range(beats_per_bar):
            if beat == 0 or (beats_per_bar == 4 and beat == 2):
                drums.append(Note(KICK, t0 + beat, 0.25, 112))
            elif beats_per_bar == 4 or beat == 1:
                drums.append(Note(SNARE, t0 + beat, 0.25, 100 if beat % 2 else 92))
            for half in (0.0, 0.5):
                hat = OPEN_HAT if (beat, half) == (beats_per_bar - 1, 0.5) else HAT
                drums.append(Note(hat, t0 + beat + half, 0.25, 70 if half else 84))
        # bass: root on 1, fifth before the next bar
        bass.append(Note(36 + root, t0, beats_per_bar - 1.0 - 0.1, 100))
        bass.append(
            Note(
                36 + (root + 7) % 12 + (12 if (root + 7) % 12 < 4 else 0),
                t0 + beats_per_bar - 1.0,
                0.9,
                92,
            )
        )
        # chords: close voicing around middle C, held for the bar
        for pc in pcs:
            chords.append(Note(57 + (pc - 57) % 12, t0, beats_per_bar - 0.05, 72))
        # melody: chord tones on strong beats, scale steps between
        pos = 0.0
        pitch = 72 + (pcs[rng.randrange(3)] - 72) % 12
        while pos < beats_per_bar:
            dur = rng.choice([0.5, 0.5, 1.0, 1.0, 1.5]) if pos + 1.5 <= beats_per_bar else 0.5
            if rng.random() < 0.12 and pos > 0:  # a breath
                pos += dur
                continue
            lead.append(Note(pitch, t0 + pos, dur * 0.95, rng.randint(84, 104)))
            pos += dur
            step = rng.choice([-2, -1, 1, 2])
            candidates = [p for p in range(pitch - 4, pitch + 5) if p % 12 in scale]
            pitch = min(
                candidates, key=lambda p: abs(p - (pitch + step)) + (0 if p % 12 in pcs else 1)
            )
            pitch = max(67, min(84, pitch))
    return [
        Track("drums", 0, True, drums, "Drums"),
        Track("bass", bass_program, False, bass, "Bass"),
        Track("chords", chord_program, False, chords, "Chords"),
        Track("lead", lead_program, False, lead, "Lead"),
    ]


MAJOR = [0, 2, 4, 5, 7, 9, 11]
E_MINOR = [4, 6, 7, 9, 11, 0, 2]
D_MINOR = [2, 4, 5, 7, 9, 10, 0]

EXAMPLES = {
    "pop_c_major_8_bars.mid": dict(
        progression=["C", "G", "Am", "F"] * 2,
        beats_per_bar=4,
        scale=MAJOR,
        seed=1,
        bass_program=33,
        chord_program=0,
        lead_program=73,
        tempo=110.0,
        sig=(4, 4),
    ),
    "groove_e_minor_12_bars.mid": dict(
        progression=["Em", "C", "G", "D"] * 3,
        beats_per_bar=4,
        scale=E_MINOR,
        seed=2,
        bass_program=38,
        chord_program=4,
        lead_program=65,
        tempo=96.0,
        sig=(4, 4),
    ),
    "waltz_d_minor_16_bars.mid": dict(
        progression=["Dm", "Gm", "C", "F", "Bb", "Gm", "A", "Dm"] * 2,
        beats_per_bar=3,
        scale=D_MINOR,
        seed=3,
        bass_program=32,
        chord_program=48,
        lead_program=40,
        tempo=150.0,
        sig=(3, 4),
    ),
}


def build_song(spec: dict) -> Song:
    tracks = compose(
        spec["progression"],
        spec["beats_per_bar"],
        spec["scale"],
        spec["seed"],
        spec["bass_program"],
        spec["chord_program"],
        spec["lead_program"],
    )
    return Song(tracks, [TimeSignature(0.0, *spec["sig"])], [TempoChange(0.0, spec["tempo"])])


def main() -> None:
    EXAMPLES_DIR.mkdir(exist_ok=True)
    for name, spec in EXAMPLES.items():
        write_midi(build_song(spec), EXAMPLES_DIR / name)
        print(EXAMPLES_DIR / name)


if __name__ == "__main__":
    main()
