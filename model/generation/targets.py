"""Several targets in one request: the order they are written in.

Each target is written with the new notes of those before it in view
(engine.py), so the order decides who hears whom. By default it is the
band's: drums first (the groove the others lock to), then the bass (the
root the harmony stands on), then the parts that play chords, then the
melodic lines; targets of one role keep the request's order. A request
with "order": "given" is written in its own order.

A part's role is read from its own notes (prompt.Part, as the prompt's
ranking of tracks reads it): a drum track is drums; a pitched track of
General MIDI's bass family, or whose median pitch is under C3, is the bass;
one that sounds 1.5 or more notes per onset plays chords. A track with no
notes falls back on its program: pianos, chromatic percussion, organs,
guitars, ensembles and pads play chords, everything else a line.
"""

from __future__ import annotations

from ..song import Track
from .prompt import Part

DRUMS, BASS, HARMONY, MELODY = range(4)
ROLE_NAMES = ("drums", "bass", "harmony", "melody")
# General MIDI families that mostly play chords: piano, chromatic percussion,
# organ, guitar (0-31), ensemble (48-55), synth pad (88-95)
CHORD_PROGRAMS = frozenset([*range(0, 32), *range(48, 56), *range(88, 96)])


def role(track: Track, tpb: int) -> int:
    """DRUMS, BASS, HARMONY or MELODY, from the track's notes (or program)."""
    part = Part.of(track, track.notes, tpb)
    if part.is_drum:
        return DRUMS
    if part.bass:
        return BASS
    if not part.pitches:
        return HARMONY if track.program in CHORD_PROGRAMS else MELODY
    return HARMONY if part.harmonic else MELODY


def fill_order(req, tpb: int) -> list[int]:
    """Indices of req.targets in the order they are written."""
    n = len(req.targets)
    if req.order == "given" or n == 1:
        return list(range(n))
    roles = {t.track_id: role(req.song.track(t.track_id), tpb) for t in req.targets}
    return sorted(range(n), key=lambda i: roles[req.targets[i].track_id])
