"""Typed errors that every face (OSC, CLI, demo) can show to a person."""


class MidifillError(Exception):
    """Base class. `code` is the short machine-readable name sent over OSC."""

    code = "error"


class RequestError(MidifillError, ValueError):
    """A request that breaks the contract. `field` names the offending field
    (a dotted path such as ``tracks[2].notes[5]``)."""

    code = "bad_request"

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class LimitError(RequestError):
    """A request over one of the documented limits."""

    code = "too_large"


class MidiFileError(MidifillError, ValueError):
    """A MIDI file that cannot be read (missing, empty, corrupt, not MIDI)."""

    code = "bad_midi"


class CheckpointError(MidifillError):
    """A checkpoint that is missing, foreign or does not match its config."""

    code = "bad_checkpoint"


class Cancelled(MidifillError):
    """Generation stopped because the caller cancelled it."""

    code = "cancelled"
