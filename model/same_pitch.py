"""One rule for notes of one pitch that would sound at once, used wherever a
fill is written into a track (front.apply_response for the CLI and the demo,
and midi_patch at the file's own ticks).

A MIDI channel can hold one note of each pitch at a time: a second note-on
before the first note's note-off makes two on/off pairs that readers pair
differently (pretty_midi closes both at the first note-off, so one of them
reads back as a sliver). So, on the target track:

- **new against new**: when a new note starts while an earlier new note of
  its pitch still sounds, the earlier note is *trimmed* to end where the
  later one starts. Where that would leave the earlier note shorter than the
  minimum (a 32nd for pitched notes), the two *merge* into one note: the
  earlier note's start and velocity, lasting to the later of the two ends.
  Two new notes of one pitch at one start merge the same way.
- **new against kept**: a new note that would start while a kept note of its
  pitch (one of the track's own notes outside the range, held into it) still
  sounds is *left out*, so no kept note changes (Ableton Live's device keeps
  the same rule, docs/ableton.md). A new note that would still sound when a
  kept note of its pitch starts is trimmed there, or left out where the rest
  would be shorter than the minimum.

Times are compared with a tolerance `eps`: responses round starts and
durations to 6 decimals, so an end can pass the next start by 1e-6 beat.
`snap` moves every end within `eps` of another note's start onto that start,
so rounding alone never makes notes overlap (and never raises the polyphony
a response was sampled under).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

N = TypeVar("N")

EPS_BEATS = 1e-5  # responses round to 6 decimals; their grid is far coarser than this


def tidy(
    new: Sequence[N],
    kept: Sequence[N],
    key: Callable[[N], tuple],
    make: Callable[[N, float, float], N],
    min_len: float,
    eps: float = 0.0,
) -> list[N]:
    """`new` with the rule above applied against itself and `kept`.

    `key(note)` gives (pitch, start, end); `make(note, start, end)` a copy of
    a note with new times. Works in beats (eps > 0) as well as in ticks
    (eps = 0, integers). Returned in order of (start, pitch)."""
    kept_by_pitch = defaultdict(list)
    for k in kept:
        p, s, e = key(k)
        kept_by_pitch[p].append((s, e))
    by_pitch = defaultdict(list)
    for n in new:
        by_pitch[key(n)[0]].append(n)
    out = []
    for pitch, notes in by_pitch.items():
        notes.sort(key=lambda n: (key(n)[1], -key(n)[2]))
        merged: list[list] = []  # [note, start, end]
        for n in notes:
            _, s, e = key(n)
            if merged and merged[-1][2] > s + eps:
                prev = merged[-1]
                if s - prev[1] >= min_len - eps:
                    prev[2] = s  # trim the earlier at the later's start
                else:  # too short to trim: one note to the later end
                    prev[2] = max(prev[2], e)
                    continue
            merged.append([n, s, e])
        for n, s, e in merged:
            e = _against_kept(s, e, kept_by_pitch[pitch], min_len, eps)
            if e is not None:
                out.append(make(n, s, e) if (s, e) != key(n)[1:] else n)
    out.sort(key=lambda n: (key(n)[1], key(n)[0]))
    return out


def _against_kept(s, e, kept, min_len, eps):
    """The new note's end after the kept notes of its pitch, or None to leave
    it out."""
    for ks, ke in kept:
        if ks - eps <= s < ke - eps:
            return None  # starts under a kept note
        if s < ks < e - eps:
            if ks - s < min_len - eps:
                return None
            e = ks
    return e


def snap(
    notes: Sequence[N],
    key: Callable[[N], tuple],
    make: Callable[[N, float, float], N],
    eps: float = EPS_BEATS,
) -> list[N]:
    """Each end that lies within `eps` of some note's start moved onto it."""
    starts = sorted({key(n)[1] for n in notes})
    if not starts:
        return list(notes)
    import bisect

    out = []
    for n in notes:
        _, s, e = key(n)
        i = bisect.bisect_left(starts, e - eps)
        if i < len(starts) and abs(starts[i] - e) <= eps and starts[i] != e and starts[i] > s:
            n = make(n, s, starts[i])
        out.append(n)
    return out
