"""Does the network read a drum part? Fills of made-up repeating grooves.

Twelve songs, each a piano and a drum part drawn by
model/training/drum_patterns.py (seeds 0-11, in no split), bars 9-12 of
the drum part filled with default controls (or the groove lean off);
counted: fill bars equal to a context bar in keys and onsets.

    python -m midifill.model.evaluation.groove_copy MODEL [--lean-off]
"""

from __future__ import annotations

import argparse
import random

from ..generation.engine import Engine
from ..song import Note, Song, Track
from ..training.drum_patterns import with_drum_pattern
from .fit import bar_pattern


def copied_bars(engine: Engine, controls: dict, songs: int = 12) -> tuple[int, int]:
    tpb = engine.tok.tpb
    copied = total = 0
    for seed in range(songs):
        chords = [Note(48 + (b % 4) * 2, b * 4.0, 4.0, 80) for b in range(24)]
        song, tid = with_drum_pattern(
            Song([Track("piano", 0, False, chords, "piano")]), random.Random(seed)
        )
        bars = song.bars()
        target = {"track": tid, "start": bars[8].start, "end": bars[12].start}
        req = dict(
            song.to_payload(), mode="fill", target=target, controls={"seed": seed, **controls}
        )
        fill = [Note.from_list(n) for n in engine.run(req)["variations"][0]["notes"]]
        context = {
            bar_pattern(song.track(tid).notes, b, tpb)
            for i, b in enumerate(bars)
            if not 8 <= i < 12
        }
        for b in bars[8:12]:
            total += 1
            copied += bar_pattern(fill, b, tpb) in context
    return copied, total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--lean-off", action="store_true", help="groove_lean 0: the network alone")
    args = p.parse_args()
    controls = {"groove_lean": 0} if args.lean_off else {}
    copied, total = copied_bars(Engine.from_checkpoint(args.model), controls)
    print(f"{args.model}: {copied} of {total} fill bars equal a context bar")


if __name__ == "__main__":
    main()
