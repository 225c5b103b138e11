"""The other tracks' harmony (model/generation/harmony.py) and the harmony control."""

import numpy as np
import pytest

from midifill.model.errors import RequestError
from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.harmony import (
    FOLLOW_MAX,
    FOLLOW_OFFSET,
    Sounding,
    follow_strength,
    harmonic_fit,
    sounding_at_onsets,
)
from midifill.model.generation.nearby import context_harmony
from midifill.model.generation.request import parse_controls
from midifill.model.generation.sampling import (
    HARMONY_DEFAULT,
    HARMONY_NATS,
    Controls,
    Step,
    apply_filters,
    harmony_filter,
)
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note, Song, TimeSignature, Track

TOK = Tokenizer()
BARS = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]


def song():
    chords = Track(
        "keys",
        0,
        False,
        [
            Note(60, 0.0, 1.0),
            Note(64, 0.0, 1.0),
            Note(67, 0.0, 1.0),
            Note(62, 4.0, 4.0),
            Note(65, 4.0, 4.0),
        ],
    )
    drums = Track("drums", 0, True, [Note(37, 0.0, 8.0)])  # drums carry no harmony
    lead = Track("lead", 0, False, [Note(71, 0.0, 8.0)])  # the target: not its own harmony
    return Song([lead, chords, drums], [TimeSignature(0.0, 4, 4)])


def classes(row):
    return {pc for pc in range(12) if row[pc]}


def test_sounding_names_the_other_pitched_tracks_classes_tick_by_tick():
    s = Sounding.of(song(), "lead", 0, 192, TOK.tpb)
    assert classes(s.at(0)) == {0, 4, 7}
    assert classes(s.at(23)) == {0, 4, 7}
    assert classes(s.at(96)) == {2, 5}
    assert classes(s.at(500)) == set()  # outside the range
    # code: the same classes as bits, at every tick in range and out of it
    for t in range(-5, 200):
        assert s.code(t) == sum(1 << pc for pc in classes(s.at(t)))
    assert s.code(0) == 1 | 1 << 4 | 1 << 7


def test_a_rest_keeps_the_last_two_beats_harmony_then_falls_silent():
    held = Sounding.of(song(), "lead", 0, 96, TOK.tpb)
    assert classes(held.at(24)) == {0, 4, 7}  # just after the chord ends
    assert classes(held.at(71)) == {0, 4, 7}  # 2 beats minus a tick later
    assert classes(held.at(72)) == set()
    strict = Sounding.of(song(), "lead", 0, 96, TOK.tpb, hold=False)
    assert classes(strict.at(24)) == set()


def test_sounding_at_onsets_is_strict():
    notes = [Note(72, 0.0, 0.5), Note(74, 2.0, 0.5), Note(74, 5.0, 0.5)]
    got = [classes(x) for x in sounding_at_onsets(notes, song(), "lead", TOK.tpb)]
    assert got == [{0, 4, 7}, set(), {2, 5}]


def at_pos(pos, is_drum=False):
    plan = FillPlan(BARS, 0, 192, is_drum, [], 200, Sounding.of(song(), "lead", 0, 192, TOK.tpb))
    st = FillState(TOK, plan, 3)
    while st.forced:
        st.advance(st.forced[0])
    st.advance(TOK.ids[f"POS_{pos}"])
    return st


def test_harmony_filter_adds_the_bonus_to_sounding_classes_only():
    logits = np.zeros(TOK.vocab_size, np.float32)
    out = harmony_filter(logits, Step(at_pos(0), Controls(harmony=0.5)))
    a = TOK.offset["PITCH"]
    for pitch in (48, 60, 64, 67, 79):
        assert out[a + pitch] == pytest.approx(0.5 * HARMONY_NATS)
    for pitch in (61, 62, 65, 71):
        assert out[a + pitch] == 0
    assert not logits.any()  # pure: the input is untouched
    assert (out[:a] == 0).all() and (out[a + 128 :] == 0).all()


def test_harmony_filter_follows_the_chord_and_leaves_drums_and_zero_alone():
    logits = np.zeros(TOK.vocab_size, np.float32)
    a = TOK.offset["PITCH"]
    out = harmony_filter(logits, Step(at_pos(0 + 0, False), Controls(harmony=1.0)))
    assert out[a + 60] > 0 and out[a + 62] == 0
    # bar 2 (ticks 96-191) sounds D and F
    plan_st = at_pos(0)
    plan_st.advance(TOK.ids["PITCH_60"]), plan_st.advance(TOK.ids["VEL_10"])
    plan_st.advance(TOK.ids["DUR_24"]), plan_st.advance(TOK.ids["BAR_4/4"])
    plan_st.advance(TOK.ids["POS_0"])
    out = harmony_filter(logits, Step(plan_st, Controls(harmony=1.0)))
    assert out[a + 62] > 0 and out[a + 65] > 0 and out[a + 60] == 0
    assert harmony_filter(logits, Step(at_pos(0), Controls(harmony=0))) is logits
    assert harmony_filter(logits, Step(at_pos(0, is_drum=True), Controls(harmony=1))) is logits


def test_harmony_in_the_chain_keeps_the_grammar():
    logits = np.zeros(TOK.vocab_size, np.float32)
    st = at_pos(0)
    st.advance(TOK.ids["PITCH_64"])  # now a velocity must come: the bonus cannot reopen pitches
    out = apply_filters(logits, Step(st, Controls(harmony=1.0)))
    assert {TOK.kind(int(i)) for i in np.flatnonzero(np.isfinite(out))} == {"VEL"}


def test_harmony_control_parses_with_its_default_and_range():
    from midifill.model.generation.sampling import AUTO

    assert parse_controls({}).harmony is AUTO  # left out: the engine follows the part
    assert parse_controls({"harmony": None}).harmony is AUTO
    assert parse_controls({"harmony": "auto"}).harmony is AUTO
    assert parse_controls({"harmony": "off"}).harmony == 0.0
    assert parse_controls({"harmony": 0}).harmony == 0
    assert parse_controls({"harmony": 1}).harmony == 1.0
    for bad in (-0.1, 1.5, "strong", True):
        with pytest.raises(RequestError) as err:
            parse_controls({"harmony": bad})
        assert err.value.field == "controls.harmony"


def test_the_engine_leans_a_fill_onto_the_other_tracks(tiny_engine):
    s = song()
    s.tracks[1].notes = [Note(p, float(b), 1.0) for b in range(0, 16) for p in (60, 64, 67)]
    req = dict(s.to_payload(), mode="fill", target={"track": "lead", "start": 4.0, "end": 12.0})

    def fit(h):
        hits = total = 0
        for seed in range(4):
            r = tiny_engine.run(dict(req, controls={"seed": seed, "harmony": h, "density": 6}))
            notes = [Note.from_list(n) for n in r["variations"][0]["notes"]]
            on = sounding_at_onsets(notes, s, "lead", TOK.tpb)
            hits += sum(bool(x[n.pitch % 12]) for x, n in zip(on, notes))
            total += len(notes)
        return hits / total

    assert fit(1.0) > fit(0.0) + 0.2


# --- harmony that follows the part ----------------------------------------------------


def chord_loop(lead_pitches):
    """C major triads on every beat of 16 bars; the lead plays one note a beat
    from `lead_pitches`, round and round."""
    keys = Track(
        "keys", 0, False, [Note(p, float(b), 1.0) for b in range(64) for p in (60, 64, 67)]
    )
    lead = Track(
        "lead",
        0,
        False,
        [Note(lead_pitches[b % len(lead_pitches)], float(b), 1.0) for b in range(64)],
    )
    return Song([lead, keys], [TimeSignature(0.0, 4, 4)])


def test_follow_strength_is_the_parts_own_fit_less_the_offset_within_bounds():
    chordal = chord_loop([72, 76])  # every note on the chord: fit 1
    passing = chord_loop([72, 74, 76, 77])  # half the notes pass: fit 0.5
    outside = chord_loop([73, 75])  # none on the chord: fit 0
    for s, fit in ((chordal, 1.0), (passing, 0.5), (outside, 0.0)):
        lead = s.track("lead").notes
        assert harmonic_fit(lead, s, "lead", TOK.tpb) == fit
        assert follow_strength(lead, s, "lead", TOK.tpb) == pytest.approx(
            min(FOLLOW_MAX, max(0.0, fit - FOLLOW_OFFSET))
        )
    assert follow_strength(chordal.track("lead").notes, chordal, "lead", TOK.tpb) == FOLLOW_MAX
    assert follow_strength(outside.track("lead").notes, outside, "lead", TOK.tpb) == 0
    # two notes say too little about a part: the caller falls back
    assert follow_strength(chordal.track("lead").notes[:2], chordal, "lead", TOK.tpb) is None


def test_context_harmony_reads_the_parts_nearby_bars_only():
    s = chord_loop([72, 74, 76, 77])
    bars = s.bars()
    # the fill's own bars (4-7) are rewritten to sit on the chord: they must not count
    s.track("lead").notes = [
        Note(72, n.start, 1.0) if 16 <= n.start < 32 else n for n in s.track("lead").notes
    ]
    assert context_harmony(TOK, s, s.track("lead"), bars, 4, 8) == pytest.approx(
        0.5 - FOLLOW_OFFSET
    )
    s.track("lead").notes = [n for n in s.track("lead").notes if 16 <= n.start < 32]
    assert context_harmony(TOK, s, s.track("lead"), bars, 4, 8) == HARMONY_DEFAULT  # nothing nearby


def test_a_request_without_harmony_gets_the_strength_that_follows_the_part(tiny_engine):
    s = chord_loop([72, 74, 76, 77])
    req = dict(s.to_payload(), mode="fill", target={"track": "lead", "start": 16.0, "end": 32.0})
    follow = context_harmony(tiny_engine.tok, s, s.track("lead"), s.bars(), 4, 8)
    assert follow != HARMONY_DEFAULT

    def notes(controls):
        return tiny_engine.run(dict(req, controls=dict(controls, seed=3)))["variations"][0]["notes"]

    left_out = notes({})
    assert left_out == notes({"harmony": follow})
    assert left_out == notes({"harmony": None})
    # and the default is not a fixed strength in disguise
    assert any(notes({}) != notes({"harmony": h}) for h in (HARMONY_DEFAULT, FOLLOW_MAX))
