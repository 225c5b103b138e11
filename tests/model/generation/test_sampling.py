"""Each logit filter alone, then the grammar under random models."""

import random

import numpy as np
import pytest
import torch

from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.sampling import (
    Controls,
    Noise,
    Step,
    apply_filters,
    family_filter,
    grammar_filter,
    no_silence_filter,
    pitch_range_filter,
    polyphony_filter,
    sample,
    scale_filter,
)
from midifill.model.network.tokenizer import Tokenizer
from midifill.model.song import Bar, Note

TOK = Tokenizer()
BARS = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4)]


def state(is_drum=False, lo=0, hi=192, density=3, prefix=()):
    st = FillState(TOK, FillPlan(BARS, lo, hi, is_drum, list(prefix), 200), density)
    while st.forced:
        st.advance(st.forced[0])
    return st


def step(st, **controls):
    return Step(st, Controls(**controls))


def allowed(logits):
    return {TOK.names[i] for i in np.flatnonzero(~np.isinf(logits))}


def feed(st, *names):
    for n in names:
        st.advance(TOK.ids[n])
    return st


def test_filters_are_pure():
    st = state()
    feed(st, "POS_0")
    logits = np.zeros(TOK.vocab_size, np.float32)
    from midifill.model.generation.sampling import density_filter

    for f in (
        grammar_filter,
        family_filter,
        pitch_range_filter,
        scale_filter,
        polyphony_filter,
        no_silence_filter,
        density_filter,
    ):
        f(logits, step(st, pitch_range=(40, 50), key="C major", max_polyphony=1))
    assert not np.isinf(logits).any()


def test_grammar_after_a_bar_line():
    st = state(lo=24, hi=150)
    ok = allowed(grammar_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "BAR_4/4" in ok and "POS_24" in ok and "POS_95" in ok
    assert "POS_23" not in ok and "POS_96" not in ok  # outside the range or the bar
    assert not any(n.startswith(("PITCH", "VEL", "DUR", "FILL_END")) for n in ok)


def test_grammar_durations_stop_at_the_range_end():
    st = feed(state(hi=100), "POS_90", "PITCH_60", "VEL_10")
    ok = allowed(grammar_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert ok == {f"DUR_{d}" for d in range(3, 11)}  # a 32nd (3 ticks) at the shortest


def test_grammar_pitches_rise_within_a_position():
    st = feed(state(), "POS_0", "PITCH_60", "VEL_10", "DUR_12")
    ok = allowed(grammar_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "PITCH_61" in ok and "PITCH_60" not in ok and "POS_1" in ok and "POS_0" not in ok


def test_family_filter():
    st = feed(state(is_drum=True), "POS_0")
    ok = allowed(family_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "DRUM_36" in ok and "PITCH_36" not in ok
    st = feed(state(is_drum=False), "POS_0")
    ok = allowed(family_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "PITCH_36" in ok and "DRUM_36" not in ok


def test_pitch_range_filter():
    st = feed(state(), "POS_0")
    ok = allowed(
        pitch_range_filter(np.zeros(TOK.vocab_size, np.float32), step(st, pitch_range=(40, 45)))
    )
    assert {f"PITCH_{p}" for p in range(40, 46)} <= ok
    assert "PITCH_39" not in ok and "PITCH_46" not in ok and "DRUM_30" in ok


def test_scale_filter():
    st = feed(state(), "POS_0")
    ok = allowed(scale_filter(np.zeros(TOK.vocab_size, np.float32), step(st, key="E minor")))
    pitched = {int(n.split("_")[1]) % 12 for n in ok if n.startswith("PITCH_")}
    assert pitched == {4, 6, 7, 9, 11, 0, 2}


def test_polyphony_filter():
    st = feed(state(), "POS_0", "PITCH_60", "VEL_10", "DUR_48")  # sounds until tick 48
    ok = allowed(polyphony_filter(np.zeros(TOK.vocab_size, np.float32), step(st, max_polyphony=1)))
    assert "PITCH_64" not in ok  # a second note at the same position
    assert "POS_47" not in ok and "POS_48" in ok


def test_no_silence_filter():
    st = FillState(TOK, FillPlan(BARS, 0, 192, False, [], 200), None)
    ok = allowed(no_silence_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "DENSITY_0" not in ok and "DENSITY_1" in ok
    assert "DENSITY_0" in allowed(
        no_silence_filter(np.zeros(TOK.vocab_size, np.float32), step(st, density=0))
    )
    st = state(density=1)
    feed(st, "BAR_4/4")  # into the last bar with no note yet
    ok = allowed(no_silence_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "FILL_END" not in ok
    busy = state(density=4)  # more than a note a bar: no empty bar
    assert "BAR_4/4" not in allowed(
        no_silence_filter(np.zeros(TOK.vocab_size, np.float32), step(busy))
    )


def test_prefix_notes_are_forced_then_generation_starts_at_the_range():
    st = FillState(TOK, FillPlan(BARS, 48, 192, False, [Note(60, 0.5, 0.5, 90)], 200), 3)
    forced = []
    while st.forced:
        forced.append(TOK.names[st.forced[0]])
        st.advance(st.forced[0])
    assert forced == ["DENSITY_3", "BAR_4/4", "POS_12", "PITCH_60", "VEL_22", "DUR_12"]
    ok = allowed(grammar_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "POS_47" not in ok and "POS_48" in ok and "PITCH_61" not in ok


def test_sample_top_p_and_temperature_zero():
    g = Noise(0)
    logits = np.array([0.0, 5.0, 4.9, -10.0], np.float32)
    assert sample(logits, Controls(temperature=0), g) == 1
    picks = {sample(logits, Controls(top_p=0.5), g) for _ in range(50)}
    assert picks == {1}
    picks = {sample(logits, Controls(top_p=1.0), g) for _ in range(200)}
    assert {1, 2} <= picks


@pytest.mark.parametrize("is_drum", [False, True])
def test_random_logits_always_decode(is_drum):
    """Whatever the logits prefer, the chained filters only let through
    sequences that decode, inside the range, within the token budget."""
    g = np.random.default_rng(1)
    noise = Noise(1)
    rng = random.Random(2)
    for _ in range(150):
        lo = rng.choice([0, 0, 13, 50])
        hi = rng.choice([192, 192, 150, 70])
        st = FillState(TOK, FillPlan(BARS, lo, hi, is_drum, [], 120), None)
        controls = Controls(max_polyphony=rng.choice([None, 2]), key=rng.choice([None, "D dorian"]))
        while not st.done:
            if st.forced:
                t = st.forced[0]
            else:
                t = sample(
                    apply_filters(
                        g.standard_normal(TOK.vocab_size, np.float32) * 3, Step(st, controls)
                    ),
                    controls,
                    noise,
                )
            st.advance(t)
        notes = TOK.decode_bars([t for t in st.tokens if TOK.kind(t) != "DENSITY"], BARS, hi)
        assert notes, "a fill came back empty"
        assert [(round(n.start * 24), n.pitch, round(n.duration * 24)) for n in notes] == [
            (t, p, d) for t, p, d, _ in st.notes
        ]  # the tokens say what the state holds
        assert all(lo <= round(n.start * 24) and round(n.end * 24) <= hi for n in notes)
        assert len(st.tokens) <= 120


def test_a_thousand_samples_from_a_randomly_initialised_model_decode():
    """1,000 fills (125 requests x 8 variations) from an untrained network,
    through the Engine, over random tracks, ranges and controls: every one
    decodes, is not empty, and lies inside its range."""
    from midifill.model import Engine
    from midifill.model.network.config import ModelConfig
    from midifill.model.network.transformer import Transformer

    torch.manual_seed(0)
    net = Transformer(
        ModelConfig(vocab_size=TOK.vocab_size, block_size=512, n_layer=1, n_head=2, n_embd=32)
    )
    engine = Engine(net, TOK, "random")
    rng = random.Random(3)
    samples = 0
    for k in range(125):
        tracks = [
            {"id": "d", "is_drum": True, "notes": [[36, b, 0.25, 100] for b in range(16)]},
            {"id": "p", "program": 0, "notes": [[60 + b % 5, b, 1.0, 80] for b in range(16)]},
        ]
        start = rng.choice([0.0, 4.0, 2.5, 7.25])
        end = start + rng.choice([0.5, 1.0, 4.0, 6.0])
        controls = {
            "seed": k,
            "variations": 8,
            "temperature": rng.choice([0.7, 1.0, 1.5]),
            "max_polyphony": rng.choice([None, 3]),
            "key": rng.choice([None, "A minor"]),
        }
        resp = engine.run(
            {
                "mode": rng.choice(["fill", "continue", "generate"]),
                "tracks": tracks,
                "target": {"track": rng.choice("dp"), "start": start, "end": end},
                "controls": controls,
            }
        )
        for var in resp["variations"]:
            assert var["notes"], "an empty fill"
            assert all(start <= n[1] and n[1] + n[2] <= end + 1e-9 for n in var["notes"])
            samples += 1
    assert samples == 1000


def test_density_filter():
    from midifill.model.generation.sampling import density_filter

    lo, hi = TOK.density_range(3)  # 3 to 5 notes a bar
    st = state(density=3)
    ok = allowed(density_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "BAR_4/4" not in ok and "POS_0" in ok  # below the range: the bar may not close
    for k in range(int(hi)):
        feed(st, f"POS_{k * 10}", "PITCH_60", "VEL_10", "DUR_5")
    ok = allowed(density_filter(np.zeros(TOK.vocab_size, np.float32), step(st)))
    assert "BAR_4/4" in ok and not any(n.startswith(("POS_", "PITCH_")) for n in ok)
    half = state(density=3, lo=96)  # half the bar in range: half the notes asked
    feed(
        half,
        *[x for k in range(int(lo * 0.5)) for x in (f"POS_{96 + k}", "PITCH_60", "VEL_1", "DUR_1")],
    )
    assert "BAR_4/4" in allowed(density_filter(np.zeros(TOK.vocab_size, np.float32), step(half)))
    assert "BAR_4/4" in allowed(
        density_filter(np.zeros(TOK.vocab_size, np.float32), step(state(density=3), density=0))
    )  # sparse


def test_skipping_filters_outside_their_phases_changes_nothing():
    """apply_filters skips a filter in the grammar phases its `acts_in`
    leaves out; over random walks through fills (drum and pitched, with every
    control, forced prefix notes included) the result is identical to
    running every filter at every step."""
    from midifill.model.generation.sampling import FILTERS

    unmarked = [lambda lg, s, f=f: f(lg, s) for f in FILTERS]  # nothing to skip
    g = np.random.default_rng(5)
    noise = Noise(5)
    rng = random.Random(6)
    phases = set()
    for _ in range(120):
        is_drum = rng.random() < 0.3
        lo, hi = rng.choice([(0, 192), (13, 150), (50, 70)])
        prefix = [Note(40, 0.0, 1.0, 80)] if lo and not is_drum else []
        plan = FillPlan(BARS, lo, hi, is_drum, prefix, 120)
        st = FillState(TOK, plan, rng.choice([None, 0, 2, 5]))
        controls = Controls(
            max_polyphony=rng.choice([None, 1, 2]),
            key=rng.choice([None, "D dorian"]),
            pitch_range=rng.choice([None, (48, 72)]),
            density=rng.choice([None, 0, 8.0]),
        )
        while not st.done:
            logits = g.standard_normal(TOK.vocab_size, np.float32) * 3
            fast = apply_filters(logits, Step(st, controls))
            full = apply_filters(logits, Step(st, controls), unmarked)
            np.testing.assert_array_equal(fast, full)
            phases.add(st.phase)
            t = st.forced[0] if st.forced else sample(fast, controls, noise)
            st.advance(t)
    assert {"density", "in_bar", "after_pos", "after_pitch", "after_vel"} <= phases
