"""midifill's engine: everything musical and neural.

`Engine` is imported lazily so that `from model.song import Song` does not
load the engine (its decoders, the compiled step). Inference never imports
torch; training and the reference decoder do, when they run.
"""
from .errors import (Cancelled, CheckpointError, LimitError, MidifillError, MidiFileError,
                     RequestError)
from .song import Note, Song, TempoChange, TimeSignature, Track

__all__ = ["Engine", "Note", "Song", "Track", "TimeSignature", "TempoChange", "RequestError",
           "LimitError", "MidiFileError", "CheckpointError", "Cancelled", "MidifillError"]


def __getattr__(name):
    if name == "Engine":
        from .generation.engine import Engine
        return Engine
    raise AttributeError(name)
