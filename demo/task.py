"""The demo's work without the web page: read the upload, describe its tracks,
and turn the form into an engine request.

The request itself is built, and the response applied, by model/generation/front.py,
as `midifill generate` does, so the two faces take the same selections.
Nothing here imports Gradio or torch; every problem a visitor can fix is
raised as InputError with a sentence that says what to change, and app.py
shows it as a gr.Error.
"""

from __future__ import annotations

from dataclasses import field, make_dataclass
from pathlib import Path

import pretty_midi

from midifill.demo import controls_form as form
from midifill.model import scales
from midifill.model.errors import MidiFileError, MidiLimitError
from midifill.model.files import atomic_path
from midifill.model.generation import front
from midifill.model.generation.front import InputError
from midifill.model.generation.request import LIMITS
from midifill.model.limits import MAX_FILE_BYTES  # past it a MIDI file is almost surely not a song
from midifill.model.midi_io import read_midi, scan_midi
from midifill.model.midi_patch import patch_variation
from midifill.model.song import Song, Track

# the demo's own caps, checked from a scan of the file's bytes before it is parsed
# (docs/demo.md, "What a file may cost"): past them parsing, the track table
# and the piano roll's legend cost seconds that no song needs
MAX_TRACKS = 64
MAX_BENDS = 20_000
MAX_EVENTS = 100_000
MAX_VARIATIONS = 4  # slots on the page
MAX_TARGETS = LIMITS["targets"]  # tracks filled in one run (docs/contract.md)
NEW_TRACK = "new"
DRUMS = "drums"
KEY_OFF, KEY_AUTO = "off", "auto (from the song)"
KEYS = scales.KEY_NAMES


def instrument_name(program: int, is_drum: bool) -> str:
    return "Drums" if is_drum else pretty_midi.program_to_instrument_name(int(program))


def instrument_choices() -> list[tuple[str, str]]:
    """(label, value) pairs for a new track's instrument."""
    return [(f"{p}: {pretty_midi.program_to_instrument_name(p)}", str(p)) for p in range(128)] + [
        ("Drums (GM percussion)", DRUMS)
    ]


def load_song(path: str | Path | None) -> Song:
    """Read an uploaded MIDI file, refusing what is not a usable song."""
    if not path:
        raise InputError("No MIDI file yet: upload a .mid file or pick one of the examples.")
    path = Path(path)
    size = path.stat().st_size if path.is_file() else 0
    if size == 0:
        raise InputError(f"'{path.name}' is empty (0 bytes): upload a Standard MIDI File (.mid).")
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"'{path.name}' is {size / 1e6:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES / 1e6:.1f} MB. Upload a shorter MIDI file."
        )
    try:
        _check_cost(path)
        return read_midi(path)
    except MidiFileError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise InputError(
            f"'{path.name}' cannot be used: {reason}. Upload a Standard MIDI "
            "File (.mid) exported from a DAW or notation program."
        ) from exc


def _check_cost(path: Path) -> None:
    """MidiLimitError where the file passes one of the demo's caps, found by
    scan_midi from its bytes (it counts, it builds nothing)."""
    try:
        facts = scan_midi(path.read_bytes())
    except MidiFileError as exc:  # worded as read_midi words it: the path first
        raise type(exc)(f"{path}: {exc}") from None
    for count, cap, what in (
        (facts.tracks, MAX_TRACKS, "tracks"),
        (facts.bends, MAX_BENDS, "pitch-bend events"),
        (facts.events, MAX_EVENTS, "events"),
    ):
        if count > cap:
            raise MidiLimitError(
                f"{path.name}: {count:,} {what}; the demo takes files of up to {cap:,} {what}"
            )


def bars_with_notes(song: Song, track: Track) -> str:
    if not track.notes:
        return "-"
    bars = song.bars()
    first = min(n.start for n in track.notes)
    last = max(n.start for n in track.notes)
    idx = [next((b.index for b in reversed(bars) if b.start <= t + 1e-9), 0) for t in (first, last)]
    return f"{idx[0] + 1}-{idx[1] + 1}" if idx[0] != idx[1] else str(idx[0] + 1)


def track_rows(song: Song) -> list[list]:
    """One row per track: id, name, instrument, notes, bars that hold notes."""
    return [
        [
            t.id,
            t.name or f"track {t.id}",
            instrument_name(t.program, t.is_drum),
            len(t.notes),
            bars_with_notes(song, t),
        ]
        for t in song.tracks
    ]


def target_choices(song: Song) -> list[tuple[str, str]]:
    return [
        (f"{t.id}: {t.name or 'track ' + t.id} ({instrument_name(t.program, t.is_drum)})", t.id)
        for t in song.tracks
    ] + [("a new track (choose its instrument)", NEW_TRACK)]


def detect_key(song: Song) -> str | None:
    """The key of the song's pitched notes (see midifill.model.scales.detect_key)."""
    return scales.detect_key(n for t in song.tracks if not t.is_drum for n in t.notes)


# What the form asks for: the selection, then one field per control of the
# table the demo shows (demo/controls_form.py; None: not sent), then what was
# adjusted, to tell the visitor. Bars are numbered from 1, both ends included.
Task = make_dataclass(
    "Task",
    [
        ("mode", str, "fill"),
        ("target", str, ""),  # one track id, ids joined by commas, or a list (chosen_tracks)
        ("bar_start", int, 1),
        ("bar_end", int, 4),
        ("new_instrument", str, "0"),  # a program number as text, or DRUMS
    ]
    + form.task_fields()
    + [("notes", list, field(default_factory=list))],
)
Task.__doc__ = "What the form asks for (see above); a control left None is not sent."


def chosen_tracks(target) -> list[str]:
    """The track ids a form or API call chose, in its order, each once: a list
    (the page's menu), or one id, or ids joined by commas ("0,1")."""
    items = target if isinstance(target, (list, tuple)) else str(target or "").split(",")
    out = []
    for item in items:
        item = str(item).strip()
        if item and item not in out:
            out.append(item)
    return out


def prepare(song: Song, task: Task) -> tuple[Song, dict, list[str], float, float]:
    """(song with any new track added, request dict, the target track ids in
    the form's order, start, end). One track gives a request of `target`,
    several a request of `targets` over the same bars (docs/contract.md,
    "Several targets")."""
    front.check_mode(task.mode)
    mode = task.mode
    chosen = chosen_tracks(task.target)
    if not chosen:
        raise InputError("No track chosen: pick one or more tracks to fill, or 'a new track'.")
    if len(chosen) > MAX_TARGETS:
        raise InputError(
            f"{len(chosen)} tracks chosen; one run fills at most {MAX_TARGETS}. "
            "Remove some from the list."
        )
    ids = []
    for typed in chosen:
        if typed == NEW_TRACK:
            song, track_id = _with_new_track(song, task.new_instrument)
            if mode != "fill":
                task.notes.append(f"a new track is written with mode 'fill', not '{mode}'")
            mode = "fill"
        else:
            track_id = typed
            if not any(t.id == track_id for t in song.tracks):
                known = ", ".join(t.id for t in song.tracks) or "none"
                raise InputError(
                    f"Track '{typed}' does not exist in this file (tracks: "
                    f"{known}). Pick a track from the list or 'a new track'."
                )
        ids.append(track_id)
    bars = (task.bar_start, task.bar_end)
    request = front.build_targets_request(
        song, [(i, bars) for i in ids], mode, _controls(song, task)
    )
    span = request["target"] if "target" in request else request["targets"][0]
    return song, request, ids, span["start"], span["end"]


def filled_targets(request: dict, variation: dict) -> list[dict]:
    """A variation's targets as the response names them ({track, start, end,
    notes}), for a request of one `target` too."""
    if "targets" in variation:
        return variation["targets"]
    return [dict(request["target"], notes=variation["notes"])]


def write_fill(
    path, data: bytes, song: Song, request: dict, variation: dict, new_track: Track | None = None
) -> Path:
    """The uploaded file's bytes `data` written to `path` with only each
    target track's notes in its range replaced by a variation's notes
    (`variation` as the response holds it), as `midifill generate` writes it
    (model/midi_patch.py): every other event, channel, track and the tick
    resolution stay as they were. With `new_track` (the Track that `prepare`
    added), its notes go to a file track of its own.

    Each target's instrument is found again by (program, channel, file
    track), not by its place (midi_patch.patch_variation, which `midifill
    generate` calls too)."""
    data, _ = patch_variation(data, song, request, variation, new_track)
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return path


def bar_range(song: Song, start: float, end: float) -> tuple[int, int]:
    """The bars (numbered from 1, both ends included, as the form numbers
    them) that beats [start, end) cover, past the song's end too."""
    bars = song.bars(until=max(end, song.end_beat, 1e-3))
    first = next((b.index for b in reversed(bars) if b.start <= start + 1e-9), 0)
    last = next((b.index for b in bars if b.end >= end - 1e-9), len(bars) - 1)
    return first + 1, max(first, last) + 1


def track_label(song: Song, track_id: str) -> str:
    """A track as the track table names it."""
    track = next((t for t in song.tracks if t.id == track_id), None)
    return (track.name if track and track.name else None) or f"track {track_id}"


def _controls(song: Song, task) -> dict:
    """The form's controls, checked in its words (demo/controls_form.py): the
    seed box's -1 asks for a random seed, and the key lock may be the key
    detected in the song; "auto" and values equal to the engine's defaults
    are not sent."""
    values = {c.name: getattr(task, c.name) for c in form.CONTROLS}
    variations = values.get("variations")
    if variations is not None and not 1 <= float(variations) <= MAX_VARIATIONS:
        raise InputError(f"Variations must be between 1 and {MAX_VARIATIONS}.")
    if values.get("seed") is not None and float(values["seed"]) < 0:
        values["seed"] = None
    key = values.get("key")
    if key == KEY_AUTO:
        key = detect_key(song)
        task.notes.append(f"key detected: {key}" if key else "no pitched notes, key lock off")
    values["key"] = key if key and key != KEY_OFF else None
    return form.request_controls(values)


def _with_new_track(song: Song, instrument: str) -> tuple[Song, str]:
    used = {t.id for t in song.tracks}
    track_id = next(str(i) for i in range(len(used) + 1) if str(i) not in used)
    if instrument == DRUMS:
        track = Track(track_id, 0, True, [], "Drums (new)")
    else:
        try:
            program = int(instrument)
        except (TypeError, ValueError):
            raise InputError(
                f"Instrument '{instrument}' is unknown: pick one from the list."
            ) from None
        if not 0 <= program <= 127:
            raise InputError(f"Instrument {program} is not a General MIDI program (0-127).")
        track = Track(
            track_id, program, False, [], f"{pretty_midi.program_to_instrument_name(program)} (new)"
        )
    return Song(song.tracks + [track], list(song.time_signatures), list(song.tempos)), track_id
