"""`midifill generate`: fill, continue or generate part of a MIDI file.

    midifill generate song.mid -o out.mid --mode fill --track 1 --bars 5-8

Bars are numbered from 1, as DAWs number them; `--bars 5-8` is bars 5 to 8
inclusive, and may reach up to 16 bars past the end of the song in any mode
(the rule, the request and the writing back come from model/generation/front.py, as
the demo's do, so the two take the same selections). The output is the
input file itself, event for event (model/midi_patch.py), in which only the
target track's notes that start in the range differ (OUT-1.mid … OUT-K.mid
for K variations).

Several parts in one request: `--track` repeated, with one `--bars` for all
of them or one `--bars` per `--track`, in the same order:

    midifill generate song.mid -o out.mid --track drums --track bass --bars 5-8
    midifill generate song.mid -o out.mid --track 0 --bars 5-8 --track 1 --bars 9-12

Each output file then holds every target's new notes of that variation
(docs/contract.md, "Several targets").
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from midifill.bridge import control_flags
from midifill.model.errors import RequestError
from midifill.model.generation.front import MODES


def add_arguments(p):
    p.add_argument("input", help="MIDI file to read")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="MIDI file to write; with K > 1 variations OUT-1.mid ... OUT-K.mid",
    )
    p.add_argument(
        "--mode",
        choices=MODES,
        default="fill",
        help="fill: rewrite the bars; continue: write them from what comes before "
        "only; generate: write them from nothing (default: fill)",
    )
    p.add_argument(
        "--track",
        required=True,
        action="append",
        help="target track: its index in the file (0, 1, ...), its name, or 'new'; "
        "repeat it to fill several tracks in one request (drums, then bass, "
        "then chords, then lines, each hearing the ones before)",
    )
    p.add_argument(
        "--bars",
        required=True,
        action="append",
        help="bar range, 1-based and inclusive, e.g. 5-8; up to 16 bars past the "
        "end of the song extend it; with several --track, one --bars for all "
        "or one per --track in the same order",
    )
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    control_flags.add(p)  # --temperature ... --feel, from the control table
    p.add_argument(
        "--program",
        type=int,
        default=None,
        help="with --track new: the General MIDI program of the new track",
    )
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
    from midifill.model.generation.request import LIMITS

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


def _targets_args(tracks: list[str], bars: list[str]) -> list[tuple[str, tuple[int, int]]]:
    """(track as typed, (first, last)) per --track; ValueError says what is wrong."""
    from midifill.model.generation.request import LIMITS

    if len(bars) not in (1, len(tracks)):
        raise ValueError(
            f"{len(tracks)} --track and {len(bars)} --bars: give one --bars for "
            "all tracks or one per --track"
        )
    if len(tracks) > LIMITS["targets"]:
        raise ValueError(f"{len(tracks)} --track: at most {LIMITS['targets']} in one request")
    if tracks.count("new") > 1:
        raise ValueError("--track new: at most one new track in one request")
    spans = [_parse_range(b, "bars") for b in bars]
    for first, last in spans:
        _check_bars(first, last)
    spans = spans * len(tracks) if len(spans) == 1 else spans
    total = sum(last - first + 1 for first, last in spans)
    if total > LIMITS["all_target_bars"]:
        raise ValueError(
            f"{total} bars in all --bars together; the limit is {LIMITS['all_target_bars']}"
        )
    return list(zip(tracks, spans))


def write_patched(path: Path, data: bytes) -> None:
    """`data` written to `path` atomically: a reader sees the old file or the
    whole new one."""
    from midifill.model.files import atomic_path

    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def run(args) -> int:
    try:  # the arguments first: bad input exits 2 before any work
        _check_output(Path(args.output))
        wanted = _targets_args(args.track, args.bars)
        controls = control_flags.read(args)
    except (ValueError, RequestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from midifill.model import Engine, MidifillError, Track
    from midifill.model.generation import front
    from midifill.model.midi_io import read_midi
    from midifill.model.midi_patch import patch_variation

    try:
        song = read_midi(args.input)
        data = Path(args.input).read_bytes()  # written back event by event (midi_patch.py)
    except OSError as exc:
        print(f"error: {args.input}: cannot be read ({exc.strerror or exc})", file=sys.stderr)
        return 2
    except MidifillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    new_track, targets = None, []
    for typed, span in wanted:
        if typed == "new":
            new_track = Track(str(len(song.tracks)), args.program or 0, args.drums, [], "midifill")
            song.tracks.append(new_track)
            targets.append((new_track.id, span))
            continue
        match = [t for t in song.tracks if t.id == typed or t.name == typed]
        if not match:
            names = ", ".join(f"{t.id} ({t.name or 'unnamed'})" for t in song.tracks) or "none"
            print(f"error: no track {typed!r}; tracks: {names}", file=sys.stderr)
            return 2
        targets.append((match[0].id, span))
    for j, (tid, (a, b)) in enumerate(targets):  # as the request would refuse it, sooner
        for other, (c, d) in targets[:j]:
            if other == tid and a <= d and c <= b:
                print(
                    f"error: --track {wanted[j][0]} --bars {a}-{b} overlaps the bars of an "
                    "earlier --track of the same track",
                    file=sys.stderr,
                )
                return 2
    try:
        request = front.build_targets_request(song, targets, args.mode, controls)
    except front.InputError as exc:
        print(f"error: --bars {' '.join(args.bars)}: {exc}", file=sys.stderr)
        return 2
    try:
        engine = Engine.from_checkpoint(args.model)
        response = engine.run(request)
    except MidifillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    outputs = []
    out = Path(args.output)
    for k, var in enumerate(response["variations"], 1):
        path = (
            out
            if len(response["variations"]) == 1
            else out.with_name(f"{out.stem}-{k}{out.suffix}")
        )
        try:  # the input's own events, only the targets' notes in their ranges changed
            patched, written = patch_variation(data, song, request, var, new_track)
            write_patched(path, patched)
        except MidifillError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # checked above, but a disk can fill or a folder vanish
            print(f"error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        counts = {
            (t["track"], t["start"]): len(notes)
            for t, notes in zip(var.get("targets") or [request["target"]], written)
        }
        row = {"path": str(path), "notes": sum(counts.values())}
        if "targets" in request:
            row["targets"] = [
                {
                    "track": t["track"],
                    "start": t["start"],
                    "end": t["end"],
                    "notes": counts[(t["track"], t["start"])],
                }
                for t in request["targets"]
            ]
        outputs.append(row)
    if args.seed is None:
        print(
            f"seed {response['seed']} (random; --seed {response['seed']} repeats these notes)",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "outputs": outputs,
                "model": response["model"],
                "seed": response["seed"],
                "timing_ms": response["timing_ms"],
            }
        )
    )
    return 0
