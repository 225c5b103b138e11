"""Which split a piece belongs to: one rule for the corpus builder and for
training from a plain folder of MIDI files.

A piece's split follows from a hash of its id alone, so every file of one
piece (its transpositions, its MMA grooves) lands in the same split, and a
corpus built again, or grown, keeps every piece where it was.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "valid", "test")


def split_of(piece: str) -> str:
    """About 90 % train, 5 % valid, 5 % test, from a hash of the piece id."""
    bucket = int(hashlib.sha1(piece.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 90 else "valid" if bucket < 95 else "test"
