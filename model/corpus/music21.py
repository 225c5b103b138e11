"""music21 scores to Songs, for the corpus builder.

music21 is imported inside the functions: it takes about a second to import
and only the corpus worker processes need it.

Positions come from music21 in quarter lengths, which are our beats. A
pickup (anacrusis) is shifted right so that the first full bar starts on a
bar line, as Song.bars() expects bars from beat 0.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..song import Note, Song, TempoChange, TimeSignature, Track

# General MIDI programs, 0-based.
CHOIR = 52
STRINGS = 48
PIANO = 0

# ABC files hold many tunes; each starts with an "X:" line.
_X_LINE = re.compile(r"^X:\s*(\S*)", re.M)


def music21_corpus_root() -> Path:
    from music21 import common

    return Path(str(common.getCorpusFilePath()))


def split_abc(text: str) -> list[tuple[str, str]]:
    """(tune number, tune text) for every tune of an ABC file. The file
    header (lines before the first X:) is kept in front of each tune because
    it may set defaults such as L: or M:."""
    starts = [m.start() for m in _X_LINE.finditer(text)]
    if not starts:
        return [("1", text)] if text.strip() else []
    header = text[: starts[0]]
    tunes = []
    for i, s in enumerate(starts):
        body = text[s : starts[i + 1] if i + 1 < len(starts) else len(text)]
        number = _X_LINE.match(body).group(1) or str(i + 1)
        tunes.append((number, header + body))
    return tunes


def parse_abc_tune(tune_text: str):
    from music21 import converter

    score = converter.parse(tune_text, format="abc", forceSource=True)
    return score


def parse_file(path: str | Path):
    from music21 import converter

    return converter.parse(str(path))


def _parts(score):
    parts = list(getattr(score, "parts", []) or [])
    return parts or [score]


def pickup_shift(score) -> float:
    """Beats to add so that the bar after a pickup starts on a bar line."""
    measures = list(_parts(score)[0].getElementsByClass("Measure"))
    if len(measures) < 2:
        return 0.0
    m0 = measures[0]
    pad = float(m0.paddingLeft or 0.0)
    if pad > 0:
        return pad
    bar = float(m0.barDuration.quarterLength)
    dur = float(m0.duration.quarterLength)
    return bar - dur if 0 < dur < bar - 1e-6 else 0.0


def _notes_of(part, shift: float) -> list[Note]:
    from music21 import harmony

    flat = part.flatten().stripTies()
    notes = []
    for el in flat.notes:
        if isinstance(el, harmony.ChordSymbol):  # a chord symbol is a Chord subclass
            continue
        dur = float(el.quarterLength)
        if dur <= 0:  # grace notes carry no time of their own
            continue
        start = float(el.offset) + shift
        vel = int(el.volume.velocity) if el.volume.velocity else 90
        for p in el.pitches:
            if 0 <= p.midi <= 127:
                notes.append(Note(int(p.midi), start, dur, vel))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def time_signatures(score, shift: float) -> list[TimeSignature]:
    from music21 import meter

    flat = _parts(score)[0].flatten()
    sigs = []
    for ts in flat.getElementsByClass(meter.TimeSignature):
        beat = float(ts.offset) + shift if ts.offset > 0 else 0.0
        sigs.append(TimeSignature(beat, int(ts.numerator), int(ts.denominator)))
    by_beat = {round(s.beat, 6): s for s in sigs}
    kept: list[TimeSignature] = []
    for b in sorted(by_beat):
        s = by_beat[b]
        # ABC repeats and partial bars sometimes come back as 1/32 or 5/16
        # meters for a single bar; such a meter would cut every later bar short.
        if s.denominator not in (2, 4, 8) or not 1.0 <= s.bar_beats <= 12.0:
            continue
        if kept and (kept[-1].numerator, kept[-1].denominator) == (s.numerator, s.denominator):
            continue
        kept.append(s)
    if not kept:
        return [TimeSignature(0.0, 4, 4)]
    if kept[0].beat > 0:
        kept[0] = TimeSignature(0.0, kept[0].numerator, kept[0].denominator)
    return kept


def _tempo(score, default: float) -> float:
    from music21 import tempo

    for mm in score.flatten().getElementsByClass(tempo.MetronomeMark):
        try:
            bpm = float(mm.getQuarterBPM())
        except Exception:  # some marks are text-only
            continue
        if 20 <= bpm <= 300:
            return bpm
    return default


def _part_name(part, i: int) -> str:
    name = (getattr(part, "partName", None) or "").strip().lower()
    return name or f"part {i + 1}"


def _part_program(part, default: int) -> int:
    from music21 import instrument

    inst = part.getInstrument(returnDefault=False) if hasattr(part, "getInstrument") else None
    if isinstance(inst, instrument.Instrument) and inst.midiProgram is not None:
        return int(inst.midiProgram)
    return default


def score_to_song(
    score,
    program: int | None = None,
    default_program: int = PIANO,
    tempo: float = 100.0,
    names: list[str] | None = None,
) -> Song:
    """One track per part. `program` forces a GM program for every part
    (chorales are sung); otherwise the part's instrument is used when known."""
    shift = pickup_shift(score)
    tracks: list = []
    used: dict[str, int] = {}
    for i, part in enumerate(_parts(score)):
        notes = _notes_of(part, shift)
        if not notes:
            continue
        name = names[i] if names and i < len(names) else _part_name(part, i)
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:  # Palestrina masses repeat voice names per section
            name = f"{name} {used[name]}"
        prog = program if program is not None else _part_program(part, default_program)
        tracks.append(
            Track(id=str(len(tracks)), program=prog, is_drum=False, notes=notes, name=name)
        )
    return Song(tracks, time_signatures(score, shift), [TempoChange(0.0, _tempo(score, tempo))])


# --- chord symbols -------------------------------------------------------------

# music21 chordKind -> MMA chord suffix. Anything else falls back to its triad.
_MMA_SUFFIX = {
    "major": "",
    "minor": "m",
    "dominant-seventh": "7",
    "major-seventh": "maj7",
    "minor-seventh": "m7",
    "diminished": "dim",
    "diminished-seventh": "dim7",
    "augmented": "aug",
    "half-diminished-seventh": "m7b5",
    "suspended-fourth": "sus4",
    "suspended-second": "sus2",
    "major-sixth": "6",
    "minor-sixth": "m6",
    "dominant-ninth": "9",
    "minor-ninth": "m9",
    "major-ninth": "maj9",
    "power": "5",
    "minor-major-seventh": "mM7",
}


def mma_chord_name(cs) -> str | None:
    """An MMA chord name for a music21 ChordSymbol, or None if it has no root."""
    try:
        root = cs.root()
    except Exception:
        return None
    if root is None:
        return None
    name = root.name.replace("-", "b")
    if len(name) > 2:  # double flats/sharps: MMA does not take them
        return None
    suffix = _MMA_SUFFIX.get(cs.chordKind)
    if suffix is None:
        suffix = "m" if "minor" in (cs.chordKind or "") else ""
    return name + suffix


def chord_timeline(score) -> list[tuple[float, str]]:
    """(beat, MMA chord name) for each chord symbol, after the pickup shift."""
    from music21 import harmony

    shift = pickup_shift(score)
    out = []
    for cs in score.flatten().getElementsByClass(harmony.ChordSymbol):
        name = mma_chord_name(cs)
        if name:
            out.append((float(cs.offset) + shift, name))
    out.sort(key=lambda c: c[0])
    return out
