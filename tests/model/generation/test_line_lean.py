"""The line lean (model/generation/line_lean.py): it forbids nothing, adds
its nats exactly to what the matching context bars say comes next (onset,
pitch, length, closing the bar), is off for drum parts and at strength 0,
follows the part's repetition when left to auto, adds the same with the
rows together as row by row (beside the harmony lean, two leans on a row),
and brings the tiny model's fills of a made-up repeating riff closer to
the riff."""

import copy
import dataclasses
import random

import numpy as np
import pytest

from midifill.model.evaluation.fit import copy_rate
from midifill.model.generation.fast_c import CSampler
from midifill.model.generation.follow import profile, resolve
from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.harmony import Sounding
from midifill.model.generation.line_lean import LINE_NATS, LineBars, lean_items, line_filter
from midifill.model.generation.rows import draw_rows, filter_rows
from midifill.model.generation.sampling import AUTO, Controls, Noise, Step, apply_filters, sample
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note, Song, Track

TOK = Tokenizer()
BAR = 4 * TOK.tpb  # a 4/4 bar in ticks
BARS = [Bar(i, 4.0 * i, 4, 4) for i in range(2)]

# two bass bars, (tick, pitch, length): root on 1, fifth on the "and" of 1,
# a held sixth on 2, root again on 3; B ends on the octave at 60 instead
A = frozenset({(0, 40, 12), (12, 47, 12), (24, 49, 24), (48, 40, 12)})
B = (A - {(48, 40, 12)}) | {(60, 52, 6)}


def state(*names, is_drum=False, bars=((BAR, A), (BAR, B)), lo=0, hi=2 * BAR):
    plan = FillPlan(BARS, lo, hi, is_drum, [], 400, line=LineBars(bars))
    st = FillState(TOK, plan, 3)
    while st.forced:
        st.advance(st.forced[0])
    for n in names:
        st.advance(TOK.ids[n])
    return st


def note(t, p, d, first=True):
    """The tokens of one note at tick t (its position where `first`)."""
    return ([f"POS_{t}"] if first else []) + [f"PITCH_{p}", "VEL_20", f"DUR_{d}"]


def lean(st, strength=1.0):
    zeros = np.zeros(TOK.vocab_size, np.float32)
    out = line_filter(zeros, Step(st, Controls(line_lean=strength)))
    assert not np.isinf(out).any()  # it forbids nothing
    return {TOK.names[i]: float(out[i]) for i in np.flatnonzero(out)}


def test_the_bars_say_the_next_onset_pitch_and_length():
    assert lean(state()) == {"POS_0": pytest.approx(LINE_NATS)}
    assert lean(state(), 0.5) == {"POS_0": pytest.approx(LINE_NATS / 2)}
    assert lean(state("POS_0")) == {"PITCH_40": pytest.approx(LINE_NATS)}
    # the velocity is left alone; then the note's length in both bars
    assert lean(state("POS_0", "PITCH_40")) == {}
    assert lean(state("POS_0", "PITCH_40", "VEL_20")) == {"DUR_12": pytest.approx(LINE_NATS)}
    assert lean(state(*note(0, 40, 12))) == {"POS_12": pytest.approx(LINE_NATS)}
    riff = [*note(0, 40, 12), *note(12, 47, 12)]
    assert lean(state(*riff, "POS_24", "PITCH_49", "VEL_20")) == {
        "DUR_24": pytest.approx(LINE_NATS)
    }


def test_the_bars_that_agree_with_the_notes_so_far_are_the_ones_that_lean():
    riff = [*note(0, 40, 12), *note(12, 47, 12), *note(24, 49, 24)]
    # A goes on to 48, B to 60: half each
    assert lean(state(*riff)) == {
        "POS_48": pytest.approx(LINE_NATS / 2),
        "POS_60": pytest.approx(LINE_NATS / 2),
    }
    assert lean(state(*riff, "POS_60")) == {"PITCH_52": pytest.approx(LINE_NATS)}
    assert lean(state(*riff, "POS_60", "PITCH_52", "VEL_20")) == {"DUR_6": pytest.approx(LINE_NATS)}
    # after B's last note, close the bar
    closer = TOK.names[state().next_bar_token()]
    assert lean(state(*riff, *note(60, 52, 6))) == {closer: pytest.approx(LINE_NATS)}
    # a note neither bar has (42 at 48): both are one note away, and neither
    # has a length for it: no opinion
    assert lean(state(*riff, "POS_48", "PITCH_42", "VEL_20")) == {}


def test_the_length_is_kept_inside_the_target():
    st = state(*note(0, 40, 12), "POS_24", "PITCH_49", "VEL_20", hi=30)
    assert lean(st) == {"DUR_6": pytest.approx(LINE_NATS)}  # 24 long, 6 ticks left


def test_it_is_off_for_drum_parts_strength_zero_and_other_bar_lengths():
    assert lean(state(), 0.0) == {}
    assert lean(state(is_drum=True)) == {}
    assert lean(state(bars=((3 * TOK.tpb, A),))) == {}


def test_a_pitch_the_other_tracks_do_not_sound_there_says_nothing():
    st = state(*note(0, 40, 12), *note(12, 47, 12), "POS_24")
    st.plan.sounding = Sounding.of(CHORDS, "x", 0, 2 * BAR, TOK.tpb)  # E, G#, B
    assert lean(st) == {}  # both bars play C# (49) there
    st = state(*note(0, 40, 12), "POS_12")
    st.plan.sounding = Sounding.of(CHORDS, "x", 0, 2 * BAR, TOK.tpb)
    assert lean(st) == {"PITCH_47": pytest.approx(LINE_NATS)}  # B: in the chord


# --- auto follows the part's repetition ----------------------------------------------


def bass_profile(bars):
    ctx = [Bar(i, 4.0 * i, 4, 4) for i in range(len(bars))]
    notes = [
        Note(p, 4.0 * i + t / TOK.tpb, d / TOK.tpb, 90) for i, b in enumerate(bars) for t, p, d in b
    ]
    track = Track("bass", 33, False, notes)
    return profile(TOK, Song([track], []), track, notes, ctx), track


def test_auto_follows_how_much_the_part_repeats_itself():
    steady, track = bass_profile([A, A, A, A])
    assert steady.line_notes[0] == (BAR, A)  # read back as written
    varied, _ = bass_profile([A, B, A - {(0, 40, 12)}, B - {(0, 40, 12)}])
    half, _ = bass_profile([A, A, B, B - {(0, 40, 12)}])
    strength = [
        resolve(Controls(), p, track, "fill", TOK).line_lean for p in (steady, varied, half)
    ]
    assert strength == [pytest.approx(1.0), 0.0, pytest.approx(0.5)]
    assert resolve(Controls(line_lean=0.2), steady, track, "fill", TOK).line_lean == 0.2
    drums = Track("d", 0, True, [])
    assert resolve(Controls(line_lean=AUTO), steady, drums, "fill", TOK).line_lean == 0.0
    assert resolve(Controls(), steady, track, "generate", TOK).line_lean == 0.0
    # a density asked for is a fill unlike the part's bars: auto stands down, a number does not
    assert resolve(Controls(density=24), steady, track, "fill", TOK).line_lean == 0.0
    assert resolve(Controls(density=24, line_lean=0.5), steady, track, "fill", TOK).line_lean == 0.5


# --- the rows together, with the harmony lean beside it --------------------------------

CHORDS = Song([Track("keys", 0, False, [Note(p, 0.0, 8.0, 70) for p in (52, 56, 59)])], [])


def _bar(rng):
    ticks = rng.sample(range(0, BAR, 6), rng.randint(1, 8))
    return frozenset((t, rng.choice([40, 45, 47, 52]), rng.choice([3, 6, 12, 30])) for t in ticks)


@pytest.mark.parametrize("sampler", ["compiled", "numpy"])
def test_rows_together_add_the_same_leans_as_the_chain(sampler):
    draw = CSampler.build() if sampler == "compiled" else None
    if sampler == "compiled" and draw is None:
        pytest.skip("no C compiler here")
    rng, g = random.Random(7), np.random.default_rng(7)
    leaned = both = 0
    for walk in range(8):
        lo, hi = rng.choice([(0, 2 * BAR), (13, 150)])
        plan = FillPlan(BARS, lo, hi, False, [], rng.choice([60, 160]))
        plan.sounding = Sounding.of(CHORDS, "x", lo, hi, TOK.tpb)
        plan.line = LineBars([(BAR, _bar(rng)) for _ in range(rng.randint(1, 4))])
        controls = Controls(
            line_lean=rng.choice([0.5, 1.0]),
            harmony=rng.choice([None, 0.6]),
            max_polyphony=rng.choice([None, 1]),
            durations=rng.choice([None, (2, 12)]),
        )
        states = [FillState(TOK, plan, rng.choice([None, 3])) for _ in range(3)]
        noise, memo = Noise(walk), {}
        while not all(st.done for st in states):
            for st in states:
                while st.forced:
                    st.advance(st.forced[0])
            drawn = [st for st in states if not st.done]
            steps = [Step(st, controls) for st in drawn]
            logits = g.standard_normal((len(drawn), TOK.vocab_size), np.float32) * 3
            one = np.stack([apply_filters(x, s) for x, s in zip(logits, steps)])
            np.testing.assert_array_equal(filter_rows(logits, steps, memo=memo), one)
            mine = copy.deepcopy(noise)
            by_row = [(draw or sample)(x, controls, mine) for x in one]
            lines = list(range(len(drawn)))
            assert draw_rows(draw, logits, lines, steps, controls, noise, memo) == by_row
            for s in steps:
                mine_items = lean_items(s)
                leaned += bool(mine_items)
                h = dataclasses.replace(controls, line_lean=0.0)
                both += bool(mine_items) and bool(
                    (
                        apply_filters(np.zeros(TOK.vocab_size, np.float32), Step(s.state, h)) > 0
                    ).any()
                )
            for st, t in zip(drawn, by_row):
                st.advance(t)
    assert leaned and both  # the lean added to rows, and to some beside the harmony lean


# --- the tiny model on a made-up repeating riff -----------------------------------------


def test_the_lean_brings_a_fill_closer_to_a_repeating_riff(tiny_engine):
    tpb = TOK.tpb
    copied = {0.0: [], 1.0: []}
    for k in range(3):
        rng = random.Random(200 + k)
        root = rng.choice([36, 38, 40, 43])
        riff = sorted(
            {(rng.randrange(0, 16) * 6, root + rng.choice([0, 3, 5, 7, 12]), 6) for _ in range(6)}
            | {(0, root, 12)}
        )
        bars = [Bar(i, 4.0 * i, 4, 4) for i in range(16)]
        notes = [Note(p, 4.0 * b + t / tpb, d / tpb, 90) for b in range(16) for t, p, d in riff]
        bass = Track("bass", 33, False, notes)
        song = Song([bass], [])
        for strength in copied:
            resp = tiny_engine.run(
                {
                    **song.to_payload(),
                    "mode": "fill",
                    "target": {"track": "bass", "start": 32.0, "end": 48.0},
                    "controls": {"seed": k, "candidates": 1, "line_lean": strength},
                }
            )
            fill = [Note(*n) for n in resp["variations"][0]["notes"]]
            ctx = [n for n in notes if not 32.0 <= n.start < 48.0]
            rate = copy_rate(fill, bars[8:12], ctx, bars[:8] + bars[12:], tpb)
            copied[strength].append(rate or 0.0)
    # seen: 0, 0, 0 off; 1, 1, 1 on (every fill bar a bar of the riff)
    assert sum(copied[1.0]) > sum(copied[0.0]) + 1.0, copied
