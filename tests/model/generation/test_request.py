"""Request validation keeps its promises (README, docs/osc.md Limits): each
limit is refused with the field it names, at the boundary and not before it,
and before the engine does any work. Fast: parse_request and an untrained
network, no trained model."""

import math

import pytest
import torch

from midifill.model.errors import LimitError, RequestError
from midifill.model.generation.request import LIMITS, parse_request
from midifill.model.generation.sampling import AUTO
from midifill.model.network.tokenizer import Tokenizer
from tests.support.requests import base, refused

pytestmark = pytest.mark.promise


TOK = Tokenizer()


# --- the limits, at the boundary ----------------------------------------------------


def test_64_target_bars_pass_and_65_are_refused_naming_the_target():
    """The 65-bar target stays far inside the 1,024-bar timeline, so only the
    target limit can refuse it."""
    ok = parse_request(base(target={"track": "1", "start": 0.0, "end": 4.0 * 64}), TOK)
    assert ok.end == 256.0
    err = refused(base(target={"track": "1", "start": 0.0, "end": 4.0 * 65}), "target", LimitError)
    assert "65 bars" in str(err) and str(LIMITS["target_bars"]) in str(err)
    assert err.code == "too_large"
    # bars are counted where the target lies, also off the bar lines and far from beat 0
    refused(
        base(target={"track": "1", "start": 402.0, "end": 402.0 + 4 * 64}), "target", LimitError
    )
    parse_request(base(target={"track": "1", "start": 400.0, "end": 400.0 + 4 * 64}), TOK)


def test_target_bars_follow_the_time_signature():
    # 64 bars of 3/4 are 192 beats; 193 beats reach a 65th bar
    parse_request(base(time_signature=[3, 4], target={"track": "1", "start": 0, "end": 192}), TOK)
    refused(
        base(time_signature=[3, 4], target={"track": "1", "start": 0, "end": 193}),
        "target",
        LimitError,
    )


def test_the_track_limit_is_exact_and_names_tracks():
    tracks = [{"id": str(i)} for i in range(LIMITS["tracks"])]
    parse_request(base(tracks=tracks, target={"track": "0", "start": 0, "end": 4}), TOK)
    refused(
        base(tracks=tracks + [{"id": "x"}], target={"track": "0", "start": 0, "end": 4}),
        "tracks",
        LimitError,
    )


def test_the_note_limit_counts_all_tracks_together():
    half = LIMITS["notes"] // 2
    notes = [[60, i * 0.01, 0.01, 90] for i in range(half)]
    two = [{"id": "1", "notes": notes}, {"id": "2", "notes": list(notes)}]
    parse_request(base(tracks=two), TOK)
    two[1]["notes"].append([60, 0.0, 0.01, 90])
    err = refused(base(tracks=two), "tracks", LimitError)
    assert str(LIMITS["notes"] + 1) in str(err)


def test_the_variation_limit_is_exact():
    assert (
        parse_request(base(controls={"variations": LIMITS["variations"]}), TOK).controls.variations
        == LIMITS["variations"]
    )
    refused(base(controls={"variations": LIMITS["variations"] + 1}), "controls.variations")
    refused(base(controls={"variations": 0}), "controls.variations")


def test_the_timeline_limit_names_the_target_end_or_the_tracks():
    bars = LIMITS["bars"]
    parse_request(base(tracks=[{"id": "1", "notes": [[60, 4.0 * bars - 1, 1.0, 90]]}]), TOK)
    refused(
        base(target={"track": "1", "start": 0, "end": 4.0 * bars + 1}), "target.end", LimitError
    )
    late = [{"id": "1", "notes": [[60, 4.0 * bars + 2, 1.0, 90]]}]
    refused(base(tracks=late), "tracks", LimitError)  # a note past the timeline, not the target
    # past the longest possible timeline (1,024 bars of 8 beats): refused as the position is read
    refused(base(target={"track": "1", "start": 0, "end": 10**400}), "target.end", LimitError)
    refused(
        base(tracks=[{"id": "1", "notes": [[60, 8.0 * bars + 1, 1.0, 90]]}]),
        "tracks[0].notes[0][1]",
        LimitError,
    )


def test_the_time_signature_change_limit():
    sigs = [[4.0 * i, 4, 4] for i in range(LIMITS["bars"] + 1)]
    refused(base(time_signatures=sigs), "time_signatures", LimitError)


# --- before any work ---------------------------------------------------------------


@pytest.fixture(scope="module")
def untrained():
    from midifill.model import Engine
    from midifill.model.network.config import ModelConfig
    from midifill.model.network.transformer import Transformer

    torch.manual_seed(0)
    net = Transformer(
        ModelConfig(vocab_size=TOK.vocab_size, block_size=256, n_layer=1, n_head=2, n_embd=16)
    )
    return Engine(net, TOK, "untrained")


OVER = {
    "target_bars": (base(target={"track": "1", "start": 0, "end": 4.0 * 65}), "target"),
    "tracks": (
        base(
            tracks=[{"id": str(i)} for i in range(LIMITS["tracks"] + 1)],
            target={"track": "0", "start": 0, "end": 4},
        ),
        "tracks",
    ),
    "notes": (
        base(
            tracks=[
                {
                    "id": "1",
                    "notes": [[60, i * 0.001, 0.001, 90] for i in range(LIMITS["notes"] + 1)],
                }
            ]
        ),
        "tracks",
    ),
    "variations": (base(controls={"variations": LIMITS["variations"] + 1}), "controls.variations"),
    "bars": (
        base(target={"track": "1", "start": 0, "end": 4.0 * LIMITS["bars"] + 4}),
        "target.end",
    ),
}


@pytest.mark.parametrize("what", sorted(OVER))
def test_each_limit_is_refused_by_the_engine_before_any_work(untrained, monkeypatch, what):
    req, field = OVER[what]

    def no_work(*args, **kwargs):
        raise AssertionError(f"the engine started work on a request over the {what} limit")

    monkeypatch.setattr(untrained, "_fill", no_work)
    with pytest.raises(RequestError) as err:
        untrained.run(req)
    assert err.value.field == field, str(err.value)


# --- controls ------------------------------------------------------------------------


def test_controls_take_their_documented_defaults():
    c = parse_request(base(), TOK).controls
    assert (c.temperature, c.top_p, c.top_k, c.seed, c.variations) == (1.0, 0.95, 0, None, 1)
    assert (c.pitch_range, c.key, c.max_polyphony, c.density) == (AUTO, None, AUTO, None)
    assert (c.kit, c.groove, c.durations, c.feel) == (AUTO, AUTO, AUTO, AUTO)
    assert c.harmony is AUTO and not c.sparse  # AUTO: the engine follows the part
    assert parse_request(base(controls={"density": 0}), TOK).controls.sparse


@pytest.mark.parametrize(
    "name, ok, bad",
    [
        ("temperature", [0, 5], [-0.01, 5.01]),
        ("top_p", [1e-6, 1], [0, 1.01]),
        ("top_k", [0, 100_000], [-1, 100_001, 1.5]),
        ("seed", [0, 2**63 - 1], [-1, 2**63]),
        ("density", [0, 64], [-0.5, 64.5]),
        ("max_polyphony", [1, 32], [0, 33]),
        ("harmony", [0, 1], [-0.1, 1.1]),
    ],
)
def test_control_ranges_are_inclusive_where_documented(name, ok, bad):
    for value in ok:
        got = getattr(parse_request(base(controls={name: value}), TOK).controls, name)
        assert got == value and type(got) is (
            float if name in ("temperature", "top_p", "density", "harmony") else int
        )
    for value in bad:
        refused(base(controls={name: value}), f"controls.{name}")


def test_pitch_range_and_key_are_checked_together():
    c = parse_request(base(controls={"pitch_range": [60, 60]}), TOK).controls
    assert c.pitch_range == (60, 60)
    refused(base(controls={"pitch_range": [61, 60]}), "controls.pitch_range[1]")
    refused(base(controls={"pitch_range": [-1, 60]}), "controls.pitch_range[0]")
    refused(base(controls={"pitch_range": [0, 128]}), "controls.pitch_range[1]")
    refused(base(controls={"pitch_range": [60]}), "controls.pitch_range")
    assert (
        parse_request(base(controls={"key": "C major", "pitch_range": [61, 62]}), TOK).controls.key
        == "C major"
    )  # D (62) is in C major
    refused(base(controls={"key": "C major", "pitch_range": [61, 61]}), "controls.key")
    refused(base(controls={"key": 7}), "controls.key")
    refused(base(controls={"key": "H major"}), "controls.key")
    refused(base(controls="fast"), "controls")


# --- notes and tracks ------------------------------------------------------------------


def test_notes_are_read_as_documented():
    req = parse_request(
        base(
            tracks=[
                {
                    "id": 7,
                    "program": 33,
                    "is_drum": False,
                    "name": "Bass",
                    "notes": [[0, 0, 0, 0], [127, 1.5, 2, 127]],
                }
            ],
            target={"track": 7, "start": 0, "end": 4},
        ),
        TOK,
    )
    t = req.song.track("7")
    assert (t.id, t.program, t.is_drum, t.name) == ("7", 33, False, "Bass")
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in t.notes] == [
        (0, 0.0, 0.0, 1),
        (127, 1.5, 2.0, 127),
    ]  # velocity 0 is read as 1
    assert req.track_id == "7" and req.mode == "fill"
    assert req.song.tempos[0].bpm == 120.0
    assert (req.song.time_signatures[0].numerator, req.song.time_signatures[0].denominator) == (
        4,
        4,
    )


@pytest.mark.parametrize(
    "note, field",
    [
        ([128, 0, 1, 90], "[0]"),
        ([-1, 0, 1, 90], "[0]"),
        ([60.5, 0, 1, 90], "[0]"),
        ([60, -0.1, 1, 90], "[1]"),
        ([60, math.nan, 1, 90], "[1]"),
        ([60, "0", 1, 90], "[1]"),
        ([60, 0, -0.1, 90], "[2]"),
        ([60, 0, math.inf, 90], "[2]"),
        ([60, 0, 1, 128], "[3]"),
        ([60, 0, 1, -1], "[3]"),
        ([60, 0, 1, True], "[3]"),
        ([60, 0, 1], ""),
        ("60 0 1 90", ""),
    ],
)
def test_a_bad_note_names_its_value(note, field):
    refused(base(tracks=[{"id": "1", "notes": [note]}]), f"tracks[0].notes[0]{field}")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"mode": "remix"}, "mode"),
        ({"mode": None}, "mode"),
        ({"tempo": 0}, "tempo"),
        ({"tempo": 1000.5}, "tempo"),
        ({"time_signature": [4, 3]}, "time_signature"),
        ({"time_signature": [9, 4]}, "time_signature"),
        ({"time_signature": [4]}, "time_signature"),
        ({"time_signatures": []}, "time_signatures"),
        ({"time_signatures": [[0, 4, 4], [0, 3, 4]]}, "time_signatures[1][0]"),
        ({"time_signatures": [[0, 4, 4], [4, 3]]}, "time_signatures[1]"),
        ({"tracks": {"id": "1"}}, "tracks"),
        ({"tracks": ["1"]}, "tracks[0]"),
        ({"tracks": [{"id": ""}]}, "tracks[0].id"),
        ({"tracks": [{"id": "1", "program": 128}]}, "tracks[0].program"),
        ({"tracks": [{"id": "1", "is_drum": 1}]}, "tracks[0].is_drum"),
        ({"tracks": [{"id": "1", "name": 5}]}, "tracks[0].name"),
        ({"tracks": [{"id": "1", "notes": "none"}]}, "tracks[0].notes"),
        ({"target": None}, "target"),
        ({"target": {"track": "2", "start": 0, "end": 4}}, "target.track"),
        ({"target": {"track": "1", "start": 4, "end": 4}}, "target.end"),
        ({"target": {"track": "1", "start": 0.001, "end": 0.02}}, "target"),  # no grid step
        ({"controls": {"speed": 1}}, "controls.speed"),
    ],
)
def test_each_bad_field_is_named(change, field):
    refused(base(**change), field)


def test_time_signature_changes_are_read_in_order():
    req = parse_request(
        base(
            time_signatures=[[0, 4, 4], [8, 3, 4], [14, 6, 8]],
            target={"track": "1", "start": 8, "end": 20},
        ),
        TOK,
    )
    assert [(s.beat, s.numerator, s.denominator) for s in req.song.time_signatures] == [
        (0.0, 4, 4),
        (8.0, 3, 4),
        (14.0, 6, 8),
    ]
    assert [b.start for b in req.song.bars(until=20)] == [0.0, 4.0, 8.0, 11.0, 14.0, 17.0]
