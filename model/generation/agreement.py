"""How well two parts over the same bars agree with each other.

Parts written together (a request of several targets, engine.py) should
lock the way a band's parts do. Two measures, read from the originals of
real songs (docs/fit.md, "Two parts filled together"):

- a bass and the drums: the bass plays where the kick plays, F1 between
  the kick's onsets and the bass's on a 16th grid (`kick_bass_f1`);
- two pitched parts: each note's pitch class sounds in the other part at
  its onset (`pair_fit`, harmony.harmonic_fit over the two parts alone).

The engine chooses among a later target's sampled fills by how well they
agree with the earlier targets' new notes (choose.py); the evaluation
(model/evaluation/two_parts.py) measures the same on what was written.
"""

from __future__ import annotations

from ..groove import KICK
from ..song import Note, Song, Track
from .harmony import harmonic_fit
from .targets import BASS, DRUMS


def kick_bass_f1(drums: list[Note], bass: list[Note]) -> float | None:
    """F1 between the kick's onsets and the bass's on a 16th grid; None
    when neither plays."""
    kick = {round(n.start * 4) for n in drums if n.pitch in KICK}
    low = {round(n.start * 4) for n in bass}
    if not kick and not low:
        return None
    return 2 * len(kick & low) / (len(kick) + len(low))


def pair_fit(a: list[Note], b: list[Note], tpb: int) -> float | None:
    """Share of the notes of a and b whose pitch class the other sounds at
    their onset; None without notes in both."""
    if not a or not b:
        return None
    song = Song([Track("a", 0, False, a), Track("b", 0, False, b)])
    fa, fb = harmonic_fit(a, song, "a", tpb), harmonic_fit(b, song, "b", tpb)
    assert fa is not None and fb is not None
    return (fa * len(a) + fb * len(b)) / (len(a) + len(b))


def applies(role: int, other_role: int) -> bool:
    """Whether `agreement` has a measure for parts of these two roles."""
    return {role, other_role} == {DRUMS, BASS} or DRUMS not in (role, other_role)


def agreement(
    notes: list[Note], role: int, other: list[Note], other_role: int, tpb: int
) -> float | None:
    """How well a part (its notes and role, targets.py) agrees with another
    over the same span: kick-bass F1 between drums and a bass, pair fit
    between two pitched parts; None for any other pair of roles, or where
    the measure has nothing to count."""
    if not applies(role, other_role):
        return None
    if DRUMS in (role, other_role):
        drums, bass = (notes, other) if role == DRUMS else (other, notes)
        return kick_bass_f1(drums, bass)
    return pair_fit(notes, other, tpb)
