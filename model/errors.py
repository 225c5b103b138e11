"""Typed errors that every face (OSC, CLI, demo) can show to a person."""

from __future__ import annotations

import reprlib

QUOTE_CHARS = 80  # a value quoted in a message is cut to this many characters


class _Quoter(reprlib.Repr):
    """repr() that stays short and cheap whatever the value: bounded depth,
    lengths and digits, and no recursion into a list nested 5,000 deep."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict = 3, 6, 6, 4
        self.maxstring = self.maxother = self.maxlong = QUOTE_CHARS

    def repr_int(self, x, level):
        # repr() of an int over 4,300 digits raises ValueError; its size is what matters
        if x.bit_length() > 200:
            return f"<an integer of {x.bit_length()} bits>"
        return super().repr_int(x, level)


_QUOTER = _Quoter()


def quote(value, limit: int = QUOTE_CHARS) -> str:
    """A short repr of a value from a request, safe for any input."""
    try:
        text = _QUOTER.repr(value)
    except Exception:  # a hostile __repr__; say what it is instead
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class MidifillError(Exception):
    """Base class. `code` is the short machine-readable name sent over OSC."""

    code = "error"


class RequestError(MidifillError, ValueError):
    """A request that breaks the contract. `field` names the offending field
    (a dotted path such as ``tracks[2].notes[5]``). Both are clipped, so a
    70 KB key never makes a message too long to send."""

    code = "bad_request"

    def __init__(self, field: str, message: str):
        self.field = clip(field, 120)
        self.message = clip(message, 400)
        super().__init__(f"{self.field}: {self.message}")


class LimitError(RequestError):
    """A request over one of the documented limits."""

    code = "too_large"


class TooSlow(MidifillError):
    """A request that ran past the engine's time budget and was stopped."""

    code = "too_slow"


class MidiFileError(MidifillError, ValueError):
    """A MIDI file that cannot be read (missing, empty, corrupt, not MIDI,
    or over a limit)."""

    code = "bad_midi"


class CheckpointError(MidifillError):
    """A checkpoint that is missing, foreign or does not match its config."""

    code = "bad_checkpoint"


class Cancelled(MidifillError):
    """Generation stopped because the caller cancelled it."""

    code = "cancelled"


class MidiLimitError(MidiFileError):
    """A MIDI file over one of the documented limits, found before parsing it."""

    code = "too_large"
