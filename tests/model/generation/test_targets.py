"""`targets`: several targets in one request (docs/contract.md, "Several
targets"), parsed and limited before any work; `target` works as before.
Fast: parse_request only, no model."""

import pytest

from midifill.model.errors import LimitError, RequestError
from midifill.model.generation.request import LIMITS, Target, parse_request
from midifill.model.generation.targets import BASS, DRUMS, HARMONY, MELODY, fill_order, role
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Note, Track
from tests.support.requests import refused

TOK = Tokenizer()


def base(targets=None, **change):
    req = {
        "tracks": [
            {"id": "d", "is_drum": True, "notes": [[36, 0.0, 0.25, 90]]},
            {"id": "b", "program": 33, "notes": [[40, 0.0, 1.0, 90]]},
            {"id": "k", "program": 0, "notes": [[60, 0.0, 1.0, 90], [64, 0.0, 1.0, 90]]},
            {"id": "m", "program": 73, "notes": [[72, 0.0, 1.0, 90]]},
        ]
    }
    if targets is not None:
        req["targets"] = targets
    req.update(change)
    return req


def t(track, start=0.0, end=16.0):
    return {"track": track, "start": start, "end": end}


def test_one_target_as_before():
    r = parse_request(base(target=t("b", 4.0, 8.0)), TOK)
    assert (r.track_id, r.start, r.end, r.multi) == ("b", 4.0, 8.0, False)
    assert r.targets == (Target("b", 4.0, 8.0),)


def test_targets_in_the_requests_order():
    r = parse_request(base([t("m"), t("b", 4.0, 12.0), t("d", 1.5, 2.5)]), TOK)
    assert r.multi and r.order == "roles"
    assert r.targets == (Target("m", 0.0, 16.0), Target("b", 4.0, 12.0), Target("d", 1.5, 2.5))
    assert (r.track_id, r.start, r.end) == ("m", 0.0, 16.0)


def test_fill_order_by_role_or_as_given():
    req = base([t("m"), t("k"), t("b"), t("d")])
    assert fill_order(parse_request(req, TOK), TOK.tpb) == [3, 2, 1, 0]
    assert fill_order(parse_request(dict(req, order="given"), TOK), TOK.tpb) == [0, 1, 2, 3]
    # one role keeps the request's order
    two = base([t("m", 0, 4), t("d", 8, 12), t("m", 4, 8), t("d", 0, 4)])
    assert fill_order(parse_request(two, TOK), TOK.tpb) == [1, 3, 0, 2]


@pytest.mark.parametrize(
    "track, expected",
    [
        (Track("x", 0, True, []), DRUMS),
        (Track("x", 33, False, []), BASS),
        (Track("x", 0, False, [Note(38, 0, 1, 90), Note(40, 1, 1, 90)]), BASS),  # low
        (Track("x", 0, False, []), HARMONY),  # an empty piano
        (Track("x", 89, False, []), HARMONY),  # an empty pad
        (Track("x", 73, False, []), MELODY),  # an empty flute
        (Track("x", 73, False, [Note(60, 0, 1, 90), Note(64, 0, 1, 90)]), HARMONY),  # chords
        (Track("x", 0, False, [Note(60, 0, 1, 90), Note(64, 1, 1, 90)]), MELODY),  # a line
    ],
)
def test_roles(track, expected):
    assert role(track, TOK.tpb) == expected


@pytest.mark.parametrize(
    "change, field, kind",
    [
        (dict(targets=[t("b")] * (LIMITS["targets"] + 1)), "targets", LimitError),
        (dict(targets=[]), "targets", RequestError),
        (dict(targets=t("b")), "targets", RequestError),
        (dict(targets=[t("b")], target=t("b")), "targets", RequestError),
        (dict(targets=[t("b"), [0, 4]]), "targets[1]", RequestError),
        (dict(targets=[t("b"), t("x")]), "targets[1].track", RequestError),
        (dict(targets=[t("b"), t("d", 4.0, 4.0)]), "targets[1].end", RequestError),
        (dict(targets=[t("b"), t("d", -1.0, 4.0)]), "targets[1].start", RequestError),
        (dict(targets=[t("b"), t("d", 0.0, 0.01)]), "targets[1]", RequestError),
        (dict(targets=[t("b", 0, 8), t("b", 4, 12)]), "targets[1]", RequestError),
        (dict(targets=[t("b"), t("d", 0, 4.0 * 65)]), "targets[1]", LimitError),
        (dict(targets=[t("b"), t("d", 0, 4.0 * 2000)]), "targets[1].end", LimitError),
        (dict(targets=[t("b")], order="jazz"), "order", RequestError),
    ],
)
def test_refusals_name_the_target(change, field, kind):
    refused(base(**change), field, kind)


def test_the_count_is_refused_before_the_tracks_are_read():
    # a broken note would be named first, were the tracks read before the count
    req = base([t("b")] * 9)
    req["tracks"][0]["notes"] = [["x"]]
    refused(req, "targets", LimitError)


def test_all_target_bars_together():
    cap = LIMITS["all_target_bars"]
    assert cap == 2 * LIMITS["target_bars"]
    ok = [t("d", 0, 4.0 * 64), t("b", 0, 4.0 * 64)]
    assert len(parse_request(base(ok), TOK).targets) == 2
    err = refused(base(ok + [t("k", 0, 4.0)]), "targets", LimitError)
    assert f"{cap + 1} bars in all targets" in str(err)
    # bars are counted per target, also where two ranges share bars
    refused(
        base([t("d", 0, 4.0 * 64), t("b", 0, 4.0 * 64), t("k", 2.0, 3.0)]), "targets", LimitError
    )


def test_ranges_of_one_track_that_only_touch_are_fine():
    r = parse_request(base([t("b", 0, 8), t("b", 8, 16)]), TOK)
    assert [x.start for x in r.targets] == [0, 8]
