"""The client side of the request contract (docs/contract.md), for the faces
that hold a whole song: `midifill generate` and the demo build their request
and apply the response here, so the two take the same selections and send
the same request for the same input.

- `MODES`, and `CONTROLS`: the controls a face sets, each with the value the
  engine uses when it is left out (None: chosen per request);
- `controls(**values)`: a request's controls, values left out (None) not sent;
- `build_request(song, track, bars, mode, controls)`: the request for bars
  first..last (1-based, both included) of one track of `song`;
- `apply_response(song, request, response)`: one song per variation, the
  target range replaced and nothing else touched.

A selection the user can fix raises InputError with a sentence that says
what to change. Nothing here imports torch (tests/test_front.py checks), so
the CLI checks its arguments and the demo builds its page before the engine
loads.
"""
from __future__ import annotations

from .request import MODES
from .sampling import Controls
from ..song import Note, Song

EXTRA_BARS = 16  # a selection may reach this far past the last bar, in any mode

_ENGINE_DEFAULTS = Controls(harmony=None)  # as parse_request fills them in
CONTROLS = {name: getattr(_ENGINE_DEFAULTS, name) for name in (
    "temperature", "top_p", "top_k", "seed", "variations", "candidates", "density", "key",
    "pitch_range", "harmony")}

__all__ = ["MODES", "CONTROLS", "EXTRA_BARS", "InputError", "controls", "check_mode",
           "bar_range", "build_request", "apply_response"]


class InputError(ValueError):
    """Something the user can fix; the message says what to change."""


def controls(**values) -> dict:
    """The controls of a request from those a face was given; None is left
    out (the engine's default), a pitch range becomes the JSON pair."""
    unknown = sorted(set(values) - set(CONTROLS))
    if unknown:
        raise TypeError(f"unknown controls {unknown}; known: {', '.join(CONTROLS)}")
    out = {name: value for name, value in values.items() if value is not None}
    if "pitch_range" in out:
        out["pitch_range"] = [int(p) for p in out["pitch_range"]]
    return out


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
        raise InputError(f"Bars {a} to {b} are out of range: the song has {n_bars} bars, and "
                         f"a {mode} may reach {EXTRA_BARS} bars past its end (bar {top}). "
                         "Choose a first bar no larger than the last, inside that range.")
    return song.bar_span(a, b)


def build_request(song: Song, track: str, bars: tuple[int, int], mode: str,
                  controls: dict) -> dict:
    """The engine request for bars `bars` = (first, last), 1-based and both
    included, of track id `track` of `song` (a new, empty track already in
    it); `controls` as controls() makes them."""
    check_mode(mode)
    start, end = bar_range(song, mode, *bars)
    return dict(song.to_payload(), mode=mode, controls=dict(controls),
                target={"track": track, "start": start, "end": end})


def apply_response(song: Song, request: dict, response: dict) -> list[Song]:
    """One song per variation of `response`: the target range of `request`
    replaced, nothing else touched."""
    target = request["target"]
    return [song.with_notes_replaced(target["track"], target["start"], target["end"],
                                     [Note.from_list(n) for n in v["notes"]])
            for v in response["variations"]]
