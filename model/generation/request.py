"""Request validation: the JSON contract of docs/contract.md, checked before any work.

Every problem raises RequestError (or LimitError) naming the field, such as
``tracks[1].notes[4][2]: must be >= 0, got -0.5``. Limits are
checked from cheap facts (list lengths, beat positions) before anything is
built, and values quoted in messages are cut short (midifill.model.errors.quote).
From Python, numpy scalars count as the numbers they are; arrays are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LimitError, RequestError, quote
from ..limits import MAX_BARS, MAX_NOTES, MAX_PAYLOAD_BYTES
from ..scales import scale_pitch_classes
from ..song import Note, Song, TempoChange, TimeSignature, Track
from .controls import BY_NAME as _CONTROL
from .controls import NAMES as _CONTROL_NAMES
from .controls import defaults
from .sampling import Controls
from .values import number as _number
from .values import plain as _plain

MODES = ("fill", "continue", "generate")

# The documented limits (the table in docs/osc.md). The bridge checks payload size.
LIMITS = {
    "tracks": 64,
    "notes": MAX_NOTES,  # all tracks together
    "bars": MAX_BARS,  # the timeline, from beat 0 to the end of the target or last note
    "target_bars": 64,  # each target
    "targets": 8,  # targets in one request
    "all_target_bars": 128,  # all targets together
    "variations": _CONTROL["variations"].hi,  # the control table (controls.py) holds these two
    "candidates": _CONTROL["candidates"].hi,
    "payload_bytes": MAX_PAYLOAD_BYTES,
}
CONTROL_FIELDS = frozenset(_CONTROL_NAMES)


ORDERS = ("roles", "given")


@dataclass(frozen=True)
class Target:
    track_id: str
    start: float
    end: float


@dataclass
class FillRequest:
    """A checked request. track_id, start and end are its first target's; a
    request of `targets` (multi) holds them all in `targets`, in its order."""

    mode: str
    song: Song
    track_id: str
    start: float
    end: float
    controls: Controls
    targets: tuple[Target, ...] = ()
    multi: bool = False  # given as `targets`: the response names each target
    order: str = "roles"  # fill order: drums, bass, harmony, melody; or "given"

    def __post_init__(self):
        if not self.targets:
            self.targets = (Target(self.track_id, self.start, self.end),)


def _beat(value, field: str, max_beat: float, lo: float = 0) -> float:
    """A position in beats; past the longest possible timeline is a limit."""
    value = _plain(value, field)
    # compared before float(), which overflows on an int such as 10**400
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > max_beat:
        return _number(value, field, lo)
    raise LimitError(
        field,
        f"{quote(value)} reaches past the {LIMITS['bars']}-bar "
        f"timeline limit (at most {max_beat:g} beats here)",
    )


def _time_signature(value, field: str, tokenizer, first: int = 0) -> tuple[int, int]:
    """[numerator, denominator] found at value; `first` is the numerator's
    index in the list the message names (1 inside [beat, num, den])."""
    value = _plain(value, field)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise RequestError(field, f"expected [numerator, denominator], got {quote(value)}")
    num = _number(value[0], f"{field}[{first}]", 1, 64, integer=True)
    den = _number(value[1], f"{field}[{first + 1}]", 1, 64, integer=True)
    if not tokenizer.supports_time_signature(num, den):
        raise RequestError(
            field,
            f"time signature {num}/{den} is not supported (denominator 2, "
            f"4, 8 or 16 and a bar of at most {tokenizer.config.max_bar_beats} "
            "beats)",
        )
    return num, den


def _track_id(value, field: str) -> str:
    value = _plain(value, field)
    if (
        isinstance(value, bool)
        or not isinstance(value, (str, int))
        or value == ""
        or (isinstance(value, int) and abs(value) >= 2**63)
    ):
        raise RequestError(field, f"expected a non-empty string, got {quote(value)}")
    return str(value)


def _count_notes(tracks_raw) -> None:
    """The track and note limits, from list lengths alone, before any note is read."""
    if len(tracks_raw) > LIMITS["tracks"]:
        raise LimitError("tracks", f"{len(tracks_raw)} tracks; the limit is {LIMITS['tracks']}")
    total = sum(
        len(t["notes"])
        for t in tracks_raw
        if isinstance(t, dict) and isinstance(t.get("notes"), list)
    )
    if total > LIMITS["notes"]:
        raise LimitError("tracks", f"{total} notes in all; the limit is {LIMITS['notes']}")


def parse_request(req, tokenizer) -> FillRequest:
    """The request checked in a fixed order (mode, the targets' count and
    order, time signatures, tempo, tracks, targets, bar limits, controls):
    the first thing wrong is named."""
    if not isinstance(req, dict):
        raise RequestError("request", f"expected a JSON object, got {type(req).__name__}")
    mode = _plain(req.get("mode", "fill"), "mode")
    if not isinstance(mode, str) or mode not in MODES:
        raise RequestError("mode", f"expected one of {', '.join(MODES)}, got {quote(mode)}")
    raw_targets = _targets_list(req)
    order = _plain(req.get("order", "roles"), "order")
    if not isinstance(order, str) or order not in ORDERS:
        raise RequestError("order", f"expected one of {', '.join(ORDERS)}, got {quote(order)}")
    max_beat = float(LIMITS["bars"] * tokenizer.config.max_bar_beats)
    sigs = _time_signatures(req, tokenizer, max_beat)
    tempo = _number(req.get("tempo", 120.0), "tempo", 0, 1000, lo_open=True)
    tracks = _tracks(req, max_beat)
    if raw_targets is None:
        targets = [Target(*_target(req.get("target"), tracks, tokenizer, max_beat))]
    else:
        targets = [
            Target(*_target(t, tracks, tokenizer, max_beat, f"targets[{i}]"))
            for i, t in enumerate(raw_targets)
        ]
        _check_overlaps(targets)
    song = Song(tracks, sigs, [TempoChange(0.0, float(tempo))])
    _check_bars(song, targets, "target" if raw_targets is None else "targets")
    controls = _plain(req.get("controls"), "controls")
    controls = parse_controls({} if controls is None else controls)
    first = targets[0]
    return FillRequest(
        mode,
        song,
        first.track_id,
        first.start,
        first.end,
        controls,
        tuple(targets),
        raw_targets is not None,
        order,
    )


def _targets_list(req: dict) -> list | None:
    """The raw `targets` list, its length checked before anything is read;
    None for a request of one `target`."""
    raw = _plain(req.get("targets"), "targets")
    if raw is None:
        return None
    if req.get("target") is not None:
        raise RequestError("targets", "give either target or targets, not both")
    if not isinstance(raw, list) or not raw:
        raise RequestError("targets", "expected a non-empty list of {track, start, end}")
    if len(raw) > LIMITS["targets"]:
        raise LimitError("targets", f"{len(raw)} targets; the limit is {LIMITS['targets']}")
    return raw


def _check_overlaps(targets: list[Target]) -> None:
    """Two targets of one track may not share any beat."""
    for j, b in enumerate(targets):
        for i, a in enumerate(targets[:j]):
            if a.track_id == b.track_id and a.start < b.end and b.start < a.end:
                raise RequestError(
                    f"targets[{j}]", f"overlaps targets[{i}] on track {quote(a.track_id)}"
                )


def _time_signatures(req: dict, tokenizer, max_beat: float) -> list[TimeSignature]:
    """`time_signatures` where given, else the one `time_signature` from beat 0;
    `time_signature` is checked either way."""
    num, den = _time_signature(req.get("time_signature", [4, 4]), "time_signature", tokenizer)
    raw = _plain(req.get("time_signatures"), "time_signatures")
    if raw is None:
        return [TimeSignature(0.0, num, den)]
    if not isinstance(raw, list) or not raw:
        raise RequestError("time_signatures", "expected a list of [beat, num, den]")
    if len(raw) > LIMITS["bars"]:
        raise LimitError(
            "time_signatures",
            f"{len(raw)} changes; a timeline of {LIMITS['bars']} bars holds at most as many",
        )
    sigs = []
    for i, item in enumerate(raw):
        f = f"time_signatures[{i}]"
        item = _plain(item, f)
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise RequestError(f, f"expected [beat, numerator, denominator], got {quote(item)}")
        beat = _beat(item[0], f"{f}[0]", max_beat)
        n, d = _time_signature(item[1:], f, tokenizer, first=1)
        if sigs and beat <= sigs[-1].beat:
            raise RequestError(f"{f}[0]", "beats must rise from one change to the next")
        sigs.append(TimeSignature(beat, n, d))
    return sigs


def _tracks(req: dict, max_beat: float) -> list[Track]:
    tracks_raw = _plain(req.get("tracks", []), "tracks")
    if not isinstance(tracks_raw, list):
        raise RequestError("tracks", f"expected a list, got {type(tracks_raw).__name__}")
    _count_notes(tracks_raw)
    ids: set[str] = set()
    return [_track(t, i, ids, max_beat) for i, t in enumerate(tracks_raw)]


def _track(t, i: int, ids: set[str], max_beat: float) -> Track:
    """tracks[i]; its id (by default i) must not be in `ids`, the ids of the
    tracks before it, to which it is added. The id is checked first, so a
    duplicate is named before anything else wrong with the track."""
    f = f"tracks[{i}]"
    if not isinstance(t, dict):
        raise RequestError(f, "expected an object with id, program, is_drum, notes")
    tid = _track_id(t.get("id", str(i)), f"{f}.id")
    if tid in ids:
        raise RequestError(f"{f}.id", f"duplicate track id {quote(tid)}")
    ids.add(tid)
    program = _number(t.get("program", 0), f"{f}.program", 0, 127, integer=True)
    is_drum = _plain(t.get("is_drum", False), f"{f}.is_drum")
    if not isinstance(is_drum, bool):
        raise RequestError(f"{f}.is_drum", f"expected true or false, got {quote(is_drum)}")
    name = _plain(t.get("name"), f"{f}.name")
    if name is not None and not isinstance(name, str):
        raise RequestError(f"{f}.name", f"expected a string, got {quote(name)}")
    notes_raw = _plain(t.get("notes", []), f"{f}.notes")
    if not isinstance(notes_raw, list):
        raise RequestError(f"{f}.notes", "expected a list of [pitch, start, duration, velocity]")
    return Track(tid, program, is_drum, _notes(notes_raw, f"{f}.notes", max_beat), name or "")


def _target(
    target, tracks: list[Track], tokenizer, max_beat: float, f: str = "target"
) -> tuple[str, float, float]:
    """(track id, start, end) of `target` (named `f` in messages): a known
    track and a range that holds at least one step of the tokenizer's grid."""
    if not isinstance(target, dict):
        raise RequestError(f, "expected an object {track, start, end}")
    tid = target.get("track")
    tid = None if tid is None else _track_id(tid, f"{f}.track")
    if tid not in {t.id for t in tracks}:
        known = ", ".join(quote(t.id, 20) for t in tracks[:10]) or "none"
        raise RequestError(f"{f}.track", f"no track with id {quote(tid)} (tracks: {known})")
    start = _beat(target.get("start"), f"{f}.start", max_beat)
    end = _beat(target.get("end"), f"{f}.end", max_beat)
    if end <= start:
        raise RequestError(f"{f}.end", f"must be after {f}.start ({start}), got {end}")
    lo, hi = tokenizer.range_ticks(start, end)
    if hi <= lo:
        raise RequestError(f, f"the range holds no grid step (1/{tokenizer.tpb} beat)")
    return tid, start, end


def _check_bars(song: Song, targets: list[Target], f: str) -> None:
    """The bar limits, once the song's signatures and notes are known: the
    timeline to the later of the last target's end and the last note, each
    target, then all targets together. The timeline's limit names whichever
    of the two reaches further."""
    last_note_end = song.end_beat
    end = max(t.end for t in targets)
    n_bars = _count_bars(song, max(end, last_note_end))
    if n_bars > LIMITS["bars"]:
        where = next(i for i, t in enumerate(targets) if t.end == end)
        field = "target.end" if f == "target" else f"targets[{where}].end"
        raise LimitError(
            field if end >= last_note_end else "tracks",
            f"the timeline spans more than {LIMITS['bars']} bars",
        )
    bars = song.bars(until=end)
    total = 0
    for i, t in enumerate(targets):
        target_bars = sum(1 for b in bars if b.end > t.start and b.start < t.end)
        if target_bars > LIMITS["target_bars"]:
            raise LimitError(
                f if f == "target" else f"targets[{i}]",
                f"{target_bars} bars; the limit is {LIMITS['target_bars']}",
            )
        total += target_bars
    if total > LIMITS["all_target_bars"]:
        raise LimitError(
            f, f"{total} bars in all targets; the limit is {LIMITS['all_target_bars']}"
        )


def _count_bars(song: Song, until: float) -> int:
    # a cheap lower bound first, so a huge timeline is refused without building
    # it: no bar is longer than the longest signature's (a change mid-bar only
    # cuts one shorter), so the timeline holds at least until / longest bars
    longest = max(s.bar_beats for s in song.time_signatures)
    if until / longest > LIMITS["bars"] + 1:
        return int(until / longest)
    return len(song.bars(until=until))


_SEQUENCES = (list, tuple)
_NUMBERS = (int, float)


def _notes(items: list, field: str, max_beat: float) -> list[Note]:
    """A track's notes. The common case is checked in one expression a note,
    in this one loop (a call per note cost more than the checks): four plain
    numbers in range, the duration bounded by what the timeline has left after
    the start, as _note_slowly bounds it (a sum would round differently at the
    last bit). Any other note goes through _note_slowly, which names what is
    wrong with it or reads it (a numpy scalar, 60.0 for a pitch)."""
    notes = []
    for j, item in enumerate(items):
        if type(item) in _SEQUENCES and len(item) == 4:
            pitch, start, duration, velocity = item
            if (
                type(pitch) is int
                and type(velocity) is int
                and type(start) in _NUMBERS
                and type(duration) in _NUMBERS
                and 0 <= pitch <= 127
                and 0 <= velocity <= 127
                and 0 <= start <= max_beat
                and 0 <= duration <= max_beat - start
            ):
                notes.append(Note(pitch, float(start), float(duration), max(1, velocity)))
                continue
        notes.append(_note_slowly(item, f"{field}[{j}]", max_beat))
    return notes


def _note_slowly(item, field: str, max_beat: float) -> Note:
    """The same checks one by one, to name what is wrong."""
    item = _plain(item, field)
    if not isinstance(item, (list, tuple)) or len(item) != 4:
        raise RequestError(field, f"expected [pitch, start, duration, velocity], got {quote(item)}")
    pitch = _number(item[0], f"{field}[0]", 0, 127, integer=True)
    start = _beat(item[1], f"{field}[1]", max_beat)
    duration = _beat(item[2], f"{field}[2]", max_beat - start)
    velocity = _number(item[3], f"{field}[3]", 0, 127, integer=True)
    return Note(pitch, start, duration, max(1, velocity))


def parse_controls(c) -> Controls:
    """The controls of a request, read entry by entry from the control table
    (controls.py): a control left out or null gets the table's default."""
    if not isinstance(c, dict):
        raise RequestError("controls", f"expected an object, got {type(c).__name__}")
    unknown = [k for k in c if k not in CONTROL_FIELDS]
    if unknown:
        name = unknown[0] if isinstance(unknown[0], str) else quote(unknown[0])
        raise RequestError(
            f"controls.{name}", f"unknown control; known: {', '.join(sorted(CONTROL_FIELDS))}"
        )
    values = defaults()
    for name, control in _CONTROL.items():  # in the table's order: the first wrong is named
        value = _plain(c.get(name), f"controls.{name}")
        if value is not None:
            values[name] = control.parse(value, f"controls.{name}")
    out = Controls(**values)
    if out.key is not None:
        classes = scale_pitch_classes(out.key)
        lo, hi = out.pitch_range or (0, 127)  # AUTO is falsy: the whole range
        if not any(p % 12 in classes for p in range(lo, hi + 1)):
            raise RequestError("controls.key", f"no pitch of {quote(out.key)} lies in pitch_range")
    return out
