"""Rows together (model/generation/rows.py): the filter chain and the draw
for all live rows at once give exactly what they give row by row, on
random walks with every filter on, and the engine writes the same notes
for the same seed either way (drums and pitched, several seeds)."""

import copy
import dataclasses
import random

import numpy as np
import pytest

from midifill.model.generation.fast_c import CSampler
from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.groove_lean import GrooveBars, lean_items
from midifill.model.generation.harmony import Sounding
from midifill.model.generation.rows import draw_rows, filter_rows, sample_rows
from midifill.model.generation.sampling import (
    FILTERS,
    Controls,
    Noise,
    Step,
    acts_in,
    apply_filters,
    sample,
)
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note, Song, Track

TOK = Tokenizer()
BARS = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]
CHORDS = Song(
    [
        Track(
            "keys",
            0,
            False,
            [
                Note(p, 2.0 * k, 2.0, 70)
                for k in range(4)
                for p in ((60, 64, 67), (57, 60, 64))[k % 2]
            ],
        )
    ],
    [],
    [],
)


def _plan(rng, is_drum):
    lo, hi = rng.choice([(0, 192), (13, 150), (50, 70)])
    prefix = [Note(40, 0.0, 1.0, 80)] if lo and not is_drum else []
    plan = FillPlan(BARS, lo, hi, is_drum, prefix, rng.choice([40, 120]))
    plan.velocities = rng.choice([None, (3, 9)])
    plan.grid = rng.choice([None, (0, 12), (0, 8, 16)])
    plan.sounding = Sounding.of(CHORDS, "x", lo, hi, TOK.tpb)
    if is_drum and rng.random() < 0.7:  # the part's own bars, for the groove lean
        plan.groove = GrooveBars([(4 * TOK.tpb, _groove(rng)) for _ in range(rng.randint(1, 4))])
    return plan


def _groove(rng):
    """A made-up drum bar: hits (tick, key), some off the kit of _controls."""
    ticks = rng.sample(range(0, 4 * TOK.tpb, 6), rng.randint(1, 10))
    return frozenset((t, rng.choice([36, 38, 42, 46, 49])) for t in ticks)


def _controls(rng, is_drum):
    return Controls(
        max_polyphony=rng.choice([None, 1, 2]),
        key=rng.choice([None, "D dorian"]),
        pitch_range=rng.choice([None, (48, 72), (60, 61)]),
        density=rng.choice([None, 0, 8.0]),
        harmony=rng.choice([None, 0.3, 1.0]),
        kit=rng.choice([None, (36, 38, 42)]) if is_drum else None,
        groove_lean=rng.choice([None, 0.4, 1.0]) if is_drum else None,
        durations=rng.choice([None, (2, 12), (30, 31)]),
        top_k=rng.choice([0, 5]),
        top_p=rng.choice([0.95, 1.0]),
    )


@pytest.mark.parametrize("sampler", ["compiled", "numpy"])
def test_rows_together_filter_and_draw_as_row_by_row(sampler):
    draw = CSampler.build() if sampler == "compiled" else None
    if sampler == "compiled" and draw is None:
        pytest.skip("no C compiler here")
    rng, g = random.Random(7), np.random.default_rng(7)
    phases, leaned, idle = set(), 0, 0
    for walk in range(40):
        is_drum = rng.random() < 0.4
        plan, controls = _plan(rng, is_drum), _controls(rng, is_drum)
        states = [
            FillState(TOK, plan, rng.choice([None, 0, 2, 5])) for _ in range(rng.randint(1, 8))
        ]
        noise = Noise(walk)
        memo: dict = {}  # the fixed filters' masks, kept for the walk as the engine keeps them
        while not all(st.done for st in states):
            going = [st for st in states if not st.done]
            drawn = [st for st in going if not st.forced]
            if drawn:
                steps = [Step(st, controls) for st in drawn]
                logits = g.standard_normal((len(drawn), TOK.vocab_size), np.float32) * 3
                one = np.stack([apply_filters(x, s) for x, s in zip(logits, steps)])
                together = filter_rows(logits, steps)
                np.testing.assert_array_equal(together, one)
                np.testing.assert_array_equal(filter_rows(logits, steps, memo=memo), one)
                # a row where some filter left nothing and the chain fell back
                mine, again = copy.deepcopy(noise), copy.deepcopy(noise)
                by_row = [(draw or sample)(x, controls, mine) for x in one]
                tokens = sample_rows(draw, together, controls, noise)
                assert tokens == by_row
                assert np.array_equal(noise.peek(4), mine.peek(4))  # the same draws taken
                # the engine's path: rows picked from a larger batch, added and drawn in C
                full = g.standard_normal((len(drawn) + 2, TOK.vocab_size), np.float32)
                lines = rng.sample(range(len(full)), len(drawn))
                full[lines] = logits
                assert draw_rows(draw, full, lines, steps, controls, again, memo) == by_row
                assert np.array_equal(again.peek(4), noise.peek(4))
                leaned += any(lean_items(s) for s in steps)
                for f in FILTERS:  # a filter idle for the request says nothing for any row
                    if hasattr(f, "idle"):
                        answer = getattr(f, "bonus", None) or f.spec
                        assert not any(f.idle(s) and answer(s) for s in steps)
                        idle += any(f.idle(s) for s in steps)
                for st, t in zip(drawn, tokens):
                    phases.add(st.phase)
                    st.advance(t)
            for st in going:
                if st not in drawn:
                    st.advance(st.forced[0])
    assert {"density", "in_bar", "after_pos", "after_pitch", "after_vel"} <= phases
    assert any(k[0] == "after_vel" for k in memo) and any(k[0] == "in_bar" for k in memo)
    assert leaned and idle  # the groove lean added to some rows; some filters were idle


@acts_in("in_bar", "after_pos")
def _second_lean(logits, step):
    """A made-up soft filter beside the groove lean: two leans on one row."""
    out = logits.copy()
    out[_LEAN[0] : _LEAN[1]] += np.float32(0.37)
    return out


_LEAN = TOK.range("POS")
_second_lean.bonus = lambda step: [(*_LEAN, 0.37)]


@pytest.mark.parametrize("sampler", ["compiled", "numpy"])
def test_two_leans_on_a_row_add_one_after_the_other_as_the_chain_does(sampler):
    draw = CSampler.build() if sampler == "compiled" else None
    if sampler == "compiled" and draw is None:
        pytest.skip("no C compiler here")
    filters = [*FILTERS, _second_lean]
    rng, g = random.Random(3), np.random.default_rng(3)
    for walk in range(6):
        plan = _plan(rng, True)
        plan.groove = GrooveBars([(4 * TOK.tpb, _groove(rng)) for _ in range(3)])
        controls = dataclasses.replace(_controls(rng, True), groove_lean=1.0)
        states = [FillState(TOK, plan, 3) for _ in range(3)]
        noise, memo = Noise(walk), {}
        while not all(st.done for st in states):
            for st in states:
                while st.forced:
                    st.advance(st.forced[0])
            drawn = [st for st in states if not st.done]
            steps = [Step(st, controls) for st in drawn]
            logits = g.standard_normal((len(drawn), TOK.vocab_size), np.float32) * 3
            one = np.stack([apply_filters(x, s, filters) for x, s in zip(logits, steps)])
            np.testing.assert_array_equal(filter_rows(logits, steps, filters, memo), one)
            mine = copy.deepcopy(noise)
            by_row = [(draw or sample)(x, controls, mine) for x in one]
            lines = list(range(len(drawn)))
            assert draw_rows(draw, logits, lines, steps, controls, noise, memo, filters) == by_row
            for st, t in zip(drawn, by_row):
                st.advance(t)


def _request(song, track, seed, **controls):
    bars = song.bars()
    return dict(
        song.to_payload(),
        mode="fill",
        target={"track": track.id, "start": bars[8].start, "end": bars[12].start},
        controls={"seed": seed, **controls},
    )


@pytest.mark.parametrize(
    "extra",
    [{}, {"key": "C major", "harmony": 1.0, "max_polyphony": 2}, {"variations": 3, "top_k": 8}],
)
def test_the_engine_writes_the_same_notes_rows_together_and_row_by_row(extra):
    from midifill.model import Engine
    from midifill.model.evaluation.prompt_coverage import DEMO, layered
    from midifill.model.midi_io import read_midi

    engine = Engine.from_checkpoint()
    song = layered(read_midi(sorted(DEMO.glob("*.mid"))[0]), 12, 24)
    drums = next(t for t in song.tracks if t.is_drum and t.notes)
    pitched = next(t for t in song.tracks if not t.is_drum and len(t.notes) > 8)
    for track in (drums, pitched):
        for seed in (0, 1, 2):
            req = _request(song, track, seed, **extra)
            engine.rows_together = False
            ref = engine.run(req)["variations"]
            engine.rows_together = True
            assert engine.run(req)["variations"] == ref
            assert any(v["notes"] for v in ref)
