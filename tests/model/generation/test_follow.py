"""Following the part (model/generation/follow.py): the profile of hand-made
parts, resolve turning every AUTO into a value, each new filter forbidding
exactly what it should, and fills of the bundled model that keep a solo
line single and a drum part on its own keys."""

import dataclasses

import numpy as np
import pytest

from midifill.model.generation import follow
from midifill.model.generation.follow import CORE_KIT, PartProfile, feel_grid, profile, resolve
from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.sampling import (
    AUTO,
    Controls,
    Step,
    apply_filters,
    durations_filter,
    feel_filter,
    kit_filter,
)
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note, Song, Track

TOK = Tokenizer()
BARS = [Bar(i, 4.0 * i, 4, 4) for i in range(4)]


def prof(notes, is_drum=False, program=0):
    track = Track("t", program, is_drum, notes)
    return profile(TOK, Song([track], []), track, notes, BARS)


def line(step=0.5, length=0.5, beats=16.0, start=0.0):
    return [Note(60 + int(i) % 7, start + i * step, length, 90) for i in range(int(beats / step))]


# --- the profile -----------------------------------------------------------------


def test_a_solo_line_is_one_note_at_a_time_even_played_legato():
    assert prof(line()).max_at_once == 1 and prof(line()).per_onset == 1
    # each note held a 64th into the next: legato, not two notes at once
    assert prof(line(length=0.5 + 1 / 16)).max_at_once == 1
    # held an 8th into the next: two at once
    assert prof(line(length=1.0)).max_at_once == 2


def test_chords_count_their_notes():
    chords = [Note(p, float(b), 1.0, 80) for b in range(16) for p in (60, 64, 67)]
    p = prof(chords)
    assert p.max_at_once == 3 and p.per_onset == 3.0 and p.register == (60, 67)


def test_durations_are_the_parts_quantiles_in_ticks():
    p = prof(line(length=0.25))  # 16ths on 8th onsets
    assert p.durations == (6, 6, 6, 6)
    mixed = prof([Note(60, float(i), 0.125 if i % 2 else 2.0, 80) for i in range(16)])
    assert mixed.durations[0] == 3 and mixed.durations[3] == 48


def test_a_hat_led_kit_is_its_keys_and_its_bars_onsets():
    kit = (
        [Note(42, b * 4 + i / 2, 0.1, 80) for b in range(4) for i in range(8)]
        + [Note(36, b * 4.0, 0.1, 90) for b in range(4)]
        + [Note(38, b * 4 + 1.0, 0.1, 90) for b in range(4)]
    )
    p = prof(kit, is_drum=True)
    assert p.drum_keys == (36, 38, 42) and p.register is None and p.durations is None
    assert p.max_at_once == 2  # kick or snare with a hat
    assert len(p.drum_bars) == 4 and (0, 0) in p.drum_bars[0] and (1, 8) in p.drum_bars[0]
    assert {s for g, s in p.drum_bars[0] if g == 2} == set(range(0, 32, 4))


@pytest.mark.parametrize(
    "onsets, feel",
    [
        ([i / 4 for i in range(64)], "straight"),  # 16ths
        ([i / 3 for i in range(48)], "triplet"),  # 8th triplets
        ([b + f for b in range(16) for f in (0.0, 2 / 3)], "swing"),  # swung 8ths
        ([i * 0.29 for i in range(50)], "loose"),  # off every grid
    ],
)
def test_the_feel_is_where_the_onsets_sit_in_the_beat(onsets, feel):
    p = prof([Note(60, t, 0.1, 80) for t in onsets])
    assert p.feel == feel
    grid = feel_grid(p.feel, p, TOK.tpb)
    if feel == "loose":
        assert grid is None
    else:  # the ticks the part uses, and the 8th grid
        used = {round(t * 24) % 24 for t in onsets}
        assert set(grid) == used | {0, 12}


def test_a_part_of_few_notes_has_no_feel_and_a_named_feel_its_grid():
    p = prof(line(beats=3.0))  # 6 onsets
    assert p.feel is None and feel_grid(None, p, 24) is None
    assert feel_grid("straight", p, 24) == (0, 6, 12, 18)
    assert feel_grid("triplet", p, 24) == (0, 4, 8, 12, 16, 20)


# --- resolve ---------------------------------------------------------------------

FOLLOWING = ("pitch_range", "max_polyphony", "harmony", "kit", "groove", "durations", "feel")


@pytest.mark.parametrize(
    "is_drum, notes",
    [
        (False, line()),
        (True, []),
        (False, []),
        (True, [Note(36, float(b), 0.1) for b in range(16)]),
    ],
)
@pytest.mark.parametrize("mode", ["fill", "generate"])
def test_resolve_turns_every_auto_into_a_value(is_drum, notes, mode):
    track = Track("t", 33, is_drum, notes)
    c = resolve(Controls(), prof(notes, is_drum, 33), track, mode, TOK)
    assert all(getattr(c, f) is not AUTO for f in FOLLOWING)
    assert all(getattr(c, f) is not AUTO for f in (f.name for f in dataclasses.fields(c)))


def test_resolve_reads_the_profile_and_keeps_what_the_request_set():
    solo = Track("t", 0, False, line())
    c = resolve(Controls(), prof(line()), solo, "fill", TOK)
    assert (c.max_polyphony, c.pitch_range, c.feel, c.kit, c.groove) == (
        1,
        (60, 67),
        "straight",
        None,
        False,
    )  # 60-66, widened to 7 semitones
    assert c.durations == (6, 12)  # 8ths: [10th percentile / 2, 90th]
    kept = resolve(
        Controls(max_polyphony=3, pitch_range=None, feel=None, durations=None, harmony=0.0),
        prof(line()),
        solo,
        "fill",
        TOK,
    )
    assert (kept.max_polyphony, kept.pitch_range, kept.feel, kept.durations, kept.harmony) == (
        3,
        None,
        None,
        None,
        0.0,
    )


def test_a_new_part_gets_the_documented_defaults():
    empty = PartProfile()
    drums = resolve(Controls(), empty, Track("d", 0, True, []), "fill", TOK)
    assert drums.kit == CORE_KIT and drums.groove is False and drums.pitch_range is None
    assert {35, 36, 38, 42, 46, 49, 51}.issubset(CORE_KIT) and 82 not in CORE_KIT
    bass = resolve(Controls(), empty, Track("b", 33, False, []), "fill", TOK)
    assert bass.pitch_range == (28, 60) and bass.max_polyphony == 1 and bass.kit is None
    piano = resolve(Controls(), empty, Track("p", 0, False, []), "fill", TOK)
    assert piano.pitch_range == (36, 96) and piano.max_polyphony is None
    assert piano.durations is None and piano.feel is None
    # generate reads none of the part: a new part, whatever the profile holds
    assert resolve(Controls(), prof(line()), Track("b", 33, False, line()), "generate", TOK) == bass


# --- the filters -----------------------------------------------------------------


def state(is_drum=False, grid=None, *names):
    st = FillState(TOK, FillPlan(BARS[:2], 0, 192, is_drum, [], 200, grid=grid), 3)
    while st.forced:
        st.advance(st.forced[0])
    for n in names:
        st.advance(TOK.ids[n])
    return st


def forbidden(f, st, **controls):
    zeros = np.zeros(TOK.vocab_size, np.float32)
    return {
        TOK.names[i] for i in np.flatnonzero(np.isinf(f(zeros, Step(st, Controls(**controls)))))
    }


def test_the_kit_filter_forbids_exactly_the_drum_keys_outside_the_kit():
    for st in (state(True), state(True, None, "POS_0")):
        out = forbidden(kit_filter, st, kit=(36, 42))
        assert out == {f"DRUM_{k}" for k in range(128)} - {"DRUM_36", "DRUM_42"}
    assert forbidden(kit_filter, state(False), kit=(36, 42)) == set()  # a pitched part
    assert forbidden(kit_filter, state(True), kit=None) == set()


def test_the_feel_filter_forbids_exactly_the_positions_off_the_grid():
    st = state(False, (0, 8, 16))
    # (closing the bar is not among them)
    assert forbidden(feel_filter, st) == {f"POS_{p}" for p in range(TOK.max_pos) if p % 24 % 8}
    assert forbidden(feel_filter, state(False, None)) == set()
    ok = apply_filters(np.zeros(TOK.vocab_size, np.float32), Step(st, Controls()))
    names = {TOK.names[i] for i in np.flatnonzero(~np.isinf(ok))}
    assert "POS_8" in names and "POS_6" not in names


def test_the_durations_filter_forbids_exactly_the_lengths_outside_the_range():
    st = state(False, None, "POS_0", "PITCH_60", "VEL_10")
    assert forbidden(durations_filter, st, durations=(3, 24)) == {
        f"DUR_{d}" for d in range(1, TOK.max_dur + 1)
    } - {f"DUR_{d}" for d in range(3, 25)}
    assert forbidden(durations_filter, st, durations=None) == set()
    assert (
        forbidden(durations_filter, state(True, None, "POS_0", "DRUM_36"), durations=(3, 24))
        == set()
    )  # a drum hit has no length


def test_the_grammar_floor_follows_a_part_with_notes_below_a_32nd():
    st = state(False, None, "POS_0", "PITCH_60", "VEL_10")
    assert st.min_dur == 3  # a 32nd
    short = FillState(TOK, FillPlan(BARS[:2], 0, 192, False, [], 200, min_dur=1), 3)
    assert short.min_dur == 1
    grace = [Note(60, i * 0.5, 1 / 24 if i % 4 == 0 else 0.5, 80) for i in range(32)]
    p = prof(grace)  # a 24th of a beat on every 4th note: 25 %
    c = resolve(Controls(), p, Track("t", 0, False, grace), "fill", TOK)
    assert follow.min_duration(c, p, TOK) == 1 and c.durations[0] == 1
    assert follow.min_duration(dataclasses.replace(c, durations=None), p, TOK) is None
    assert follow.min_duration(c, prof(line()), TOK) is None  # nothing shorter than a 32nd


# --- the bundled model ------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    from midifill.model import Engine

    return Engine.from_checkpoint()


def fill(engine, target, tracks, **controls):
    return engine.run(
        {
            "mode": "fill",
            "tracks": tracks,
            "target": {"track": target, "start": 16.0, "end": 24.0},
            "controls": {"seed": 7, "variations": 2, "candidates": 2, **controls},
        }
    )


def band():
    sax = [[62 + (i * 5) % 12, i * 0.5, 0.45, 90] for i in range(96) if not 16 <= i * 0.5 < 24]
    keys = [[p, b * 4.0, 4.0, 70] for b in range(12) for p in (50, 57, 60, 64)]
    kit = [
        [k, b * 4 + i / 2, 0.1, 90]
        for b in range(12)
        if b not in (4, 5)
        for i in range(8)
        for k in ([42] + ([36] if i % 4 == 0 else [38] if i % 4 == 2 else []))
    ]
    return [
        {"id": "sax", "program": 65, "notes": sax},
        {"id": "keys", "program": 0, "notes": keys},
        {"id": "drums", "is_drum": True, "notes": kit},
    ]


def at_once(notes):
    ticks = [(round(n[1] * 24), round((n[1] + n[2]) * 24)) for n in notes]
    return max(sum(1 for s, e in ticks if s <= a < e) for a, _ in ticks)


def test_a_solo_lines_fill_stays_single(bundled):
    resp = fill(bundled, "sax", band(), temperature=1.3)
    assert all(v["notes"] and at_once(v["notes"]) == 1 for v in resp["variations"])


def test_a_drum_fill_plays_the_parts_keys_only(bundled):
    resp = fill(bundled, "drums", band(), temperature=1.3)
    keys = {n[0] for v in resp["variations"] for n in v["notes"]}
    assert keys and keys <= {36, 38, 42}
    # on the part's grid: 8ths
    assert all(round(n[1] * 24) % 12 == 0 for v in resp["variations"] for n in v["notes"])


def test_a_drum_bars_notes_are_those_a_pass_over_the_part_keeps():
    """follow._by_bar bisects for each bar's notes: the same notes as the
    pass over all of them it replaced (from 1e-9 beat before the bar's
    start to 1e-9 before its end), out of order and on the bar lines."""
    bars = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 3, 4), Bar(2, 7.0, 4, 4)]
    starts = [7.0 - 1e-9, 0.0, 4.0 - 2e-9, 3.5, 4.0 - 5e-10, 11.0 - 1e-9, 6.99, 11.0, 4.0]
    notes = [Note(36 + i, s, 0.1) for i, s in enumerate(starts)]
    got = follow._by_bar(notes, bars)
    want = [[n for n in notes if b.start - 1e-9 <= n.start < b.end - 1e-9] for b in bars]
    assert [sorted(ns, key=lambda n: n.pitch) for ns in got] == want
    assert [len(ns) for ns in got] == [3, 3, 1]
