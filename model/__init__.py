"""midifill's engine: everything musical and neural.

Every name here is imported lazily, when first used, so that importing a
submodule loads only what it needs: `from midifill.model.song import Song` does not
load the engine (its decoders, the compiled step), and `midifill request`
reads model/limits.py without anything else. Inference never imports
torch; training and the reference decoder do, when they run.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (7 ms)
if TYPE_CHECKING:
    from .errors import (
        Cancelled,
        CheckpointError,
        LimitError,
        MidiFileError,
        MidifillError,
        RequestError,
    )
    from .generation.engine import Engine
    from .song import Note, Song, TempoChange, TimeSignature, Track

__all__ = [
    "Engine",
    "Note",
    "Song",
    "Track",
    "TimeSignature",
    "TempoChange",
    "RequestError",
    "LimitError",
    "MidiFileError",
    "CheckpointError",
    "Cancelled",
    "MidifillError",
]
_HOME = {
    "Engine": ".generation.engine",
    **dict.fromkeys(__all__[1:6], ".song"),
    **dict.fromkeys(__all__[6:], ".errors"),
}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(_HOME[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
