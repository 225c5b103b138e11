"""Hostile requests straight to the real engine (the tiny test checkpoint):
every refusal is a typed error that names the field, comes before any work,
and quotes at most a short piece of the value (issue 15)."""

import time

import numpy as np
import pytest

from midifill.model.errors import LimitError, RequestError, TooSlow
from midifill.model.generation.request import LIMITS, parse_request

pytestmark = pytest.mark.hostile


def base(**over):
    req = {
        "mode": "fill",
        "time_signature": [4, 4],
        "tempo": 120.0,
        "tracks": [
            {
                "id": "a",
                "program": 0,
                "is_drum": False,
                "notes": [[60, 0.0, 1.0, 90], [62, 1.0, 1.0, 90]],
            }
        ],
        "target": {"track": "a", "start": 4.0, "end": 8.0},
        "controls": {"seed": 1},
    }
    req.update(over)
    return req


def refused(engine, req, field, kind=RequestError):
    started = time.perf_counter()
    with pytest.raises(kind) as err:
        engine.run(req)
    assert time.perf_counter() - started < 2.0
    assert err.value.field == field, str(err.value)
    assert len(str(err.value)) <= 600
    return err.value


def nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "change, field, kind",
    [
        (lambda r: r["target"].update(end=1e308), "target.end", LimitError),
        (lambda r: r["target"].update(end=10**400), "target.end", LimitError),
        (
            lambda r: r["tracks"][0]["notes"].append([60, 1e308, 1e308, 100]),
            "tracks[0].notes[2][1]",
            LimitError,
        ),
        (
            lambda r: r["tracks"][0]["notes"].append([60, 1.0, 1e308, 100]),
            "tracks[0].notes[2][2]",
            LimitError,
        ),
        (
            lambda r: r["tracks"][0]["notes"].append([60, 10**400, 0.5, 90]),
            "tracks[0].notes[2][1]",
            LimitError,
        ),  # found by the larger fuzz run: the sum overflowed in the fast path
        (
            lambda r: r["tracks"][0]["notes"].append([60, 0.5, 10**400, 90]),
            "tracks[0].notes[2][2]",
            LimitError,
        ),
        (lambda r: r["controls"].update(variations=10**400), "controls.variations", RequestError),
        (lambda r: r["controls"].update(seed=2**63), "controls.seed", RequestError),
        (lambda r: r["controls"].update(seed=-1), "controls.seed", RequestError),
        (
            lambda r: r["tracks"][0]["notes"].append(nested(5000)),
            "tracks[0].notes[2]",
            RequestError,
        ),
        (
            lambda r: r["controls"].update({"k" * 70_000: 1}),
            "controls." + "k" * 70_000,
            RequestError,
        ),
        (
            lambda r: r.update(time_signatures=[[0, 4, 4], [8, 0, 4]]),
            "time_signatures[1][1]",
            RequestError,
        ),
        (
            lambda r: r.update(time_signatures=[[0, 4, 4], [8, 4, 3]]),
            "time_signatures[1]",
            RequestError,
        ),
        (lambda r: r.update(mode=np.array([1, 2])), "mode", RequestError),
        (
            lambda r: r["controls"].update(pitch_range=np.array([40, 60])),
            "controls.pitch_range",
            RequestError,
        ),
        (lambda r: r.update(controls=np.array([1])), "controls", RequestError),
        (
            lambda r: (
                r["tracks"][0].update(id="x" * 70_000) or r["target"].update(track="y" * 70_000)
            ),
            "target.track",
            RequestError,
        ),
        (lambda r: r["tracks"][0].update(name=nested(5000)), "tracks[0].name", RequestError),
        (lambda r: r["tracks"][0].update(id=10**5000), "tracks[0].id", RequestError),
        (lambda r: r["controls"].update({("t",) * 3: 1}), "controls.('t', 't', 't')", RequestError),
    ],
)
def test_hostile_values_are_typed_errors(tiny_engine, change, field, kind):
    req = base()
    change(req)
    field = field if len(field) <= 120 else field[:117] + "..."
    refused(tiny_engine, req, field, kind)


def test_big_integers_inside_the_documented_ranges_are_accepted(tiny_engine):
    for seed in (2**63 - 1, 2**53 + 1):
        assert tiny_engine.run(base(controls={"seed": seed}))["seed"] == seed


def test_numpy_scalars_are_the_numbers_they_hold(tiny_engine):
    req = base(tempo=np.float32(100.0))
    req["tracks"][0].update(
        program=np.int64(33),
        is_drum=np.bool_(False),
        notes=[[np.int64(60), np.float32(0.5), np.float64(1.0), np.int32(90)]],
    )
    req["target"].update(start=np.int64(4), end=np.float32(8.0))
    req["controls"].update(seed=np.uint64(7), variations=np.int8(2), temperature=np.float16(0.9))
    response = tiny_engine.run(req)
    assert response["seed"] == 7 and len(response["variations"]) == 2


def test_limits_are_checked_from_counts_before_notes_are_read(tiny_engine):
    # one bad note at the very end: the count is refused first
    notes = [[60, 0.0, 0.1, 90]] * LIMITS["notes"] + [["bad"]]
    err = refused(tiny_engine, base(tracks=[{"id": "a", "notes": notes}]), "tracks", LimitError)
    assert str(LIMITS["notes"]) in str(err)


def test_the_time_budget_ends_a_request_with_too_slow(tiny_engine):
    tiny_engine.time_budget_s = 0.0
    try:
        with pytest.raises(TooSlow) as err:
            tiny_engine.run(base())
        assert err.value.code == "too_slow" and "time budget" in str(err.value)
    finally:
        del tiny_engine.time_budget_s
    assert tiny_engine.run(base())["variations"]


def test_parse_is_cheap_for_every_refusal_at_the_limits(tiny_engine):
    big = base(
        tracks=[
            {"id": str(i), "notes": [[60, j * 0.01, 0.01, 90] for j in range(780)]}
            for i in range(LIMITS["tracks"])
        ]
    )
    big["target"] = {"track": "0", "start": 0.0, "end": 4.0 * (LIMITS["target_bars"] + 1)}
    started = time.perf_counter()
    with pytest.raises(LimitError):
        parse_request(big, tiny_engine.tok)
    assert time.perf_counter() - started < 1.0
