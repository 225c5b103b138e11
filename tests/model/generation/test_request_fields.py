"""Every refusal of model/generation/request.py names the right field, with the right
code and message; every default is the one docs/contract.md promises; every
numeric bound holds at its edge on both sides. Written against the mutants of
model/generation/request.py that survived the other tests (docs/testing.md, mutation
testing). Fast: parse_request only, no model."""

import math
from functools import partial

import numpy as np
import pytest

from midifill.model.errors import LimitError, RequestError
from midifill.model.generation.request import LIMITS, parse_request
from midifill.model.generation.sampling import AUTO
from midifill.model.network.tokenizer import Tokenizer
from tests.support import ROOT
from tests.support.requests import base
from tests.support.requests import refused as _refused

refused = partial(_refused, exact=True)  # the exact error class, not a subclass of it
TOK = Tokenizer()
MAX_BEAT = LIMITS["bars"] * TOK.config.max_bar_beats  # 8192: the longest possible timeline


def track(**change):
    t = {"id": "1", "notes": [[60, 0.0, 1.0, 90]]}
    t.update(change)
    return t


def note(n):
    """base() with one note in its one track."""
    return base(tracks=[track(notes=[n])])


def target(start, end, tid="1"):
    return {"track": tid, "start": start, "end": end}


# --- each refusal: the field, the code and the whole message -------------------------------

BAD = "bad_request"
BIG = "too_large"
REFUSALS = [
    # the request and its mode
    ([1], "request", BAD, "expected a JSON object, got list"),
    (base(mode="remix"), "mode", BAD, "expected one of fill, continue, generate, got 'remix'"),
    (base(mode=3), "mode", BAD, "expected one of fill, continue, generate, got 3"),
    # _number's own messages, each at a field that uses it
    (base(tempo="fast"), "tempo", BAD, "expected a number, got str 'fast'"),
    (base(tempo=True), "tempo", BAD, "expected a number, got bool True"),
    (base(tempo=math.inf), "tempo", BAD, "expected a finite number, got inf"),
    (base(tempo=math.nan), "tempo", BAD, "expected a finite number, got nan"),
    (base(tempo=0), "tempo", BAD, "must be > 0, got 0"),
    (base(tempo=-1.5), "tempo", BAD, "must be > 0, got -1.5"),
    (base(tempo=1000.5), "tempo", BAD, "must be <= 1000, got 1000.5"),
    (base(tempo=10**400), "tempo", BAD, "must be <= 1000, got <an integer of 1329 bits>"),
    (base(tracks=[track(program=33.5)]), "tracks[0].program", BAD, "expected an integer, got 33.5"),
    (base(tracks=[track(program=-1)]), "tracks[0].program", BAD, "must be >= 0, got -1"),
    (base(tracks=[track(program=128)]), "tracks[0].program", BAD, "must be <= 127, got 128"),
    (
        base(tracks=[track(program=None)]),
        "tracks[0].program",
        BAD,
        "expected a number, got NoneType None",
    ),
    # numpy: a scalar is the number it holds, an array is refused where it stands
    (
        base(tempo=np.array([1.0, 2.0])),
        "tempo",
        BAD,
        "expected a single value, got an array of shape (2,)",
    ),
    (
        base(mode=np.zeros((2, 3))),
        "mode",
        BAD,
        "expected a single value, got an array of shape (2, 3)",
    ),
    # time signature
    (base(time_signature=[4]), "time_signature", BAD, "expected [numerator, denominator], got [4]"),
    (
        base(time_signature="4/4"),
        "time_signature",
        BAD,
        "expected [numerator, denominator], got '4/4'",
    ),
    (
        base(time_signature=[9, 4]),
        "time_signature",
        BAD,
        "time signature 9/4 is not supported (denominator 2, 4, 8 or 16 and a bar of at most 8 "
        "beats)",
    ),
    (
        base(time_signature=[4, 3]),
        "time_signature",
        BAD,
        "time signature 4/3 is not supported (denominator 2, 4, 8 or 16 and a bar of at most 8 "
        "beats)",
    ),
    (base(time_signature=[0, 4]), "time_signature[0]", BAD, "must be >= 1, got 0"),
    (base(time_signature=[65, 4]), "time_signature[0]", BAD, "must be <= 64, got 65"),
    (base(time_signature=[4, 0]), "time_signature[1]", BAD, "must be >= 1, got 0"),
    (base(time_signature=[4, 65]), "time_signature[1]", BAD, "must be <= 64, got 65"),
    (base(time_signature=[4.5, 4]), "time_signature[0]", BAD, "expected an integer, got 4.5"),
    (base(time_signatures=[]), "time_signatures", BAD, "expected a list of [beat, num, den]"),
    (
        base(time_signatures=[0, 4, 4]),
        "time_signatures[0]",
        BAD,
        "expected [beat, numerator, denominator], got 0",
    ),
    (
        base(time_signatures={"0": [4, 4]}),
        "time_signatures",
        BAD,
        "expected a list of [beat, num, den]",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 3]]),
        "time_signatures[1]",
        BAD,
        "expected [beat, numerator, denominator], got [4, 3]",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 0, 4]]),
        "time_signatures[1][1]",
        BAD,
        "must be >= 1, got 0",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 65, 4]]),
        "time_signatures[1][1]",
        BAD,
        "must be <= 64, got 65",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 4, 0]]),
        "time_signatures[1][2]",
        BAD,
        "must be >= 1, got 0",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 4, 65]]),
        "time_signatures[1][2]",
        BAD,
        "must be <= 64, got 65",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 7, 2]]),
        "time_signatures[1]",
        BAD,
        "time signature 7/2 is not supported (denominator 2, 4, 8 or 16 and a bar of at most 8 "
        "beats)",
    ),
    (
        base(time_signatures=[[0, 4, 4], [-1, 3, 4]]),
        "time_signatures[1][0]",
        BAD,
        "must be >= 0, got -1",
    ),
    (
        base(time_signatures=[[0, 4, 4], [4, 3, 4], [4, 4, 4]]),
        "time_signatures[2][0]",
        BAD,
        "beats must rise from one change to the next",
    ),
    (
        base(time_signatures=[[0, 4, 4], [MAX_BEAT + 1, 4, 4]]),
        "time_signatures[1][0]",
        BIG,
        "8193 reaches past the 1024-bar timeline limit (at most 8192 beats here)",
    ),
    (
        base(time_signatures=[[4.0 * i, 4, 4] for i in range(LIMITS["bars"] + 1)]),
        "time_signatures",
        BIG,
        "1025 changes; a timeline of 1024 bars holds at most as many",
    ),
    # tracks
    (base(tracks={"id": "1"}), "tracks", BAD, "expected a list, got dict"),
    (
        base(tracks=[track(), "2"]),
        "tracks[1]",
        BAD,
        "expected an object with id, program, is_drum, notes",
    ),
    (
        base(tracks=[track(), track(id="")]),
        "tracks[1].id",
        BAD,
        "expected a non-empty string, got ''",
    ),
    (base(tracks=[track(id=True)]), "tracks[0].id", BAD, "expected a non-empty string, got True"),
    (base(tracks=[track(id=1.0)]), "tracks[0].id", BAD, "expected a non-empty string, got 1.0"),
    (base(tracks=[track(), track(id=1)]), "tracks[1].id", BAD, "duplicate track id '1'"),
    (
        base(tracks=[track(), track(id=None)]),
        "tracks[1].id",
        BAD,
        "expected a non-empty string, got None",
    ),
    (base(tracks=[track(is_drum=1)]), "tracks[0].is_drum", BAD, "expected true or false, got 1"),
    (
        base(tracks=[track(is_drum="yes")]),
        "tracks[0].is_drum",
        BAD,
        "expected true or false, got 'yes'",
    ),
    (base(tracks=[track(name=5)]), "tracks[0].name", BAD, "expected a string, got 5"),
    (
        base(tracks=[track(notes="none")]),
        "tracks[0].notes",
        BAD,
        "expected a list of [pitch, start, duration, velocity]",
    ),
    (
        base(tracks=[{"id": str(i)} for i in range(LIMITS["tracks"] + 1)]),
        "tracks",
        BIG,
        "65 tracks; the limit is 64",
    ),
    (
        base(
            tracks=[
                track(notes=[[60, 0, 0.01, 90]] * (LIMITS["notes"] // 2)),
                "not a track",
                track(id="2", notes=[[60, 0, 0.01, 90]] * 25_001),
            ]
        ),
        "tracks",
        BIG,
        "50001 notes in all; the limit is 50000",
    ),
    # notes: the index of the track and of the note, then the note's own field
    (
        base(tracks=[track(), track(id="2", notes=[[60, 0, 1, 90], [60, 0, 1, 90], [60, 0, 1]])]),
        "tracks[1].notes[2]",
        BAD,
        "expected [pitch, start, duration, velocity], got [60, 0, 1]",
    ),
    (
        note("60 0 1 90"),
        "tracks[0].notes[0]",
        BAD,
        "expected [pitch, start, duration, velocity], got '60 0 1 90'",
    ),
    (note(60), "tracks[0].notes[0]", BAD, "expected [pitch, start, duration, velocity], got 60"),
    (
        note(None),
        "tracks[0].notes[0]",
        BAD,
        "expected [pitch, start, duration, velocity], got None",
    ),
    (
        note([60, 0, 1, 90, 1]),
        "tracks[0].notes[0]",
        BAD,
        "expected [pitch, start, duration, velocity], got [60, 0, 1, 90, 1]",
    ),
    (
        note({"pitch": 60, "start": 0, "duration": 1, "velocity": 90}),
        "tracks[0].notes[0]",
        BAD,
        "expected [pitch, start, duration, velocity], got {'duration': 1, 'pitch': 60, 'start': 0, "
        "'velocity': 90}",
    ),
    (note([60.5, 0, 1, 90]), "tracks[0].notes[0][0]", BAD, "expected an integer, got 60.5"),
    (note([-1, 0, 1, 90]), "tracks[0].notes[0][0]", BAD, "must be >= 0, got -1"),
    (note([128, 0, 1, 90]), "tracks[0].notes[0][0]", BAD, "must be <= 127, got 128"),
    (note([60, -0.5, 1, 90]), "tracks[0].notes[0][1]", BAD, "must be >= 0, got -0.5"),
    (note([60, 0, -0.5, 90]), "tracks[0].notes[0][2]", BAD, "must be >= 0, got -0.5"),
    (note([60, 0, 1, -1]), "tracks[0].notes[0][3]", BAD, "must be >= 0, got -1"),
    (note([60, 0, 1, 128]), "tracks[0].notes[0][3]", BAD, "must be <= 127, got 128"),
    (note([60, 0, 1, 90.5]), "tracks[0].notes[0][3]", BAD, "expected an integer, got 90.5"),
    (
        note([60, MAX_BEAT + 0.5, 0, 90]),
        "tracks[0].notes[0][1]",
        BIG,
        "8192.5 reaches past the 1024-bar timeline limit (at most 8192 beats here)",
    ),
    # the duration may reach the end of the longest timeline from where the note starts
    (
        note([60, 8000, 193, 90]),
        "tracks[0].notes[0][2]",
        BIG,
        "193 reaches past the 1024-bar timeline limit (at most 192 beats here)",
    ),
    (
        note([60, 8000.0, 192.5, 90.0]),
        "tracks[0].notes[0][2]",
        BIG,
        "192.5 reaches past the 1024-bar timeline limit (at most 192 beats here)",
    ),
    # target
    (base(target=None), "target", BAD, "expected an object {track, start, end}"),
    (base(target=[0, 4]), "target", BAD, "expected an object {track, start, end}"),
    (base(target=target(0, 4, tid="2")), "target.track", BAD, "no track with id '2' (tracks: '1')"),
    (
        base(target={"start": 0, "end": 4}),
        "target.track",
        BAD,
        "no track with id None (tracks: '1')",
    ),
    (base(target=target(0, 4, tid="")), "target.track", BAD, "expected a non-empty string, got ''"),
    (
        base(tracks=[], target=target(0, 4)),
        "target.track",
        BAD,
        "no track with id '1' (tracks: none)",
    ),
    ({"target": target(0, 4)}, "target.track", BAD, "no track with id '1' (tracks: none)"),
    # the known ids: the first ten, each cut to 20 characters
    (
        base(
            tracks=[track(id="x" * 30)] + [track(id=str(i)) for i in range(1, 12)],
            target=target(0, 4, tid="nope"),
        ),
        "target.track",
        BAD,
        "no track with id 'nope' (tracks: 'xxxxxxxxxxxxxxxx..., '1', '2', '3', '4', '5', '6', '7', "
        "'8', '9')",
    ),
    (
        base(target={"track": "1", "end": 4}),
        "target.start",
        BAD,
        "expected a number, got NoneType None",
    ),
    (
        base(target={"track": "1", "start": 0}),
        "target.end",
        BAD,
        "expected a number, got NoneType None",
    ),
    (base(target=target(-1, 4)), "target.start", BAD, "must be >= 0, got -1"),
    (base(target=target(4, 4)), "target.end", BAD, "must be after target.start (4.0), got 4.0"),
    (base(target=target(4, 2)), "target.end", BAD, "must be after target.start (4.0), got 2.0"),
    (
        base(target=target(MAX_BEAT, MAX_BEAT + 1)),
        "target.end",
        BIG,
        "8193 reaches past the 1024-bar timeline limit (at most 8192 beats here)",
    ),
    # no grid step (1/24 beat) between start and end, also when start and end round to one tick
    (base(target=target(0.001, 0.02)), "target", BAD, "the range holds no grid step (1/24 beat)"),
    (base(target=target(0.01, 0.05)), "target", BAD, "the range holds no grid step (1/24 beat)"),
    (base(target=target(0, 4.0 * 65)), "target", BIG, "65 bars; the limit is 64"),
    (
        base(target=target(0, 4.0 * LIMITS["bars"] + 1)),
        "target.end",
        BIG,
        "the timeline spans more than 1024 bars",
    ),
    # controls
    (base(controls="fast"), "controls", BAD, "expected an object, got str"),
    (base(controls=[]), "controls", BAD, "expected an object, got list"),
    (
        base(controls={"speed": 1}),
        "controls.speed",
        BAD,
        "unknown control; known: candidates, density, durations, feel, groove, groove_lean, "
        "harmony, key, kit, line_lean, max_polyphony, pitch_range, seed, temperature, top_k, "
        "top_p, variations",
    ),
    (
        base(controls={"seed": 1, 7: 1}),
        "controls.7",
        BAD,
        "unknown control; known: candidates, density, durations, feel, groove, groove_lean, "
        "harmony, key, kit, line_lean, max_polyphony, pitch_range, seed, temperature, top_k, "
        "top_p, variations",
    ),
    (
        base(controls={2**300: 1}),
        "controls.<an integer of 301 bits>",
        BAD,
        "unknown control; known: candidates, density, durations, feel, groove, groove_lean, "
        "harmony, key, kit, line_lean, max_polyphony, pitch_range, seed, temperature, top_k, "
        "top_p, variations",
    ),
    (base(controls={"top_p": 0}), "controls.top_p", BAD, "must be > 0, got 0"),
    (
        base(controls={"seed": 2**63}),
        "controls.seed",
        BAD,
        "must be <= 9223372036854775807, got 9223372036854775808",
    ),
    (base(controls={"variations": 9}), "controls.variations", BAD, "must be <= 8, got 9"),
    (base(controls={"candidates": 0}), "controls.candidates", BAD, "must be >= 1, got 0"),
    (base(controls={"candidates": 17}), "controls.candidates", BAD, "must be <= 16, got 17"),
    (
        base(controls={"candidates": 2.5}),
        "controls.candidates",
        BAD,
        "expected an integer, got 2.5",
    ),
    (
        base(controls={"pitch_range": [60]}),
        "controls.pitch_range",
        BAD,
        "expected [low, high], got [60]",
    ),
    (
        base(controls={"pitch_range": "C3-C5"}),
        "controls.pitch_range",
        BAD,
        "expected [low, high], got 'C3-C5'",
    ),
    (
        base(controls={"pitch_range": [61, 60]}),
        "controls.pitch_range[1]",
        BAD,
        "must be >= 61, got 60",
    ),
    (
        base(controls={"pitch_range": [-1, 60]}),
        "controls.pitch_range[0]",
        BAD,
        "must be >= 0, got -1",
    ),
    (
        base(controls={"pitch_range": [0, 128]}),
        "controls.pitch_range[1]",
        BAD,
        "must be <= 127, got 128",
    ),
    (base(controls={"key": 7}), "controls.key", BAD, "expected a string such as 'E minor'"),
    (
        base(controls={"key": "C major", "pitch_range": [61, 61]}),
        "controls.key",
        BAD,
        "no pitch of 'C major' lies in pitch_range",
    ),
]


@pytest.mark.parametrize(
    "req, field, code, message", REFUSALS, ids=[f"{i}-{r[1]}" for i, r in enumerate(REFUSALS)]
)
def test_each_refusal_names_its_field_code_and_message(req, field, code, message):
    err = refused(req, field, LimitError if code == BIG else RequestError)
    assert err.code == code
    assert str(err) == f"{field}: {message}"


# Each place a value is read: an array there is refused naming that place (the
# field handed to _plain or _number is the one the value sits at).
ARRAY = np.array([1, 2])
ARRAY_AT = (
    [
        (lambda r: r.update(mode=ARRAY), "mode"),
        (lambda r: r.update(time_signature=ARRAY), "time_signature"),
        (lambda r: r.update(time_signature=[ARRAY, 4]), "time_signature[0]"),
        (lambda r: r.update(time_signature=[4, ARRAY]), "time_signature[1]"),
        (lambda r: r.update(time_signatures=ARRAY), "time_signatures"),
        (lambda r: r.update(time_signatures=[ARRAY]), "time_signatures[0]"),
        (lambda r: r.update(time_signatures=[[0, 4, 4], [ARRAY, 3, 4]]), "time_signatures[1][0]"),
        (lambda r: r.update(time_signatures=[[0, 4, 4], [4, ARRAY, 4]]), "time_signatures[1][1]"),
        (lambda r: r.update(time_signatures=[[0, 4, 4], [4, 3, ARRAY]]), "time_signatures[1][2]"),
        (lambda r: r.update(tempo=ARRAY), "tempo"),
        (lambda r: r.update(tracks=ARRAY), "tracks"),
        (lambda r: r["tracks"][0].update(id=ARRAY), "tracks[0].id"),
        (lambda r: r["tracks"][0].update(program=ARRAY), "tracks[0].program"),
        (lambda r: r["tracks"][0].update(is_drum=ARRAY), "tracks[0].is_drum"),
        (lambda r: r["tracks"][0].update(name=ARRAY), "tracks[0].name"),
        (lambda r: r["tracks"][0].update(notes=ARRAY), "tracks[0].notes"),
        (lambda r: r["tracks"][0]["notes"].append(np.array([60, 0, 1, 90])), "tracks[0].notes[1]"),
        (lambda r: r["tracks"][0]["notes"].append([ARRAY, 0, 1, 90]), "tracks[0].notes[1][0]"),
        (lambda r: r["tracks"][0]["notes"].append([60, ARRAY, 1, 90]), "tracks[0].notes[1][1]"),
        (lambda r: r["tracks"][0]["notes"].append([60, 0, ARRAY, 90]), "tracks[0].notes[1][2]"),
        (lambda r: r["tracks"][0]["notes"].append([60, 0, 1, ARRAY]), "tracks[0].notes[1][3]"),
        (lambda r: r["target"].update(track=ARRAY), "target.track"),
        (lambda r: r["target"].update(start=ARRAY), "target.start"),
        (lambda r: r["target"].update(end=ARRAY), "target.end"),
        (lambda r: r.update(controls=ARRAY), "controls"),
    ]
    + [
        (lambda r, name=name: r["controls"].update({name: ARRAY}), f"controls.{name}")
        for name in (
            "temperature",
            "top_p",
            "top_k",
            "seed",
            "variations",
            "pitch_range",
            "key",
            "density",
            "max_polyphony",
            "harmony",
        )
    ]
    + [
        (lambda r: r["controls"].update(pitch_range=[ARRAY, 60]), "controls.pitch_range[0]"),
        (lambda r: r["controls"].update(pitch_range=[40, ARRAY]), "controls.pitch_range[1]"),
    ]
)


@pytest.mark.parametrize("change, field", ARRAY_AT, ids=[f for _, f in ARRAY_AT])
def test_an_array_is_refused_naming_the_place_it_sits(change, field):
    req = base()
    change(req)
    err = refused(req, field)
    assert "array of shape" in str(err) or "expected" in str(err), str(err)


# --- the numeric bounds, at the edge on both sides --------------------------------------------


def _set(path, value):
    """A request with `value` at `path` (dotted; digits index lists)."""
    req = base(time_signature=[4, 4])
    if path.startswith("time_signatures"):
        req["time_signatures"] = [[0, 4, 4], [8, 4, 4]]
    obj = req
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for k in keys[:-1]:
        obj = obj[k]
    obj[keys[-1]] = value
    return req


def _read(req, path):
    r = parse_request(req, TOK)
    return {
        "tempo": lambda: r.song.tempos[0].bpm,
        "tracks.0.program": lambda: r.song.tracks[0].program,
        "time_signature.0": lambda: r.song.time_signatures[0].numerator,
        "time_signature.1": lambda: r.song.time_signatures[0].denominator,
        "time_signatures.1.0": lambda: r.song.time_signatures[1].beat,
        "tracks.0.notes.0.0": lambda: r.song.tracks[0].notes[0].pitch,
        "tracks.0.notes.0.1": lambda: r.song.tracks[0].notes[0].start,
        "tracks.0.notes.0.2": lambda: r.song.tracks[0].notes[0].duration,
        "tracks.0.notes.0.3": lambda: r.song.tracks[0].notes[0].velocity,
        "target.start": lambda: r.start,
    }[path]()


def _field(path):
    out = ""
    for k in path.split("."):
        out += f"[{k}]" if k.isdigit() else (f".{k}" if out else k)
    return out


# (path, values accepted with what they read as, values refused). The time
# signature's own 1-64 bounds are checked before the tokenizer's list of
# signatures, so a value just past them is refused by a different field.
BOUNDS = [
    (
        "tempo",
        [(1e-9, 1e-9), (0.5, 0.5), (1, 1.0), (999.99, 999.99), (1000, 1000.0)],
        [0, -1e-9, 1000.000001, 1001],
    ),
    ("tracks.0.program", [(0, 0), (1, 1), (126, 126), (127, 127), (33.0, 33)], [-1, 128, 0.5]),
    ("time_signature.0", [(1, 1), (8, 8)], [0, 65]),
    ("time_signature.1", [(2, 2), (16, 16)], [0, 65]),
    ("time_signatures.1.0", [(8, 8.0), (4.5, 4.5)], [-0.5]),
    ("tracks.0.notes.0.0", [(0, 0), (127, 127)], [-1, 128]),
    ("tracks.0.notes.0.1", [(0, 0.0), (4095, 4095.0)], [-1e-9]),  # 4096: 1,024 bars of 4/4
    ("tracks.0.notes.0.2", [(0, 0.0), (3.5, 3.5)], [-1e-9]),
    ("tracks.0.notes.0.3", [(1, 1), (127, 127), (0, 1)], [-1, 128]),  # velocity 0 reads as 1
    ("target.start", [(0, 0.0), (3.5, 3.5)], [-1e-9]),
]


@pytest.mark.parametrize("path, ok, bad", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_each_bound_holds_at_its_edge(path, ok, bad):
    for value, read in ok:
        got = _read(_set(path, value), path)
        assert got == read and type(got) is type(read), (value, got)
    for value in bad:
        refused(_set(path, value), _field(path))


def test_the_time_signatures_own_bounds_come_before_the_list_of_supported_ones():
    """64 is within the 1-64 bounds, so 64/4 is refused as a signature; 65 is
    not, so the numerator itself is named. Likewise for the denominator."""
    for sig, field in [
        ([64, 4], "time_signature"),
        ([65, 4], "time_signature[0]"),
        ([1, 4], None),
        ([0, 4], "time_signature[0]"),
        ([4, 64], "time_signature"),
        ([4, 65], "time_signature[1]"),
        ([4, 1], "time_signature"),
        ([4, 0], "time_signature[1]"),
    ]:
        if field is None:
            assert (
                parse_request(base(time_signature=sig), TOK).song.time_signatures[0].numerator
                == sig[0]
            )
        else:
            refused(base(time_signature=sig), field)
    for sig, field in [
        ([64, 4], "time_signatures[1]"),
        ([65, 4], "time_signatures[1][1]"),
        ([4, 64], "time_signatures[1]"),
        ([4, 65], "time_signatures[1][2]"),
        ([4, 1], "time_signatures[1]"),
        ([0, 4], "time_signatures[1][1]"),
    ]:
        refused(base(time_signatures=[[0, 4, 4], [8] + sig]), field)


def test_a_track_id_is_a_string_or_an_integer_below_2_to_the_63():
    for tid in (2**63 - 1, -(2**63 - 1), 0, -5, "a", "0"):
        r = parse_request(base(tracks=[track(id=tid)], target=target(0, 4, tid=tid)), TOK)
        assert r.song.tracks[0].id == str(tid) and r.track_id == str(tid)
    for tid in (2**63, -(2**63), 2**64):
        refused(base(tracks=[track(id=tid)]), "tracks[0].id")
        refused(base(target=target(0, 4, tid=tid)), "target.track")


def test_tracks_without_an_id_are_numbered_from_0():
    r = parse_request(base(tracks=[{"notes": []}, {"notes": []}], target=target(0, 4, tid=1)), TOK)
    assert [t.id for t in r.song.tracks] == ["0", "1"] and r.track_id == "1"
    refused(base(tracks=[{"notes": []}, {"id": "0"}]), "tracks[1].id")  # "0" is taken


def test_the_time_signature_change_limit_is_exact():
    sigs = [[4.0 * i, 4, 4] for i in range(LIMITS["bars"])]
    assert len(parse_request(base(time_signatures=sigs), TOK).song.time_signatures) == 1024
    refused(base(time_signatures=sigs + [[4.0 * 1024, 4, 4]]), "time_signatures", LimitError)


def test_a_position_may_reach_the_end_of_the_longest_timeline_but_not_past_it():
    """Beat 8192 (1,024 bars of 8 beats) is a position; past it is refused as
    the value is read, before the bar count names the whole timeline."""
    # at 8192 exactly: read, then refused as a timeline over 1,024 bars of 4/4
    err = refused(base(target=target(MAX_BEAT - 4, MAX_BEAT)), "target.end", LimitError)
    assert str(err) == "target.end: the timeline spans more than 1024 bars"
    err = refused(base(target=target(MAX_BEAT, MAX_BEAT + 1)), "target.end", LimitError)
    assert "reaches past" in str(err)
    # a note: through the quick path (plain numbers) and the slow one (a float velocity)
    for n in (
        [60, MAX_BEAT, 0, 90],
        [60, MAX_BEAT, 0, 90.0],
        [60, MAX_BEAT - 1, 1, 90],
        [60, MAX_BEAT - 1, 1.0, np.int64(90)],
        [60, 0, MAX_BEAT, 90],
        [60, 0.0, MAX_BEAT, 90.0],
    ):
        err = refused(note(n), "tracks", LimitError)
        assert str(err) == "tracks: the timeline spans more than 1024 bars", n
    for n, field in [
        ([60, MAX_BEAT + 1e-6, 0, 90], "[1]"),
        ([60, MAX_BEAT + 1e-6, 0, 90.0], "[1]"),
        ([60, MAX_BEAT - 1, 1.5, 90], "[2]"),
        ([60, MAX_BEAT - 1, 1.5, 90.0], "[2]"),
        ([60, 1, MAX_BEAT, 90], "[2]"),
        ([60, 1, MAX_BEAT, 90.0], "[2]"),
    ]:
        refused(note(n), f"tracks[0].notes[0]{field}", LimitError)


# --- the timeline's bar count ---------------------------------------------------------------


def test_the_timeline_limit_is_exact_and_names_what_reaches_furthest():
    bars = LIMITS["bars"]
    ok = parse_request(base(tracks=[track(notes=[[60, 4.0 * bars - 1, 1.0, 90]])]), TOK)
    assert len(ok.song.bars()) == bars
    refused(base(tracks=[track(notes=[[60, 4.0 * bars - 1, 1.5, 90]])]), "tracks", LimitError)
    refused(base(target=target(4.0 * bars - 4, 4.0 * bars + 0.5)), "target.end", LimitError)
    # the target ends where the last note ends: the target is named
    refused(
        base(
            tracks=[track(notes=[[60, 4.0 * bars, 0.5, 90]])],
            target=target(4.0 * bars - 4, 4.0 * bars + 0.5),
        ),
        "target.end",
        LimitError,
    )
    refused(
        base(
            tracks=[track(notes=[[60, 4.0 * bars, 1.0, 90]])],
            target=target(4.0 * bars - 4, 4.0 * bars + 0.5),
        ),
        "tracks",
        LimitError,
    )
    # 1,024 bars of 8/4 reach beat 8192; the 1,025th starts there
    parse_request(base(time_signature=[8, 4], target=target(MAX_BEAT - 8, MAX_BEAT)), TOK)
    # bars of 1/16 (a quarter beat): 1,024 of them are 256 beats
    parse_request(
        base(time_signature=[1, 16], tracks=[track(notes=[[60, 255, 1, 90]])], target=target(0, 4)),
        TOK,
    )
    refused(
        base(
            time_signature=[1, 16], tracks=[track(notes=[[60, 255, 1.25, 90]])], target=target(0, 4)
        ),
        "tracks",
        LimitError,
    )
    refused(
        base(
            time_signature=[1, 16], tracks=[track(notes=[[60, 0, 2000, 90]])], target=target(0, 4)
        ),
        "tracks",
        LimitError,
    )


def test_one_short_bar_does_not_make_a_long_song_count_as_too_many_bars():
    """The quick estimate must only refuse timelines that surely pass the
    limit: one bar of 1/4 in a song of 4/4 leaves it about 500 bars long."""
    sigs = [[0, 4, 4], [4, 1, 4], [5, 4, 4]]
    r = parse_request(
        base(time_signatures=sigs, tracks=[track(notes=[[60, 2000.0, 1.0, 90]])]), TOK
    )
    assert len(r.song.bars(until=2001)) == 501  # 1 + 1 + 499 bars of 4/4
    # and a timeline that does pass the limit is still refused
    # 4 + 1 + 1,022 * 4 = 4,093 beats are 1,024 bars; one more beat starts a 1,025th
    parse_request(base(time_signatures=sigs, tracks=[track(notes=[[60, 4092.0, 1.0, 90]])]), TOK)
    refused(
        base(time_signatures=sigs, tracks=[track(notes=[[60, 4093.0, 1.0, 90]])]),
        "tracks",
        LimitError,
    )


def test_the_target_bar_limit_counts_the_bars_the_range_touches():
    # 64 bars starting on a bar line: the bar that ends at the start is not one of them
    assert parse_request(base(target=target(4.0, 4.0 * 65)), TOK).end == 260.0
    refused(base(target=target(4.0, 4.0 * 65 + 0.5)), "target", LimitError)
    # a range from mid-bar: the first bar counts
    assert parse_request(base(target=target(3.5, 4.0 * 64)), TOK).start == 3.5
    refused(base(target=target(3.5, 4.0 * 64 + 0.5)), "target", LimitError)


def test_a_range_of_one_grid_step_is_enough():
    r = parse_request(base(target=target(0, 1 / 24)), TOK)
    assert (r.start, r.end) == (0.0, 1 / 24)
    assert TOK.range_ticks(r.start, r.end) == (0, 1)


# --- defaults and what is read ---------------------------------------------------------------


def test_a_minimal_request_takes_the_documented_defaults():
    """docs/contract.md: mode fill, time signature 4/4 at beat 0, tempo 120,
    program 0, not drums, no name, no notes, the default controls."""
    r = parse_request(
        {"tracks": [{"id": "t"}], "target": {"track": "t", "start": 0, "end": 4}}, TOK
    )
    assert r.mode == "fill" and r.track_id == "t" and (r.start, r.end) == (0.0, 4.0)
    assert type(r.start) is float and type(r.end) is float
    [sig] = r.song.time_signatures
    assert (sig.beat, sig.numerator, sig.denominator) == (0.0, 4, 4)
    [tempo] = r.song.tempos
    assert (tempo.beat, tempo.bpm) == (0.0, 120.0) and type(tempo.bpm) is float
    [t] = r.song.tracks
    assert (t.id, t.program, t.is_drum, t.name, t.notes) == ("t", 0, False, "", [])
    assert type(t.program) is int
    c = r.controls
    assert (c.temperature, c.top_p, c.top_k, c.seed, c.variations) == (1.0, 0.95, 0, None, 1)
    # harmony and the follow-the-part controls AUTO: left for the engine to
    # set from the part (model/generation/harmony.py, follow.py)
    assert (c.pitch_range, c.key, c.density, c.max_polyphony, c.harmony) == (
        AUTO,
        None,
        None,
        AUTO,
        AUTO,
    )
    assert (c.kit, c.groove, c.durations, c.feel) == (AUTO, AUTO, AUTO, AUTO)
    # null is the same as leaving a field out
    nulls = parse_request(
        {
            "tracks": [{"id": "t", "name": None}],
            "controls": None,
            "target": {"track": "t", "start": 0, "end": 4},
        },
        TOK,
    )
    assert nulls.controls == c and nulls.song.tracks[0].name == ""
    nulls = parse_request(
        base(
            time_signatures=None,
            controls={
                k: None
                for k in (
                    "temperature",
                    "top_p",
                    "top_k",
                    "seed",
                    "variations",
                    "pitch_range",
                    "key",
                    "density",
                    "max_polyphony",
                    "harmony",
                )
            },
        ),
        TOK,
    )
    assert nulls.controls == c and len(nulls.song.time_signatures) == 1


@pytest.mark.parametrize("mode", ["fill", "continue", "generate"])
def test_every_mode_is_read(mode):
    assert parse_request(base(mode=mode), TOK).mode == mode


def test_values_are_read_as_the_types_the_engine_uses():
    r = parse_request(
        base(
            tempo=90,
            tracks=[
                track(
                    id=5,
                    program=np.int64(33),
                    is_drum=True,
                    name="Kit",
                    notes=[[36, 1, 2, 1], [38, 2, 0.5, 0]],
                )
            ],
            target=target(np.int64(4), np.float32(8.0), tid=np.int64(5)),
        ),
        TOK,
    )
    assert r.song.tempos[0].bpm == 90.0 and type(r.song.tempos[0].bpm) is float
    t = r.song.tracks[0]
    assert (t.id, t.program, t.is_drum, t.name) == ("5", 33, True, "Kit")
    assert type(t.program) is int and r.track_id == "5"
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in t.notes] == [
        (36, 1.0, 2.0, 1),
        (38, 2.0, 0.5, 1),
    ]
    assert all(type(n.start) is float and type(n.duration) is float for n in t.notes)
    assert (r.start, r.end) == (4.0, 8.0) and type(r.start) is float and type(r.end) is float


def test_numpy_scalars_read_as_the_numbers_they_hold_on_the_slow_path():
    r = parse_request(note([np.int64(60), np.float32(0.5), np.float64(1.0), np.int32(0)]), TOK)
    n = r.song.tracks[0].notes[0]
    assert (n.pitch, n.start, n.duration, n.velocity) == (60, 0.5, 1.0, 1)
    assert type(n.pitch) is int and type(n.velocity) is int and type(n.start) is float
    r = parse_request(note([60, 1, 2, 64.0]), TOK)  # an integral float velocity: the slow path
    n = r.song.tracks[0].notes[0]
    assert (n.pitch, n.start, n.duration, n.velocity) == (60, 1.0, 2.0, 64)
    assert type(n.velocity) is int and type(n.start) is float and type(n.duration) is float
    r = parse_request(base(tracks=[track(is_drum=np.bool_(True))]), TOK)
    assert r.song.tracks[0].is_drum is True
    c = parse_request(
        base(
            controls={
                "seed": np.uint64(7),
                "temperature": np.float16(0.5),
                "pitch_range": (np.int8(40), 60),
            }
        ),
        TOK,
    ).controls
    assert (c.seed, c.temperature, c.pitch_range) == (7, 0.5, (40, 60))
    assert type(c.seed) is int and type(c.temperature) is float


def test_tuples_stand_for_lists_from_python():
    r = parse_request(
        base(
            time_signature=(3, 4),
            time_signatures=[(0, 3, 4), (6, 6, 8)],
            tracks=[track(notes=[(60, 0, 1, 90)])],
            controls={"pitch_range": (40, 60)},
        ),
        TOK,
    )
    assert [(s.beat, s.numerator, s.denominator) for s in r.song.time_signatures] == [
        (0.0, 3, 4),
        (6.0, 6, 8),
    ]
    assert r.song.tracks[0].notes[0].pitch == 60 and r.controls.pitch_range == (40, 60)


def test_a_key_fits_a_pitch_range_of_one_note_or_the_whole_range():
    assert (
        parse_request(base(controls={"key": "C major", "pitch_range": [60, 60]}), TOK).controls.key
        == "C major"
    )
    assert (
        parse_request(base(controls={"key": "C major", "pitch_range": [59, 59]}), TOK).controls.key
        == "C major"
    )  # B
    refused(base(controls={"key": "C major", "pitch_range": [58, 58]}), "controls.key")  # Bb
    refused(base(controls={"key": "C major", "pitch_range": [1, 1]}), "controls.key")  # C#
    assert (
        parse_request(base(controls={"key": "C major", "pitch_range": [0, 0]}), TOK).controls.key
        == "C major"
    )
    assert (
        parse_request(
            base(controls={"key": "G major", "pitch_range": [127, 127]}), TOK
        ).controls.key
        == "G major"
    )  # G
    assert (
        parse_request(base(controls={"key": "F# major pentatonic"}), TOK).controls.key
        == "F# major pentatonic"
    )


def test_the_quick_and_the_slow_note_reader_agree_at_the_end_of_the_timeline():
    """Plain ints take a quick path, a float or numpy velocity the slow one
    that names the field; both bound the duration by what the timeline has
    left after the start, to the last bit (1,024 bars of 8/4 end at 8192)."""
    rng = np.random.default_rng(18)
    starts = [1100.7118877687908, 6942.17717298981, 0.1, 4096.5]
    starts += list(rng.uniform(0, MAX_BEAT, 40))
    for start in starts:
        start = float(start)
        left = MAX_BEAT - start
        for duration in (left, math.nextafter(left, math.inf), math.nextafter(left, -math.inf)):
            answers = []
            for velocity in (90, 90.0, np.int64(90)):
                req = base(
                    time_signature=[8, 4], tracks=[track(notes=[[60, start, duration, velocity]])]
                )
                try:
                    n = parse_request(req, TOK).song.tracks[0].notes[0]
                    answers.append((n.pitch, n.start, n.duration, n.velocity))
                except RequestError as err:
                    answers.append((type(err).__name__, err.field))
            assert answers[0] == answers[1] == answers[2], (start, duration, answers)
            accepted = answers[0][0] == 60
            assert accepted == (duration <= left), (start, duration, answers)


def test_the_controls_integer_bounds_hold_at_both_edges():
    for name, ok, bad in [
        ("variations", [1, 8], [0, 9]),
        ("max_polyphony", [1, 32], [0, 33]),
        ("top_k", [0, 100_000], [-1, 100_001]),
    ]:
        for value in ok:
            assert getattr(parse_request(base(controls={name: value}), TOK).controls, name) == value
        for value in bad:
            refused(base(controls={name: value}), f"controls.{name}")
    # each end of pitch_range is bounded by 0-127 itself, before low <= high
    assert parse_request(base(controls={"pitch_range": [127, 127]}), TOK).controls.pitch_range == (
        127,
        127,
    )
    assert parse_request(base(controls={"pitch_range": [0, 0]}), TOK).controls.pitch_range == (0, 0)
    refused(base(controls={"pitch_range": [128, 128]}), "controls.pitch_range[0]")
    refused(base(controls={"pitch_range": [128, 127]}), "controls.pitch_range[0]")
    refused(base(controls={"pitch_range": [0, -1]}), "controls.pitch_range[1]")


def test_the_contracts_example_error_is_the_message_the_code_gives():
    """docs/contract.md quotes one refusal word for word: a negative duration."""

    text = (ROOT / "docs" / "contract.md").read_text()
    example = "tracks[1].notes[4][2]: must be >= 0, got -0.5"
    assert f"`{example}`" in text
    notes = [[60, float(i), 1.0, 90] for i in range(4)] + [[60, 4.0, -0.5, 90]]
    req = base(tracks=[track(), track(id="2", notes=notes)])
    with pytest.raises(RequestError) as caught:
        parse_request(req, TOK)
    assert str(caught.value) == example and caught.value.code == "bad_request"
