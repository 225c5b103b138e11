"""Keys and scales for the key-lock control ("E minor", "Bb dorian", "F# major")."""

from __future__ import annotations

from functools import lru_cache

from .errors import RequestError

_NOTE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}
_ALIASES = {"maj": "major", "ionian": "major", "min": "minor", "aeolian": "minor", "m": "minor"}


@lru_cache(maxsize=256)
def scale_pitch_classes(key: str) -> frozenset[int]:
    """Pitch classes (0 = C) of a key such as "E minor" or "Bb dorian"."""
    text = " ".join(str(key).strip().split())
    if not text:
        raise RequestError("controls.key", "empty key; use e.g. 'E minor' or 'C major'")
    root_txt, _, mode = text.partition(" ")
    letter = root_txt[:1].upper()
    if letter not in _NOTE:
        raise RequestError("controls.key", f"'{key}' does not start with a note name A-G")
    root = _NOTE[letter]
    for accidental in root_txt[1:]:
        if accidental in "#♯":
            root += 1
        elif accidental in "b♭":
            root -= 1
        elif accidental == "m" and not mode:
            mode = "minor"
        else:
            raise RequestError("controls.key", f"'{key}': unknown accidental '{accidental}'")
    mode = _ALIASES.get(mode.lower(), mode.lower()) or "major"
    if mode not in SCALES:
        raise RequestError(
            "controls.key", f"'{key}': unknown scale '{mode}'; known: " + ", ".join(SCALES)
        )
    return frozenset((root + step) % 12 for step in SCALES[mode])


# The names of the twelve pitch classes, as chord symbols (MMA) and corpus item names spell them.
NOTE_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
# Keys spell the second one C#, as detected keys always have (a key name is part of a reply).
ROOT_NAMES = ["C#" if n == "Db" else n for n in NOTE_NAMES]
KEY_NAMES = [f"{r} {m}" for m in ("major", "minor") for r in ROOT_NAMES]


def detect_key(notes) -> str | None:
    """The major or minor key whose scale holds most of the notes' duration
    ("E minor"), or None without notes. A relative major and minor share
    their notes, so the tonic's own weight and the lowest opening note decide
    between them."""
    notes = list(notes)
    if not notes:
        return None
    weight = [0.0] * 12
    for n in notes:
        weight[n.pitch % 12] += max(n.duration, 1e-3)
    first = min(n.start for n in notes)
    opening_bass = min(n.pitch for n in notes if n.start <= first + 1e-6) % 12
    best, best_score = None, -1.0
    for root in range(12):
        for mode in ("major", "minor"):
            score = sum(weight[(root + s) % 12] for s in SCALES[mode]) + 0.5 * weight[root]
            score += 0.1 * sum(weight) if root == opening_bass else 0.0
            if score > best_score + 1e-9:
                best, best_score = f"{ROOT_NAMES[root]} {mode}", score
    return best
