"""Request validation: the JSON contract of DESIGN.md, checked before any work.

Every problem raises RequestError (or LimitError) naming the field, such as
``tracks[1].notes[4][2]: duration must be >= 0, got -0.5``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import LimitError, RequestError
from .sampling import HARMONY_DEFAULT, Controls
from .scales import scale_pitch_classes
from .song import Note, Song, TempoChange, TimeSignature, Track

MODES = ("fill", "continue", "generate")

# The documented limits (README, docs/osc.md). The bridge checks payload size.
LIMITS = {
    "tracks": 64,
    "notes": 50_000,  # all tracks together
    "bars": 1024,  # the timeline, from beat 0 to the end of the target or last note
    "target_bars": 64,
    "variations": 8,
    "payload_bytes": 8 * 1024 * 1024,
}
CONTROL_FIELDS = {"temperature", "top_p", "top_k", "seed", "variations", "pitch_range", "key",
                  "density", "max_polyphony", "harmony"}


@dataclass
class FillRequest:
    mode: str
    song: Song
    track_id: str
    start: float
    end: float
    controls: Controls


def _number(value, field: str, lo: float | None = None, hi: float | None = None,
            integer: bool = False, lo_open: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestError(field, f"expected a number, got {type(value).__name__} {value!r}"[:200])
    if not math.isfinite(value):
        raise RequestError(field, f"expected a finite number, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise RequestError(field, f"expected an integer, got {value!r}")
        value = int(value)
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise RequestError(field, f"must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise RequestError(field, f"must be <= {hi}, got {value!r}")
    return value


def _time_signature(value, field: str, tokenizer) -> tuple[int, int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise RequestError(field, f"expected [numerator, denominator], got {value!r}"[:200])
    num = _number(value[0], f"{field}[0]", 1, 64, integer=True)
    den = _number(value[1], f"{field}[1]", 1, 64, integer=True)
    if not tokenizer.supports_time_signature(num, den):
        raise RequestError(field, f"time signature {num}/{den} is not supported (denominator 2, "
                           f"4, 8 or 16 and a bar of at most {tokenizer.config.max_bar_beats} "
                           "beats)")
    return num, den


def parse_request(req, tokenizer) -> FillRequest:
    if not isinstance(req, dict):
        raise RequestError("request", f"expected a JSON object, got {type(req).__name__}")
    mode = req.get("mode", "fill")
    if mode not in MODES:
        raise RequestError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}"[:200])

    num, den = _time_signature(req.get("time_signature", [4, 4]), "time_signature", tokenizer)
    sigs = [TimeSignature(0.0, num, den)]
    if req.get("time_signatures") is not None:
        raw = req["time_signatures"]
        if not isinstance(raw, list) or not raw:
            raise RequestError("time_signatures", "expected a list of [beat, num, den]")
        sigs = []
        for i, item in enumerate(raw):
            f = f"time_signatures[{i}]"
            if not isinstance(item, (list, tuple)) or len(item) != 3:
                raise RequestError(f, f"expected [beat, numerator, denominator], got {item!r}"[:200])
            beat = _number(item[0], f"{f}[0]", 0)
            n, d = _time_signature(item[1:], f, tokenizer)
            if sigs and beat <= sigs[-1].beat:
                raise RequestError(f, "beats must rise from one change to the next")
            sigs.append(TimeSignature(float(beat), n, d))
    tempo = _number(req.get("tempo", 120.0), "tempo", 0, 1000, lo_open=True)

    tracks_raw = req.get("tracks", [])
    if not isinstance(tracks_raw, list):
        raise RequestError("tracks", f"expected a list, got {type(tracks_raw).__name__}")
    if len(tracks_raw) > LIMITS["tracks"]:
        raise LimitError("tracks", f"{len(tracks_raw)} tracks; the limit is {LIMITS['tracks']}")
    tracks, total = [], 0
    for i, t in enumerate(tracks_raw):
        f = f"tracks[{i}]"
        if not isinstance(t, dict):
            raise RequestError(f, "expected an object with id, program, is_drum, notes")
        tid = t.get("id", str(i))
        if isinstance(tid, bool) or not isinstance(tid, (str, int)) or str(tid) == "":
            raise RequestError(f"{f}.id", f"expected a non-empty string, got {tid!r}"[:200])
        tid = str(tid)
        if any(x.id == tid for x in tracks):
            raise RequestError(f"{f}.id", f"duplicate track id {tid!r}")
        program = _number(t.get("program", 0), f"{f}.program", 0, 127, integer=True)
        is_drum = t.get("is_drum", False)
        if not isinstance(is_drum, bool):
            raise RequestError(f"{f}.is_drum", f"expected true or false, got {is_drum!r}"[:200])
        notes_raw = t.get("notes", [])
        if not isinstance(notes_raw, list):
            raise RequestError(f"{f}.notes", "expected a list of [pitch, start, duration, velocity]")
        total += len(notes_raw)
        if total > LIMITS["notes"]:
            raise LimitError("tracks", f"more than {LIMITS['notes']} notes in all")
        tracks.append(Track(tid, program, is_drum, [_note(n, f"{f}.notes[{j}]")
                                                    for j, n in enumerate(notes_raw)],
                            str(t.get("name", ""))))

    target = req.get("target")
    if not isinstance(target, dict):
        raise RequestError("target", "expected an object {track, start, end}")
    tid = target.get("track")
    if tid is None or not any(t.id == str(tid) for t in tracks):
        known = ", ".join(repr(t.id) for t in tracks[:20]) or "none"
        raise RequestError("target.track", f"no track with id {tid!r} (tracks: {known})"[:300])
    start = float(_number(target.get("start"), "target.start", 0))
    end = float(_number(target.get("end"), "target.end", 0))
    if end <= start:
        raise RequestError("target.end", f"must be after target.start ({start}), got {end}")
    lo, hi = tokenizer.range_ticks(start, end)
    if hi <= lo:
        raise RequestError("target", f"the range holds no grid step (1/{tokenizer.tpb} beat)")

    song = Song(tracks, sigs, [TempoChange(0.0, float(tempo))])
    last_note_end = song.end_beat
    timeline_end = max(end, last_note_end)
    n_bars = _count_bars(song, timeline_end)
    if n_bars > LIMITS["bars"]:
        raise LimitError("target" if end >= last_note_end else "tracks",
                         f"the timeline spans more than {LIMITS['bars']} bars")
    target_bars = sum(1 for b in song.bars(until=end) if b.end > start)
    if target_bars > LIMITS["target_bars"]:
        raise LimitError("target", f"{target_bars} bars; the limit is {LIMITS['target_bars']}")
    controls = parse_controls(req.get("controls") or {})
    return FillRequest(mode, song, str(tid), start, end, controls)


def _count_bars(song: Song, until: float) -> int:
    # cheap upper bound first, so a huge timeline is refused without building it
    shortest = min(s.bar_beats for s in song.time_signatures)
    if until / shortest > LIMITS["bars"] + 1:
        return int(until / shortest)
    return len(song.bars(until=until))


def _note(item, field: str) -> Note:
    # the common case, checked in one expression: four plain numbers in range
    if type(item) in (list, tuple) and len(item) == 4:
        pitch, start, duration, velocity = item
        if (type(pitch) is int and type(velocity) is int and type(start) in (int, float)
                and type(duration) in (int, float) and 0 <= pitch <= 127
                and 0 <= velocity <= 127 and 0 <= start < math.inf and 0 <= duration < math.inf):
            return Note(pitch, float(start), float(duration), max(1, velocity))
    return _note_slowly(item, field)


def _note_slowly(item, field: str) -> Note:
    """The same checks one by one, to name what is wrong."""
    if not isinstance(item, (list, tuple)) or len(item) != 4:
        raise RequestError(field, f"expected [pitch, start, duration, velocity], got {item!r}"[:200])
    pitch = _number(item[0], f"{field}[0]", 0, 127, integer=True)
    start = _number(item[1], f"{field}[1]", 0)
    duration = _number(item[2], f"{field}[2]", 0)
    velocity = _number(item[3], f"{field}[3]", 0, 127, integer=True)
    return Note(pitch, float(start), float(duration), max(1, velocity))


def parse_controls(c) -> Controls:
    if not isinstance(c, dict):
        raise RequestError("controls", f"expected an object, got {type(c).__name__}")
    unknown = set(c) - CONTROL_FIELDS
    if unknown:
        raise RequestError(f"controls.{sorted(unknown)[0]}",
                           f"unknown control; known: {', '.join(sorted(CONTROL_FIELDS))}")
    out = Controls(harmony=HARMONY_DEFAULT)
    if c.get("temperature") is not None:
        out.temperature = float(_number(c["temperature"], "controls.temperature", 0, 5))
    if c.get("top_p") is not None:
        out.top_p = float(_number(c["top_p"], "controls.top_p", 0, 1, lo_open=True))
    if c.get("top_k") is not None:
        out.top_k = _number(c["top_k"], "controls.top_k", 0, 100_000, integer=True)
    if c.get("seed") is not None:
        out.seed = _number(c["seed"], "controls.seed", 0, 2**63 - 1, integer=True)
    if c.get("variations") is not None:
        out.variations = _number(c["variations"], "controls.variations", 1, LIMITS["variations"],
                                 integer=True)
    if c.get("pitch_range") is not None:
        pr = c["pitch_range"]
        if not isinstance(pr, (list, tuple)) or len(pr) != 2:
            raise RequestError("controls.pitch_range", f"expected [low, high], got {pr!r}"[:200])
        lo = _number(pr[0], "controls.pitch_range[0]", 0, 127, integer=True)
        hi = _number(pr[1], "controls.pitch_range[1]", lo, 127, integer=True)
        out.pitch_range = (lo, hi)
    if c.get("key") is not None:
        if not isinstance(c["key"], str):
            raise RequestError("controls.key", "expected a string such as 'E minor'")
        classes = scale_pitch_classes(c["key"])
        out.key = c["key"]
        lo, hi = out.pitch_range or (0, 127)
        if not any(p % 12 in classes for p in range(lo, hi + 1)):
            raise RequestError("controls.key", f"no pitch of {c['key']} lies in pitch_range")
    if c.get("density") is not None:
        out.density = float(_number(c["density"], "controls.density", 0, 64))
    if c.get("max_polyphony") is not None:
        out.max_polyphony = _number(c["max_polyphony"], "controls.max_polyphony", 1, 32,
                                    integer=True)
    if c.get("harmony") is not None:
        out.harmony = float(_number(c["harmony"], "controls.harmony", 0, 1))
    return out
