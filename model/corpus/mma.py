"""Accompaniment from MMA (Musical MIDI Accompaniment) grooves.

MMA turns a chord progression and a groove name into multi-track MIDI:
drums, bass, chords, arpeggios, as hand-written in its groove library. We
render folk-tune progressions (with the tune's melody merged in as its own
track) and progressions of our own, in many grooves and keys.

The melody is merged into MMA's output here rather than through MMA's Solo
track: MMA's melody syntax would need the tune re-notated, while merging
Songs cannot lose a note.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..midi_io import read_midi
from ..scales import NOTE_NAMES
from ..song import Note, Song, TempoChange, TimeSignature, Track

MMA_LIB = Path("/usr/share/mma/lib/stdlib")


@dataclass(frozen=True)
class Groove:
    name: str  # MMA groove name
    file: str  # file under MMA_LIB that defines it (for its variants)
    family: str  # "4/4", "3/4" or "6/8" (a 6/8 MMA bar is two 6/8 bars, 6 beats)
    tempo: tuple[int, int]  # a range of tempos that suits the style


# Chosen by rendering each groove and checking that its bars are as long as
# its time signature says (MMA's 6/8 grooves with 'Time 2' or 'Time 4' are
# not, so they are left out).
GROOVES = [
    Groove(*g)
    for g in [
        ("50sRock", "50srock", "4/4", (140, 180)),
        ("60sRock", "60srock", "4/4", (110, 140)),
        ("8Beat", "8beat", "4/4", (100, 130)),
        ("BasicRock", "basicrock", "4/4", (100, 140)),
        ("FolkRock", "folkrock", "4/4", (100, 130)),
        ("SoftRock", "softrock", "4/4", (80, 110)),
        ("Rock128", "rock-128", "4/4", (60, 90)),
        ("PopBallad", "popballad", "4/4", (70, 95)),
        ("RockBallad", "rockballad", "4/4", (65, 90)),
        ("PianoBallad", "pianoballad", "4/4", (60, 85)),
        ("Ballad", "ballad", "4/4", (60, 85)),
        ("GuitarBallad", "guitarballad", "4/4", (65, 90)),
        ("BVFunk", "bvfunk", "4/4", (90, 115)),
        ("DSoul", "dsoul", "4/4", (85, 110)),
        ("R&B", "rb", "4/4", (80, 105)),
        ("JazzRock", "jazzrock", "4/4", (110, 140)),
        ("LFusion", "lfusion", "4/4", (95, 120)),
        ("Swing", "swing", "4/4", (110, 160)),
        ("EasySwing", "easyswing", "4/4", (100, 130)),
        ("JazzCombo", "jazzcombo", "4/4", (110, 160)),
        ("Bebop", "bebop", "4/4", (160, 220)),
        ("FastSwing", "fastswing", "4/4", (170, 220)),
        ("BossaNova", "bossanova", "4/4", (110, 140)),
        ("Samba", "samba", "4/4", (90, 120)),
        ("Rhumba", "rhumba", "4/4", (100, 125)),
        ("Mambo", "mambo", "4/4", (160, 200)),
        ("Salsa", "salsa", "4/4", (160, 200)),
        ("ChaCha", "chacha", "4/4", (110, 125)),
        ("Beguine", "beguine", "4/4", (110, 130)),
        ("Bolero", "bolero", "4/4", (90, 110)),
        ("Tango", "tango", "4/4", (110, 130)),
        ("CountrySwing", "countryswing", "4/4", (110, 150)),
        ("BlueGrass", "bluegrass", "4/4", (130, 170)),
        ("Folk", "folk", "4/4", (90, 120)),
        ("FolkBallad", "folkballad", "4/4", (70, 95)),
        ("Blues", "blues", "4/4", (90, 120)),
        ("SlowBlues", "slowblues", "4/4", (55, 75)),
        ("ShuffleBoggie", "shuffleboggie", "4/4", (110, 140)),
        ("Ska", "ska", "4/4", (140, 170)),
        ("Trance", "trance", "4/4", (125, 140)),
        ("Twist", "twist", "4/4", (140, 165)),
        ("Hymn", "hymn", "4/4", (70, 95)),
        ("Polka", "polka", "4/4", (110, 140)),
        ("RagTime", "ragtime", "4/4", (90, 120)),
        ("Dixie", "dixie", "4/4", (150, 190)),
        ("Zydeco", "zydeco", "4/4", (120, 150)),
        ("Calypso", "calypso", "4/4", (100, 125)),
        ("Merengue", "merengue", "4/4", (120, 150)),
        ("Jive", "jive", "4/4", (150, 180)),
        ("Strut", "strut", "4/4", (95, 115)),
        ("BoneyM", "boneym", "4/4", (115, 130)),
        ("ModernJazz", "modernjazz", "4/4", (120, 170)),
        ("Broadway", "broadway", "4/4", (110, 140)),
        ("Waltz", "waltz", "3/4", (90, 160)),
        ("JazzWaltz", "jazzwaltz", "3/4", (110, 170)),
        ("CountryWaltz", "countrywaltz", "3/4", (90, 140)),
        ("RockWaltz", "rockwaltz", "3/4", (80, 120)),
        ("LatinWaltz", "latinwaltz", "3/4", (100, 140)),
        ("FrenchWaltz", "frenchwaltz", "3/4", (120, 170)),
        ("68Swing", "68swing", "6/8", (60, 90)),
        ("Blues68", "blues68", "6/8", (50, 75)),
        ("Arpeggio68", "arpeggio68", "6/8", (50, 80)),
    ]
]
BEATS_PER_MMA_BAR = {"4/4": 4, "3/4": 3, "6/8": 6}
METER = {"4/4": (4, 4), "3/4": (3, 4), "6/8": (6, 8)}


class MMAError(RuntimeError):
    pass


def mma_available() -> bool:
    return shutil.which("mma") is not None and MMA_LIB.is_dir()


def stable_rng(*keys) -> random.Random:
    """A Random seeded from strings, the same in every process and run."""
    digest = hashlib.sha1("|".join(map(str, keys)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def grooves_for(family: str) -> list[Groove]:
    return [g for g in GROOVES if g.family == family]


def groove_variants(groove: Groove) -> list[str]:
    """The main-body variants a groove file defines (no intros, endings, fills)."""
    path = MMA_LIB / f"{groove.file}.mma"
    names = []
    try:
        for line in path.read_text(errors="replace").splitlines():
            m = re.match(r"\s*DefGroove\s+(\S+)", line, re.I)
            if m and not re.search(r"intro|end|fill|break|metronome", m.group(1), re.I):
                names.append(m.group(1))
    except OSError:
        pass
    return names or [groove.name]


# --- running MMA ---------------------------------------------------------------


def chord_lines(chords_per_beat: list[str], beats_per_bar: int) -> list[str]:
    """MMA chord lines, one per bar, one token per beat ('/' repeats)."""
    lines = []
    prev = None
    for b in range(0, len(chords_per_beat), beats_per_bar):
        tokens: list[str] = []
        for c in chords_per_beat[b : b + beats_per_bar]:
            tokens.append("/" if c == prev and tokens else c)
            prev = c
        lines.append(" ".join(tokens))
    return lines


def run_mma(
    groove_name: str, lines: list[str], tempo: int, transpose: int = 0, timeout: float = 60.0
) -> Song:
    """Render chord lines with one groove; the MIDI MMA writes, as a Song."""
    script = [f"Tempo {tempo}", f"Groove {groove_name}"]
    if transpose:
        script.append(f"Transpose {transpose}")
    script += lines
    with tempfile.TemporaryDirectory(prefix="midifill-mma-") as tmp:
        src, out = Path(tmp) / "song.mma", Path(tmp) / "song.mid"
        src.write_text("\n".join(script) + "\n")
        try:
            proc = subprocess.run(
                ["mma", "-f", str(out), str(src)],
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired as exc:
            raise MMAError(f"mma timed out after {timeout:.0f}s") from exc
        errors = [l for l in (proc.stdout + proc.stderr).splitlines() if "Error" in l]
        if proc.returncode != 0 or errors or not out.is_file():
            why = (errors or (proc.stdout + proc.stderr).strip().splitlines() or ["no output"])[-1]
            raise MMAError(f"mma failed (exit {proc.returncode}): {why.strip()[:200]}")
        return read_midi(out)


def _kind_name(raw: str) -> str:
    """A track kind from MMA's track name ('Bass-Sax' -> 'bass')."""
    head = raw.split("-")[0].lower()
    if head in ("bass", "walk"):
        return "bass"
    if head in ("chord", "plectrum"):
        return "chords"
    if head in ("arpeggio", "scale", "aria"):
        return "arpeggio"
    if head in ("solo", "melody"):
        return "melody"
    return head or "part"


def tidy_mma_song(song: Song, melody: Track | None, meter: tuple[int, int], tempo: int) -> Song:
    """All drum tracks become one 'drums' track; the others are named by kind,
    keeping MMA's programs. The melody, if any, comes first."""
    drums = [n for t in song.tracks if t.is_drum for n in t.notes]
    tracks = [melody] if melody and melody.notes else []
    if drums:
        tracks.append(
            Track("drums", 0, True, sorted(drums, key=lambda n: (n.start, n.pitch)), "drums")
        )
    seen: dict[str, int] = {}
    for t in song.tracks:
        if t.is_drum or not t.notes:
            continue
        kind = _kind_name(t.name)
        seen[kind] = seen.get(kind, 0) + 1
        name = kind if seen[kind] == 1 else f"{kind} {seen[kind]}"
        tracks.append(Track(name, t.program, False, list(t.notes), name))
    for i, t in enumerate(tracks):
        t.id = str(i)
        t.notes = [Note(n.pitch, float(n.start), float(n.duration), n.velocity) for n in t.notes]
    return Song(tracks, [TimeSignature(0.0, *meter)], [TempoChange(0.0, float(tempo))])


# --- progressions of our own -------------------------------------------------------

# Roman numeral -> (semitones above the tonic, MMA suffix)
DEGREES = {
    "I": (0, ""),
    "Imaj7": (0, "maj7"),
    "I7": (0, "7"),
    "ii": (2, "m"),
    "ii7": (2, "m7"),
    "iii": (4, "m"),
    "iii7": (4, "m7"),
    "IV": (5, ""),
    "IVmaj7": (5, "maj7"),
    "IV7": (5, "7"),
    "V": (7, ""),
    "V7": (7, "7"),
    "Vsus4": (7, "sus4"),
    "vi": (9, "m"),
    "vi7": (9, "m7"),
    "bVII": (10, ""),
    "i": (0, "m"),
    "i7": (0, "m7"),
    "iio": (2, "m7b5"),
    "bIII": (3, ""),
    "iv": (5, "m"),
    "iv7": (5, "m7"),
    "v": (7, "m"),
    "bVI": (8, ""),
    "II7": (2, "7"),
}
NAMED = {  # name -> (bars of numerals, a bar may hold two chords "A,B"), family
    "pop-I-V-vi-IV": (["I", "V", "vi", "IV"], "4/4"),
    "doowop-I-vi-IV-V": (["I", "vi", "IV", "V"], "4/4"),
    "sensitive-vi-IV-I-V": (["vi", "IV", "I", "V"], "4/4"),
    "jazz-ii-V-I": (["ii7", "V7", "Imaj7", "Imaj7"], "4/4"),
    "jazz-I-vi-ii-V": (["Imaj7,vi7", "ii7,V7", "Imaj7,vi7", "ii7,V7"], "4/4"),
    "blues-12": (
        ["I7", "I7", "I7", "I7", "IV7", "IV7", "I7", "I7", "V7", "IV7", "I7", "V7"],
        "4/4",
    ),
    "blues-12-quick": (
        ["I7", "IV7", "I7", "I7", "IV7", "IV7", "I7", "I7", "V7", "IV7", "I7", "V7"],
        "4/4",
    ),
    "minor-i-VI-III-VII": (["i", "bVI", "bIII", "bVII"], "4/4"),
    "andalusian": (["i", "bVII", "bVI", "V"], "4/4"),
    "minor-i-iv-v-i": (["i", "iv", "v", "i"], "4/4"),
    "rock-I-bVII-IV-I": (["I", "bVII", "IV", "I"], "4/4"),
    "three-chord-I-IV-V": (["I", "IV", "V", "IV"], "4/4"),
    "canon": (["I,V", "vi,iii", "IV,I", "IV,V"], "4/4"),
    "minor-jazz-ii-V-i": (["iio", "V7", "i7", "i7"], "4/4"),
    "waltz-I-IV-V-I": (["I", "IV", "V7", "I"], "3/4"),
    "waltz-I-vi-ii-V": (["I", "vi", "ii", "V7"], "3/4"),
    "waltz-minor": (["i", "iv", "V7", "i"], "3/4"),
    "slow68-I-vi-IV-V": (["I", "vi", "IV", "V"], "6/8"),
}
# Where a chord tends to go next (functional harmony, loosely), for made-up progressions.
MAJOR_NEXT = {
    "I": ["IV", "V", "vi", "ii", "iii", "bVII"],
    "ii": ["V", "V7", "IV", "vi"],
    "iii": ["vi", "IV", "ii"],
    "IV": ["V", "I", "ii", "vi", "iv"],
    "V": ["I", "vi", "IV"],
    "V7": ["I", "vi"],
    "vi": ["IV", "ii", "V", "iii"],
    "bVII": ["IV", "I"],
    "iv": ["I"],
}
MINOR_NEXT = {
    "i": ["iv", "bVI", "bVII", "v", "bIII", "iio"],
    "iio": ["V7", "v"],
    "bIII": ["bVI", "bVII", "iv"],
    "iv": ["V7", "i", "bVII", "v"],
    "v": ["i", "bVI"],
    "V7": ["i", "bVI"],
    "bVI": ["bVII", "iv", "bIII", "V7"],
    "bVII": ["i", "bIII", "bVI"],
}


def made_up_progression(index: int) -> tuple[list[str], str]:
    """An 8-bar progression drawn from MAJOR_NEXT/MINOR_NEXT, seeded by index."""
    rng = stable_rng("progression", index)
    minor = rng.random() < 0.35
    table, chord = (MINOR_NEXT, "i") if minor else (MAJOR_NEXT, "I")
    sevenths = rng.random() < 0.3
    bars = []
    for b in range(8):
        if b == 7:
            chord = "V7" if rng.random() < 0.6 else chord  # end on a turnaround
        cell = [chord]
        if rng.random() < 0.25 and b < 7:  # two chords in this bar
            chord = rng.choice(table[chord])
            cell.append(chord)
        bars.append(",".join(_seventh(c, sevenths) for c in cell))
        chord = rng.choice(table.get(chord, ["i" if minor else "I"]))
    family = rng.choices(["4/4", "3/4", "6/8"], weights=[7, 2, 1])[0]
    return bars, family


def _seventh(numeral: str, on: bool) -> str:
    if not on:
        return numeral
    for cand in (numeral + "7", numeral + "maj7"):
        if cand in DEGREES:
            return cand
    return numeral


def progression_beats(
    bars: list[str], tonic: int, beats_per_bar: int, repeats: int = 2
) -> list[str]:
    """MMA chord names, one per beat, for the bars repeated `repeats` times."""
    out = []
    for _ in range(repeats):
        for cell in bars:
            chords = [
                NOTE_NAMES[(tonic + DEGREES[n][0]) % 12] + DEGREES[n][1] for n in cell.split(",")
            ]
            per = beats_per_bar / len(chords)
            for beat in range(beats_per_bar):
                out.append(chords[min(len(chords) - 1, int(beat // per))])
    return out


def progression_song(bars: list[str], family: str, groove: Groove, tonic: int, tempo: int) -> Song:
    per_bar = BEATS_PER_MMA_BAR[family]
    beats = progression_beats(bars, tonic, per_bar, repeats=2 if len(bars) <= 8 else 1)
    variant = groove_variants(groove)
    name = stable_rng(groove.name, tonic, tempo).choice(variant)
    song = run_mma(name, chord_lines(beats, per_bar), tempo)
    return tidy_mma_song(song, None, METER[family], tempo)


# --- folk tunes with chords --------------------------------------------------------


def folk_family(numerator: int, denominator: int) -> tuple[str, int] | None:
    """(groove family, tune bars per MMA bar) for a tune's meter, or None."""
    if (numerator, denominator) in ((4, 4), (2, 2)):
        return "4/4", 1
    if (numerator, denominator) == (2, 4):
        return "4/4", 2
    if (numerator, denominator) == (3, 4):
        return "3/4", 1
    if (numerator, denominator) == (3, 8):  # two 3/8 bars make one waltz bar
        return "3/4", 2
    if (numerator, denominator) == (6, 8):
        return "6/8", 2
    return None


def folk_song(
    melody: list[Note],
    chords: list[tuple[float, str]],
    meter: tuple[int, int],
    groove: Groove,
    transpose: int,
    tempo: int,
    pickup: bool,
    melody_program: int,
) -> Song:
    """The tune's chords in one groove, its melody on a track of its own."""
    family, pair = folk_family(*meter)
    per_bar = BEATS_PER_MMA_BAR[family]
    tune_bar = meter[0] * 4 / meter[1]
    # With two tune bars per MMA bar, a pickup goes in the second half of the
    # first MMA bar so that phrases start on MMA bar lines.
    shift = tune_bar if (pair == 2 and pickup) else 0.0
    end = max(n.end for n in melody) + shift
    n_beats = int(-(-end // per_bar) * per_bar)
    beats, k = [], 0
    for b in range(n_beats):
        while k + 1 < len(chords) and chords[k + 1][0] + shift <= b + 1e-6:
            k += 1
        beats.append(chords[k][1])
    variant = stable_rng(groove.name, transpose, tempo).choice(groove_variants(groove))
    song = run_mma(variant, chord_lines(beats, per_bar), tempo, transpose)
    notes = [
        Note(min(127, max(0, n.pitch + transpose)), n.start + shift, n.duration, n.velocity)
        for n in melody
    ]
    return tidy_mma_song(
        song, Track("melody", melody_program, False, notes, "melody"), meter, tempo
    )
