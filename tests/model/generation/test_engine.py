"""The Engine end to end with a real (tiny) trained model.

The engine's defaults and controls, end to end with the tiny trained model,
checked for what they promise rather than for "something changed":
density null follows the part's own nearby bars, the density control goes
the way it says, and pitch_range auto is the instrument's General MIDI range
when the part has fewer than 3 notes nearby.

A fill plays at its part's dynamics: the velocity default and its filter."""

import math
import threading
from collections import Counter

import numpy as np
import pytest

from midifill.model import Engine
from midifill.model.errors import Cancelled, CheckpointError, RequestError
from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.nearby import context_velocities
from midifill.model.generation.request import LIMITS
from midifill.model.generation.sampling import Controls, Step, velocity_filter
from midifill.model.midi_io import read_midi
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note, Song, TimeSignature, Track


@pytest.fixture(scope="module")
def pop(fixtures_dir):
    return read_midi(fixtures_dir / "pop_4-4_tempo_change.mid")


def request(song, track="1", start=8.0, end=16.0, mode="fill", **controls):
    return dict(
        song.to_payload(),
        mode=mode,
        target={"track": track, "start": start, "end": end},
        controls=controls,
    )


def inside(resp, start, end):
    return all(
        start - 1e-9 <= n[1] and n[1] + n[2] <= end + 1e-9
        for v in resp["variations"]
        for n in v["notes"]
    )


def test_fill_returns_notes_inside_the_range(tiny_engine, pop):
    resp = tiny_engine.run(request(pop, seed=3, variations=2))
    assert resp["model"] == "tiny-test" and len(resp["variations"]) == 2
    assert all(v["notes"] for v in resp["variations"])
    assert inside(resp, 8.0, 16.0)
    assert set(resp["timing_ms"]) == {"prefill", "decode", "total"}


def test_same_seed_same_notes_and_other_seed_differs(tiny_engine, pop):
    a = tiny_engine.run(request(pop, seed=11, variations=3))
    b = tiny_engine.run(request(pop, seed=11, variations=3))
    c = tiny_engine.run(request(pop, seed=12, variations=3))
    assert a["variations"] == b["variations"]
    assert a["variations"] != c["variations"]


def test_selection_off_the_bar_lines(tiny_engine, pop):
    resp = tiny_engine.run(request(pop, start=5.25, end=10.6, seed=1, variations=4))
    assert inside(resp, 5.25, 10.6)
    assert all(v["notes"] for v in resp["variations"])


@pytest.mark.parametrize("mode", ["continue", "generate"])
def test_other_modes(tiny_engine, pop, mode):
    resp = tiny_engine.run(request(pop, track="3", start=32.0, end=40.0, mode=mode, seed=5))
    assert resp["variations"][0]["notes"] and inside(resp, 32.0, 40.0)


def test_pitch_range_key_and_polyphony_hold(tiny_engine, pop):
    resp = tiny_engine.run(
        request(
            pop,
            track="2",
            seed=4,
            pitch_range=[60, 72],
            key="C major",
            max_polyphony=2,
            variations=2,
        )
    )
    for v in resp["variations"]:
        assert all(60 <= n[0] <= 72 and n[0] % 12 in {0, 2, 4, 5, 7, 9, 11} for n in v["notes"])
        # never more than two notes sounding at once, counted on the grid (the
        # response rounds beats to 6 decimals, so a sum of two can overshoot)
        ticks = [(round(n[1] * 24), round((n[1] + n[2]) * 24)) for n in v["notes"]]
        for a, _ in ticks:
            assert sum(1 for s, e in ticks if s <= a < e) <= 2


def test_never_empty_unless_sparse_is_asked(tiny_engine, pop):
    for seed in range(8):
        resp = tiny_engine.run(
            request(pop, track="3", start=4.0, end=8.0, seed=seed, temperature=1.5)
        )
        assert resp["variations"][0]["notes"], f"seed {seed} came back empty"


def test_accompaniment_on_an_empty_new_track(tiny_engine, pop):
    req = request(pop, track="new", start=0.0, end=16.0, seed=2)
    req["tracks"].append({"id": "new", "program": 48, "is_drum": False, "notes": []})
    resp = tiny_engine.run(req)
    assert resp["variations"][0]["notes"] and inside(resp, 0.0, 16.0)


def test_density_control_changes_the_fill(tiny_engine, pop):
    sparse = tiny_engine.run(request(pop, track="0", density=1, seed=9, variations=4))
    busy = tiny_engine.run(request(pop, track="0", density=24, seed=9, variations=4))
    count = lambda r: sum(len(v["notes"]) for v in r["variations"])  # noqa: E731
    assert count(sparse) != count(busy)


def test_long_song_is_cropped_to_fit(tiny_engine):
    tracks = [
        {
            "id": str(i),
            "program": i * 5,
            "is_drum": i == 9,
            "notes": [[40 + i, b * 4.0 + k, 0.5, 90] for b in range(200) for k in range(4)],
        }
        for i in range(16)
    ]
    req = {
        "mode": "fill",
        "tracks": tracks,
        "target": {"track": "3", "start": 400.0, "end": 416.0},
        "controls": {"seed": 1},
    }
    resp = tiny_engine.run(req)
    assert inside(resp, 400.0, 416.0)


def test_progress_and_cancel(tiny_engine, pop):
    seen = []
    tiny_engine.run(request(pop, seed=1), progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(0 <= x <= 1 for x in seen)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        tiny_engine.run(request(pop, seed=1), cancel=stop)


BAD = [
    ({"mode": "remix"}, "mode"),
    ({"target": {"track": "nope", "start": 0, "end": 4}}, "target.track"),
    ({"target": {"track": "1", "start": 8, "end": 8}}, "target.end"),
    ({"target": {"track": "1", "start": -1, "end": 8}}, "target.start"),
    ({"target": {"track": "1", "start": 0, "end": math.nan}}, "target.end"),
    ({"tracks": [{"id": "1", "notes": [[128, 0, 1, 90]]}]}, "tracks[0].notes[0][0]"),
    ({"tracks": [{"id": "1", "notes": [[60, 0, -1, 90]]}]}, "tracks[0].notes[0][2]"),
    ({"tracks": [{"id": "1", "notes": [[60, math.inf, 1, 90]]}]}, "tracks[0].notes[0][1]"),
    ({"tracks": [{"id": "1", "notes": [[60, 0, 1]]}]}, "tracks[0].notes[0]"),
    ({"tracks": [{"id": "1"}, {"id": "1"}]}, "tracks[1].id"),
    ({"time_signature": [9, 5]}, "time_signature"),
    ({"controls": {"temprature": 1}}, "controls.temprature"),
    ({"controls": {"variations": 0}}, "controls.variations"),
    ({"controls": {"key": "H major"}}, "controls.key"),
    ({"controls": {"pitch_range": [60, 50]}}, "controls.pitch_range[1]"),
    ("not a dict", "request"),
]


@pytest.mark.parametrize("change, field", BAD)
def test_bad_requests_name_the_field(tiny_engine, change, field):
    base = {
        "mode": "fill",
        "tracks": [{"id": "1", "notes": [[60, 0, 1, 90]]}],
        "target": {"track": "1", "start": 0, "end": 4},
    }
    req = change if isinstance(change, str) else dict(base, **change)
    with pytest.raises(RequestError) as err:
        tiny_engine.run(req)
    assert err.value.field == field, str(err.value)


@pytest.mark.parametrize("what", ["tracks", "notes", "variations", "bars"])
def test_limits_are_enforced_before_work(tiny_engine, what):
    req = {
        "mode": "fill",
        "tracks": [{"id": "1", "notes": []}],
        "target": {"track": "1", "start": 0, "end": 4},
        "controls": {},
    }
    if what == "tracks":
        req["tracks"] += [{"id": f"x{i}"} for i in range(LIMITS["tracks"])]
    elif what == "notes":
        req["tracks"][0]["notes"] = [[60, i * 0.01, 0.01, 90] for i in range(LIMITS["notes"] + 1)]
    elif what == "variations":
        req["controls"]["variations"] = LIMITS["variations"] + 1
    else:
        req["target"] = {"track": "1", "start": 0, "end": 4.0 * (LIMITS["bars"] + 5)}
    with pytest.raises(RequestError):
        tiny_engine.run(req)


def test_missing_bundled_model_is_a_clear_error(monkeypatch, tmp_path):
    import midifill.model.generation.engine as eng

    monkeypatch.setattr(eng, "BUNDLED_MODEL", tmp_path / "none.pt")
    with pytest.raises(CheckpointError, match="bundled model"):
        Engine.from_checkpoint()


def test_register_and_density_default_to_the_parts_own_nearby_bars(tiny_engine, pop):
    bass = pop.track("1")
    near = [n for n in bass.notes if not 8.0 <= n.start < 16.0]  # bars 3-4 are the fill
    lo, hi = min(n.pitch for n in near), max(n.pitch for n in near)
    assert hi - lo >= 7  # wide enough that the minimum width does not apply
    resp = tiny_engine.run(request(pop, seed=2, variations=4, temperature=1.5))
    assert all(lo <= n[0] <= hi for v in resp["variations"] for n in v["notes"])
    wide = tiny_engine.run(
        request(pop, seed=2, variations=4, temperature=1.5, pitch_range=[0, 127])
    )  # an explicit range wins
    assert wide["variations"] != resp["variations"]


def test_a_part_on_few_pitches_still_gets_a_fifths_room():
    from midifill.model.generation.nearby import context_register
    from midifill.model.song import Note as N
    from midifill.model.song import Song, TimeSignature, Track

    pedal = Track("b", 33, False, [N(40 + (i % 2) * 2, float(i), 1.0) for i in range(32)])
    bars = Song([pedal], [TimeSignature(0.0, 4, 4)]).bars()
    assert context_register(pedal, bars, 3, 4) == (38, 45)  # 40-42, widened to 7 semitones
    assert context_register(Track("d", 0, True, pedal.notes), bars, 3, 4) is None
    assert context_register(Track("s", 0, False, pedal.notes[:2]), bars, 3, 4) is None


FILL = (16.0, 24.0)  # bars 5-6 of 4/4


def song(per_bar, pitches=(36, 43, 48, 55, 60, 67, 72), bars=12):
    """Target "p": `per_bar` notes in every bar but the fill's; "keys": chords."""
    notes = [
        [pitches[k % len(pitches)], b * 4.0 + k * 4.0 / per_bar, 4.0 / per_bar / 2, 90]
        for b in range(bars)
        for k in range(per_bar)
        if not FILL[0] <= b * 4.0 < FILL[1]
    ]
    keys = [[p, b * 4.0, 4.0, 70] for b in range(bars) for p in (60, 64, 67)]
    return [
        {"id": "p", "program": 0, "is_drum": False, "notes": notes},
        {"id": "keys", "program": 0, "is_drum": False, "notes": keys},
    ]


def run(engine, tracks, **controls):
    controls = {"seed": 5, "variations": 4, "temperature": 1.2, **controls}
    return engine.run(
        {
            "mode": "fill",
            "tracks": tracks,
            "target": {"track": "p", "start": FILL[0], "end": FILL[1]},
            "controls": controls,
        }
    )


def per_bar(variation):
    counts = Counter(int(n[1] // 4) for n in variation["notes"])
    return [counts.get(b, 0) for b in (4, 5)]


def assert_sparse(resp):
    """At most 2 notes a bar (level 1 is under 1.5 a bar), never empty."""
    for v in resp["variations"]:
        assert v["notes"] and all(c <= 2 for c in per_bar(v)), per_bar(v)


def assert_busy(resp):
    """Every bar busier than any sparse one, and about 8 or more a bar on
    average. (The density filter is a soft rule: with the untrained tiny
    model a bar whose positions ran out closes below its level's range.)"""
    counts = [c for v in resp["variations"] for c in per_bar(v)]
    assert min(counts) >= 3 and sum(counts) / len(counts) >= 8, counts


@pytest.mark.promise
def test_density_null_follows_the_parts_own_nearby_bars(tiny_engine):
    """A part of 1 note a bar is filled at that level (at most 2 a bar), a
    part of 16 a bar at its own (14-20 a bar, see assert_busy). Polyphony is
    off: this part is a single line, and the untrained model, which skips
    far ahead in a bar, reaches 14 notes only by stacking them."""
    assert_sparse(run(tiny_engine, song(1)))
    assert_busy(run(tiny_engine, song(16), max_polyphony="off"))


@pytest.mark.promise
def test_the_density_control_goes_the_way_it_says(tiny_engine):
    """density 1 asks for about a note a bar, density 24 for 20-28 a bar:
    the sparse ask gets the sparse fill, on the same part and seed. One
    draw per variation: the density filter is a soft rule, and keeping the
    draws closest to the part's pitch classes is checked in
    tests/model/generation/test_choose.py."""
    tracks = song(4)
    assert_sparse(run(tiny_engine, tracks, density=1, candidates=1))
    # polyphony off, as above; durations off: this part's 8th notes would
    # hold a bar of a single line to 16 notes at most
    assert_busy(
        run(tiny_engine, tracks, density=24, candidates=1, max_polyphony="off", durations="off")
    )
    # density 0: sparse output allowed, and never more than the model's choice
    assert all(
        isinstance(v["notes"], list) for v in run(tiny_engine, tracks, density=0)["variations"]
    )


@pytest.mark.promise
def test_pitch_range_auto_is_the_instruments_range_with_fewer_than_3_nearby_notes(tiny_engine):
    """Two nearby notes set no register of their own: the fill stays in the
    usual range of the track's General MIDI instrument (follow.gm_range), a
    bass's for an electric bass; "off" is no limit."""
    two = song(1, bars=7)
    two[0]["notes"] = [[50, 8.0, 1.0, 90], [52, 28.0, 1.0, 90]]  # bars 3 and 8
    two[0]["program"] = 33  # electric bass: 28-60
    bass = run(tiny_engine, two, temperature=1.5)
    pitches = {n[0] for v in bass["variations"] for n in v["notes"]}
    assert pitches and all(28 <= p <= 60 for p in pitches), sorted(pitches)
    free = run(tiny_engine, two, temperature=1.5, pitch_range="off")
    full = run(tiny_engine, two, temperature=1.5, pitch_range=[0, 127])
    assert free["variations"] == full["variations"] != bass["variations"]
    # a third note makes a register: 50-53, widened evenly to 7 semitones (48-55)
    three = [dict(t) for t in two]
    three[0]["notes"] = two[0]["notes"] + [[53, 30.0, 1.0, 90]]
    held = run(tiny_engine, three, temperature=1.5)
    assert all(48 <= n[0] <= 55 for v in held["variations"] for n in v["notes"])


@pytest.mark.promise
@pytest.mark.parametrize("start, end", [(16.0, 24.0), (17.25, 22.6)])
def test_every_note_ends_inside_the_target(tiny_engine, start, end):
    tracks = song(4)
    resp = tiny_engine.run(
        {
            "mode": "fill",
            "tracks": tracks,
            "target": {"track": "p", "start": start, "end": end},
            "controls": {"seed": 3, "variations": 4, "temperature": 1.5},
        }
    )
    notes = [n for v in resp["variations"] for n in v["notes"]]
    assert notes
    assert all(start <= n[1] and n[1] + n[2] <= end + 1e-6 and n[2] > 0 for n in notes)


TOK = Tokenizer()


def after_pitch(velocities):
    st = FillState(
        TOK, FillPlan([Bar(0, 0.0, 4, 4)], 0, 96, False, [], 100, velocities=velocities), 3
    )
    while st.forced:
        st.advance(st.forced[0])
    for name in ("POS_0", "PITCH_60"):
        st.advance(TOK.ids[name])
    return st


def test_the_filter_keeps_only_velocities_in_the_range():
    logits = np.zeros(TOK.vocab_size, np.float32)
    out = velocity_filter(logits, Step(after_pitch((10, 14)), Controls()))
    a = TOK.offset["VEL"]
    assert [v for v in range(32) if np.isfinite(out[a + v])] == [10, 11, 12, 13, 14]
    assert np.isfinite(out[:a]).all() and not np.isinf(logits).any()  # pure
    assert velocity_filter(logits, Step(after_pitch(None), Controls())) is logits


def test_the_range_is_the_parts_nearby_velocities_one_bin_wider():
    soft = Track("p", 0, False, [Note(60, float(i), 0.5, 40 + (i % 3) * 4) for i in range(32)])
    bars = Song([soft], [TimeSignature(0.0, 4, 4)]).bars()
    lo, hi = context_velocities(TOK, soft, bars, 3, 4)
    assert (lo, hi) == (TOK.velocity_bin(40) - 1, TOK.velocity_bin(48) + 1)
    assert context_velocities(TOK, Track("q", 0, False, soft.notes[:2]), bars, 3, 4) is None


def test_a_fill_of_a_quiet_part_stays_quiet(tiny_engine):
    quiet = Track("keys", 0, False, [Note(60 + i % 5, i * 0.5, 0.5, 30) for i in range(64)])
    loud = Track("bass", 33, False, [Note(36, float(i), 1.0, 120) for i in range(32)])
    song = Song([quiet, loud], [TimeSignature(0.0, 4, 4)])
    req = dict(
        song.to_payload(),
        mode="fill",
        target={"track": "keys", "start": 8.0, "end": 16.0},
        controls={"seed": 5, "variations": 3, "temperature": 1.5},
    )
    lo, hi = (TOK.bin_velocity(b) for b in (TOK.velocity_bin(30) - 1, TOK.velocity_bin(30) + 1))
    notes = [n for v in tiny_engine.run(req)["variations"] for n in v["notes"]]
    assert notes and all(lo <= n[3] <= hi for n in notes)
