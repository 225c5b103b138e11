"""The grammar and the filters keep their promises in every state a fill
can reach, not in one hand-picked state: every filter leaves its input as it
was, and fills sampled through the Engine decode from their own tokens to
exactly the notes the response holds. Fast: an untrained network."""

import random

import numpy as np
import pytest
import torch

from midifill.model.generation.grammar import FillPlan, FillState
from midifill.model.generation.harmony import Sounding
from midifill.model.generation.sampling import (
    FILTERS,
    NEG_INF,
    Controls,
    Noise,
    Step,
    apply_filters,
    grammar_filter,
    sample,
)
from midifill.model.network.tokenizer import Tokenizer, TokenizerConfig
from midifill.model.song import Bar, Note, Song, Track

pytestmark = pytest.mark.promise


TOK = Tokenizer()
BARS = [Bar(0, 0.0, 4, 4), Bar(1, 4.0, 4, 4), Bar(2, 8.0, 3, 4)]


def walks(n, seed):
    """(state, controls) at every step of n random fills: drum and pitched,
    forced prefix notes, every density, every control."""
    rng = random.Random(seed)
    g = np.random.default_rng(seed)
    noise = Noise(seed)
    chords = Song(
        [
            Track("c", 0, False, [Note(p, 0.0, 12.0, 80) for p in (60, 64, 67)]),
            Track("t", 0, False, []),
        ],
        [],
    )
    for _ in range(n):
        is_drum = rng.random() < 0.3
        lo, hi = rng.choice([(0, 264), (13, 200), (50, 70), (100, 264)])
        prefix = (
            [Note(40, 0.0, 1.0, 80), Note(43, 0.25, 4.0, 80)]
            if lo and lo < 96 and not is_drum
            else []
        )
        plan = FillPlan(BARS, lo, hi, is_drum, prefix, rng.choice([40, 160]))
        plan.sounding = Sounding.of(chords, "t", lo, hi, TOK.tpb)
        st = FillState(TOK, plan, rng.choice([None, 0, 1, 3, 8]))
        controls = Controls(
            max_polyphony=rng.choice([None, 1, 3]),
            key=rng.choice([None, "D dorian"]),
            pitch_range=rng.choice([None, (48, 72)]),
            density=rng.choice([None, 0, 6.0]),
            harmony=rng.choice([0.0, 0.5, 1.0]),
        )
        while not st.done:
            yield st, controls
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


def test_every_filter_is_pure_in_every_phase():
    """No filter (nor the chain) changes the array it is given, in any
    phase of any fill; a token forbidden on the way in stays forbidden."""
    g = np.random.default_rng(0)
    phases = set()
    for st, controls in walks(60, 1):
        phases.add(st.phase if not st.forced else "forced")
        step = Step(st, controls)
        logits = g.standard_normal(TOK.vocab_size).astype(np.float32)
        logits[g.integers(0, TOK.vocab_size, 50)] = NEG_INF
        before = logits.copy()
        for f in FILTERS:
            out = f(logits, step)
            assert np.array_equal(logits, before), f"{f.__name__} changed its input in {st.phase}"
            assert out.dtype == logits.dtype and out.shape == logits.shape, f.__name__
            assert np.isneginf(out[np.isneginf(before)]).all(), f"{f.__name__} allowed again"
        apply_filters(logits, step)
        assert np.array_equal(logits, before), "apply_filters changed its input"
    assert phases >= {"density", "in_bar", "after_pos", "after_pitch", "after_vel", "forced"}


def test_the_chain_only_allows_what_the_grammar_allows():
    g = np.random.default_rng(2)
    for st, controls in walks(40, 3):
        logits = g.standard_normal(TOK.vocab_size).astype(np.float32)
        chained = apply_filters(logits, Step(st, controls))
        grammar = grammar_filter(logits, Step(st, controls))
        assert np.isfinite(chained).any(), "the chain left no token"
        assert not (np.isfinite(chained) & np.isneginf(grammar)).any()


@pytest.fixture(scope="module")
def untrained():
    from midifill.model import Engine
    from midifill.model.network.config import ModelConfig
    from midifill.model.network.transformer import Transformer

    torch.manual_seed(0)
    net = Transformer(
        ModelConfig(vocab_size=TOK.vocab_size, block_size=512, n_layer=1, n_head=2, n_embd=32)
    )
    return Engine(net, TOK, "random")


def test_fills_through_the_engine_decode_from_their_own_tokens(untrained, monkeypatch):
    """200 fills (25 requests x 8 variations): each row's tokens decode (no
    note cut short, one BAR per bar, FILL_END last) to exactly the notes
    its grammar state holds, and the response is those notes, inside the
    target, pitched ones a 32nd long or longer."""
    seen = []
    loop = untrained._decode_loop

    def recording(run, prompt, *args, **kwargs):
        states = loop(run, prompt, *args, **kwargs)
        seen.extend((prompt.plan, st) for st in states)
        return states

    monkeypatch.setattr(untrained, "_decode_loop", recording)
    rng = random.Random(4)
    fills = 0
    for k in range(25):
        tracks = [
            {"id": "d", "is_drum": True, "notes": [[36, b, 0.25, 100] for b in range(24)]},
            {"id": "p", "program": 0, "notes": [[60 + b % 5, b, 1.0, 80] for b in range(24)]},
        ]
        start = rng.choice([0.0, 4.0, 2.5, 7.25])
        end = start + rng.choice([0.5, 1.0, 4.0, 6.0, 17.0])  # 17 beats: two chunks
        # candidates 1: row i is variation i (choosing reorders rows: test_choose.py)
        controls = {
            "seed": k,
            "variations": 8,
            "candidates": 1,
            "temperature": rng.choice([1.0, 1.5]),
            "max_polyphony": rng.choice([None, 3]),
            "key": rng.choice([None, "A minor"]),
            "density": rng.choice([None, 0, 3]),
        }
        seen.clear()
        mode = rng.choice(["fill", "continue", "generate"])
        target = rng.choice("dp")
        resp = untrained.run(
            {
                "mode": mode,
                "tracks": tracks,
                "controls": controls,
                "target": {"track": target, "start": start, "end": end},
            }
        )
        got = {v: [] for v in range(8)}
        chunks = len(seen) // 8 if len(seen) > 8 else 1
        for i, (plan, st) in enumerate(seen):
            assert st.done and st.tokens[-1] == TOK.FILL_END
            body = st.tokens[1:-1]  # between DENSITY and FILL_END
            assert TOK.kind(st.tokens[0]) == "DENSITY"
            assert sum(TOK.kind(t) == "BAR" for t in body) == len(plan.bars)
            notes = TOK.decode_bars(body, plan.bars, plan.hi_tick)  # raises on a cut note
            ticks = [(round(n.start * 24), n.pitch, round(n.duration * 24)) for n in notes]
            assert ticks == [(t, p, d) for t, p, d, _ in st.prefix_notes + st.notes]
            assert all(plan.lo_tick <= t and t + d <= plan.hi_tick for t, _, d, _ in st.notes)
            # the first chunk is one batch of 8 rows, later chunks one row each
            v = i if i < 8 else (i - 8) % 8
            got[v] += [[p, t / 24, d / 24] for t, p, d, _ in st.notes]
        for v, var in enumerate(resp["variations"]):
            mine = sorted((round(n[1] * 24), n[0], round(n[2] * 24)) for n in var["notes"])
            assert mine == sorted((round(t * 24), p, round(d * 24)) for p, t, d in got[v])
            assert all(start - 1e-9 <= n[1] and n[1] + n[2] <= end + 1e-9 for n in var["notes"])
            if target == "p":  # no pitched note shorter than a 32nd (docs/contract.md)
                assert all(n[2] >= 0.125 - 1e-9 for n in var["notes"])
            fills += 1
        assert chunks >= 1
    assert fills == 200


# --- the grammar at its edges ----------------------------------------------------------


def fresh(lo=0, hi=264, is_drum=False, prefix=(), max_tokens=200, density=3, bars=BARS):
    st = FillState(TOK, FillPlan(bars, lo, hi, is_drum, list(prefix), max_tokens), density)
    return st


def allowed_names(st):
    return {TOK.names[t] for a, b in st.allowed_ranges() for t in range(a, b)}


def test_a_forced_token_is_the_only_one_allowed_and_must_be_followed():
    st = fresh()
    assert allowed_names(st) == {"DENSITY_3"}
    with pytest.raises(ValueError, match="^a forced token was not followed$"):
        st.advance(TOK.ids["DENSITY_4"])
    st = fresh()
    st.advance(TOK.ids["DENSITY_3"])
    assert allowed_names(st) == {"BAR_4/4"} and st.phase == "bar_pending"
    st.advance(TOK.ids["BAR_4/4"])
    assert st.phase == "in_bar" and "POS_0" in allowed_names(st)  # the bar line itself


def test_tokens_the_phase_does_not_allow_are_refused_by_name():
    st = fresh(density=None)
    st.advance(TOK.ids["DENSITY_2"])
    st.advance(TOK.ids["BAR_4/4"])
    with pytest.raises(ValueError, match="^DENSITY_2 is not allowed in phase in_bar$"):
        st.advance(TOK.ids["DENSITY_2"])


def greedy_fill(max_tokens, bars=BARS):
    """As many notes as the grammar lets in: a new pitch at the open position
    when it may, else the next position; the shortest durations."""
    st = fresh(max_tokens=max_tokens, density=None, bars=bars)
    while not st.done:
        names = allowed_names(st)
        if st.forced:
            t = st.forced[0]
        elif st.phase == "density":
            t = TOK.ids["DENSITY_5"]
        elif st.phase == "in_bar":
            pitches = sorted(n for n in names if n.startswith("PITCH_"))
            positions = sorted((n for n in names if n.startswith("POS_")), key=lambda n: int(n[4:]))
            pick = pitches[0] if pitches else positions[0] if positions else None
            t = (
                TOK.ids[pick]
                if pick
                else next(TOK.ids[n] for n in names if n.startswith("BAR") or n == "FILL_END")
            )
        else:
            t = min(TOK.ids[n] for n in names)
        st.advance(t)
    return st


@pytest.mark.parametrize("max_tokens", range(8, 40))
def test_the_token_budget_is_used_up_and_never_passed(max_tokens):
    st = greedy_fill(max_tokens)
    assert len(st.tokens) <= max_tokens
    # closed only when no note fits: a new position costs 4 tokens, a pitch at it 3
    assert len(st.tokens) >= max_tokens - 3, (max_tokens, len(st.tokens))
    assert st.tokens[-1] == TOK.FILL_END
    assert sum(TOK.kind(t) == "BAR" for t in st.tokens) == len(BARS)


def test_notes_in_a_bar_count_only_those_in_the_target():
    """A fill starting mid-bar, far from beat 0: the forced notes before the
    target do not count towards the bar's density."""
    bars = [Bar(2, 8.0, 4, 4)]
    lo = 8 * 24 + 48  # beat 10
    st = fresh(
        lo=lo,
        hi=12 * 24,
        prefix=[Note(40, 8.0, 1.0, 80), Note(43, 9.0, 0.5, 80)],
        density=3,
        bars=bars,
    )
    while st.forced:
        st.advance(st.forced[0])
    assert st.notes_in_bar == 0 and len(st.prefix_notes) == 2 and st.notes == []
    for name in ("POS_48", "PITCH_60", "VEL_3", "DUR_2", "PITCH_64", "VEL_3", "DUR_2"):
        st.advance(TOK.ids[name])
    assert st.notes_in_bar == 2 and [n[0] for n in st.notes] == [lo, lo]


def test_a_drum_fill_forces_its_earlier_hits_as_drum_tokens():
    st = fresh(
        lo=48,
        hi=96,
        is_drum=True,
        prefix=[Note(36, 0.0, 0.25, 100), Note(42, 1.0, 0.25, 80)],
        density=None,
        bars=[Bar(0, 0.0, 4, 4)],
    )
    st.advance(TOK.ids["DENSITY_4"])
    forced = [TOK.names[t] for t in st.forced]
    assert forced[0] == "BAR_4/4"
    assert [n for n in forced if n.startswith(("PITCH", "DRUM", "DUR"))] == ["DRUM_36", "DRUM_42"]
    while st.forced:
        st.advance(st.forced[0])
    assert [(t, p, d) for t, p, d, _ in st.prefix_notes] == [(0, 36, 6), (24, 42, 6)]


def test_the_budget_edges_for_a_new_position_and_a_further_pitch():
    """A new position needs 4 tokens besides those that close the fill, a
    further pitch at the open position 3; the closing cost counts the bars
    still to come, in the last bar too."""

    def after(max_tokens, *names, bars=BARS[:1]):
        st = fresh(max_tokens=max_tokens, density=None, bars=bars)
        for n in ("DENSITY_4",) + names:
            st.advance(TOK.ids[n])
        return allowed_names(st)

    note = ("BAR_4/4", "POS_0", "PITCH_60", "VEL_3", "DUR_2")
    assert "PITCH_61" in after(10, *note) and "POS_1" not in after(10, *note)
    assert "PITCH_61" not in after(9, *note)
    assert "POS_1" in after(11, *note)
    three = ("BAR_4/4", "BAR_4/4", "BAR_3/4")  # in the last of three bars
    assert "POS_0" in after(9, *three, bars=BARS) and "POS_0" not in after(8, *three, bars=BARS)


def test_no_pitched_note_is_shorter_than_a_32nd_in_any_walk():
    """Every duration a sampled pitched note may take is a 32nd (3 ticks)
    or more, up to the end of the range, even where the range ends mid-beat
    (the walks' ranges end at ticks 70 and 200 too)."""
    asked = 0
    for st, _ in walks(80, 7):
        if st.phase == "after_vel" and not st.forced and not st.plan.is_drum:
            asked += 1
            durs = [TOK.value(t) for a, b in st.allowed_ranges() for t in range(a, b)]
            assert durs == list(range(3, min(TOK.max_dur, st.plan.hi_tick - st.abs_tick) + 1))
    assert asked > 50


def test_a_pitched_note_may_not_open_where_less_than_a_32nd_is_left():
    """The range ends at tick 70: a pitched note opens at tick 67 at the
    latest (3 ticks to run), a drum hit at 69."""
    for is_drum, latest in ((False, 67), (True, 69)):
        st = fresh(lo=50, hi=70, is_drum=is_drum, density=None, bars=BARS[:1])
        for n in ("DENSITY_4", "BAR_4/4"):
            st.advance(TOK.ids[n])
        positions = sorted(TOK.value(TOK.ids[n]) for n in allowed_names(st) if n.startswith("POS"))
        assert positions == list(range(50, latest + 1)), is_drum


def test_on_a_grid_coarser_than_a_32nd_the_floor_is_one_tick():
    """At 4 ticks a beat a 32nd is half a tick: every pitched duration up
    to the range end is allowed, and a note may open on the last tick."""
    tok = Tokenizer(TokenizerConfig(ticks_per_beat=4))
    st = FillState(tok, FillPlan([Bar(0, 0.0, 4, 4)], 0, 10, False, [], 200), None)
    for n in ("DENSITY_4", "BAR_4/4"):
        st.advance(tok.ids[n])
    assert tok.offset["POS"] + 9 in range(*st.allowed_ranges()[1])
    for n in ("POS_6", "PITCH_60", "VEL_3"):
        st.advance(tok.ids[n])
    assert [tok.names[t] for a, b in st.allowed_ranges() for t in range(a, b)] == [
        "DUR_1",
        "DUR_2",
        "DUR_3",
        "DUR_4",
    ]
