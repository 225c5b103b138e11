"""The client side of the request contract (docs/contract.md), for the faces
that hold a whole song: `midifill generate` and the demo build their request
and apply the response here, so the two take the same selections and send
the same request for the same input.

- `MODES`, and `CONTROLS`: every request control, each with the value the
  engine uses when it is left out (AUTO: it follows the part), from the
  control table (model/generation/controls.py);
- `controls(**values)`: a request's controls, values left out (None) not sent;
- `from_text(name, text)`: what a user typed for a control (the CLI's flags,
  the demo's boxes), as the request spells it;
- `check_controls(controls)`: the request's own check of them, before the
  engine loads;
- `build_request(song, track, bars, mode, controls)`: the request for bars
  first..last (1-based, both included) of one track of `song`;
- `apply_response(song, request, response)`: one song per variation, the
  target range replaced and nothing else touched.

A selection the user can fix raises InputError with a sentence that says
what to change. Nothing here imports torch (tests/model/generation/test_front.py checks), so
the CLI checks its arguments and the demo builds its page before the engine
loads.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..song import Note, Song
from . import controls as _table
from .request import MODES, parse_controls

EXTRA_BARS = 16  # a selection may reach this far past the last bar, in any mode

CONTROLS = _table.defaults()  # as parse_request fills them in

__all__ = [
    "MODES",
    "CONTROLS",
    "EXTRA_BARS",
    "InputError",
    "controls",
    "from_text",
    "check_controls",
    "check_mode",
    "bar_range",
    "build_request",
    "build_targets_request",
    "apply_response",
    "fill_notes",
]


class InputError(ValueError):
    """Something the user can fix; the message says what to change."""


def controls(**values) -> dict:
    """The controls of a request from those a face was given; None is left
    out (the engine's default), AUTO becomes "auto" and a pitch range or kit
    the JSON list (controls.to_json)."""
    unknown = sorted(set(values) - set(CONTROLS))
    if unknown:
        raise TypeError(f"unknown controls {unknown}; known: {', '.join(CONTROLS)}")
    return {name: _table.to_json(value) for name, value in values.items() if value is not None}


def from_text(name: str, text: str):
    """The request's value for what a user typed for control `name` ("auto",
    "off", 0.5, 40-90, 36,38,42); ValueError says what to type."""
    return _table.BY_NAME[name].from_text(text)


def check_controls(controls: dict) -> None:
    """The request's check of `controls` (RequestError naming the control),
    for a face to refuse a bad value before the engine loads."""
    parse_controls(controls)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError(f"Mode '{mode}' is unknown: choose fill, continue or generate.")


def bar_range(song: Song, mode: str, bar_start, bar_end) -> tuple[float, float]:
    """Beats [start, end) of bars bar_start..bar_end (1-based, inclusive).

    One rule for every mode: any bars from 1 up to EXTRA_BARS past the song's
    last bar. A selection past the end extends the timeline in the song's last
    time signature, so a producer can fill the bars after a loop as well as
    continue it. (`mode` only words the message.)"""
    n_bars = len(song.bars())
    top = n_bars + EXTRA_BARS
    try:
        a, b = int(bar_start), int(bar_end)
    except (TypeError, ValueError):
        raise InputError("Bars: enter whole bar numbers for 'from bar' and 'to bar'.") from None
    if a != bar_start or b != bar_end:
        raise InputError("Bars: enter whole bar numbers for 'from bar' and 'to bar'.")
    if not (1 <= a <= b <= top):
        raise InputError(
            f"Bars {a} to {b} are out of range: the song has {n_bars} bars, and "
            f"a {mode} may reach {EXTRA_BARS} bars past its end (bar {top}). "
            "Choose a first bar no larger than the last, inside that range."
        )
    return song.bar_span(a, b)


def build_request(song: Song, track: str, bars: tuple[int, int], mode: str, controls: dict) -> dict:
    """The engine request for bars `bars` = (first, last), 1-based and both
    included, of track id `track` of `song` (a new, empty track already in
    it); `controls` as controls() makes them."""
    check_mode(mode)
    start, end = bar_range(song, mode, *bars)
    return dict(
        song.to_payload(),
        mode=mode,
        controls=dict(controls),
        target={"track": track, "start": start, "end": end},
    )


def build_targets_request(
    song: Song, targets: list[tuple[str, tuple[int, int]]], mode: str, controls: dict
) -> dict:
    """The engine request for several targets, each (track id, (first, last)
    bars) as build_request takes one; one target gives build_request's."""
    if len(targets) == 1:
        return build_request(song, targets[0][0], targets[0][1], mode, controls)
    check_mode(mode)
    spans = [(track, bar_range(song, mode, *bars)) for track, bars in targets]
    return dict(
        song.to_payload(),
        mode=mode,
        controls=dict(controls),
        targets=[{"track": track, "start": a, "end": b} for track, (a, b) in spans],
    )


def apply_response(song: Song, request: dict, response: dict) -> list[Song]:
    """One song per variation of `response`: the target range of `request`
    (each of its `targets`) replaced, nothing else touched. The new notes
    follow the same-pitch rule of model/same_pitch.py (fill_notes)."""
    if "targets" not in request:
        target = request["target"]
        return [
            song.with_notes_replaced(
                target["track"],
                target["start"],
                target["end"],
                fill_notes(song, target, v["notes"]),
            )
            for v in response["variations"]
        ]
    out = []
    for v in response["variations"]:
        new = song
        for target in v["targets"]:
            new = new.with_notes_replaced(
                target["track"],
                target["start"],
                target["end"],
                fill_notes(song, target, target["notes"], request["targets"]),
            )
        out.append(new)
    return out


def fill_notes(song: Song, target: dict, notes: list, ranges: Sequence[dict] = ()) -> list[Note]:
    """A variation's notes (lists, as the response holds them) as the target
    track will hold them: ends that miss a start by rounding snapped onto it,
    then no two notes of one pitch sounding at once (model/same_pitch.py).

    `ranges`: every target of the request ({track, start, end}); the track's
    notes inside any of its own ranges are about to be replaced, so they are
    not kept notes for the rule, only the notes outside all of them."""
    from ..limits import MIN_PITCHED_BEATS
    from ..same_pitch import EPS_BEATS, snap, tidy

    track = next((t for t in song.tracks if t.id == target["track"]), None)
    spans = [(target["start"], target["end"])] + [
        (r["start"], r["end"]) for r in ranges if r["track"] == target["track"]
    ]
    kept = (
        [n for n in track.notes if not any(lo <= n.start < hi for lo, hi in spans)] if track else []
    )
    drum = bool(track and track.is_drum)

    def key(n):
        return n.pitch, n.start, n.end

    def make(n, s, e):
        return Note(n.pitch, s, e - s, n.velocity)

    new = snap([Note.from_list(n) for n in notes], key, make, EPS_BEATS)
    return tidy(new, kept, key, make, 2 * EPS_BEATS if drum else MIN_PITCHED_BEATS, EPS_BEATS)
