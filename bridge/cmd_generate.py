"""`midifill generate`: fill, continue or generate part of a MIDI file.

    midifill generate song.mid -o out.mid --mode fill --track 1 --bars 5-8

Bars are numbered from 1, as DAWs number them; `--bars 5-8` is bars 5 to 8
inclusive, and may reach up to 16 bars past the end of the song in any mode
(the rule, the request and the writing back come from model/generation/front.py, as
the demo's do, so the two take the same selections). The output is the
input file itself, event for event (model/midi_patch.py), in which only the
target track's notes that start in the range differ (OUT-1.mid … OUT-K.mid
for K variations).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bridge import control_flags
from model.errors import RequestError
from model.generation.front import MODES


def add_arguments(p):
    p.add_argument("input", help="MIDI file to read")
    p.add_argument("-o", "--output", required=True,
                   help="MIDI file to write; with K > 1 variations OUT-1.mid ... OUT-K.mid")
    p.add_argument("--mode", choices=MODES, default="fill",
                   help="fill: rewrite the bars; continue: write them from what comes before "
                        "only; generate: write them from nothing (default: fill)")
    p.add_argument("--track", required=True,
                   help="target track: its index in the file (0, 1, ...), its name, or 'new'")
    p.add_argument("--bars", required=True,
                   help="bar range, 1-based and inclusive, e.g. 5-8; up to 16 bars past the "
                        "end of the song extend it")
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    control_flags.add(p)  # --temperature ... --feel, from the control table
    p.add_argument("--program", type=int, default=None,
                   help="with --track new: the General MIDI program of the new track")
    p.add_argument("--drums", action="store_true", help="with --track new: a drum track")


def _parse_range(text: str, what: str) -> tuple[int, int]:
    """(lo, hi) of "5-8" or "5"; ValueError with the message otherwise."""
    try:
        a, _, b = text.partition("-")
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise ValueError(f"--{what} must look like 5-8, got {text[:40]!r}") from None
    if lo > hi:
        raise ValueError(f"--{what} {text}: the first number is larger than the second")
    return lo, hi


def _check_bars(first: int, last: int) -> None:
    """The bar limits, before any bar is built (a range near bar 10**8 once
    took a minute to refuse)."""
    from model.generation.request import LIMITS
    if first < 1:
        raise ValueError("--bars counts from 1")
    if last > LIMITS["bars"]:
        raise ValueError(f"--bars {first}-{last}: the timeline limit is {LIMITS['bars']} bars")
    if last - first + 1 > LIMITS["target_bars"]:
        raise ValueError(f"--bars {first}-{last}: at most {LIMITS['target_bars']} bars at once")


def _check_output(out: Path) -> None:
    """Refuse an output path that cannot be written, before the work."""
    folder = out.parent
    if out.is_dir():
        raise ValueError(f"-o {out}: is a folder; give a file name such as {out / 'out.mid'}")
    if not folder.exists():
        raise ValueError(f"-o {out}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"-o {out}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"-o {out}: no permission to write in {folder}")


def run(args) -> int:
    try:  # the arguments first: bad input exits 2 before any work
        _check_output(Path(args.output))
        first, last = _parse_range(args.bars, "bars")
        _check_bars(first, last)
        controls = control_flags.read(args)
    except (ValueError, RequestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from model import Engine, MidifillError, Track
    from model.generation import front
    from model.midi_io import read_midi
    from model.midi_patch import write_patched

    try:
        song = read_midi(args.input)
        data = Path(args.input).read_bytes()  # written back event by event (midi_patch.py)
    except OSError as exc:
        print(f"error: {args.input}: cannot be read ({exc.strerror or exc})", file=sys.stderr)
        return 2
    except MidifillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.track == "new":
        track_id = str(len(song.tracks))
        song.tracks.append(Track(track_id, args.program or 0, args.drums, [], "midifill"))
    else:
        match = [t for t in song.tracks if t.id == args.track or t.name == args.track]
        if not match:
            names = ", ".join(f"{t.id} ({t.name or 'unnamed'})" for t in song.tracks) or "none"
            print(f"error: no track {args.track!r}; tracks: {names}", file=sys.stderr)
            return 2
        track_id = match[0].id
    try:
        request = front.build_request(song, track_id, (first, last), args.mode, controls)
    except front.InputError as exc:
        print(f"error: --bars {args.bars}: {exc}", file=sys.stderr)
        return 2
    try:
        engine = Engine.from_checkpoint(args.model)
        response = engine.run(request)
    except MidifillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    outputs = []
    out = Path(args.output)
    new_track = song.tracks[-1] if args.track == "new" else None
    target = request["target"]
    for k, var in enumerate(response["variations"], 1):
        path = out if len(response["variations"]) == 1 else \
            out.with_name(f"{out.stem}-{k}{out.suffix}")
        notes = front.fill_notes(song, target, var["notes"])
        try:  # the input's own events, only the target's notes in the range changed
            write_patched(path, data, int(track_id), target["start"], target["end"], notes,
                          new_track)
        except MidifillError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # checked above, but a disk can fill or a folder vanish
            print(f"error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        outputs.append({"path": str(path), "notes": len(notes)})
    if args.seed is None:
        print(f"seed {response['seed']} (random; --seed {response['seed']} repeats these notes)",
              file=sys.stderr)
    print(json.dumps({"outputs": outputs, "model": response["model"], "seed": response["seed"],
                      "timing_ms": response["timing_ms"]}))
    return 0
