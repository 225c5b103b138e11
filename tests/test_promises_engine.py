"""The engine's defaults and controls, end to end with the tiny trained model,
checked for what they promise rather than for "something changed":
density null follows the part's own nearby bars, the density control goes
the way it says, and pitch_range auto is the instrument's General MIDI range
when the part has fewer than 3 notes nearby."""

from collections import Counter

import pytest

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


def test_density_null_follows_the_parts_own_nearby_bars(tiny_engine):
    """A part of 1 note a bar is filled at that level (at most 2 a bar), a
    part of 16 a bar at its own (14-20 a bar, see assert_busy). Polyphony is
    off: this part is a single line, and the untrained model, which skips
    far ahead in a bar, reaches 14 notes only by stacking them."""
    assert_sparse(run(tiny_engine, song(1)))
    assert_busy(run(tiny_engine, song(16), max_polyphony="off"))


def test_the_density_control_goes_the_way_it_says(tiny_engine):
    """density 1 asks for about a note a bar, density 24 for 20-28 a bar:
    the sparse ask gets the sparse fill, on the same part and seed. One
    draw per variation: the density filter is a soft rule, and keeping the
    draws closest to the part's pitch classes is checked in test_choose.py."""
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
